"""Just enough IAM policy evaluation to decide whether one AWS service may make one request.

The delivery links of the alarm chain are policy documents held as data in resource props: a
role's trust and permission policies, KMS key policies, SNS topic policies. Each is judged for one
request (principal, action, resource, condition context) the way IAM documents it: an explicit
Deny wins, otherwise an Allow is needed. Actions match case-insensitively and resources
case-sensitively, `*` spanning any characters and `?` one; `ArnEquals` takes wildcards like
`ArnLike`; a condition key missing from the request fails a positive operator and satisfies a
negated one (`...IfExists` always passes on it).

At preview an ARN not created yet is a `Template`: its name parts are known, its account, region
or partition are holes. A comparison that some filling of the holes passes (and another fails) is
`MAYBE`, taken as the stack's own values passing; update, with every value known, decides it
exactly. A condition this module cannot evaluate (an operator on numbers, dates or IPs, a
multi-valued key, a key whose value the request's service does not document) is `UNDECIDED`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from .links import Link
from .props import UNKNOWN, read

HOLE = "\x00"
"""A part of a value not known at preview (a name not chosen yet): any text without ':'."""
PARTITION, REGION, ACCOUNT = "\x01", "\x02", "\x03"
"""The stack's partition, region and account in a value built at preview: one value each,
the same wherever it appears, tried with every value the judged documents name."""
FRESH = "\x04"
"""A value no literal matches (only wildcards): for a variable the documents give no value for."""


class Match(Enum):
    """Whether a statement (or one of its elements) applies to the request."""

    TRUE = "true"
    FALSE = "false"
    MAYBE = "maybe"  # only through holes: true for the stack's own values
    UNDECIDED = "undecided"  # an element this evaluator cannot judge


def both(*matches: Match) -> Match:
    if Match.FALSE in matches:
        return Match.FALSE
    if Match.UNDECIDED in matches:
        return Match.UNDECIDED
    return Match.MAYBE if Match.MAYBE in matches else Match.TRUE


def either(*matches: Match) -> Match:
    for result in (Match.TRUE, Match.MAYBE, Match.UNDECIDED):
        if result in matches:
            return result
    return Match.FALSE


def negate(match: Match) -> Match:
    return {Match.TRUE: Match.FALSE, Match.FALSE: Match.TRUE}.get(match, match)


@dataclass(frozen=True)
class Request:
    """One call a service makes: `principal` is a service principal (None: an identity policy's
    caller); `resource` None is the policy's own resource (a key policy's key)."""

    action: str
    principal: str | None = None
    resource: str | None = None
    context: Mapping[str, str] = field(default_factory=dict)  # condition keys (lower case) -> value
    absent: frozenset[str] = frozenset()  # condition keys (lower case) the request does not carry


@dataclass(frozen=True)
class Document:
    """A parsed policy: its statements, or why there are none to judge."""

    label: str  # names the policy in messages: "the trust policy of role 'x'"
    statements: tuple[Mapping[str, Any], ...] = ()
    unknown: str = ""  # why its statements cannot be read ("is unknown at preview")
    invalid: str = ""  # not a policy document: what is wrong


def parse(label: str, value: Any) -> Document:
    """A policy document from a prop: JSON text or an object, `UNKNOWN` at preview."""
    if value is UNKNOWN:
        return Document(label, unknown="is unknown at preview")
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return Document(label, invalid="is not JSON")
    value = _plain(value)
    if not isinstance(value, Mapping):
        return Document(label, invalid="is not a JSON object")
    listed = value.get("Statement")
    if listed is UNKNOWN:
        return Document(label, unknown="is unknown at preview")
    if isinstance(listed, Mapping):
        listed = [listed]
    if not isinstance(listed, list):
        return Document(label, invalid="has no Statement")
    return Document(label, tuple(s for s in listed if isinstance(s, Mapping)))


def _plain(value: Any) -> Any:
    """Props (possibly the unknown-checking proxy) as plain data with `UNKNOWN` in place of sentinels."""
    if value is UNKNOWN or isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, Mapping):
        return {str(key): _plain(read(value, key)) for key in list(value.keys())}
    if isinstance(value, Sequence):
        return [_plain(read(value, index)) for index in range(len(value))]
    return None


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


# --------------------------------------------------------------------------- text matching


def can_match(pattern: str, value: str, *, wildcards: bool, fold: bool = False) -> bool:
    """Whether some filling of `value`'s holes makes `pattern` match it (`*`/`?` wildcards only
    with `wildcards`). A search over (pattern position, value position) pairs."""
    if fold:
        pattern, value = pattern.lower(), value.lower()
    seen: set[tuple[int, int]] = set()
    todo = [(0, 0)]
    while todo:
        i, j = todo.pop()
        if (i, j) in seen:
            continue
        seen.add((i, j))
        p = pattern[i] if i < len(pattern) else None
        v = value[j] if j < len(value) else None
        if p is None and v is None:
            return True
        if wildcards and p == "*":
            todo.append((i + 1, j))
            if v is not None:
                todo.append((i, j + 1))
            continue
        if v == HOLE:
            todo.append((i, j + 1))  # the hole ends
            if p is not None and p != ":":
                todo.append((i + 1, j))  # the hole covers one more pattern character
            continue
        if p is not None and v is not None and (p == v or (wildcards and p == "?")):
            todo.append((i + 1, j + 1))
    return False


def text_match(patterns: list[Any], value: str, *, wildcards: bool, fold: bool = False) -> Match:
    """Whether `value` matches one of `patterns`; MAYBE when only some fillings of its holes do."""
    if UNKNOWN in patterns:
        return Match.UNDECIDED
    hits = [can_match(str(p), value, wildcards=wildcards, fold=fold) for p in patterns
            if isinstance(p, (str, bool, int, float))]
    if not any(hits):
        return Match.FALSE
    if HOLE not in value:
        return Match.TRUE
    for filling in ("", FRESH):  # matched whatever fills the holes: decided
        filled = value.replace(HOLE, filling)
        if not any(can_match(str(p), filled, wildcards=wildcards, fold=fold) for p in patterns
                   if isinstance(p, (str, bool, int, float))):
            return Match.MAYBE
    return Match.TRUE


# --------------------------------------------------------------------------- statements


def _principal(statement: Mapping[str, Any], principal: str | None) -> Match:
    if principal is None:
        return Match.TRUE  # identity policy: the caller is the policy's holder
    if "Principal" in statement:
        return _names_principal(statement["Principal"], principal)
    if "NotPrincipal" in statement:
        return negate(_names_principal(statement["NotPrincipal"], principal))
    return Match.FALSE  # a resource policy statement without a principal applies to no one


def _names_principal(value: Any, principal: str) -> Match:
    if value is UNKNOWN:
        return Match.UNDECIDED
    if value == "*":
        return Match.TRUE
    if not isinstance(value, Mapping):
        return Match.FALSE
    results = []
    for kind, names in value.items():
        names = _listed(names)
        if kind == "AWS" and "*" in names:
            return Match.TRUE
        if kind == "Service":
            results.append(text_match(names, principal, wildcards=False))
        elif UNKNOWN in names:
            results.append(Match.UNDECIDED)
    return either(*results) if results else Match.FALSE


def _action(statement: Mapping[str, Any], action: str) -> Match:
    if "Action" in statement:
        return text_match(_listed(statement["Action"]), action, wildcards=True, fold=True)
    if "NotAction" in statement:
        return negate(text_match(_listed(statement["NotAction"]), action, wildcards=True, fold=True))
    return Match.FALSE


def _resource(statement: Mapping[str, Any], resource: str | None) -> Match:
    if "Resource" in statement:
        return Match.TRUE if resource is None else text_match(_listed(statement["Resource"]), resource, wildcards=True)
    if "NotResource" in statement:
        listed = _listed(statement["NotResource"])
        if resource is None:
            return Match.FALSE if "*" in listed else Match.UNDECIDED
        return negate(text_match(listed, resource, wildcards=True))
    return Match.TRUE  # trust policies name no resource: the role itself


_STRING_OPERATORS = {
    # base operator: (wildcards, case-folded)
    "StringEquals": (False, False), "StringEqualsIgnoreCase": (False, True), "StringLike": (True, False),
    "ArnEquals": (True, False), "ArnLike": (True, False), "Bool": (False, True),
}
_NEGATED = {"StringNotEquals": "StringEquals", "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
            "StringNotLike": "StringLike", "ArnNotEquals": "ArnEquals", "ArnNotLike": "ArnLike"}


def _conditions(statement: Mapping[str, Any], request: Request) -> Match:
    block = statement.get("Condition")
    if block is None:
        return Match.TRUE
    if not isinstance(block, Mapping):
        return Match.UNDECIDED
    results = []
    for operator, tests in block.items():
        if not isinstance(tests, Mapping):
            results.append(Match.UNDECIDED)
            continue
        for key, expected in tests.items():
            results.append(_condition(str(operator), str(key).lower(), _listed(expected), request))
    return both(*results)


def _condition(operator: str, key: str, expected: list[Any], request: Request) -> Match:
    if_exists = operator.endswith("IfExists")
    base = operator[: -len("IfExists")] if if_exists else operator
    if ":" in base:  # ForAnyValue: / ForAllValues: on multi-valued keys
        return Match.UNDECIDED
    negated = base in _NEGATED
    if key not in request.context:
        if key not in request.absent:
            return Match.UNDECIDED
        if base == "Null":
            return text_match(expected, "true", wildcards=False, fold=True)
        return Match.TRUE if if_exists or negated else Match.FALSE
    actual = request.context[key]
    if base == "Null":
        return text_match(expected, "false", wildcards=False, fold=True)
    positive = _NEGATED.get(base, base)
    if positive not in _STRING_OPERATORS:
        return Match.UNDECIDED  # numbers, dates, IP addresses, binary
    wildcards, fold = _STRING_OPERATORS[positive]
    expected = [str(v).lower() if isinstance(v, bool) else v for v in expected]
    matched = text_match(expected, actual, wildcards=wildcards, fold=fold)
    return negate(matched) if negated else matched


def applies(statement: Mapping[str, Any], request: Request) -> Match:
    """Whether `statement` covers `request` (its effect aside)."""
    return both(_principal(statement, request.principal), _action(statement, request.action),
                _resource(statement, request.resource), _conditions(statement, request))


def _sid(statement: Mapping[str, Any]) -> str:
    sid = statement.get("Sid")
    return f"statement '{sid}'" if isinstance(sid, str) and sid else "a statement"


# --------------------------------------------------------------------------- decisions


@dataclass(frozen=True)
class Verdict:
    link: Link
    reason: str = ""


def allowed(documents: Sequence[Document], request: Request, *, allow_needed: bool = True) -> Verdict:
    """Whether the documents together let `request` through: no Deny applies and (when
    `allow_needed`) an Allow does. An invalid document is NO, an unknown one UNDECIDED."""
    allow = Match.FALSE
    unsure: list[str] = []
    for document in documents:
        if document.invalid:
            return Verdict(Link.NO, f"{document.label} {document.invalid}")
        if document.unknown:
            unsure.append(f"{document.label} {document.unknown}")
            allow = either(allow, Match.UNDECIDED)
            continue
        for statement in document.statements:
            effect = statement.get("Effect")
            match = applies(statement, request)
            if effect == "Deny" and match is Match.TRUE:
                return Verdict(Link.NO, f"{_sid(statement)} of {document.label} denies it")
            if effect == "Deny" and match is Match.UNDECIDED:
                unsure.append(f"whether {_sid(statement)} of {document.label} denies it cannot be decided")
            elif effect == "Allow":
                allow = either(allow, match)
    if allow_needed and allow is Match.FALSE:
        labels = " or ".join(d.label for d in documents) or "no policy"
        return Verdict(Link.NO, f"no statement of {labels} allows it")
    if unsure:
        return Verdict(Link.UNDECIDED, "; ".join(unsure))
    if allow_needed and allow is Match.UNDECIDED:
        return Verdict(Link.UNDECIDED, "whether a statement allows it cannot be decided (a condition on a key "
                                       "or with an operator this policy does not evaluate)")
    return Verdict(Link.YES)


def allowed_all(documents: Sequence[Document], requests: Sequence[Request], *, allow_needed: bool = True) -> tuple[Verdict, str]:
    """The first request the documents refuse (NO before UNDECIDED), with its action; YES if none."""
    worst: tuple[Verdict, str] = (Verdict(Link.YES), "")
    for request in requests:
        verdict = allowed(documents, request, allow_needed=allow_needed)
        if verdict.link is Link.NO:
            return verdict, request.action
        if verdict.link is Link.UNDECIDED and worst[0].link is Link.YES:
            worst = (verdict, request.action)
    return worst


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, Mapping):
        return [text for item in value.values() for text in _strings(item)]
    if isinstance(value, list):
        return [text for item in value for text in _strings(item)]
    return []


def _named_values(documents: Sequence[Document]) -> dict[str, set[str]]:
    """The partitions, regions and accounts the documents name (in ARNs and regional service principals)."""
    found: dict[str, set[str]] = {PARTITION: set(), REGION: set(), ACCOUNT: set()}
    for document in documents:
        for text in (t for statement in document.statements for t in _strings(dict(statement))):
            parts = text.split(":")  # only ARNs: a bare account in a condition is what is judged, not a candidate
            if len(parts) > 5 and parts[0] == "arn":
                for variable, part in ((PARTITION, parts[1]), (REGION, parts[3]), (ACCOUNT, parts[4])):
                    if part and not any(c in part for c in "*?"):
                        found[variable].add(part)
            pieces = text.split(".")
            if len(pieces) == 4 and pieces[2:] == ["amazonaws", "com"] and "*" not in pieces[1]:
                found[REGION].add(pieces[1])
    return found


def _substituted(request: Request, values: Mapping[str, str]) -> Request:
    def fill(text: str | None) -> str | None:
        if text is None:
            return None
        for variable, value in values.items():
            text = text.replace(variable, value)
        return text

    return Request(request.action, fill(request.principal), fill(request.resource),
                   {key: fill(value) or "" for key, value in request.context.items()}, request.absent)


def named_values(documents: Sequence[Document]) -> dict[str, set[str]]:
    """The partitions, regions and accounts `documents` name: the candidates for the stack's own."""
    return _named_values(documents)


def decide(documents: Sequence[Document], requests: Sequence[Request], *, allow_needed: bool = True,
           candidates: Mapping[str, set[str]] | None = None) -> tuple[Verdict, str]:
    """`allowed_all` for requests built at preview with the stack's partition, region or account
    unknown: tried with every combination `candidates` (default: what the documents name) offers.
    The same answer for all is the answer; different answers depend on the unknown values and
    are UNDECIDED."""
    texts = [t for r in requests for t in (r.principal or "", r.resource or "", *r.context.values())]
    variables = [v for v in (PARTITION, REGION, ACCOUNT) if any(v in t for t in texts)]
    if not variables:
        return allowed_all(documents, requests, allow_needed=allow_needed)
    named = candidates if candidates is not None else _named_values(documents)
    assignments: list[dict[str, str]] = [{}]
    for variable in variables:
        assignments = [{**a, variable: value} for a in assignments for value in sorted(named.get(variable, ())) or [FRESH]]
    outcomes = [allowed_all(documents, [_substituted(r, a) for r in requests], allow_needed=allow_needed)
                for a in assignments[:64]]
    links = {verdict.link for verdict, _ in outcomes}
    if len(links) == 1:
        return outcomes[0]
    refused = next(o for o in outcomes if o[0].link is not Link.YES)
    return Verdict(Link.UNDECIDED, f"{refused[0].reason} for some of the accounts or regions the stack's policies "
                                   "name, and the one of the resources not created yet is unknown"), refused[1]
