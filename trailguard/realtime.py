"""Real-time delivery of a detection as an EventBridge rule: who may have one, and what it says.

An alarm counts matching events per period; an EventBridge rule fires once per matching event. So
only a detection whose alarm fires on a single event (threshold of one, one period of one) has a
real-time twin that means the same thing, and only when its deployed pattern (exclusions merged)
compiles exactly (`trailguard.eventbridge`). `realtime_refusal` says why not otherwise.

The alert a person reads is built here as an EventBridge input transformer (`alert_transformer`),
and `render_input_transformer` fills it in the way EventBridge documents it
("Amazon EventBridge input transformation", EventBridge User Guide), so tests can read the message
a sample event produces. No Pulumi here.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Mapping

from trailguard.alarms import AlarmSettings
from trailguard.eventbridge import EventBridgePattern, EventBridgeRefusal, compile_event_pattern

GLOBAL_SERVICES_REGION = "us-east-1"
"""Where CloudTrail delivers the events of global services (IAM, STS's global endpoint,
Organizations, CloudFront ...) to EventBridge; covered by default beside the stack's region."""

ALERT_TARGET_ID = "trailguard-alert"
FORWARD_TARGET_ID = "trailguard-forward"
"""Target ids of the home rule (to the alert topic) and of a forwarding rule (to the home bus)."""

EVENTS_PRINCIPAL = "events.amazonaws.com"

_COUNTS_UP = ("GreaterThanOrEqualToThreshold", "GreaterThanThreshold")


def single_event_problem(alarm: AlarmSettings) -> str | None:
    """None when the alarm fires on one matching event, as a rule does; else why it does not.

    One event publishes the value 1 in one period, so every statistic of it is 1 (Sum, SampleCount,
    Minimum, Maximum, Average); the alarm fires on it when 1 is on the alarming side of the
    threshold in a single period of a single evaluation."""
    if alarm.comparison not in _COUNTS_UP:
        return (f"its alarm fires when events are missing ({alarm.comparison} {alarm.threshold:g}); "
                "EventBridge fires per event that happens and cannot see absence")
    if alarm.treat_missing_data == "breaching":
        return ("its alarm also fires when no event arrives (treatMissingData: breaching); EventBridge fires per "
                "event that happens and cannot see absence")
    if (alarm.evaluation_periods, alarm.datapoints_to_alarm) != (1, 1):
        return (f"its alarm needs {alarm.datapoints_to_alarm} of {alarm.evaluation_periods} periods of "
                f"{alarm.period}s; EventBridge fires per event and cannot count periods")
    if not alarm.breaches(1.0):
        return (f"its alarm needs a count {'>=' if alarm.comparison == _COUNTS_UP[0] else '>'} "
                f"{alarm.threshold:g} in {alarm.period}s; EventBridge fires per event and cannot count")
    return None


@dataclass(frozen=True, slots=True)
class RealtimeVerdict:
    """A detection's compiled rule (`pattern`) or why it cannot have one (`refusal`)."""

    pattern: EventBridgePattern | None
    refusal: str | None


def realtime_verdict(pattern: str, alarm: AlarmSettings) -> RealtimeVerdict:
    """Whether a detection deploying `pattern` with `alarm` can be a real-time rule meaning the same."""
    problem = single_event_problem(alarm)
    if problem:
        return RealtimeVerdict(None, problem)
    try:
        return RealtimeVerdict(compile_event_pattern(pattern), None)
    except EventBridgeRefusal as err:
        return RealtimeVerdict(None, f"its pattern has no exact EventBridge form: {err}")
    except ValueError as err:  # a pattern the engine cannot parse; validation reports it elsewhere
        return RealtimeVerdict(None, f"its pattern cannot be compiled: {err}")


# --- the alert message ----------------------------------------------------------------------------

ALERT_PATHS: Mapping[str, str] = {
    "eventName": "$.detail.eventName",
    "eventSource": "$.detail.eventSource",
    "identityType": "$.detail.userIdentity.type",
    "principal": "$.detail.userIdentity.arn",
    "sourceIp": "$.detail.sourceIPAddress",
    "userAgent": "$.detail.userAgent",
    "account": "$.account",
    "region": "$.detail.awsRegion",
    "errorCode": "$.detail.errorCode",
    "eventTime": "$.detail.eventTime",
}
"""What the alert quotes from the event. The region is the record's own (`awsRegion`): an event
forwarded from another Region's bus still says where the call was made."""


def _literal(text: str) -> str:
    """Fixed text made safe inside the template's JSON string: `<` and `>` would start a
    placeholder (EventBridge cannot escape them), a quote or backslash would end or break it."""
    return (" ".join(text.split()).replace("\\", "/").replace('"', "'")
            .replace("<", "(").replace(">", ")"))


_NEW_ITEM = re.compile(r"^\s*(?:\d+[.)]|[-*])\s")


def first_step(runbook: str) -> str:
    """The runbook's first line as a reader sees it: its first item (`1. ...`) with the lines it
    wraps onto, or its first paragraph when it is not a list."""
    lines: list[str] = []
    for line in runbook.splitlines():
        if not line.strip():
            if lines:
                break
            continue
        if lines and _NEW_ITEM.match(line):
            break
        lines.append(line.strip())
    return " ".join(lines)


def alert_transformer(detection_id: str, title: str, severity: str, runbook: str,
                      attribution: str = "") -> tuple[dict[str, str], str]:
    """(input paths, input template) of the home rule's target: one line a person can act on,
    ending with the attribution of a detection converted from a Sigma rule (its licence asks that
    messages based on the rule's matches keep its author).

    A string template: EventBridge puts each value in as it is, a missing one (no `errorCode` on a
    call that succeeded) as nothing, and SNS delivers the text in the template's double quotes."""
    runbook_line = _clip(first_step(runbook) or "none given", MAX_RUNBOOK_CHARS)
    template = (
        f'"trailguard real-time alert: {_clip(_literal(title), MAX_TITLE_CHARS)} [{_literal(severity)}] '
        f'({_literal(detection_id)}). '
        "<eventName> (<eventSource>) by <identityType> <principal> from <sourceIp> "
        "(user agent <userAgent>), account <account>, region <region>, at <eventTime>; "
        "error code (empty when the call succeeded): <errorCode>. "
        f'Runbook: {_literal(runbook_line)}'
        + (f" {_clip(_literal(attribution), MAX_ATTRIBUTION_CHARS)}" if attribution else "")
        + '"'
    )
    return dict(ALERT_PATHS), template


MAX_INPUT_TEMPLATE = 8192
"""PutTargets InputTransformer.InputTemplate: at most 8192 characters."""
MAX_TITLE_CHARS = 256
MAX_RUNBOOK_CHARS = 2048
MAX_ATTRIBUTION_CHARS = 512
"""Fixed text is clipped to these, so the template stays far inside MAX_INPUT_TEMPLATE whatever a
custom detection's title or runbook holds."""


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 3] + "..."


# --- rendering, as EventBridge does --------------------------------------------------------------

PREDEFINED_VARIABLES = frozenset({"aws.events.rule-arn", "aws.events.rule-name", "aws.events.event",
                                  "aws.events.event.ingestion-time", "aws.events.event.json"})
_PLACEHOLDER = re.compile(r"<([^<>]*)>")
_PATH = re.compile(r"^\$(?:\.[A-Za-z0-9_\-/]+)*\Z")


class TransformerError(ValueError):
    """An input transformer EventBridge would refuse (PutTargets validates placeholders and paths)."""


def json_path_value(event: Mapping[str, Any], path: str) -> tuple[bool, Any]:
    """(found, value) of a dot-notation JSON path (`$.detail.userIdentity.arn`) in `event`."""
    if not _PATH.match(path):
        raise TransformerError(f"input path {path!r} is not dot-notation JSON path ($.a.b)")
    value: Any = event
    for key in path.split(".")[1:]:
        if not isinstance(value, Mapping) or key not in value:
            return False, None
        value = value[key]
    return True, value


def render_input_transformer(input_paths: Mapping[str, str], template: str, event: Mapping[str, Any]) -> str:
    """What EventBridge sends the target for `event`: each `<name>` replaced by the value its path
    finds. Inside a JSON string (between quotes) a value goes in as its text, unescaped; outside
    one, as JSON. A path the event lacks creates no variable, and its placeholder becomes nothing.
    A placeholder with no path (and not a predefined variable) is refused, as PutTargets does."""
    values: dict[str, Any] = {}
    for name, path in input_paths.items():
        if name.startswith("aws."):
            raise TransformerError(f"input path name {name!r} may not start with 'aws.'")
        found, value = json_path_value(event, path)
        if found:
            values[name] = value
    out: list[str] = []
    position = 0
    for match in _PLACEHOLDER.finditer(template):
        name = match[1]
        if name not in input_paths:
            if name in PREDEFINED_VARIABLES:
                raise TransformerError(f"<{name}> is filled by EventBridge at delivery; not rendered here")
            raise TransformerError(f"template placeholder <{name}> has no input path")
        out.append(template[position:match.start()])
        position = match.end()
        if name not in values:
            continue
        value = values[name]
        if _inside_string(template, match.start()):
            out.append(value if isinstance(value, str) else json.dumps(value, separators=(",", ":")))
        else:
            out.append(json.dumps(value, separators=(",", ":")))
    out.append(template[position:])
    return "".join(out)


def _inside_string(template: str, index: int) -> bool:
    """Whether `index` is inside a double-quoted string of the template (quotes escaped with a
    backslash do not count)."""
    inside = False
    escaped = False
    for char in template[:index]:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == '"':
            inside = not inside
    return inside
