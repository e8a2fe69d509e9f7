"""RealtimeRules: the detections' EventBridge rules, beside (never instead of) their alarms.

CloudTrail puts each event on the default event bus of the Region it is recorded in, so a rule
must sit in every Region the detection covers. A rule's targets must be in its own Region, event
buses apart ("Sending and receiving events between AWS Regions", EventBridge User Guide), and the
alert topics live in the stack's Region (the home Region). So:

- home Region: the rule notifies the detection's topic (the same routing as its alarm) through an
  input transformer that writes the alert a person reads (`trailguard.realtime.alert_transformer`);
- any other Region: the same rule forwards the event to the home Region's default bus, as a role
  allowed only `events:PutEvents` on that bus; the home rule then matches the forwarded event.

Each Region gets its own explicit provider; rule names, patterns and states come validated from
`RealtimeConfig` (docs/realtime.md says what is unverified against AWS).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Mapping, Optional

import pulumi
import pulumi_aws as aws

from components import documents
from components.environment import aws_environment
from trailguard.catalog import DETECTION_TAG
from trailguard.config import names
from trailguard.config.model import RealtimeConfig, RealtimeRule
from trailguard.realtime import ALERT_TARGET_ID, FORWARD_TARGET_ID, alert_transformer

DEFAULT_BUS = "default"


@dataclass(frozen=True)
class RealtimeRulesArgs:
    realtime: RealtimeConfig
    """Validated: the rules, their regions, patterns and states, and the home region."""
    topic_arns: Mapping[str, pulumi.Input[str]]
    """Alert topic name -> ARN; every rule's topic is one of them."""
    monitoring: str
    """The SecurityMonitoring component's name, which rule and role names derive from."""
    tags: Mapping[str, str] = field(default_factory=dict)


class RealtimeRules(pulumi.ComponentResource):
    """`<name>-<region>` providers; per rule and region `<name>-<id>-<region>` (the rule) and
    `<name>-<id>-<region>-target`; `<name>-forward-role` and `-forward-policy` when a rule covers a
    region other than home. Every rule's physical name is `names.realtime_rule_name`."""

    rule_names: pulumi.Output[dict]

    def __init__(self, name: str, args: RealtimeRulesArgs, opts: Optional[pulumi.ResourceOptions] = None):
        realtime = args.realtime
        super().__init__("trailguard:realtime:RealtimeRules", name,
                         {"homeRegion": realtime.home_region,
                          "rules": {rule.id: list(rule.regions) for rule in realtime.rules}}, opts)
        home = realtime.home_region
        assert home is not None, "validated: real-time rules always have a home region"
        tags = dict(args.tags)
        env = aws_environment(self)
        providers = {region: aws.Provider(f"{name}-{region}", region=region, opts=pulumi.ResourceOptions(parent=self))
                     for region in realtime.regions}
        home_bus = env.apply(lambda e: documents.event_bus_arn(e["partition"], home, e["account"]))
        role = self._forward_role(name, args.monitoring, env, home_bus, providers[home], tags) \
            if any(region != home for region in realtime.regions) else None
        for rule in realtime.rules:
            rule_name = names.realtime_rule_name(args.monitoring, rule.id)
            for region in rule.regions:
                self._rule(name, rule_name, rule, region, region == home, providers[region], tags,
                           args.topic_arns[rule.topic], home_bus, role)
        self.rule_names = pulumi.Output.from_input(
            {rule.id: names.realtime_rule_name(args.monitoring, rule.id) for rule in realtime.rules})
        self.register_outputs({"ruleNames": self.rule_names,
                               "regions": {rule.id: list(rule.regions) for rule in realtime.rules}})

    def _forward_role(self, name: str, monitoring: str, env: pulumi.Output, home_bus: pulumi.Output,
                      provider: aws.Provider, tags: Mapping[str, str]) -> aws.iam.Role:
        role = aws.iam.Role(
            f"{name}-forward-role",
            name=names.realtime_role_name(monitoring),
            description="trailguard real-time: EventBridge forwards matched CloudTrail events to the home region's bus",
            assume_role_policy=env.apply(lambda e: json.dumps(
                documents.realtime_forward_trust_policy(e["partition"], e["region"], e["account"]))),
            tags=dict(tags),
            opts=pulumi.ResourceOptions(parent=self, provider=provider),
        )
        aws.iam.RolePolicy(
            f"{name}-forward-policy",
            role=role.id,
            policy=home_bus.apply(lambda arn: json.dumps(documents.realtime_forward_policy(arn))),
            opts=pulumi.ResourceOptions(parent=self, provider=provider),
        )
        return role

    def _rule(self, name: str, rule_name: str, rule: RealtimeRule, region: str, is_home: bool,
              provider: aws.Provider, tags: Mapping[str, str], topic_arn: pulumi.Input[str],
              home_bus: pulumi.Output, role: Optional[aws.iam.Role]) -> None:
        opts = pulumi.ResourceOptions(parent=self, provider=provider)
        where = "notifies its topic" if is_home else "forwards to the home region's bus"
        event_rule = aws.cloudwatch.EventRule(
            f"{name}-{rule.id}-{region}",
            name=rule_name,
            event_bus_name=DEFAULT_BUS,
            event_pattern=rule.event_pattern,
            state=rule.state,
            description=f"trailguard real-time: {rule.title} ({rule.id}); {where}"[:512],
            tags={**tags, DETECTION_TAG: rule.id},
            opts=opts,
        )
        if is_home:
            paths, template = alert_transformer(rule.id, rule.title, rule.severity.value, rule.runbook,
                                               rule.attribution)
            aws.cloudwatch.EventTarget(
                f"{name}-{rule.id}-{region}-target",
                rule=event_rule.name,
                event_bus_name=DEFAULT_BUS,
                target_id=ALERT_TARGET_ID,
                arn=topic_arn,
                input_transformer=aws.cloudwatch.EventTargetInputTransformerArgs(
                    input_paths=paths, input_template=template),
                opts=opts,
            )
        else:
            assert role is not None
            aws.cloudwatch.EventTarget(
                f"{name}-{rule.id}-{region}-target",
                rule=event_rule.name,
                event_bus_name=DEFAULT_BUS,
                target_id=FORWARD_TARGET_ID,
                arn=home_bus,
                role_arn=role.arn,
                opts=opts,
            )
