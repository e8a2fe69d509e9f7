"""The heartbeat (dead man's switch): one known CloudTrail event every few minutes, and the filter
pattern that matches exactly that event.

An EventBridge Scheduler schedule with a universal (`aws-sdk`) target calls KMS `GenerateRandom`
as a role only the heartbeat uses. Why that call: Scheduler's universal targets refuse actions whose
names start with a read-only prefix (`get`, `describe`, `list`, `poll`, `receive`, `search`, `scan`,
`query`, `select`, `read`, `lookup`, `discover`, `validate`, `batchGet`, ...; "Unsupported actions"
in https://docs.aws.amazon.com/scheduler/latest/UserGuide/managing-targets-universal.html), and
`generateRandom` starts with none of them; CloudTrail records KMS `GenerateRandom` as a management
event (source `kms.amazonaws.com`, `readOnly: true`, no key involved:
https://docs.aws.amazon.com/kms/latest/developerguide/ct-generaterandom.html), not as a data event
like `sns:Publish`. The call needs no KMS key, costs nothing to the account's keys and changes nothing.

A trail delivers it only when it records management events of type Read (`readWriteType` `All` or
`ReadOnly`) and does not exclude `kms.amazonaws.com` (`excludeManagementEventSources`); the trail this
program creates records `All`.

Pure code: the program, `trailguard check` and the policy pack build the same pattern from the same
role name.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

HEARTBEAT_ID = "heartbeat"
"""The suffix of the heartbeat's physical names (`<stack prefix>-heartbeat`); no custom detection may use it."""
EVENT_SOURCE = "kms.amazonaws.com"
EVENT_NAME = "GenerateRandom"
ACTION = "kms:GenerateRandom"
"""The one action the heartbeat role may perform."""
SCHEDULER_PRINCIPAL = "scheduler.amazonaws.com"
METRIC = "TrailguardHeartbeat"

SCHEDULER_READ_ONLY_PREFIXES: tuple[str, ...] = (
    "get", "describe", "list", "poll", "receive", "search", "scan", "query", "select", "read", "lookup",
    "discover", "validate", "batchGet", "batchDescribe", "batchRead", "transactGet", "adminGet",
    "adminList", "testMigration", "retrieve", "testConnection", "translateDocument", "isAuthorized",
    "invokeModel",
)
"""Action-name prefixes Scheduler's universal targets refuse (the user guide's list, quoted above)."""

API_ACTION = "generateRandom"
"""The action as a universal target names it: camelCase of the API operation."""

TARGET_INPUT = json.dumps({"NumberOfBytes": 1})
"""GenerateRandom's request: one random byte (NumberOfBytes is 1-1024)."""

DEFAULT_INTERVAL_MINUTES = 5
DEFAULT_WINDOW_MINUTES = 30
DELIVERY_ALLOWANCE_MINUTES = 15
"""How late a heartbeat may reach the log group and still count: CloudTrail delivers an event
"within an average of about 5 minutes" of the call, "not guaranteed"
(https://docs.aws.amazon.com/awscloudtrail/latest/userguide/get-and-view-cloudtrail-log-files.html), and the copy
to CloudWatch Logs comes after that. Three times the average keeps a slow delivery from paging
anyone; the window must leave at least this much after one interval."""

MAX_INTERVAL_MINUTES = 60
MAX_WINDOW_MINUTES = 1440
"""An alarm of one period may look back at most a day (`trailguard.aws_limits`)."""


def target_arn(partition: str = "aws") -> str:
    """The universal target: `arn:<partition>:scheduler:::aws-sdk:kms:generateRandom`."""
    return f"arn:{partition}:scheduler:::aws-sdk:kms:{API_ACTION}"


def schedule_expression(interval_minutes: int) -> str:
    unit = "minute" if interval_minutes == 1 else "minutes"
    return f"rate({interval_minutes} {unit})"


def is_read_only_action(api_action: str) -> bool:
    """Would Scheduler refuse this universal-target action as read-only?"""
    return any(api_action.startswith(prefix) for prefix in SCHEDULER_READ_ONLY_PREFIXES)


def pattern(role_name: str) -> str:
    """The filter pattern matching exactly the heartbeat's call: KMS GenerateRandom made by a session
    of the heartbeat role. The role is matched by its ARN without the account (`*:role/<name>`), so the
    same text is built offline, where the account is unknown; the role has the default path `/`."""
    return ("{ ($.eventSource = \"%s\") && ($.eventName = \"%s\") && ($.userIdentity.type = \"AssumedRole\") "
            "&& ($.userIdentity.sessionContext.sessionIssuer.arn = \"*:role/%s\") }"
            % (EVENT_SOURCE, EVENT_NAME, role_name))


def alarm_description(window_minutes: int) -> str:
    return (f"no CloudTrail events have reached the log group for {window_minutes} minutes: "
            "every detection is blind (trailguard heartbeat)")


@dataclass(frozen=True, slots=True)
class HeartbeatConfig:
    """`heartbeat` as validated: on by default, a call every `interval_minutes`, an alarm when none
    arrived in `window_minutes`, notifying `topic` (the default topic unless set)."""

    enabled: bool = True
    interval_minutes: int = DEFAULT_INTERVAL_MINUTES
    window_minutes: int = DEFAULT_WINDOW_MINUTES
    topic: str = ""

    @property
    def period_seconds(self) -> int:
        return self.window_minutes * 60
