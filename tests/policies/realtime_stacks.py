"""Fake stacks in the real-time channel's contract shape, for `realtime-detections`.

Per region an explicit aws provider; per detection and region an EventRule on the default bus with
the compiled pattern and the state it needs; in the home region an EventTarget to the stack's SNS
topic, elsewhere an EventTarget to the home region's default bus with a role. Props are wrapped in
pulumi-policy's unknown-checking proxy and each resource carries its provider, as the servicer
builds them.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from typing import Any, Mapping

from pulumi_policy import Policy, PolicyProviderResource, PolicyResource, StackValidationArgs
from pulumi_policy.proxy import UnknownValueError, unknown_checking_proxy

from tests.policies.helpers import options, urn
from trailguard.eventbridge import compile_event_pattern

ACCOUNT = "123456789012"
HOME = "us-east-1"
TOPIC_ARN = f"arn:aws:sns:{HOME}:{ACCOUNT}:trailguard-security"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/trailguard-forward"
EVENT_RULE = "aws:cloudwatch/eventRule:EventRule"
EVENT_TARGET = "aws:cloudwatch/eventTarget:EventTarget"
TOPIC = "aws:sns/topic:Topic"


def home_bus(region: str = HOME, account: str = ACCOUNT) -> str:
    return f"arn:aws:events:{region}:{account}:event-bus/default"


@dataclass
class Item:
    """A resource of a fake stack; `region` names its explicit provider ("" for none)."""

    type: str
    name: str
    props: dict[str, Any]
    region: str = ""
    property_dependencies: dict[str, list[str]] = field(default_factory=dict)


def rule_name(detection_id: str, region: str) -> str:
    return f"trailguard-{detection_id}-{region}"


def contract_stack(detection_ids: list[str], regions: list[str], home: str = HOME) -> list[Item]:
    """The shape the real-time component deploys."""
    topic_arn = TOPIC_ARN.replace(HOME, home)
    items = [Item(TOPIC, "security", {"name": "trailguard-security", "arn": topic_arn}, home)]
    for detection_id in detection_ids:
        compiled = compile_event_pattern(_pattern(detection_id))
        for region in regions:
            name = rule_name(detection_id, region)
            items.append(Item(EVENT_RULE, name, {"name": name, "eventPattern": compiled.text,
                                                 "state": compiled.rule_state}, region))
            if region == home:
                target = {"rule": name, "arn": topic_arn, "inputTransformer": {
                    "inputPaths": {"name": "$.detail.eventName"}, "inputTemplate": '"<name>"'}}
            else:
                target = {"rule": name, "arn": home_bus(home), "roleArn": ROLE_ARN}
            items.append(Item(EVENT_TARGET, f"{name}-target", target, region))
    return items


def _pattern(detection_id: str) -> str:
    from trailguard.catalog import load_catalog

    return load_catalog().get(detection_id).patterns["default"]


def find(items: list[Item], name: str) -> Item:
    return next(item for item in items if item.name == name)


def pattern_of(items: list[Item], name: str) -> dict[str, Any]:
    return json.loads(find(items, name).props["eventPattern"])


def set_pattern(items: list[Item], name: str, pattern: Mapping[str, Any]) -> list[Item]:
    find(items, name).props["eventPattern"] = json.dumps(pattern)
    return items


def without(items: list[Item], *names: str) -> list[Item]:
    return [item for item in items if item.name not in names]


def build(items: list[Item]) -> list[PolicyResource]:
    providers = {region: PolicyProviderResource("pulumi:providers:aws", unknown_checking_proxy({"region": region}),
                                                urn("pulumi:providers:aws", f"aws-{region}"), f"aws-{region}")
                 for region in {item.region for item in items if item.region}}
    built = {item.name: PolicyResource(item.type, unknown_checking_proxy(copy.deepcopy(item.props)),
                                       urn(item.type, item.name), item.name, options(), providers.get(item.region),
                                       None, [], {})
             for item in items}
    for item in items:
        resource = built[item.name]
        for prop, names in item.property_dependencies.items():
            resource.property_dependencies[prop] = [built[n] for n in names]
            resource.dependencies.extend(built[n] for n in names)
    return list(built.values())


def run(policy: Policy, items: list[Item], config: Mapping[str, Any] | None) -> tuple[list[tuple[str, str | None]], str | None]:
    """The (message, urn) pairs reported, and the advisory "can't run during preview" message, if any."""
    reported: list[tuple[str, str | None]] = []
    args = StackValidationArgs(build(items), dict(config) if config is not None else None)
    try:
        policy.validate(args, lambda message, urn=None: reported.append((message, urn)))
    except UnknownValueError as error:
        return reported, error.message
    return reported, None
