"""AlertTopic: an SNS topic CloudWatch alarms can actually deliver to, encrypted with a customer key.

Encrypting with the AWS-managed `alias/aws/sns` key silently drops alarm notifications
(CloudWatch cannot be granted that key), so the topic gets its own key whose policy lets
`cloudwatch.amazonaws.com` of this account use it. Or an existing topic, referenced by ARN.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Mapping, Optional

import pulumi
import pulumi_aws as aws

from components import documents
from components.environment import aws_environment
from components.keys import customer_key
from trailguard.config import Subscription, TopicConfig, names


@dataclass(frozen=True)
class AlertTopicArgs:
    topic: TopicConfig
    """Validated topic settings: subscriptions, or the ARN of an existing topic."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags for every taggable child."""
    realtime_rule_names: tuple[str, ...] = ()
    """The real-time EventBridge rules (in the topic's region) that notify this topic: the topic
    policy and the key policy let exactly these publish. Empty: no EventBridge grant at all."""


class AlertTopic(pulumi.ComponentResource):
    """Key, topic, topic policy and subscriptions; children are named `<name>-<role>`."""

    topic_arn: pulumi.Output[str]

    def __init__(self, name: str, args: AlertTopicArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("trailguard:alerts:AlertTopic", name, {}, opts)
        if not args.topic.created:
            self.topic_arn = pulumi.Output.from_input(args.topic.existing_arn)
            self.register_outputs({"topicArn": self.topic_arn})
            return

        tags = dict(args.tags)
        env = aws_environment(self)
        rule_names = list(args.realtime_rule_names)

        def rule_arns(e: Mapping[str, str]) -> list[str]:
            return [documents.rule_arn(e["partition"], e["region"], e["account"], n) for n in rule_names]

        key = customer_key(
            f"{name}-key", f"SNS topic {args.topic.name} for trailguard alarms",
            env.apply(lambda e: json.dumps(documents.topic_key_policy(e["partition"], e["region"], e["account"],
                                                                      rule_arns(e)))),
            tags, pulumi.ResourceOptions(parent=self))
        topic = aws.sns.Topic(names.child_name(name, names.TOPIC), kms_master_key_id=key.arn, tags=tags,
                              opts=pulumi.ResourceOptions(parent=self))
        # The policy names the topic by an ARN built from its name, not its `arn` output: the name is
        # known at preview, so the policy pack can judge the document before the topic exists.
        aws.sns.TopicPolicy(
            f"{name}-policy",
            arn=topic.arn,
            policy=pulumi.Output.all(env, topic.name).apply(lambda v: json.dumps(documents.topic_policy(
                v[0]["partition"], v[0]["region"], v[0]["account"],
                documents.topic_arn(v[0]["partition"], v[0]["region"], v[0]["account"], v[1]), rule_arns(v[0])))),
            opts=pulumi.ResourceOptions(parent=self),
        )
        for index, subscription in enumerate(args.topic.subscriptions):
            self._subscribe(names.subscription_name(name, subscription.protocol, index), topic, subscription)
        self.topic_arn = topic.arn
        self.register_outputs({"topicArn": self.topic_arn})

    def _subscribe(self, name: str, topic: aws.sns.Topic, subscription: Subscription) -> None:
        # https endpoints often carry a token in the URL: keep them out of plain-text state.
        endpoint = (pulumi.Output.secret(subscription.endpoint) if subscription.protocol == "https"
                    else subscription.endpoint)
        aws.sns.TopicSubscription(name, topic=topic.arn, protocol=subscription.protocol,
                                  endpoint=endpoint, opts=pulumi.ResourceOptions(parent=self))
        if subscription.protocol == "lambda":
            # SNS needs leave to invoke the function, for this topic only.
            aws.lambda_.Permission(names.invoke_permission_name(name), action="lambda:InvokeFunction",
                                   function=subscription.endpoint, principal="sns.amazonaws.com",
                                   source_arn=topic.arn, opts=pulumi.ResourceOptions(parent=self))
