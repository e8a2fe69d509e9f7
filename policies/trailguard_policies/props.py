"""Unknown-safe reads of resource properties, and the resource type tokens the pack judges.

During preview the engine sends values that are not known yet as sentinel strings, and
pulumi-policy wraps props in a proxy that raises `UnknownValueError` when one is read. Letting
that escape turns the whole policy into one advisory "can't run" diagnostic and skips every check
after it, so the policies read through `read`/`read_items`, which return `UNKNOWN` instead and let
each policy decide what an unknown means for its check.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from pulumi_policy.proxy import UnknownValueError
from pulumi_policy.proxy import _is_unknown as _is_sentinel  # private; pulumi-policy is pinned

TRAIL: Final = "aws:cloudtrail/trail:Trail"
LOG_GROUP: Final = "aws:cloudwatch/logGroup:LogGroup"
METRIC_FILTER: Final = "aws:cloudwatch/logMetricFilter:LogMetricFilter"
METRIC_ALARM: Final = "aws:cloudwatch/metricAlarm:MetricAlarm"
TOPIC: Final = "aws:sns/topic:Topic"
SUBSCRIPTION: Final = "aws:sns/topicSubscription:TopicSubscription"
TOPIC_POLICY: Final = "aws:sns/topicPolicy:TopicPolicy"
ROLE: Final = "aws:iam/role:Role"
ROLE_POLICY: Final = "aws:iam/rolePolicy:RolePolicy"
MANAGED_POLICY: Final = "aws:iam/policy:Policy"
ROLE_POLICY_ATTACHMENT: Final = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
KMS_KEY: Final = "aws:kms/key:Key"
KMS_KEY_POLICY: Final = "aws:kms/keyPolicy:KeyPolicy"
KMS_ALIAS: Final = "aws:kms/alias:Alias"
EVENT_RULE: Final = "aws:cloudwatch/eventRule:EventRule"
EVENT_TARGET: Final = "aws:cloudwatch/eventTarget:EventTarget"


class _Unknown:
    """The one value standing for "not known until the update runs"."""

    _instance: "_Unknown | None" = None

    def __new__(cls) -> "_Unknown":
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Final = _Unknown()


def read(props: Any, *path: str | int, default: Any = None) -> Any:
    """The value at `path` in `props`; `default` when absent or null; `UNKNOWN` when unknown."""
    value = props
    for key in path:
        try:
            value = value[key]
        except UnknownValueError:
            return UNKNOWN
        except (KeyError, IndexError, TypeError):
            return default
        if value is None:
            return default
    if _is_sentinel(value):
        return UNKNOWN  # unproxied props (a plain dict) still carry raw sentinels
    return value


def read_items(props: Any, *path: str | int) -> list[Any] | _Unknown:
    """The list at `path` with each unknown element replaced by `UNKNOWN`; `[]` when absent."""
    sequence = read(props, *path, default=())
    if sequence is UNKNOWN:
        return UNKNOWN
    if isinstance(sequence, (str, bytes)) or not isinstance(sequence, Sequence):
        return [sequence]
    items: list[Any] = []
    for index in range(len(sequence)):
        items.append(read(sequence, index))
    return items


def read_mapping(props: Any, *path: str | int) -> dict[str, Any] | _Unknown:
    """The mapping at `path` as a plain dict of known-or-`UNKNOWN` values; `{}` when absent."""
    mapping = read(props, *path, default={})
    if mapping is UNKNOWN:
        return UNKNOWN
    if not isinstance(mapping, Mapping):
        return {}
    return {str(key): read(mapping, key) for key in list(mapping.keys())}


def is_known(value: Any) -> bool:
    """Whether a value returned by `read` is decided (possibly `None` for "absent")."""
    return value is not UNKNOWN

