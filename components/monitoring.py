"""SecurityMonitoring: the whole pipeline wired from a validated `StackConfig`.

Trail -> log group -> one Detection per enabled detection -> the AlertTopic it routes to. The
component's inputs list the enabled detections so a policy pack can compare intent with what
was registered.
"""

from __future__ import annotations

from typing import Any, Optional

import pulumi

from components.alerts import AlertTopic, AlertTopicArgs
from components.detection import Detection, DetectionArgs
from components.trail import AuditTrail, AuditTrailArgs
from trailguard.config import StackConfig, names


class SecurityMonitoring(pulumi.ComponentResource):
    """Children: `<name>-audit`, `<name>-<topic>` per topic, `<name>-<detection id>` per detection
    (named by `trailguard.config.names`, which validation checks against AWS's rules)."""

    trail_arn: pulumi.Output[Optional[str]]
    log_group_name: pulumi.Output[str]
    topic_arns: dict[str, pulumi.Output[str]]
    detections: dict[str, Detection]

    def __init__(self, name: str, config: StackConfig, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__(
            "trailguard:monitoring:SecurityMonitoring", name,
            {"profile": config.profile, "enabledDetections": [d.id for d in config.detections]},
            opts,
        )
        tags = dict(config.tags)
        trail = AuditTrail(names.audit_name(name), AuditTrailArgs(trail=config.trail, tags=tags,
                                                           protect=config.protect),
                           opts=pulumi.ResourceOptions(parent=self))
        topics = {
            topic_name: AlertTopic(names.topic_component_name(name, topic_name), AlertTopicArgs(topic=topic, tags=tags),
                                   opts=pulumi.ResourceOptions(parent=self))
            for topic_name, topic in config.topics.items()
        }
        self.detections = {
            enabled.id: Detection(
                names.detection_name(name, enabled.id),
                DetectionArgs(detection=enabled, log_group_name=trail.log_group_name,
                              topic_arn=topics[enabled.topic].topic_arn, tags=tags,
                              protect=config.protect),
                opts=pulumi.ResourceOptions(parent=self),
            )
            for enabled in config.detections
        }
        self.trail_arn = trail.trail_arn
        self.log_group_name = trail.log_group_name
        self.topic_arns = {topic_name: topic.topic_arn for topic_name, topic in topics.items()}
        self.detection_outputs = {
            enabled.id: {
                "filterName": self.detections[enabled.id].filter_name,
                "alarmName": self.detections[enabled.id].alarm_name,
                "metric": enabled.metric,
                "namespace": enabled.namespace,
                "topic": enabled.topic,
            }
            for enabled in config.detections
        }
        self.register_outputs(self.outputs())

    def outputs(self) -> dict[str, Any]:
        """What the stack exports: trail, log group, topics and, per detection, filter/metric/alarm."""
        return {
            "trailArn": self.trail_arn,
            "logGroupName": self.log_group_name,
            "topicArns": self.topic_arns,
            "detections": self.detection_outputs,
        }
