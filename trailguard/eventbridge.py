"""Filter patterns compiled to EventBridge event patterns, for real-time delivery of CloudTrail events.

A JSON filter pattern judges one CloudTrail record; EventBridge wraps the same record as `detail`
of an event whose envelope names the service (`source`) and the kind of record (`detail-type`). The
compiler maps exactly what has an exact EventBridge counterpart and refuses the rest with a named
reason (`EventBridgeRefusal.reason`), never approximating: a rule that silently matches other events
than the metric filter would be worse than none. `validate_event_pattern` enforces EventBridge's own
rules on the result, so a bad pattern is caught here and not left to an emulator.

Exactness holds for fields CloudTrail writes as strings, numbers or objects; where a compared field
holds an array, a boolean or null, EventBridge judges array elements one by one and `anything-but`
sees booleans and null as values, while a filter pattern never matches an array and `!=` never
matches a non-string (docs/realtime.md, "Where the two languages differ").
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, Mapping

from trailguard.patterns import NUMBER_RE, compile_pattern, parse
from trailguard.patterns.ast import (
    And, Comparison, IsCheck, JsonPattern, Key, NotExists, NumberValue, Or, Pattern, Regex, Selector, StringValue,
)

__all__ = ["DETAIL_TYPES", "SIGNIN_DETAIL_TYPE", "API_CALL_DETAIL_TYPE", "SOURCE_BY_EVENT_SOURCE", "REFUSALS",
           "EventBridgeRefusal", "EventBridgePattern", "compile_event_pattern", "validate_event_pattern",
           "event_for", "MAX_PATTERN_CHARS", "NUMERIC_LIMIT"]

# ------------------------------------------------------------------ facts from AWS's documentation

API_CALL_DETAIL_TYPE = "AWS API Call via CloudTrail"
SIGNIN_DETAIL_TYPE = "AWS Console Signin via CloudTrail"
CONSOLE_ACTION_DETAIL_TYPE = "AWS Console Action via CloudTrail"
SERVICE_EVENT_DETAIL_TYPE = "AWS Service Event via CloudTrail"

DETAIL_TYPE_BY_EVENT_TYPE: Mapping[str, str] = {
    "AwsApiCall": API_CALL_DETAIL_TYPE,
    "AwsConsoleSignIn": SIGNIN_DETAIL_TYPE,
    "AwsConsoleAction": CONSOLE_ACTION_DETAIL_TYPE,
    "AwsServiceEvent": SERVICE_EVENT_DETAIL_TYPE,
}
"""CloudTrail `eventType` -> EventBridge `detail-type` ("AWS service events delivered via AWS
CloudTrail", EventBridge User Guide; note "Signin", one word, lower-case i)."""

DETAIL_TYPES: tuple[str, ...] = tuple(DETAIL_TYPE_BY_EVENT_TYPE.values())

SIGNIN_EVENT_NAMES = frozenset({"ConsoleLogin", "CheckMfa", "SwitchRole", "ExitRole", "RenewRole"})
"""Event names CloudTrail records with eventType AwsConsoleSignIn (CloudTrail User Guide, "AWS
Management Console sign-in events")."""

SOURCE_BY_EVENT_SOURCE: Mapping[str, str] = {
    "cloudtrail.amazonaws.com": "aws.cloudtrail",
    "config.amazonaws.com": "aws.config",
    "ec2.amazonaws.com": "aws.ec2",
    "iam.amazonaws.com": "aws.iam",
    "kms.amazonaws.com": "aws.kms",
    "organizations.amazonaws.com": "aws.organizations",
    "s3.amazonaws.com": "aws.s3",
    "signin.amazonaws.com": "aws.signin",
    "sts.amazonaws.com": "aws.sts",
}
"""CloudTrail `eventSource` -> EventBridge `source`, from the per-service pages of the EventBridge
events reference ("... events delivered via AWS CloudTrail"). An event source not listed here is
left out of the envelope (the `detail.eventSource` test still applies) rather than guessed."""

MAX_PATTERN_CHARS = 2048
"""EventBridge's default quota on an event pattern's size (characters)."""

NUMERIC_LIMIT = 5.0e9
"""EventBridge numeric matching works on values from -5.0e9 to +5.0e9."""

NUMERIC_DECIMALS = 6
"""... with at most six digits right of the decimal point."""

_NUMBER_TEXT_CHARS = frozenset("0123456789+-.eE")

REFUSALS: Mapping[str, str] = {
    "not-json": "only JSON filter patterns ({ ... }) compile; terms, %regex% and space-delimited patterns read "
                "the raw message, which EventBridge does not see",
    "match-all": "the empty pattern matches every record; an EventBridge rule needs at least one condition",
    "regex": "EventBridge has no regular expressions",
    "selector-index": "array indexes ([N]) have no EventBridge counterpart",
    "selector-wildcard": "wildcard selectors ([*], .*) match one level existentially; EventBridge flattens arrays "
                         "at every level, so the two disagree",
    "reserved-key": "a key starting with '$' would read as an EventBridge operator",
    "numeric-text": "the filter pattern also matches JSON numbers whose text fits this string; an EventBridge "
                    "string matcher never matches a number",
    "match-any": "'= *' matches any string or number; EventBridge cannot express 'any string or any number' exactly",
    "number-not-equal": "'!=' with a number matches other numbers and every other string; EventBridge's "
                        "anything-but takes one type",
    "numeric-range": "EventBridge compares numbers only between -5.0e9 and +5.0e9 with six decimals",
    "two-conditions-one-field": "two different conditions on one field joined by '&&' have no EventBridge form "
                                "(a field holds one list of alternatives)",
    "field-and-object": "one path is tested as a value and as an object; EventBridge cannot hold both",
    "empty-branch": "an '||' branch would be empty after factoring; simplify the pattern",
    "too-many-combinations": "distributing '&&' over '||' gives too many $or branches",
    "too-large": "the compiled pattern is over EventBridge's 2048-character default quota",
}
"""Every reason the compiler refuses a pattern, by name (the tests cover each one)."""

_MAX_BRANCHES = 100


class EventBridgeRefusal(ValueError):
    """The pattern has no exact EventBridge equivalent; `reason` is a key of REFUSALS."""

    def __init__(self, reason: str, detail: str = "") -> None:
        self.reason = reason
        self.detail = detail
        text = REFUSALS[reason]
        super().__init__(f"cannot compile to EventBridge ({reason}): {text}" + (f": {detail}" if detail else ""))


@dataclass(frozen=True)
class EventBridgePattern:
    """A compiled event pattern: `pattern` (the object) and `text` (its JSON, what PutRule takes).
    `needs_all_management_events` says the rule state must be ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS
    because the pattern can match read-only events (or does not pin the event name)."""

    pattern: dict[str, Any]
    text: str
    needs_all_management_events: bool

    @property
    def rule_state(self) -> str:
        return "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS" if self.needs_all_management_events else "ENABLED"


# ------------------------------------------------------------------ leaves

Path = tuple[str, ...]
Conjunction = dict[Path, tuple[Any, ...]]  # path -> alternatives (an EventBridge matcher list)


def _path(selector: Selector) -> Path:
    keys: list[str] = []
    for part in selector.parts:
        if not isinstance(part, Key):
            kind = "selector-index" if part.__class__.__name__ == "Index" else "selector-wildcard"
            raise EventBridgeRefusal(kind)
        if part.name.startswith("$"):
            raise EventBridgeRefusal("reserved-key", part.name)
        keys.append(part.name)
    return tuple(keys)


def _could_be_number_text(core: str) -> bool:
    return all(ch in _NUMBER_TEXT_CHARS for ch in core)


def _numeric_literal(value: NumberValue) -> int | float:
    number = value.value
    if not math.isfinite(number) or abs(number) > NUMERIC_LIMIT or round(number, NUMERIC_DECIMALS) != number:
        raise EventBridgeRefusal("numeric-range", value.text)
    return int(number) if number == int(number) else number


def _string_matchers(text: str, negate: bool) -> tuple[Any, ...]:
    lead = text.startswith("*")
    trail = len(text) > 1 and text.endswith("*")
    core = text[1 if lead else 0:len(text) - 1 if trail else len(text)]
    if text and set(text) == {"*"}:
        raise EventBridgeRefusal("match-any")
    if lead or trail:
        if _could_be_number_text(core):
            raise EventBridgeRefusal("numeric-text", text)
        if lead and trail:
            matcher: Any = {"wildcard": "*" + core.replace("\\", "\\\\").replace("*", "\\*") + "*"}
        else:
            matcher = {"suffix": core} if lead else {"prefix": core}
    else:
        if NUMBER_RE.match(text) or _is_python_number_text(text):
            raise EventBridgeRefusal("numeric-text", text)
        matcher = text
    return ({"anything-but": matcher},) if negate else (matcher,)


def _is_python_number_text(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return _could_be_number_text(text)


def _leaf(node: Any) -> Conjunction:
    if isinstance(node, NotExists):
        return {_path(node.selector): ({"exists": False},)}
    if isinstance(node, IsCheck):
        return {_path(node.selector): ({"NULL": None, "TRUE": True, "FALSE": False}[node.what],)}
    path = _path(node.selector)
    value = node.value
    if isinstance(value, Regex):
        raise EventBridgeRefusal("regex", f"%{value.body}%")
    if isinstance(value, NumberValue):
        number = _numeric_literal(value)
        if node.op == "!=":
            raise EventBridgeRefusal("number-not-equal", value.text)
        if node.op == "=":
            return {path: ({"numeric": ["=", number]}, value.text)}
        return {path: ({"numeric": [node.op, number]},)}
    return {path: _string_matchers(value.text, node.op == "!=")}


# ------------------------------------------------------------------ && and ||  (disjunctions of conjunctions)

def _merge(a: Conjunction, b: Conjunction) -> Conjunction:
    out = dict(a)
    for path, alternatives in b.items():
        for other in out:
            if other != path and (other[:len(path)] == path or path[:len(other)] == other):
                raise EventBridgeRefusal("field-and-object", ".".join(path))
        if path not in out or out[path] == alternatives:
            out[path] = alternatives
            continue
        combined = _numeric_intersection(out[path], alternatives)
        if combined is None:
            raise EventBridgeRefusal("two-conditions-one-field", ".".join(path))
        out[path] = combined
    return out


def _numeric_intersection(a: tuple[Any, ...], b: tuple[Any, ...]) -> tuple[Any, ...] | None:
    """`$.n > 1 && $.n < 5` -> one range `{"numeric": [">", 1, "<", 5]}`: a lower and an upper bound."""
    if len(a) != 1 or len(b) != 1:
        return None
    ra, rb = (m.get("numeric") if isinstance(m, dict) else None for m in (a[0], b[0]))
    if not ra or not rb or len(ra) != 2 or len(rb) != 2:
        return None
    lower = [r for r in (ra, rb) if r[0] in (">", ">=")]
    upper = [r for r in (ra, rb) if r[0] in ("<", "<=")]
    if len(lower) != 1 or len(upper) != 1:
        return None
    return ({"numeric": [*lower[0], *upper[0]]},)


def _dnf(node: Any) -> list[Conjunction]:
    if isinstance(node, And):
        branches: list[Conjunction] = [{}]
        for operand in node.operands:
            operand_branches = _dnf(operand)
            branches = [_merge(left, right) for left in branches for right in operand_branches]
            if len(branches) > _MAX_BRANCHES:
                raise EventBridgeRefusal("too-many-combinations", f"over {_MAX_BRANCHES} branches")
        return branches
    if isinstance(node, Or):
        out: list[Conjunction] = []
        for operand in node.operands:
            for branch in _dnf(operand):
                _add_alternative(out, branch)
        return out
    return [_leaf(node)]


def _add_alternative(branches: list[Conjunction], branch: Conjunction) -> None:
    """`||` of two tests on one field joins their alternatives instead of adding a branch."""
    if len(branch) == 1:
        (path, alternatives), = branch.items()
        for existing in branches:
            if len(existing) == 1 and path in existing:
                existing[path] = existing[path] + tuple(a for a in alternatives if a not in existing[path])
                return
    branches.append(dict(branch))


# ------------------------------------------------------------------ building the pattern

def _nest(conjunction: Conjunction) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for path, alternatives in conjunction.items():
        node = out
        for key in path[:-1]:
            node = node.setdefault(key, {})
        node[path[-1]] = list(alternatives)
    return out


def _detail(branches: list[Conjunction]) -> dict[str, Any]:
    if len(branches) == 1:
        return _nest(branches[0])
    common = {path: alts for path, alts in branches[0].items() if all(b.get(path) == alts for b in branches[1:])}
    rest = [{p: a for p, a in b.items() if p not in common} for b in branches]
    if any(not branch for branch in rest):
        raise EventBridgeRefusal("empty-branch")
    detail = _nest(common)
    if "$or" in detail:  # pragma: no cover - keys starting with $ are refused
        raise EventBridgeRefusal("reserved-key", "$or")
    detail["$or"] = [_nest(branch) for branch in rest]
    return detail


def _pinned(branches: list[Conjunction], path: Path) -> set[str] | None:
    """The exact strings every branch pins `path` to, or None if some branch leaves it open."""
    values: set[str] = set()
    for branch in branches:
        alternatives = branch.get(path)
        if not alternatives or not all(isinstance(a, str) for a in alternatives):
            return None
        values.update(alternatives)
    return values


def _envelope(branches: list[Conjunction]) -> tuple[dict[str, Any], bool]:
    envelope: dict[str, Any] = {}
    sources = _pinned(branches, ("eventSource",))
    if sources and all(s in SOURCE_BY_EVENT_SOURCE for s in sources):
        envelope["source"] = sorted({SOURCE_BY_EVENT_SOURCE[s] for s in sources})
    event_types = _pinned(branches, ("eventType",))
    names = _pinned(branches, ("eventName",))
    if event_types and all(t in DETAIL_TYPE_BY_EVENT_TYPE for t in event_types):
        detail_types = {DETAIL_TYPE_BY_EVENT_TYPE[t] for t in event_types}
    elif names and names <= SIGNIN_EVENT_NAMES:
        detail_types = {SIGNIN_DETAIL_TYPE}
    else:
        detail_types = set(DETAIL_TYPES)
    envelope["detail-type"] = sorted(detail_types)
    read_only_possible = names is None or any(n.startswith(("Describe", "Get", "List")) for n in names)
    return envelope, read_only_possible


def compile_event_pattern(pattern: str | Pattern) -> EventBridgePattern:
    """The EventBridge event pattern matching exactly the CloudTrail events the filter pattern matches.

    Raises `EventBridgeRefusal` (a `ValueError`) naming the reason when there is no exact form, and
    `PatternSyntaxError` for an invalid filter pattern.
    """
    tree = compile_pattern(pattern).tree if isinstance(pattern, str) else pattern
    if not isinstance(tree, JsonPattern):
        raise EventBridgeRefusal("match-all" if tree.__class__.__name__ == "MatchAll" else "not-json")
    branches = _dnf(tree.expr)
    envelope, read_only_possible = _envelope(branches)
    result = {**envelope, "detail": _detail(branches)}
    problems = validate_event_pattern(result)
    if problems:
        if any(p.startswith("size") for p in problems):
            raise EventBridgeRefusal("too-large", problems[0])
        raise AssertionError(f"compiler produced an invalid pattern: {problems}")  # a bug, not user input
    return EventBridgePattern(result, json.dumps(result, separators=(",", ":"), ensure_ascii=False), read_only_possible)


# ------------------------------------------------------------------ EventBridge's own rules

_OPERATORS = frozenset({"prefix", "suffix", "wildcard", "anything-but", "numeric", "exists", "equals-ignore-case",
                        "cidr"})
_NUMERIC_OPS = frozenset({"=", "<", ">", "<=", ">="})


def validate_event_pattern(pattern: Any) -> list[str]:
    """Problems EventBridge would reject the pattern for ([] when none): size over 2048 characters,
    `**` in a wildcard, operators outside a leaf's list, unknown operators, numbers out of range,
    empty objects or lists, a `$or` that is not a list of two or more objects."""
    problems: list[str] = []
    if not isinstance(pattern, dict) or not pattern:
        return ["pattern: must be a non-empty JSON object"]
    size = len(json.dumps(pattern, separators=(",", ":"), ensure_ascii=False))
    if size > MAX_PATTERN_CHARS:
        problems.append(f"size: {size} characters, over the {MAX_PATTERN_CHARS}-character default quota")
    _check_object(pattern, "", problems)
    return problems


def _check_object(node: dict[str, Any], where: str, problems: list[str]) -> None:
    if not node:
        problems.append(f"{where or 'pattern'}: empty object")
    for key, value in node.items():
        here = f"{where}.{key}" if where else key
        if key == "$or":
            if not isinstance(value, list) or len(value) < 2 or not all(isinstance(v, dict) for v in value):
                problems.append(f"{here}: must be a list of two or more objects")
                continue
            for number, branch in enumerate(value):
                _check_object(branch, f"{here}[{number}]", problems)
        elif key.startswith("$") or key in _OPERATORS:
            problems.append(f"{here}: operator outside a leaf's list of values")
        elif isinstance(value, dict):
            _check_object(value, here, problems)
        elif isinstance(value, list):
            _check_leaf(value, here, problems)
        else:
            problems.append(f"{here}: a leaf must be a list of values or matchers")


def _check_leaf(values: list[Any], where: str, problems: list[str]) -> None:
    if not values:
        problems.append(f"{where}: empty list")
    for value in values:
        if isinstance(value, dict):
            _check_matcher(value, where, problems)
        elif isinstance(value, list):
            problems.append(f"{where}: nested list")
        elif isinstance(value, (int, float)) and not isinstance(value, bool) and abs(value) > NUMERIC_LIMIT:
            problems.append(f"{where}: number {value} out of range")


def _check_matcher(matcher: dict[str, Any], where: str, problems: list[str]) -> None:
    if len(matcher) != 1:
        problems.append(f"{where}: a matcher object has exactly one operator")
        return
    (name, arg), = matcher.items()
    if name not in _OPERATORS:
        problems.append(f"{where}: unknown operator {name!r}")
    elif name == "wildcard" and (not isinstance(arg, str) or "**" in arg.replace("\\*", "")):
        problems.append(f"{where}: wildcard {arg!r} has consecutive '*' characters")
    elif name == "exists" and not isinstance(arg, bool):
        problems.append(f"{where}: exists takes true or false")
    elif name in ("prefix", "suffix") and not isinstance(arg, (str, dict)):
        problems.append(f"{where}: {name} takes a string")
    elif name == "numeric":
        _check_numeric(arg, where, problems)
    elif name == "anything-but":
        items = arg if isinstance(arg, list) else [arg]
        if isinstance(arg, dict):
            _check_matcher(arg, where, problems)
        elif not items or not all(isinstance(i, str) for i in items) and not all(
                isinstance(i, (int, float)) and not isinstance(i, bool) for i in items):
            problems.append(f"{where}: anything-but takes strings or numbers, one type")


def _check_numeric(arg: Any, where: str, problems: list[str]) -> None:
    if not isinstance(arg, list) or len(arg) not in (2, 4):
        problems.append(f"{where}: numeric takes [op, number] or [op, number, op, number]")
        return
    for op, number in zip(arg[::2], arg[1::2]):
        if op not in _NUMERIC_OPS or isinstance(number, bool) or not isinstance(number, (int, float)):
            problems.append(f"{where}: numeric {op!r} {number!r} is not a comparison with a number")
        elif not math.isfinite(number) or abs(number) > NUMERIC_LIMIT or round(number, NUMERIC_DECIMALS) != number:
            problems.append(f"{where}: number {number} outside -5.0e9..5.0e9 with six decimals")
    if len(arg) == 4 and not (arg[0] in (">", ">=") and arg[2] in ("<", "<=")):
        problems.append(f"{where}: a numeric range is a lower bound then an upper bound")


# ------------------------------------------------------------------ the envelope of a record

def event_for(record: Mapping[str, Any]) -> dict[str, Any]:
    """The EventBridge event CloudTrail delivers for one record: the envelope around `detail`, with
    `source` from the event source and `detail-type` from the event type as documented."""
    event_source = str(record.get("eventSource", ""))
    source = SOURCE_BY_EVENT_SOURCE.get(event_source, "aws." + event_source.split(".", 1)[0])
    return {
        "version": "0",
        "id": "00000000-0000-0000-0000-000000000000",
        "detail-type": DETAIL_TYPE_BY_EVENT_TYPE.get(str(record.get("eventType", "AwsApiCall")), API_CALL_DETAIL_TYPE),
        "source": source,
        "account": str(record.get("recipientAccountId", "111122223333")),
        "time": str(record.get("eventTime", "2026-01-01T00:00:00Z")),
        "region": str(record.get("awsRegion", "us-east-1")),
        "resources": [],
        "detail": dict(record),
    }
