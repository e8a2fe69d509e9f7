"""trailguard's policy pack: the policies, importable without starting the analyzer server.

Constructing a `PolicyPack` starts a gRPC server and blocks, so only `policies/__main__.py`
builds it; tests and `trailguard check` drive `ALL_POLICIES` through the analyzer servicer.
"""

from __future__ import annotations

from pulumi_policy import Policy

from .alarms import alarm_has_action
from .detections import detections_protected, required_detections_policy
from .realtime import realtime_detections
from .topics import alarm_topic_can_deliver
from .trails import audit_log_retention, trail_delivers_to_cloudwatch

PACK_NAME = "trailguard"
PACK_VERSION = "0.1.0"  # keep equal to `version:` in PulumiPolicy.yaml (the CLI reads that one)

ALL_POLICIES: list[Policy] = [
    required_detections_policy,
    trail_delivers_to_cloudwatch,
    alarm_has_action,
    alarm_topic_can_deliver,
    audit_log_retention,
    detections_protected,
    realtime_detections,
]

__all__ = ["ALL_POLICIES", "PACK_NAME", "PACK_VERSION"]
