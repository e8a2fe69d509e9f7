"""Events made from a Sigma rule's own values, to compare a converted pattern with the oracle on.

Real events rarely reach the edges of a rule (a value in another case, a field that is absent, a
value one character off), so each rule also gets events built from its parsed detection: the
condition tree pySigma parses (`ConditionAND/OR/NOT` over field = value leaves, with the
modifiers already applied to the values) is walked for field assignments that make it true and
assignments that make it false, and each of those is set into a small CloudTrail event.

Which of them the rule matches is not decided here: the oracle labels every event. This module
only aims at the edges:

- `satisfies-N`: assignments meant to make the condition true, one per value of each
  alternative (each value of a list, each branch of an OR);
- `breaks-N`: assignments meant to make it false, one sub-condition broken at a time (the field
  left at the skeleton's value, a value one character off, the field absent);
- variants of each of those events, per string field it sets: upper-cased, lower-cased, in AWS's
  own spelling where that differs only in case from the rule's (`MFAUsed: NO` -> `No`), one
  character changed, extended by a prefix or a suffix, as an object holding it, `true`/`false` as
  JSON booleans, a number as a string, wildcards filled with text, the field absent, the field
  JSON null.

Events stay realistic, by what the converter knows of CloudTrail's fields (`trailguard.sigma.fields`,
checked against real events by the tests): a field AWS always writes is never made absent, a
field AWS writes in one fixed spelling (`eventName`, `eventSource`, `userIdentity.type`, ...) gets
no case variant, and a field AWS only ever writes as a string gets no null or object variant.
An edge no real event can reach is no evidence either way.

Values follow the modifiers: `contains`/`startswith`/`endswith` and wildcards (`*` is filled with
nothing or with text, `?` with one letter), numbers, booleans, `null`, `exists`, `cidr` (an
address inside the network), `gt`/`lt` comparisons, `fieldref` (both fields given the same text).
A `re` value gets a short string its regex finds, built from the regex's parse tree (first
branch, fewest repeats); a regex with look-arounds or back-references gets none, and such a rule
is proven only on the events it is given. Deterministic: the same rule yields the same events in the same
order.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from ipaddress import ip_address
from typing import Any, Iterable, Iterator, Mapping

MAX_ALTERNATIVES = 64
"""Assignments kept per sub-condition, so a rule with long value lists stays small."""

MAX_EVENTS = 2000
"""Events generated per rule at most."""


class _Marker:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


MISSING = _Marker("MISSING")
"""The field is removed from the event."""
KEEP = _Marker("KEEP")
"""The field is left as the skeleton has it (absent where the skeleton has no such field)."""


@dataclass(frozen=True, slots=True)
class Ref:
    """The value of another field (`fieldref`), resolved once the event is built."""

    field: str
    prefix: str = ""
    suffix: str = ""


SKELETON: Mapping[str, Any] = {
    "eventVersion": "1.08",
    "userIdentity": {"type": "IAMUser", "accountId": "111122223333",
                     "arn": "arn:aws:iam::111122223333:user/trailguard-sample"},
    "eventTime": "2026-01-01T00:00:00Z",
    "eventSource": "example.amazonaws.com",
    "eventName": "ExampleCall",
    "awsRegion": "us-east-1",
    "sourceIPAddress": "198.51.100.7",
    "userAgent": "aws-cli/2.15.0",
    "eventType": "AwsApiCall",
}
"""The event every generated one starts from: the fields a CloudTrail management event always has."""


@dataclass(frozen=True, slots=True)
class GeneratedEvent:
    """One event made for a rule; `field`/`variant` say which edge a variant probes."""

    name: str
    event: Mapping[str, Any]
    field: str | None = None
    variant: str | None = None


Assignment = dict[str, Any]


# --- values ----------------------------------------------------------------------------------


def _string_forms(value: Any) -> tuple[str, str]:
    """(wildcards filled minimally, wildcards filled with text) for a SigmaString."""
    from sigma.types import SpecialChars

    minimal, filled = [], []
    for part in value.s:
        if part == SpecialChars.WILDCARD_MULTI:
            filled.append("Xy")
        elif part == SpecialChars.WILDCARD_SINGLE:
            minimal.append("x")
            filled.append("x")
        elif isinstance(part, str):
            minimal.append(part)
            filled.append(part)
        else:  # a placeholder: stands for a list the rule's user defines
            raise _NoValue
    return "".join(minimal), "".join(filled)


class _NoValue(Exception):
    """A value that names nothing to put in an event (a regular expression, a placeholder)."""


def one_char_changed(text: str) -> str:
    """`text` with its middle letter or digit replaced by the next one (z -> a, 9 -> 0)."""
    positions = [i for i, c in enumerate(text) if c.isalnum() and c.isascii()]
    if not positions:
        return text + "x"
    i = positions[len(positions) // 2]
    c = text[i]
    if c.isdigit():
        new = str((int(c) + 1) % 10)
    else:
        base = "a" if c.islower() else "A"
        new = chr(ord(base) + (ord(c) - ord(base) + 1) % 26)
    return text[:i] + new + text[i + 1:]


def witnesses(value: Any) -> list[Any]:
    """Concrete values meant to satisfy `field = value` (the first is the plainest)."""
    from sigma import types

    if isinstance(value, types.SigmaString):
        minimal, filled = _string_forms(value)
        return [minimal or filled or "x"] + ([filled] if filled != minimal and minimal else [])
    if isinstance(value, types.SigmaNumber):
        return [value.number]
    if isinstance(value, types.SigmaBool):
        return [value.boolean]
    if isinstance(value, types.SigmaNull):
        return [MISSING, None]
    if isinstance(value, types.SigmaExists):
        return ["present"] if value.exists else [MISSING]
    if isinstance(value, types.SigmaCIDRExpression):
        network = value.network
        return [str(network.network_address if network.num_addresses == 1 else network.network_address + 1)]
    if isinstance(value, types.SigmaCompareExpression):
        number, op = value.number.number, value.op
        ops = types.SigmaCompareExpression.CompareOperators
        return [{ops.GT: number + 1, ops.GTE: number, ops.LT: number - 1, ops.LTE: number}[op]]
    if isinstance(value, types.SigmaFieldReference):
        return [Ref(value.field, "x" if value.ends_with else "", "x" if value.starts_with else "")]
    if isinstance(value, types.SigmaRegularExpression):
        return [regex_witness(_regex_text(value))]
    raise _NoValue


def misses(value: Any) -> list[Any]:
    """Concrete values meant not to satisfy `field = value`: the skeleton's, one char off, absent."""
    from sigma import types

    if isinstance(value, types.SigmaString):
        minimal, _ = _string_forms(value)
        return [KEEP, one_char_changed(minimal), MISSING]
    if isinstance(value, types.SigmaNumber):
        return [KEEP, value.number + 1, MISSING]
    if isinstance(value, types.SigmaBool):
        return [KEEP, not value.boolean, MISSING]
    if isinstance(value, (types.SigmaNull,)):
        return ["present"]
    if isinstance(value, types.SigmaExists):
        return [MISSING] if value.exists else ["present"]
    if isinstance(value, types.SigmaCIDRExpression):
        outside = value.network.broadcast_address + 1 if value.network.broadcast_address != ip_address(
            "255.255.255.255") else value.network.network_address - 1
        return [KEEP, str(outside), MISSING]
    if isinstance(value, types.SigmaCompareExpression):
        number, op = value.number.number, value.op
        ops = types.SigmaCompareExpression.CompareOperators
        return [{ops.GT: number, ops.GTE: number - 1, ops.LT: number, ops.LTE: number + 1}[op], MISSING]
    if isinstance(value, types.SigmaFieldReference):
        return ["trailguard-other-value", MISSING]
    if isinstance(value, types.SigmaRegularExpression):
        return [KEEP, one_char_changed(regex_witness(_regex_text(value))), MISSING]
    raise _NoValue


def _regex_text(value: Any) -> str:
    """A Sigma `re` value as Python regex text, its flags (`|re|i`, `|re|m`, `|re|s`) inline."""
    letters = {"IGNORECASE": "i", "MULTILINE": "m", "DOTALL": "s"}
    flags = "".join(sorted(letters.get(getattr(flag, "name", str(flag)), "") for flag in value.flags or ()))
    return (f"(?{flags})" if flags else "") + str(value.regexp)


def regex_witness(pattern: str) -> str:
    """A short string `re.search(pattern, ...)` finds, built from the regex's parse tree (first
    branch, first member of a class, fewest repeats, at least one); `_NoValue` when the regex uses
    something this does not build (look-arounds, back-references) or the result does not match."""
    import re

    try:
        from re import _parser as sre  # type: ignore[attr-defined]  # Python >= 3.11
    except ImportError:  # pragma: no cover
        import sre_parse as sre  # type: ignore[no-redef]
    categories = {"CATEGORY_DIGIT": "0", "CATEGORY_WORD": "a", "CATEGORY_SPACE": " ", "CATEGORY_NOT_DIGIT": "a",
                  "CATEGORY_NOT_WORD": "-", "CATEGORY_NOT_SPACE": "a"}

    def build(items) -> str:
        out = []
        for op, arg in items:
            name = str(op)
            if name == "LITERAL":
                out.append(chr(arg))
            elif name == "ANY":
                out.append("a")
            elif name == "IN":
                out.append(member(arg))
            elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
                low, _, body = arg
                out.append(build(body) * max(low, 1))
            elif name == "SUBPATTERN":
                out.append(build(arg[-1]))
            elif name == "BRANCH":
                out.append(build(arg[1][0]))
            elif name == "AT":
                continue
            else:
                raise _NoValue
        return "".join(out)

    def member(arg) -> str:
        negated = any(str(op) == "NEGATE" for op, _ in arg)
        if negated:
            excluded = {chr(a) for op, a in arg if str(op) == "LITERAL"}
            return next(c for c in "xyz0-" if c not in excluded)
        op, value = arg[0]
        if str(op) == "LITERAL":
            return chr(value)
        if str(op) == "RANGE":
            return chr(value[0])
        if str(op) == "CATEGORY":
            return categories.get(str(value), "a")
        raise _NoValue

    try:
        text = build(sre.parse(pattern))
    except (re.error, _NoValue, StopIteration, IndexError, TypeError):
        raise _NoValue from None
    if re.search(pattern, text) is None:
        raise _NoValue
    return text


# --- the condition tree --------------------------------------------------------------------------


def _merge(parts: Iterable[Assignment]) -> Assignment:
    """One assignment holding all of `parts`. Where two give one field different values, two
    strings are joined (`a` then `b` still contains both, starts with `a`, ends with `b`) and
    otherwise the first stays (`gt: 100` and `lte: 1000` -> 101): the oracle says what it makes."""
    merged: Assignment = {}
    for part in parts:
        for field, value in part.items():
            if field in merged and merged[field] != value:
                if isinstance(merged[field], str) and isinstance(value, str):
                    merged[field] = merged[field] + value
                continue
            merged[field] = value
    return merged


def _unique(assignments: Iterable[Assignment | None]) -> list[Assignment]:
    seen, result = set(), []
    for assignment in assignments:
        if assignment is None:
            continue
        key = repr(sorted(assignment.items(), key=lambda item: item[0]))
        if key not in seen:
            seen.add(key)
            result.append(assignment)
        if len(result) >= MAX_ALTERNATIVES:
            break
    return result


def assignments(node: Any, want: bool) -> list[Assignment]:
    """Field assignments meant to make the parsed condition `node` evaluate to `want`."""
    from sigma import conditions, types

    from . import fields as facts

    if isinstance(node, conditions.ConditionNOT):
        return assignments(node.args[0], not want)
    if isinstance(node, conditions.ConditionFieldEqualsValueExpression):
        value = node.value
        if isinstance(value, types.SigmaExpansion):
            leaves = [conditions.ConditionFieldEqualsValueExpression(node.field, v) for v in value.values]
            return assignments(conditions.ConditionOR(leaves), want)
        try:
            values = witnesses(value) if want else misses(value)
        except _NoValue:
            return []
        if facts.always_present(node.field):
            values = [v for v in values if v is not MISSING and v is not None]
        elif facts.is_scalar(node.field):  # AWS omits it, never writes null
            values = [v for v in values if v is not None]
        return _unique({node.field: v} for v in values)
    is_and = isinstance(node, conditions.ConditionAND)
    if not (is_and or isinstance(node, conditions.ConditionOR)):
        return []  # a keyword (field-less) value: nothing to set
    children = list(node.args)
    if is_and == want:  # every child must reach `want`: AND true, OR false
        options = [assignments(child, want) for child in children]
        if any(not option for option in options):
            return []
        firsts = [option[0] for option in options]
        combined = [_merge(firsts)]
        for i, option in enumerate(options):
            combined += [_merge([*firsts[:i], alternative, *firsts[i + 1:]]) for alternative in option[1:]]
        return _unique(combined)
    # one child reaching `want` is enough: OR true, AND false (the others meant the other way)
    result: list[Assignment | None] = []
    others = [assignments(child, not want) for child in children]
    for i, child in enumerate(children):
        rest = [option[0] for j, option in enumerate(others) if j != i and option]
        for alternative in assignments(child, want):
            result.append(_merge([*rest, alternative]) if want is False else alternative)
    return _unique(result)


# --- events ---------------------------------------------------------------------------------


ARRAY_KEY = "items"
"""CloudTrail writes the members of a list in `requestParameters` under `items`, always an array
(`ipPermissions.items[0].ipProtocol`): a path through it gets a one-element array there."""


def _set(event: dict[str, Any], field: str, value: Any) -> None:
    keys = field.split(".")
    node = event
    for key in keys[:-1]:
        child = node.get(key)
        if isinstance(child, list) and child and isinstance(child[0], dict):
            node = child[0]
            continue
        if not isinstance(child, dict):
            if value is MISSING:
                return
            if key == ARRAY_KEY:
                node[key] = [{}]
                node = node[key][0]
                continue
            child = node[key] = {}
        node = child
    if value is MISSING:
        node.pop(keys[-1], None)
    else:
        node[keys[-1]] = value


def _get(event: Mapping[str, Any], field: str) -> Any:
    node: Any = event
    for key in field.split("."):
        if isinstance(node, list) and node:
            node = node[0]
        if not isinstance(node, Mapping) or key not in node:
            return MISSING
        node = node[key]
    return node


def build_event(assignment: Mapping[str, Any]) -> dict[str, Any]:
    """The skeleton with `assignment` set into it (dotted fields as nested objects)."""
    event = copy.deepcopy(dict(SKELETON))
    refs = []
    for field, value in assignment.items():
        if value is KEEP:
            continue
        if isinstance(value, Ref):
            refs.append((field, value))
            continue
        _set(event, field, value)
    for field, ref in refs:
        target = _get(event, ref.field)
        if not isinstance(target, str):
            target = "trailguard-shared-value"
            _set(event, ref.field, target)
        _set(event, field, ref.prefix + target + ref.suffix)
    return event


def _string_variants(text: str) -> Iterator[tuple[str, Any]]:
    yield "upper", text.upper()
    yield "lower", text.lower()
    yield "changed", one_char_changed(text)
    yield "prefixed", "x" + text
    yield "suffixed", text + "x"


def realistic(field: str, variant: str) -> bool:
    """Whether a real CloudTrail event can show `variant` at `field` (see the module docstring)."""
    from . import fields as facts

    if variant in ("upper", "lower"):
        return not facts.fixed_case(field)
    if variant == "boolean":
        return not facts.is_scalar(field) and field not in facts.FIXED_CASE
    if variant == "missing":
        return not facts.always_present(field)
    if variant in ("null", "object", "string"):
        return not facts.is_scalar(field)
    return True


def _variants(assignment: Assignment) -> Iterator[tuple[str, str, Assignment]]:
    from . import fields as facts

    for field, value in assignment.items():
        candidates: list[tuple[str, Any]] = []
        if isinstance(value, str):
            # true/false: AWS writes JSON booleans (their text lower-case), so the boolean variant
            # below stands for them and no upper/lower-case spelling is made
            boolean_text = value.lower() in ("true", "false")
            candidates += [(variant, text) for variant, text in _string_variants(value)
                           if text != value and not (boolean_text and variant in ("upper", "lower"))]
            candidates.append(("object", {"value": value}))
            candidates += [("aws-spelling", spelling) for spelling in facts.AWS_SPELLINGS.get(field, ())
                           if spelling.lower() == value.lower() and spelling != value]
            if value.lower() in ("true", "false"):
                candidates.append(("boolean", value.lower() == "true"))
            if field in facts.CAPITALIZED and value[:1].islower():
                candidates.append(("capitalized", value[0].upper() + value[1:]))
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            candidates.append(("string", str(value)))
        if value is not MISSING:
            candidates.append(("missing", MISSING))
        if value is not None:
            candidates.append(("null", None))
        for variant, changed in candidates:
            if realistic(field, variant):
                yield field, variant, {**assignment, field: changed}


def _as_aws_spells(assignment: Assignment) -> Assignment:
    """The assignment with each value of a closed-spelling field (`MFAUsed`: Yes, No) written as AWS
    writes it when it differs only in case (`NO` -> `No`): no real event holds `NO` there."""
    from . import fields as facts

    def spelled(field: str, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        if field in facts.LOWER_CASE:
            return value.lower()
        same = [s for s in facts.AWS_SPELLINGS.get(field, ()) if s.lower() == value.lower()]
        return same[0] if same else value

    return {field: spelled(field, value) for field, value in assignment.items()}


def _leaf_string_fillers(condition: Any) -> Iterator[tuple[str, str]]:
    """(field, wildcards-filled text) for each wildcard string in the tree, for a `filled` variant."""
    from sigma import conditions, types

    stack = [condition]
    while stack:
        node = stack.pop()
        if isinstance(node, conditions.ConditionFieldEqualsValueExpression) and isinstance(node.value, types.SigmaString):
            try:
                minimal, filled = _string_forms(node.value)
            except _NoValue:
                continue
            if filled != minimal:
                yield node.field, filled
        stack.extend(reversed(getattr(node, "args", []) or []))


def generate_events(rule: Any) -> list[GeneratedEvent]:
    """Events probing `rule`'s edges (see the module docstring), deterministic and de-duplicated."""
    generated: list[GeneratedEvent] = []
    seen: set[str] = set()

    def add(name: str, assignment: Assignment, field: str | None = None, variant: str | None = None) -> None:
        event = build_event(_as_aws_spells(assignment))
        key = json.dumps(event, sort_keys=True)
        if key in seen or len(generated) >= MAX_EVENTS:
            return
        seen.add(key)
        generated.append(GeneratedEvent(name, event, field, variant))

    positives: list[Assignment] = []
    negatives: list[Assignment] = []
    for condition in rule.detection.parsed_condition:
        tree = condition.parsed
        positives += assignments(tree, True)
        negatives += assignments(tree, False)
    positives, negatives = _unique(positives), _unique(negatives)
    for index, assignment in enumerate(negatives, 1):
        add(f"breaks-{index}", assignment)
    for index, assignment in enumerate(positives, 1):
        add(f"satisfies-{index}", assignment)
    for kind, made in (("satisfies", positives), ("breaks", negatives)):
        for index, assignment in enumerate(made, 1):
            for field, variant, changed in _variants(assignment):
                add(f"{kind}-{index}-{field}-{variant}", changed, field, variant)
    if positives:
        for condition in rule.detection.parsed_condition:
            for field, filled in _leaf_string_fillers(condition.parsed):
                add(f"satisfies-1-{field}-filled", {**positives[0], field: filled}, field, "filled")
    return generated
