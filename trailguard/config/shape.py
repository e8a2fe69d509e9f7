"""The shape of the `trailguard:` stack config, declared once as msgspec structs.

Each struct lists the keys an object may have (unknown keys are refused, with the nearest valid
name) and the JSON type of each value. `decode` turns a raw value into its struct and msgspec's
errors into a `ConfigError` naming the dotted config key and what is allowed; the domain rules
(AWS limits, references between keys) run afterwards over the typed values, in `validate`.

Objects keyed by the user's own names (`overrides`, `notifications.topics`, `tags`, routing) are
plain mappings here and each value is decoded on its own, so an error names its key
(`trailguard:overrides.root-usage.period`), which msgspec's `[...]` path for map values would lose.
"""

from __future__ import annotations

import re
from typing import Any, TypeVar, Union, get_args, get_origin

import msgspec
from msgspec import UNSET, Struct, UnsetType

from trailguard.suggest import kind_of, unknown_name

from .model import SECRET_PLACEHOLDER, ConfigError

T = TypeVar("T")


class _Input(Struct, forbid_unknown_fields=True, rename="camel", frozen=True):
    """Base: unknown keys refused, snake_case fields read from camelCase keys."""


class OverrideInput(_Input):
    """`overrides.<id>`: every key optional; UNSET means "keep the detection's default"."""

    enabled: Union[bool, UnsetType] = UNSET
    threshold: Union[float, UnsetType] = UNSET
    period: Union[int, UnsetType] = UNSET
    evaluation_periods: Union[int, UnsetType] = UNSET
    datapoints_to_alarm: Union[int, UnsetType] = UNSET
    treat_missing_data: Union[str, UnsetType] = UNSET
    statistic: Union[str, UnsetType] = UNSET
    comparison: Union[str, UnsetType] = UNSET
    actions_enabled: Union[bool, UnsetType] = UNSET
    ok_actions: Union[bool, UnsetType] = UNSET
    topic: Union[str, UnsetType] = UNSET
    description: Union[str, UnsetType] = UNSET
    metric: Union[str, UnsetType] = UNSET
    namespace: Union[str, UnsetType] = UNSET
    exclude: Union[list[Any], UnsetType] = UNSET
    """Declared exclusions, each item read by `trailguard.exclusions.parse_exclusion`."""
    realtime: Union[bool, "RealtimeOverrideInput", UnsetType] = UNSET
    """`true`/`false`, or `{enabled, regions}`: this detection's real-time rule (`trailguard:realtime`)."""


class RealtimeOverrideInput(_Input):
    """`overrides.<id>.realtime` as a mapping: writing it means "real-time, in these regions"."""

    enabled: bool = True
    regions: Union[list[str], UnsetType] = UNSET


class RealtimeInput(_Input):
    """`realtime`: EventBridge rules beside the alarms, off unless `enabled`. `detections` (ids or
    presets) default to every enabled detection that can have one; `regions` to the stack's region
    and us-east-1 (where global services' events arrive)."""

    enabled: bool = False
    detections: Union[list[str], UnsetType] = UNSET
    regions: Union[list[str], UnsetType] = UNSET


class CustomSamplesInput(_Input):
    """`customDetections[].samples`: bare CloudTrail events; their shape is the rule book's to check."""

    positives: list[Any] = []
    negatives: list[Any] = []


class DetectionSourceInput(_Input):
    """`customDetections[].source`: the Sigma rule a detection was converted from.

    The Detection Rule License 1.1 asks that messages based on a rule's matches keep the rule's
    author: the alarm description carries `Sigma <sigma> by <author>` and `link` whatever else is
    said there (`trailguard sigma add` writes this block).
    """

    sigma: str
    """The rule's `id` (a UUID)."""
    author: str
    link: str
    """Where the rule is published (https://...)."""
    references: list[str] = []
    false_positives: list[str] = []


class CustomDetectionInput(_Input):
    """`customDetections[]`, built into a `Detection` by the catalogue's rule book."""

    id: str
    title: str
    pattern: str
    severity: str
    metric: str
    samples: CustomSamplesInput
    runbook: str = ""
    description: Union[str, UnsetType] = UNSET
    source: Union[DetectionSourceInput, UnsetType] = UNSET


class SubscriptionInput(_Input):
    protocol: str
    endpoint: str


class TopicInput(_Input):
    """`notifications.topics.<name>`: subscriptions for a topic created here, or an existing `arn`."""

    subscriptions: list[SubscriptionInput] = []
    arn: Union[str, UnsetType] = UNSET


class RoutingInput(_Input):
    by_severity: dict[str, Any] = {}
    by_detection: dict[str, Any] = {}


class NotificationsInput(_Input):
    topics: dict[str, Any] = {}
    default_topic: Union[str, UnsetType] = UNSET
    routing: RoutingInput = RoutingInput()


class TrailInput(_Input):
    create: bool = True
    existing_log_group_name: Union[str, None] = None
    organization: bool = False
    organization_id: Union[str, None] = None
    retention_days: int = 365
    bucket_encryption: str = "kms"
    log_group_kms: bool = True


class HeartbeatInput(_Input):
    """`heartbeat`: the dead man's switch (`trailguard.heartbeat`); times in whole minutes."""

    enabled: bool = True
    interval: int = 5
    window: int = 30
    topic: Union[str, UnsetType] = UNSET


class StackInput(_Input):
    """The top-level `trailguard:` keys (decoded one key at a time, so each key's errors are kept)."""

    detections: list[str]
    profile: str
    namespace: str
    protect: bool
    overrides: dict[str, Any]
    custom_detections: list[Any]
    notifications: NotificationsInput
    trail: TrailInput
    tags: dict[str, Any]
    heartbeat: HeartbeatInput
    realtime: Union[bool, RealtimeInput]


def field_names(struct: type[Struct]) -> list[str]:
    """The config keys a struct accepts, in declaration order."""
    return [f.encode_name for f in msgspec.structs.fields(struct)]


def given(value: Struct) -> dict[str, Any]:
    """The keys actually set on a decoded struct (UNSET left out), by config key."""
    return {f.encode_name: getattr(value, f.name) for f in msgspec.structs.fields(value)
            if getattr(value, f.name) is not UNSET}


WHAT: dict[str, str] = {
    "bool": "true or false",
    "int": "a whole number",
    "float": "a number",
    "str": "a non-empty string",
    "array": "a list",
    "object": "a mapping",
}
"""msgspec's type names in its errors, as the messages say them."""

FIELD_WHAT: dict[str, str] = {
    "detections": "a list of detection ids or presets",
    "period": "a whole number of seconds",
    "evaluationPeriods": "a whole number >= 1",
    "datapointsToAlarm": "a whole number >= 1",
    "retentionDays": "a whole number of days (a CloudWatch Logs retention value)",
    "customDetections": "a list of detections",
    "subscriptions": "a list",
    "exclude": "a list of exclusions (principal, sourceIp, userAgent or pattern items)",
    "interval": "a whole number of minutes",
    "window": "a whole number of minutes",
    "realtime": "true, false or a mapping (enabled, detections, regions; per detection: enabled, regions)",
    "regions": "a list of AWS Region codes (us-east-1, eu-west-1, ...)",
    "source": "a mapping with sigma, author, link (and optionally references, falsePositives)",
    "references": "a list of strings",
    "falsePositives": "a list of strings",
}
"""Where a key's allowed values say more than its type."""

_ERROR = re.compile(r"^(?P<what>.*?)(?: - at `\$(?P<at>[^`]*)`)?$", re.DOTALL)
_SEGMENT = re.compile(r"\.([^.\[]+)|\[(\d+)\]")


def decode(value: Any, shape: type[T], path: str) -> T:
    """`value` as `shape`, or a `ConfigError` at the dotted key below `path` that is at fault."""
    if isinstance(shape, type) and issubclass(shape, Struct) and value is None:
        value = {}
    try:
        return msgspec.convert(value, shape)
    except msgspec.ValidationError as err:
        raise _config_error(str(err), value, shape, path) from None


def _config_error(text: str, value: Any, shape: Any, path: str) -> ConfigError:
    match = _ERROR.match(text)
    what, at = match["what"], match["at"] or ""
    segments = [name if name is not None else int(index) for name, index in _SEGMENT.findall(at)]
    key = path + "".join(f"[{s}]" if isinstance(s, int) else f".{s}" for s in segments)
    found = re.match(r"Object contains unknown field `(.*)`$", what)
    if found:
        allowed = field_names(_struct_at(shape, segments))
        return ConfigError(f"{key}.{found[1]}", unknown_name("key", found[1], allowed))
    found = re.match(r"Object missing required field `(.*)`$", what)
    if found:
        return ConfigError(f"{key}.{found[1]}", "is required")
    found = re.match(r"Expected `(.*)`, got `(.*)`$", what)
    if found:
        wrong = _value_at(value, segments)
        last = next((s for s in reversed(segments) if isinstance(s, str)), path.rsplit(".", 1)[-1].split(":")[-1])
        expected = FIELD_WHAT.get(last) or WHAT.get(found[1].split(" | ")[0], found[1])
        got = kind_of(wrong) if isinstance(wrong, (dict, list)) else repr(wrong)
        hint = " (an encrypted secure: value can't be read offline)" if wrong == SECRET_PLACEHOLDER else ""
        return ConfigError(key, f"must be {expected}, got {got}{hint}")
    return ConfigError(key, what)


def _struct_at(shape: Any, segments: list[str | int]) -> Any:
    """The struct type found by following `segments` (field keys and list indexes) from `shape`."""
    current = _strip(shape)
    for segment in segments:
        if isinstance(segment, int):
            current = _strip(get_args(current)[0])
        else:
            field = next(f for f in msgspec.structs.fields(current) if f.encode_name == segment)
            current = _strip(field.type)
    return current


def _strip(shape: Any) -> Any:
    """`X` from `X | UNSET | None`, and the element type's container kept as is."""
    if get_origin(shape) is Union:
        options = [a for a in get_args(shape) if a not in (UnsetType, type(None))]
        if len(options) == 1:
            return options[0]
        structs = [a for a in options if isinstance(a, type) and issubclass(a, Struct)]
        return structs[0] if len(structs) == 1 else shape  # `bool | {mapping}`: the mapping's keys
    return shape


def _value_at(value: Any, segments: list[str | int]) -> Any:
    for segment in segments:
        try:
            value = value[segment]
        except (KeyError, IndexError, TypeError):
            return None
    return value
