"""SecurityMonitoring: the whole pipeline wired from a validated `StackConfig`.

Trail -> log group -> one Detection per enabled detection -> the AlertTopic it routes to, and the
Heartbeat that proves events still reach the log group (unless `heartbeat.enabled` is false); with
`trailguard:realtime`, the RealtimeRules that deliver the same detections per event through
EventBridge, beside the alarms. The component's inputs list the enabled detections so a policy pack can compare intent with what
was registered.
"""

from __future__ import annotations

from typing import Any, Optional

import pulumi

from components.alerts import AlertTopic, AlertTopicArgs
from components.detection import Detection, DetectionArgs
from components.heartbeat import Heartbeat, HeartbeatArgs
from components.realtime import RealtimeRules, RealtimeRulesArgs
from components.trail import AuditTrail, AuditTrailArgs
from trailguard.config import StackConfig, names


class SecurityMonitoring(pulumi.ComponentResource):
    """Children: `<name>-audit`, `<name>-<topic>` per topic, `<name>-<detection id>` per detection
    (named by `trailguard.config.names`, which validation checks against AWS's rules)."""

    trail_arn: pulumi.Output[Optional[str]]
    log_group_name: pulumi.Output[str]
    topic_arns: dict[str, pulumi.Output[str]]
    detections: dict[str, Detection]
    heartbeat: Optional[Heartbeat]
    realtime: Optional[RealtimeRules]

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
            topic_name: AlertTopic(
                names.topic_component_name(name, topic_name),
                AlertTopicArgs(topic=topic, tags=tags, realtime_rule_names=tuple(
                    names.realtime_rule_name(name, rule.id) for rule in config.realtime.rules_for_topic(topic_name))),
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
        self.heartbeat = None
        if config.heartbeat.enabled:
            self.heartbeat = Heartbeat(
                names.heartbeat_name(name),
                HeartbeatArgs(config=config.heartbeat, log_group_name=trail.log_group_name,
                              topic_arn=topics[config.heartbeat.topic].topic_arn, namespace=config.namespace,
                              tags=tags, protect=config.protect),
                opts=pulumi.ResourceOptions(parent=self),
            )
        self.realtime = None
        if config.realtime.enabled:
            self.realtime = RealtimeRules(
                names.realtime_name(name),
                RealtimeRulesArgs(realtime=config.realtime, monitoring=name, tags=tags,
                                  topic_arns={topic_name: topic.topic_arn for topic_name, topic in topics.items()}),
                opts=pulumi.ResourceOptions(parent=self),
            )
        self.realtime_outputs = None
        if config.realtime.enabled:
            self.realtime_outputs = {
                "homeRegion": config.realtime.home_region,
                "rules": {rule.id: {"ruleName": names.realtime_rule_name(name, rule.id), "regions": list(rule.regions),
                                    "state": rule.state, "topic": rule.topic}
                          for rule in config.realtime.rules},
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
        """What the stack exports: trail, log group, topics, per detection filter/metric/alarm, the
        heartbeat's schedule, role, filter and alarm (None when it is off), and the real-time rules by
        detection with their regions (None when real-time is off)."""
        heartbeat = None
        if self.heartbeat is not None:
            heartbeat = {"scheduleName": self.heartbeat.schedule_name, "roleArn": self.heartbeat.role_arn,
                         "filterName": self.heartbeat.filter_name, "alarmName": self.heartbeat.alarm_name}
        return {
            "trailArn": self.trail_arn,
            "logGroupName": self.log_group_name,
            "topicArns": self.topic_arns,
            "detections": self.detection_outputs,
            "heartbeat": heartbeat,
            "realtime": self.realtime_outputs,
        }
