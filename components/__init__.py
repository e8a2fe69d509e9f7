"""trailguard's Pulumi components: AuditTrail, AlertTopic, Detection, Heartbeat, RealtimeRules and
SecurityMonitoring.

Type tokens are `trailguard:<module>:<Type>`; every child is created with `parent=self`, so a
provider passed in `opts` reaches all of them, and child names derive from the component's name.
"""

from components.alerts import AlertTopic, AlertTopicArgs
from components.detection import Detection, DetectionArgs
from components.heartbeat import Heartbeat, HeartbeatArgs
from components.monitoring import SecurityMonitoring
from components.realtime import RealtimeRules, RealtimeRulesArgs
from components.program_config import InvalidStackConfig, load_program_config, read_program_config
from components.trail import AuditTrail, AuditTrailArgs

__all__ = [
    "AlertTopic",
    "AlertTopicArgs",
    "AuditTrail",
    "AuditTrailArgs",
    "Detection",
    "DetectionArgs",
    "Heartbeat",
    "HeartbeatArgs",
    "InvalidStackConfig",
    "RealtimeRules",
    "RealtimeRulesArgs",
    "SecurityMonitoring",
    "load_program_config",
    "read_program_config",
]
