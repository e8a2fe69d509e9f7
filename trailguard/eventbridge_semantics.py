"""What an EventBridge event pattern means: a matcher, and a reading back into filter-pattern terms.

`matches(event_pattern, event)` decides whether EventBridge delivers `event` to a rule with that
pattern, following AWS's "Event patterns", "Content filtering in Amazon EventBridge event patterns"
and "Comparison operators for use in event patterns" pages of the EventBridge User Guide
(https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns.html,
.../eb-event-patterns-content-based-filtering.html, .../eb-create-pattern-operators.html):

- a pattern names fields; an event matches when every named field matches (AND), and a leaf's list
  holds alternatives (OR); `$or` holds alternative sub-patterns;
- a leaf matches only a leaf value: a missing field, an object, and an array with no scalar element
  have none, so only `{"exists": false}` matches them; an array matches when any element does;
- exact values compare by type: strings, numbers (by value: 300 is 300.0), `true`, `false`, `null`;
- `prefix`, `suffix` (each also `{"equals-ignore-case": ...}`), `equals-ignore-case` and `wildcard`
  (`*` any run of characters, `\\*` a star, `\\\\` a backslash) match strings only; `numeric` and
  `cidr` match numbers and IP-address strings only;
- `anything-but` (a value, a list of strings or of numbers, or `prefix`, `suffix`,
  `equals-ignore-case`, `wildcard` inside it) matches every leaf value the inner test does not,
  booleans and null included;
- an object pattern matched against an array of objects needs one element to match it whole
  (EventBridge's array consistency; moto does not flatten arrays of objects, so this is our
  reading, not an oracle-checked one).

`read_rule(event_pattern)` turns a pattern into a condition on the CloudTrail *record* (the
filter-pattern AST of `trailguard.patterns.ast`): `detail` paths become record paths, and the
envelope keys `source` and `detail-type` become the `eventSource`/`eventType` values for which
`trailguard.eventbridge.event_for` gives that envelope. The reading is exact for what the compiler
emits; anything else it cannot express is read *narrower* than the rule (an alternative it cannot
read drops out) and named in `gaps`. `covers(event_pattern, reference)` then proves with
`trailguard.patterns.contains` that the rule matches every record the reference filter pattern
matches; a counterexample of a narrowed reading is checked with `matches` and, when the rule does
match it, the answer is "undecided" (then samples judge). Like the compiler, the proof holds for
records whose compared fields hold strings, numbers or objects (docs/realtime.md, "Where the two
languages differ").
"""

from __future__ import annotations

import ipaddress
import math
import re
from dataclasses import dataclass
from typing import Any, Mapping

from trailguard.eventbridge import (
    DETAIL_TYPE_BY_EVENT_TYPE, DETAIL_TYPES, SIGNIN_EVENT_NAMES, SOURCE_BY_EVENT_SOURCE, event_for,
)
from trailguard.patterns import Containment, contains, parse
from trailguard.patterns.ast import (
    And, Comparison, IsCheck, JsonPattern, Key, MatchAll, NotExists, NumberValue, Or, Selector, StringValue,
)

__all__ = ["matches", "EventPatternError", "RecordCondition", "read_rule", "reading_pattern", "Coverage", "covers",
           "CLOUDTRAIL_FACTS", "wildcard_parts"]


class EventPatternError(ValueError):
    """The event pattern is not one EventBridge accepts, at `where`."""

    def __init__(self, where: str, problem: str) -> None:
        self.where = where
        super().__init__(f"event pattern {where or '(root)'}: {problem}")


# ------------------------------------------------------------------ matching

_NO_VALUE = object()


def matches(event_pattern: Mapping[str, Any], event: Any) -> bool:
    """Whether EventBridge matches `event` (the whole event: envelope and `detail`) with `event_pattern`.

    Raises `EventPatternError` for a construct EventBridge rejects (an unknown operator, a leaf that
    is not a list)."""
    if not isinstance(event_pattern, Mapping):
        raise EventPatternError("", "must be a JSON object")
    return _match_object(event_pattern, event, "")


def _match_object(pattern: Mapping[str, Any], node: Any, where: str) -> bool:
    if isinstance(node, list):  # array consistency: one element matches the object pattern whole
        objects = [element for element in _flatten(node) if isinstance(element, Mapping)]
        if not objects:
            return _only_absence(pattern)
        return any(_match_object(pattern, element, where) for element in objects)
    for key, sub in pattern.items():
        here = f"{where}.{key}" if where else key
        if key == "$or":
            if not isinstance(sub, list) or not all(isinstance(branch, Mapping) for branch in sub):
                raise EventPatternError(here, "$or takes a list of objects")
            if not any(_match_object(branch, node, where) for branch in sub):
                return False
            continue
        child = node.get(key, _NO_VALUE) if isinstance(node, Mapping) else _NO_VALUE
        if isinstance(sub, Mapping):
            if child is _NO_VALUE or not isinstance(child, (Mapping, list)):
                if not _only_absence(sub):
                    return False
                continue
            if not _match_object(sub, child, here):
                return False
        elif isinstance(sub, list):
            if not _match_leaf(sub, child, here):
                return False
        else:
            raise EventPatternError(here, "a field's value must be an object or a list of matchers")
    return True


def _only_absence(pattern: Mapping[str, Any]) -> bool:
    """An object pattern over a missing subtree matches only if everything it asks is absence."""
    for key, sub in pattern.items():
        if key == "$or":
            if not any(_only_absence(branch) for branch in sub):
                return False
        elif isinstance(sub, Mapping):
            if not _only_absence(sub):
                return False
        elif not any(isinstance(m, Mapping) and m.get("exists") is False for m in sub):
            return False
    return True


def _flatten(values: list[Any]) -> list[Any]:
    out: list[Any] = []
    for value in values:
        if isinstance(value, list):
            out.extend(_flatten(value))
        else:
            out.append(value)
    return out


def _leaf_values(value: Any) -> list[Any]:
    """The scalar values EventBridge sees at a path: none for a missing field or an object."""
    if value is _NO_VALUE or isinstance(value, Mapping):
        return []
    if isinstance(value, list):
        return [v for v in _flatten(value) if not isinstance(v, Mapping)]
    return [value]


def _match_leaf(alternatives: list[Any], value: Any, where: str) -> bool:
    if not alternatives:
        raise EventPatternError(where, "empty list")
    scalars = _leaf_values(value)
    for matcher in alternatives:
        if isinstance(matcher, Mapping) and len(matcher) == 1 and "exists" in matcher:
            wanted = matcher["exists"]
            if not isinstance(wanted, bool):
                raise EventPatternError(where, "exists takes true or false")
            if bool(scalars) is wanted:
                return True
            continue
        if any(_match_scalar(matcher, scalar, where) for scalar in scalars):
            return True
    return False


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _equal(literal: Any, value: Any) -> bool:
    """EventBridge's exact match: same type, numbers by value."""
    if literal is None or isinstance(literal, bool):
        return value is literal
    if isinstance(literal, str):
        return isinstance(value, str) and value == literal
    if _is_number(literal):
        return _is_number(value) and value == literal
    return False


def _match_scalar(matcher: Any, value: Any, where: str) -> bool:
    if not isinstance(matcher, Mapping):
        if isinstance(matcher, list):
            raise EventPatternError(where, "nested list")
        return _equal(matcher, value)
    if len(matcher) != 1:
        raise EventPatternError(where, "a matcher object has exactly one operator")
    (name, arg), = matcher.items()
    if name == "anything-but":
        return not _anything_but_excludes(arg, value, where)
    if name == "numeric":
        return _numeric(arg, value, where)
    if name == "cidr":
        return isinstance(value, str) and _in_network(arg, value, where)
    if name in _STRING_TESTS:
        return isinstance(value, str) and _string_test(name, arg, value, where)
    raise EventPatternError(where, f"unknown operator {name!r}")


def _anything_but_excludes(arg: Any, value: Any, where: str) -> bool:
    if isinstance(arg, Mapping):
        if len(arg) != 1:
            raise EventPatternError(where, "anything-but takes one operator")
        (name, inner), = arg.items()
        if name not in _STRING_TESTS:
            raise EventPatternError(where, f"anything-but does not take {name!r}")
        options = inner if isinstance(inner, list) else [inner]
        return isinstance(value, str) and any(_string_test(name, option, value, where) for option in options)
    options = arg if isinstance(arg, list) else [arg]
    if not options or not (all(isinstance(o, str) for o in options) or all(_is_number(o) for o in options)):
        raise EventPatternError(where, "anything-but takes strings or numbers, one type")
    return any(_equal(option, value) for option in options)


def _string_test(name: str, arg: Any, value: str, where: str) -> bool:
    fold = False
    if name in ("prefix", "suffix") and isinstance(arg, Mapping):
        if set(arg) != {"equals-ignore-case"}:
            raise EventPatternError(where, f"{name} takes a string or {{\"equals-ignore-case\": ...}}")
        arg, fold = arg["equals-ignore-case"], True
    if name == "equals-ignore-case":
        fold = True
    options = arg if isinstance(arg, list) and name in ("equals-ignore-case", "wildcard") else [arg]
    if not all(isinstance(option, str) for option in options):
        raise EventPatternError(where, f"{name} takes a string")
    text = value.casefold() if fold else value
    for option in options:
        target = option.casefold() if fold else option
        if name == "prefix" and text.startswith(target):
            return True
        if name == "suffix" and text.endswith(target):
            return True
        if name == "equals-ignore-case" and text == target:
            return True
        if name == "wildcard" and _wildcard_regex(option).fullmatch(value):
            return True
    return False


_STRING_TESTS = frozenset({"prefix", "suffix", "equals-ignore-case", "wildcard"})


def wildcard_parts(pattern: str) -> list[str | None]:
    """A wildcard pattern as literal runs and stars (None): `\\*` is a literal star, `\\\\` a backslash."""
    parts: list[str | None] = []
    literal: list[str] = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\" and index + 1 < len(pattern) and pattern[index + 1] in "*\\":
            literal.append(pattern[index + 1])
            index += 2
            continue
        if char == "*":
            if literal:
                parts.append("".join(literal))
                literal = []
            parts.append(None)
        else:
            literal.append(char)
        index += 1
    if literal:
        parts.append("".join(literal))
    return parts


def _wildcard_regex(pattern: str) -> re.Pattern[str]:
    return re.compile("".join(".*" if part is None else re.escape(part) for part in wildcard_parts(pattern)),
                      re.DOTALL)


_NUMERIC_OPS = {"=": lambda a, b: a == b, "<": lambda a, b: a < b, "<=": lambda a, b: a <= b,
                ">": lambda a, b: a > b, ">=": lambda a, b: a >= b}


def _numeric(arg: Any, value: Any, where: str) -> bool:
    if not isinstance(arg, list) or len(arg) not in (2, 4):
        raise EventPatternError(where, "numeric takes [op, number] or [op, number, op, number]")
    comparisons = list(zip(arg[::2], arg[1::2]))
    for op, bound in comparisons:
        if op not in _NUMERIC_OPS or not _is_number(bound):
            raise EventPatternError(where, f"numeric {op!r} {bound!r} is not a comparison with a number")
    return _is_number(value) and all(_NUMERIC_OPS[op](value, bound) for op, bound in comparisons)


def _in_network(arg: Any, value: str, where: str) -> bool:
    try:
        network = ipaddress.ip_network(str(arg), strict=False)
    except ValueError:
        raise EventPatternError(where, f"cidr {arg!r} is not an IP network") from None
    try:
        return ipaddress.ip_address(value) in network
    except ValueError:
        return False


# ------------------------------------------------------------------ reading a pattern as a record condition

Expr = Any  # a filter-pattern expression, or True / False


@dataclass(frozen=True)
class RecordCondition:
    """A condition on the CloudTrail record that implies the rule matches `event_for(record)`.

    `expr` is a filter-pattern expression (or True/False); `gaps` name what the reading could not
    express and left out, so the rule may match more than `expr` says (empty: the reading is exact
    for records whose compared fields hold strings, numbers, null or booleans or are missing; an
    object where the pattern tests a leaf is no value to EventBridge, which `exists: false` then
    matches and the reading does not)."""

    expr: Expr
    gaps: tuple[str, ...] = ()


def read_rule(event_pattern: Mapping[str, Any]) -> RecordCondition:
    """The record condition of an event pattern: `detail` read into filter-pattern terms, `source`
    and `detail-type` into the `eventSource`/`eventType` values `event_for` maps to them."""
    if not isinstance(event_pattern, Mapping) or not event_pattern:
        raise EventPatternError("", "must be a non-empty JSON object")
    gaps: list[str] = []
    expr = _read_envelope(event_pattern, gaps, "")
    return RecordCondition(expr, tuple(dict.fromkeys(gaps)))


def _read_envelope(pattern: Mapping[str, Any], gaps: list[str], where: str) -> Expr:
    terms: list[Expr] = []
    for key, sub in pattern.items():
        here = f"{where}.{key}" if where else key
        if key == "$or":
            terms.append(_any([_read_envelope(branch, gaps, here) for branch in _branches(sub, here)]))
        elif key == "detail":
            if isinstance(sub, Mapping):
                terms.append(_read_object(sub, (), gaps, here))
            else:
                gaps.append(f"{here}: a condition on the whole detail object")
                terms.append(False)
        elif key == "source":
            terms.append(_read_source(_leaf(sub, here), gaps, here))
        elif key == "detail-type":
            terms.append(_read_detail_type(_leaf(sub, here), gaps, here))
        else:
            gaps.append(f"{here}: envelope field {key!r}, which this reading does not map to the record")
            terms.append(False)
    return _all(terms)


def _branches(value: Any, where: str) -> list[Mapping[str, Any]]:
    if not isinstance(value, list) or not value or not all(isinstance(b, Mapping) for b in value):
        raise EventPatternError(where, "$or takes a list of objects")
    return value


def _leaf(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list) or not value:
        raise EventPatternError(where, "a leaf must be a non-empty list of values or matchers")
    return value


def _read_object(pattern: Mapping[str, Any], path: tuple[str, ...], gaps: list[str], where: str) -> Expr:
    terms: list[Expr] = []
    for key, sub in pattern.items():
        here = f"{where}.{key}"
        if key == "$or":
            terms.append(_any([_read_object(branch, path, gaps, here) for branch in _branches(sub, here)]))
        elif isinstance(sub, Mapping):
            terms.append(_read_object(sub, path + (key,), gaps, here))
        else:
            terms.append(_read_leaf(_leaf(sub, here), path + (key,), gaps, here))
    return _all(terms)


def _selector(path: tuple[str, ...]) -> Selector:
    return Selector(tuple(Key(key, bracketed=not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key)) for key in path))


def _string(selector: Selector, op: str, text: str) -> Comparison:
    return Comparison(selector, op, StringValue(text, quoted=True))


def _number(selector: Selector, op: str, number: float) -> Comparison:
    text = str(number) if isinstance(number, int) else repr(float(number))
    return Comparison(selector, op, NumberValue(text))


def _numeric_text(text: str) -> bool:
    """Strings a filter pattern's `= "text"` also finds in a JSON number (its text)."""
    try:
        float(text)
    except ValueError:
        return False
    return True


_NUMBER_CHARS = frozenset("0123456789+-.eE")


def _may_be_in_number(core: str) -> bool:
    return all(char in _NUMBER_CHARS for char in core)


def _string_form(kind: str, core: str) -> str | None:
    """The filter-pattern string for an exact, prefix, suffix or contains test on strings only, or
    None when the filter pattern would read it otherwise (a star at the wrong end, a core that the
    text of a number could hold, an empty core)."""
    if kind == "exact":
        if core.startswith("*") or core.endswith("*") or _numeric_text(core):
            return None
        return core
    if not core or _may_be_in_number(core):
        return None
    if kind == "prefix":
        return None if core.startswith("*") else core + "*"
    if kind == "suffix":
        return None if core.endswith("*") else "*" + core
    return "*" + core + "*"


def _wildcard_form(pattern: str) -> tuple[str, str] | None:
    """(kind, core) of a wildcard pattern that is an exact, prefix, suffix or contains test."""
    parts = wildcard_parts(pattern)
    literals = [p for p in parts if p is not None]
    if len(literals) > 1 or (literals and parts.count(None) > 2) or not literals:
        return None
    lead, trail = parts[0] is None, parts[-1] is None
    if parts.count(None) != int(lead) + int(trail):
        return None
    kind = {(False, False): "exact", (False, True): "prefix", (True, False): "suffix", (True, True): "contains"}
    return kind[(lead, trail)], literals[0]


def _read_leaf(alternatives: list[Any], path: tuple[str, ...], gaps: list[str], where: str) -> Expr:
    selector = _selector(path)
    numbers = {float(a) for a in alternatives if _is_number(a)}
    numbers |= {float(m["numeric"][1]) for m in alternatives
                if isinstance(m, Mapping) and isinstance(m.get("numeric"), list) and len(m["numeric"]) == 2
                and m["numeric"][0] == "=" and _is_number(m["numeric"][1])}
    terms: list[Expr] = []
    for matcher in alternatives:
        term = _read_matcher(matcher, selector, numbers, gaps, where)
        terms.append(term)
    return _any(terms)


def _read_matcher(matcher: Any, selector: Selector, numbers: set[float], gaps: list[str], where: str) -> Expr:
    if matcher is None or isinstance(matcher, bool):
        return IsCheck(selector, {None: "NULL", True: "TRUE", False: "FALSE"}[matcher])
    if _is_number(matcher):
        return _all([_number(selector, ">=", matcher), _number(selector, "<=", matcher)])
    if isinstance(matcher, str):
        if _numeric_text(matcher) and math.isfinite(float(matcher)) and float(matcher) in numbers:
            return _string(selector, "=", matcher)  # the number beside it covers what else it finds
        form = _string_form("exact", matcher)
        if form is None:
            gaps.append(f"{where}: the string {matcher!r} (a filter pattern would also read it as a number or "
                        "a wildcard)")
            return False
        return _string(selector, "=", form)
    if not isinstance(matcher, Mapping) or len(matcher) != 1:
        raise EventPatternError(where, "a matcher is a value or an object with one operator")
    (name, arg), = matcher.items()
    if name == "exists":
        if arg is False:
            return NotExists(selector)
        if arg is True:
            return _any([_string(selector, "=", "*"), *(IsCheck(selector, w) for w in ("NULL", "TRUE", "FALSE"))])
        raise EventPatternError(where, "exists takes true or false")
    if name == "numeric":
        if not isinstance(arg, list) or len(arg) not in (2, 4) or not all(_is_number(b) for b in arg[1::2]):
            raise EventPatternError(where, "numeric takes [op, number] or [op, number, op, number]")
        terms: list[Expr] = []
        for op, bound in zip(arg[::2], arg[1::2]):
            if op == "=":
                terms += [_number(selector, ">=", bound), _number(selector, "<=", bound)]
            elif op in ("<", "<=", ">", ">="):
                terms.append(_number(selector, op, bound))
            else:
                raise EventPatternError(where, f"unknown numeric operator {op!r}")
        return _all(terms)
    if name in ("prefix", "suffix"):
        if isinstance(arg, Mapping):
            gaps.append(f"{where}: {name} with equals-ignore-case, read as the exact-case {name}")
            arg = arg.get("equals-ignore-case")
        return _positive_string(name, arg, selector, gaps, where)
    if isinstance(arg, list) and not arg:
        raise EventPatternError(where, f"{name} takes a non-empty value")
    if name == "equals-ignore-case":
        gaps.append(f"{where}: equals-ignore-case, read as the exact-case string")
        return _any([_positive_string("exact", a, selector, gaps, where) for a in (arg if isinstance(arg, list) else [arg])])
    if name == "wildcard":
        forms = [(_wildcard_form(a) if isinstance(a, str) else None, a) for a in (arg if isinstance(arg, list) else [arg])]
        terms = []
        for form, text in forms:
            if form is None:
                gaps.append(f"{where}: the wildcard {text!r}")
                terms.append(False)
            else:
                terms.append(_positive_string(form[0], form[1], selector, gaps, where))
        return _any(terms)
    if name == "anything-but":
        return _read_anything_but(arg, selector, gaps, where)
    if name == "cidr":
        gaps.append(f"{where}: the cidr {arg!r}")
        return False
    raise EventPatternError(where, f"unknown operator {name!r}")


def _positive_string(kind: str, core: Any, selector: Selector, gaps: list[str], where: str) -> Expr:
    if not isinstance(core, str):
        raise EventPatternError(where, f"{kind} takes a string")
    form = _string_form(kind, core)
    if form is None:
        gaps.append(f"{where}: the {kind} {core!r} (a filter pattern would also match numbers or more strings)")
        return False
    return _string(selector, "=", form)


def _read_anything_but(arg: Any, selector: Selector, gaps: list[str], where: str) -> Expr:
    """`anything-but` as `!=` tests (all must hold), or a value `!=` never sees: null and booleans
    (which `anything-but` matches), and for string operands any number (which it matches too,
    while a filter `!=` compares a number's text)."""
    excluded = _excluding(arg, selector, gaps, where)
    if excluded is False:
        return False
    others: list[Expr] = [IsCheck(selector, w) for w in ("NULL", "TRUE", "FALSE")]
    operands = list(arg.values())[0] if isinstance(arg, Mapping) else arg
    if all(isinstance(o, str) for o in (operands if isinstance(operands, list) else [operands])):
        others += [_number(selector, ">=", 0), _number(selector, "<", 0)]
    else:
        gaps.append(f"{where}: anything-but a number also matches a string spelling it")
    return _any([excluded, *others])


def _excluding(arg: Any, selector: Selector, gaps: list[str], where: str) -> Expr:
    if isinstance(arg, Mapping):
        if len(arg) != 1:
            raise EventPatternError(where, "anything-but takes one operator")
        (name, inner), = arg.items()
        options = inner if isinstance(inner, list) else [inner]
        if not options:
            raise EventPatternError(where, f"anything-but {name} takes a non-empty value")
        terms: list[Expr] = []
        for option in options:
            if not isinstance(option, str):
                raise EventPatternError(where, f"anything-but {name} takes strings")
            form = None
            if name in ("prefix", "suffix"):
                form = (name, option)
            elif name == "wildcard":
                form = _wildcard_form(option)
            text = _negated_form(*form) if form else None
            if text is None:
                gaps.append(f"{where}: anything-but {name} {option!r}")
                return False
            terms.append(_string(selector, "!=", text))
        return _all(terms)
    options = arg if isinstance(arg, list) else [arg]
    if not options:
        raise EventPatternError(where, "anything-but takes strings or numbers")
    terms = []
    for option in options:
        if _is_number(option):
            terms.append(_number(selector, "!=", option))
        elif isinstance(option, str):
            text = _negated_form("exact", option)
            if text is None:
                gaps.append(f"{where}: anything-but {option!r}")
                return False
            terms.append(_string(selector, "!=", text))
        else:
            raise EventPatternError(where, "anything-but takes strings or numbers")
    return _all(terms)


def _negated_form(kind: str, core: str) -> str | None:
    """The filter string whose `!=` excludes no more than anything-but excludes. A filter `!=` also
    excludes numbers whose text fits, which only narrows the reading, so numeric text is allowed."""
    if kind == "exact":
        return None if core.startswith("*") or core.endswith("*") else core
    if not core:
        return None
    if kind == "prefix":
        return None if core.startswith("*") else core + "*"
    if kind == "suffix":
        return None if core.endswith("*") else "*" + core
    return "*" + core + "*"


# ------------------------------------------------------------------ the envelope

_EVENT_SOURCE = Selector((Key("eventSource"),))
_EVENT_TYPE = Selector((Key("eventType"),))


def _read_source(alternatives: list[Any], gaps: list[str], where: str) -> Expr:
    """Records whose `event_for` source is one of the alternatives: the table's event sources for
    it, and any other `X` or `X.<anything>` for `aws.X` (event_for's fallback)."""
    terms: list[Expr] = []
    for source in alternatives:
        if not isinstance(source, str):
            gaps.append(f"{where}: the matcher {source!r}")
            continue
        if not source.startswith("aws."):
            continue  # event_for gives every record an aws.* source
        service = source[len("aws."):]
        listed = [_string(_EVENT_SOURCE, "=", es) for es, mapped in SOURCE_BY_EVENT_SOURCE.items() if mapped == source]
        terms.extend(listed)
        if not service or "." in service or _may_be_in_number(service):
            continue  # the fallback never yields it, or a filter string could not say it exactly
        elsewhere = [es for es, mapped in SOURCE_BY_EVENT_SOURCE.items()
                     if mapped != source and (es == service or es.startswith(service + "."))]
        unlisted = _all([_string(_EVENT_SOURCE, "!=", es) for es in elsewhere])
        terms.append(_all([_any([_string(_EVENT_SOURCE, "=", service), _string(_EVENT_SOURCE, "=", service + ".*")]),
                           unlisted]))
    return _any(terms)


def _read_detail_type(alternatives: list[Any], gaps: list[str], where: str) -> Expr:
    wanted = set()
    for detail_type in alternatives:
        if isinstance(detail_type, str):
            wanted.add(detail_type)
        else:
            gaps.append(f"{where}: the matcher {detail_type!r}")
    if wanted >= set(DETAIL_TYPES):
        return True
    terms: list[Expr] = [_string(_EVENT_TYPE, "=", event_type) for event_type, detail_type
                         in DETAIL_TYPE_BY_EVENT_TYPE.items() if detail_type in wanted]
    api_call = DETAIL_TYPE_BY_EVENT_TYPE["AwsApiCall"]
    if api_call in wanted:  # event_for's default: no eventType, or one it does not know
        others = [t for t in DETAIL_TYPE_BY_EVENT_TYPE if t != "AwsApiCall"]
        terms += [NotExists(_EVENT_TYPE), *(IsCheck(_EVENT_TYPE, w) for w in ("NULL", "TRUE", "FALSE")),
                  _all([_string(_EVENT_TYPE, "!=", t) for t in others])]
    return _any(terms)


# ------------------------------------------------------------------ boolean helpers

def _all(terms: list[Expr]) -> Expr:
    kept: list[Expr] = []
    for term in terms:
        if term is False:
            return False
        if term is True:
            continue
        kept.extend(term.operands if isinstance(term, And) else (term,))
    if not kept:
        return True
    return kept[0] if len(kept) == 1 else And(tuple(kept))


def _any(terms: list[Expr]) -> Expr:
    kept: list[Expr] = []
    for term in terms:
        if term is True:
            return True
        if term is False:
            continue
        kept.extend(term.operands if isinstance(term, Or) else (term,))
    if not kept:
        return False
    return kept[0] if len(kept) == 1 else Or(tuple(kept))


# ------------------------------------------------------------------ coverage

@dataclass(frozen=True)
class Coverage:
    """Whether a rule matches every record a reference filter pattern matches.

    `verdict` is "contained" (proved), "not-contained" (`counterexample` is a record the reference
    matches and `matches` confirms the rule misses, wrapped by `event_for`) or "undecided" (`reason`
    says why; the samples are the only judge then)."""

    verdict: str
    counterexample: Mapping[str, Any] | None = None
    reason: str = ""
    reading: RecordCondition | None = None

    @property
    def holds(self) -> bool:
        return self.verdict == "contained"


_NOTHING = And((NotExists(_EVENT_SOURCE), _string(_EVENT_SOURCE, "=", "none")))
"""A filter expression no record matches (the reading `False` as a tree for `contains`)."""


def reading_pattern(reading: RecordCondition) -> Any:
    """The reading as a filter-pattern tree `contains` takes."""
    if reading.expr is True:
        return MatchAll()
    return JsonPattern(_NOTHING if reading.expr is False else reading.expr)


_EVENT_NAME = Selector((Key("eventName"),))

CLOUDTRAIL_FACTS = Or((
    NotExists(_EVENT_NAME), *(IsCheck(_EVENT_NAME, w) for w in ("NULL", "TRUE", "FALSE")),
    And(tuple(_string(_EVENT_NAME, "!=", name) for name in sorted(SIGNIN_EVENT_NAMES))),
    _string(_EVENT_TYPE, "=", "AwsConsoleSignIn"),
))
"""What every CloudTrail record satisfies and the compiler relies on: a console sign-in event name
(`ConsoleLogin`, `CheckMfa`, ...) is recorded with eventType `AwsConsoleSignIn` (CloudTrail User
Guide, "AWS Management Console sign-in events"). The proof ranges over such records only."""


def covers(event_pattern: Mapping[str, Any], reference: Any) -> Coverage:
    """Does the rule with `event_pattern` match `event_for(r)` for every CloudTrail record `r` the
    reference (filter-pattern text or tree) matches? Raises `EventPatternError` for a pattern
    EventBridge rejects."""
    reading = read_rule(event_pattern)
    tree = parse(reference) if isinstance(reference, str) else reference
    if isinstance(tree, JsonPattern):
        tree = JsonPattern(And((tree.expr, CLOUDTRAIL_FACTS)))
    result: Containment = contains(reading_pattern(reading), tree)
    if result.verdict == "contained":
        return Coverage("contained", None, result.reason, reading)
    if result.verdict == "not-contained" and result.counterexample is not None:
        if not matches(event_pattern, event_for(result.counterexample)):
            return Coverage("not-contained", result.counterexample, result.reason, reading)
        return Coverage("undecided", None, "the rule uses what this reading cannot express (" +
                        "; ".join(reading.gaps) + ")", reading)
    return Coverage("undecided", None, result.reason, reading)
