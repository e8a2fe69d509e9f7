"""Detection: one metric filter on the trail's log group and one alarm on exactly its metric."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Optional

import pulumi
import pulumi_aws as aws

from trailguard.catalog import DETECTION_TAG
from trailguard.config import EnabledDetection


@dataclass(frozen=True)
class DetectionArgs:
    detection: EnabledDetection
    """Validated detection: pattern for the stack's profile, metric, alarm settings, topic name."""
    log_group_name: pulumi.Input[str]
    """The log group the trail delivers to."""
    topic_arn: pulumi.Input[str]
    """Where the alarm (and, if asked, OK) notifications go."""
    tags: Mapping[str, str] = field(default_factory=dict)
    protect: bool = True
    """Refuse to delete the filter and alarm: dropping a detection must be a deliberate change."""


class Detection(pulumi.ComponentResource):
    """`<name>-filter` and `<name>-alarm`; both physical names are `<name>`."""

    filter_name: pulumi.Output[str]
    alarm_name: pulumi.Output[str]
    alarm_arn: pulumi.Output[str]

    def __init__(self, name: str, args: DetectionArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("trailguard:detection:Detection", name, {}, opts)
        detection = args.detection
        settings = detection.alarm
        metric_filter = aws.cloudwatch.LogMetricFilter(
            f"{name}-filter",
            name=name,
            log_group_name=args.log_group_name,
            pattern=detection.pattern,
            # No default value: a quiet period publishes nothing, which the alarm treats as notBreaching.
            metric_transformation=aws.cloudwatch.LogMetricFilterMetricTransformationArgs(
                name=detection.metric, namespace=detection.namespace, value="1", unit="Count"),
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
        alarm = aws.cloudwatch.MetricAlarm(
            f"{name}-alarm",
            name=name,
            alarm_description=detection.description,
            metric_name=detection.metric,
            namespace=detection.namespace,
            statistic=settings.statistic,
            period=settings.period,
            threshold=settings.threshold,
            comparison_operator=settings.comparison,
            evaluation_periods=settings.evaluation_periods,
            datapoints_to_alarm=settings.datapoints_to_alarm,
            treat_missing_data=settings.treat_missing_data,
            actions_enabled=settings.actions_enabled,
            alarm_actions=[args.topic_arn],
            ok_actions=[args.topic_arn] if detection.ok_actions else None,
            tags={**args.tags, DETECTION_TAG: detection.id},
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect, depends_on=[metric_filter]),
        )
        self.filter_name = metric_filter.name
        self.alarm_name = alarm.name
        self.alarm_arn = alarm.arn
        self.register_outputs({"filterName": self.filter_name, "alarmName": self.alarm_name,
                               "alarmArn": self.alarm_arn})
