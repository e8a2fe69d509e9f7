"""Heartbeat: the dead man's switch that proves CloudTrail events still reach the log group.

A schedule calls KMS GenerateRandom as its own role every `interval` minutes; a metric filter on the
trail's log group counts exactly those calls; an alarm fires when fewer than one arrived in the
window (missing data breaching), since then no event at all is arriving and every detection is blind.
What the call is and why: `trailguard.heartbeat`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Mapping, Optional

import pulumi
import pulumi_aws as aws

from components import documents
from components.environment import aws_environment
from trailguard import heartbeat


@dataclass(frozen=True)
class HeartbeatArgs:
    config: heartbeat.HeartbeatConfig
    """Validated `heartbeat` settings (interval, window)."""
    log_group_name: pulumi.Input[str]
    """The log group the trail delivers to: where the filter counts the heartbeats."""
    topic_arn: pulumi.Input[str]
    """Where the alarm (and its recovery) is sent."""
    namespace: str
    """The stack's metric namespace."""
    tags: Mapping[str, str] = field(default_factory=dict)
    protect: bool = True


class Heartbeat(pulumi.ComponentResource):
    """`<name>-role`, `<name>-role-policy`, `<name>-schedule`, `<name>-filter`, `<name>-alarm`; the
    physical names of the role, schedule, filter and alarm are all `<name>`."""

    schedule_name: pulumi.Output[str]
    role_arn: pulumi.Output[str]
    filter_name: pulumi.Output[str]
    alarm_name: pulumi.Output[str]
    alarm_arn: pulumi.Output[str]

    def __init__(self, name: str, args: HeartbeatArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("trailguard:heartbeat:Heartbeat", name, {}, opts)
        config = args.config
        env = aws_environment(self)
        child = pulumi.ResourceOptions(parent=self)
        protected = pulumi.ResourceOptions(parent=self, protect=args.protect)
        role = aws.iam.Role(
            f"{name}-role",
            name=name,  # fixed: the filter pattern names the role (trailguard.heartbeat.pattern)
            description="trailguard heartbeat: EventBridge Scheduler calls kms:GenerateRandom as this role",
            assume_role_policy=env.apply(lambda e: json.dumps(
                documents.heartbeat_trust_policy(e["partition"], e["region"], e["account"]))),
            tags=dict(args.tags),
            opts=child,
        )
        role_policy = aws.iam.RolePolicy(
            f"{name}-role-policy",
            role=role.id,
            policy=env.apply(lambda e: json.dumps(
                documents.heartbeat_role_policy(e["partition"], e["region"], e["account"]))),
            opts=child,
        )
        schedule = aws.scheduler.Schedule(
            f"{name}-schedule",
            name=name,
            description="trailguard heartbeat: one known CloudTrail event per interval",
            schedule_expression=heartbeat.schedule_expression(config.interval_minutes),
            flexible_time_window=aws.scheduler.ScheduleFlexibleTimeWindowArgs(mode="OFF"),
            target=aws.scheduler.ScheduleTargetArgs(
                arn=env.apply(lambda e: heartbeat.target_arn(e["partition"])),
                role_arn=role.arn,
                input=heartbeat.TARGET_INPUT,
            ),
            state="ENABLED",
            opts=pulumi.ResourceOptions(parent=self, depends_on=[role_policy]),
        )
        metric_filter = aws.cloudwatch.LogMetricFilter(
            f"{name}-filter",
            name=name,
            log_group_name=args.log_group_name,
            pattern=heartbeat.pattern(name),
            metric_transformation=aws.cloudwatch.LogMetricFilterMetricTransformationArgs(
                name=heartbeat.METRIC, namespace=args.namespace, value="1", unit="Count"),
            opts=protected,
        )
        alarm = aws.cloudwatch.MetricAlarm(
            f"{name}-alarm",
            name=name,
            alarm_description=heartbeat.alarm_description(config.window_minutes),
            metric_name=heartbeat.METRIC,
            namespace=args.namespace,
            statistic="Sum",
            period=config.period_seconds,
            evaluation_periods=1,
            datapoints_to_alarm=1,
            threshold=1,
            comparison_operator="LessThanThreshold",
            treat_missing_data="breaching",  # no heartbeat published at all is exactly the failure
            actions_enabled=True,
            alarm_actions=[args.topic_arn],
            ok_actions=[args.topic_arn],  # say when events flow again
            tags=dict(args.tags),
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect, depends_on=[metric_filter]),
        )
        self.schedule_name = schedule.name
        self.role_arn = role.arn
        self.filter_name = metric_filter.name
        self.alarm_name = alarm.name
        self.alarm_arn = alarm.arn
        self.register_outputs({"scheduleName": self.schedule_name, "roleArn": self.role_arn,
                               "filterName": self.filter_name, "alarmName": self.alarm_name,
                               "alarmArn": self.alarm_arn})
