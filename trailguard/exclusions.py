"""Declared exclusions: events a detection must not count, merged into its filter pattern.

A stack lists them under `overrides.<id>.exclude` (the policy pack lists what each detection may
exclude, in the same item format). Each item is a mapping with exactly one key:

- `principal`: an IAM or STS ARN, or a glob of one, tested against `$.userIdentity.arn`. A role
  ARN (`arn:aws:iam::<account>:role/[<path>/]<name>`) is translated to the ARN its sessions carry,
  `arn:aws:sts::<account>:assumed-role/<name>/*`: CloudTrail never records the role ARN itself as
  the caller (it sits in `sessionContext.sessionIssuer.arn`), so an untranslated role ARN would
  silently exclude nothing.
- `sourceIp`: an IPv4 or IPv6 address, or an IPv4 network of /8, /16 or /24 (a prefix wildcard on
  whole octets), tested against `$.sourceIPAddress`.
- `userAgent`: text, tested against `$.userAgent`.
- `pattern`: a JSON-pattern condition (`$.userIdentity.invokedBy = "cloudformation.amazonaws.com"`).

Globs follow the filter-pattern language: only a leading and/or trailing `*` is a wildcard.

The language has no NOT, so a pattern `P` with exclusions `E1..En` is deployed as
`P && N1 && ... && Nn`, where `Ni` is `Ei` negated by De Morgan and the complement of each leaf:
`$.f = v` becomes `($.f != v || $.f NOT EXISTS || $.f IS NULL || $.f IS TRUE || $.f IS FALSE)`,
because a comparison (`=` and `!=` alike) is false on a missing field, null or a boolean. For the
fields CloudTrail only ever writes as strings (`STRING_FIELDS`) the null and boolean branches are
left out, which keeps merged patterns inside AWS's 1024 characters. The negation is exact on every
event in which each field an exclusion tests is absent or holds a string, a number, null or a
boolean (only absent or a string, for `STRING_FIELDS`); the language cannot say "not an array or
object", so an array or object there is the one gap, and an exclusion the negation cannot express
exactly (a range comparison, a wildcard selector) is refused rather than approximated.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

from trailguard.patterns import PatternSyntaxError, compile_pattern, lint, parse, render, render_selector, rules, walk
from trailguard.patterns.ast import (
    And, Comparison, Expr, IsCheck, JsonPattern, Key, NotExists, Or, Pattern, Selector, StringValue,
)
from trailguard.suggest import kind_of, unknown_name

KINDS: Mapping[str, str] = {
    "principal": "an IAM/STS ARN or a glob of one (arn:aws:iam::111122223333:role/deployer, "
                 "arn:aws:iam::111122223333:user/ci-*)",
    "sourceIp": "an IPv4/IPv6 address or an IPv4 /8, /16 or /24 network (203.0.113.7, 10.1.0.0/16)",
    "userAgent": "a user agent, with an optional leading and/or trailing * (*terraform*)",
    "pattern": 'a JSON-pattern condition ($.userIdentity.invokedBy = "cloudformation.amazonaws.com")',
}
"""The keys an exclusion item may have (exactly one per item), and what each takes."""

FIELDS: Mapping[str, str] = {
    "principal": "$.userIdentity.arn",
    "sourceIp": "$.sourceIPAddress",
    "userAgent": "$.userAgent",
}
"""The CloudTrail field each built-in kind tests."""

STRING_FIELDS: frozenset[str] = frozenset({
    "$.eventSource", "$.eventName", "$.eventType", "$.awsRegion", "$.sourceIPAddress", "$.userAgent",
    "$.recipientAccountId", "$.errorCode", "$.errorMessage",
    "$.userIdentity.type", "$.userIdentity.arn", "$.userIdentity.principalId", "$.userIdentity.accountId",
    "$.userIdentity.userName", "$.userIdentity.invokedBy",
    "$.userIdentity.sessionContext.sessionIssuer.arn", "$.userIdentity.sessionContext.sessionIssuer.type",
    "$.userIdentity.sessionContext.sessionIssuer.userName",
})
"""CloudTrail record fields that are a string whenever present (the CloudTrail record contents
reference): negating a test on one needs no IS NULL / IS TRUE / IS FALSE branch."""

_ARN_TEXT = re.compile(r"[A-Za-z0-9+=,.@_/:-]+")
"""The characters of IAM and STS ARNs (names allow `+=,.@_-`, paths `/`)."""
_ARN = re.compile(
    r"arn:aws(?:-cn|-us-gov)?:(?:iam|sts)::\d{12}:"
    r"(?:root|user/.+|role/.+|assumed-role/[^/]+/.+|federated-user/.+)")
_PARTITIONS = ("aws", "aws-cn", "aws-us-gov")
_IPV4_PREFIXES: Mapping[int, int] = {8: 1, 16: 2, 24: 3}
"""IPv4 network sizes a filter pattern can express: prefix length -> whole octets kept."""


class ExclusionError(ValueError):
    """Exclusion items refused. `errors` lists (where, message); `where` is relative to the list:
    `[1].principal`, or `[1]` for the item itself."""

    def __init__(self, errors: Sequence[tuple[str, str]]) -> None:
        self.errors = list(errors)
        super().__init__("; ".join(f"{where}: {message}" if where else message for where, message in self.errors))


class _Refused(Exception):
    """One item's problem, before it knows its index."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, slots=True)
class Exclusion:
    """One declared exclusion: what the user wrote and the conditions it stands for."""

    kind: str
    """One of `KINDS`."""
    value: str
    """As written in the config."""
    excluded: Expr
    """The events it removes: the condition an excluded event matches."""
    kept: Expr
    """`excluded` negated: what the merged pattern requires of every counted event."""
    note: str = ""
    """How the value was read, when not literally (a role ARN's sessions, a network's prefix)."""

    @property
    def pattern(self) -> str:
        """A filter pattern matching exactly the excluded events."""
        return render(JsonPattern(self.excluded))

    def describe(self) -> str:
        """`principal arn:... (as ...)`: for the alarm description and `trailguard check`."""
        return f"{self.kind} {self.value}" + (f" ({self.note})" if self.note else "")


# --- reading items -------------------------------------------------------------------------------


def parse_exclusions(items: Any) -> tuple[Exclusion, ...]:
    """Every item of an `exclude` list read, or one `ExclusionError` listing every bad item."""
    if not isinstance(items, list):
        raise ExclusionError([("", f"must be a list of exclusions, got {kind_of(items)}; each item one of "
                                   f"{_kinds_list()}")])
    exclusions, errors = [], []
    for index, item in enumerate(items):
        try:
            exclusions.append(parse_exclusion(item))
        except ExclusionError as err:
            errors.extend((f"[{index}]{where}", message) for where, message in err.errors)
    if errors:
        raise ExclusionError(errors)
    seen: dict[tuple[str, str], int] = {}
    for index, exclusion in enumerate(exclusions):
        key = (exclusion.kind, exclusion.pattern)
        if key in seen:
            errors.append((f"[{index}].{exclusion.kind}", f"repeats exclusion [{seen[key]}] ({exclusion.describe()})"))
        seen.setdefault(key, index)
    if errors:
        raise ExclusionError(errors)
    return tuple(exclusions)


def parse_exclusion(item: Any) -> Exclusion:
    """One `{kind: value}` mapping read into an `Exclusion`; `ExclusionError` names the key at fault."""
    if not isinstance(item, Mapping):
        raise ExclusionError([("", f"must be a mapping with one key, {_kinds_list()}; got {kind_of(item)}")])
    keys = list(item)
    for key in keys:
        if key not in KINDS:
            raise ExclusionError([(f".{key}", unknown_name("exclusion key", key, KINDS))])
    if len(keys) != 1:
        found = ", ".join(map(str, keys)) or "none"
        raise ExclusionError([("", f"must have exactly one key, one of {_kinds_list()}; found {found} "
                                   "(list each condition as its own item)")])
    kind = keys[0]
    value = item[kind]
    if not isinstance(value, str) or not value.strip():
        raise ExclusionError([(f".{kind}", f"must be {KINDS[kind]}, got {value!r}")])
    return exclusion(kind, value)


def exclusion(kind: str, value: str) -> Exclusion:
    """The `Exclusion` for one of `KINDS` and its value; `ExclusionError` at `.<kind>` says why not."""
    if kind not in KINDS:
        raise ExclusionError([(f".{kind}", unknown_name("exclusion key", kind, KINDS))])
    try:
        if kind == "pattern":
            excluded, note = _fragment(value), ""
        else:
            if kind == "principal":
                text, note = _principal(value)
            elif kind == "sourceIp":
                text, note = _source_ip(value)
            else:
                text, note = _glob(value, KINDS["userAgent"]), ""
            excluded = Comparison(_selector(FIELDS[kind]), "=", StringValue(text, quoted=True))
        return Exclusion(kind, value, excluded, _negate(excluded), note)
    except _Refused as refused:
        raise ExclusionError([(f".{kind}", refused.message)]) from None


def _kinds_list() -> str:
    return ", ".join(KINDS)


def _selector(text: str) -> Selector:
    return Selector(tuple(Key(name) for name in text[2:].split(".")))


def _glob(value: str, allowed: str) -> str:
    """`value` if its only wildcards are a leading and/or trailing `*` and it is not all wildcard."""
    if not value.strip("*"):
        raise _Refused(f"{value!r} would exclude every event; allowed: {allowed}")
    inner = value.strip("*")
    if "*" in inner:
        raise _Refused(f"{value!r} has a '*' inside {inner!r}: a filter pattern treats it as a literal "
                       "asterisk, only a leading and/or trailing '*' is a wildcard; allowed: " + allowed)
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise _Refused(f"{value!r} contains a control character; allowed: {allowed}")
    return value


def _principal(value: str) -> tuple[str, str]:
    """(the `$.userIdentity.arn` glob, a note when a role ARN was translated to its sessions)."""
    allowed = KINDS["principal"]
    text = _glob(value, allowed)
    core = text.strip("*")
    lead, trail = text.startswith("*"), len(text) > 1 and text.endswith("*")
    if not _ARN_TEXT.fullmatch(core):
        raise _Refused(f"{value!r} is not an ARN: only letters, digits and +=,.@_/:- may appear; allowed: {allowed}")
    if not lead:
        if not core.startswith("arn:"):
            raise _Refused(f"{value!r} must start with arn: (or a leading *); allowed: {allowed}")
        _check_arn_head(value, core, complete=not trail)
    role = re.search(r"(?:^|:)role/(.*)\Z", core)
    if role is None:
        return text, ""
    before, rest = core[:role.start()], role.group(1)
    head = before.replace(":iam::", ":sts::") + (":" if role.group(0).startswith(":") else "")
    if trail:
        if "/" in rest:
            raise _Refused(
                f"{value!r} globs over a role path, which CloudTrail does not record: a role's sessions call "
                "as arn:aws:sts::<account>:assumed-role/<name>/<session>; name the role, glob its name "
                "(role/deployer*), or write a pattern on $.userIdentity.sessionContext.sessionIssuer.arn")
        sessions = f"{head}assumed-role/{rest}*"
    else:
        name = rest.rsplit("/", 1)[-1]
        if not name:
            raise _Refused(f"{value!r} names no role; allowed: {allowed}")
        sessions = f"{head}assumed-role/{name}/*"
    sessions = ("*" if lead else "") + sessions
    return sessions, f"its sessions: {sessions}"


def _check_arn_head(value: str, core: str, complete: bool) -> None:
    """The partition, service and account of an ARN (as far as a trailing glob spells them out)."""
    if complete:
        if not _ARN.fullmatch(core):
            raise _Refused(f"{value!r} is not an IAM or STS principal ARN (arn:aws:iam::<account>:user/<name>, "
                           ":role/<name>, :root, arn:aws:sts::<account>:assumed-role/<role>/<session>); "
                           f"allowed: {KINDS['principal']}")
        return
    parts = core.split(":")
    spelled = parts[:-1]  # the last part may be cut by the glob
    checks = ((1, lambda p: p in _PARTITIONS, "a partition (aws, aws-cn, aws-us-gov)"),
              (2, lambda p: p in ("iam", "sts"), "iam or sts"), (3, lambda p: p == "", "empty (IAM is global)"),
              (4, lambda p: re.fullmatch(r"\d{12}", p) is not None, "a 12-digit account id"))
    for index, ok, what in checks:
        if index < len(spelled) and not ok(spelled[index]):
            raise _Refused(f"{value!r}: ARN part {index + 1} {spelled[index]!r} must be {what}; "
                           f"allowed: {KINDS['principal']}")


def _source_ip(value: str) -> tuple[str, str]:
    """(the `$.sourceIPAddress` value, a note for a network written as a prefix)."""
    allowed = KINDS["sourceIp"]
    text = value.strip()
    if "/" not in text:
        try:
            return str(ipaddress.ip_address(text)), ""
        except ValueError:
            raise _Refused(f"{value!r} is not an IPv4 or IPv6 address; allowed: {allowed}") from None
    try:
        network = ipaddress.ip_network(text, strict=True)
    except ValueError as err:
        raise _Refused(f"{value!r} is not an IP network ({err}); allowed: {allowed}") from None
    if network.prefixlen == network.max_prefixlen:
        return str(network.network_address), ""
    if network.version == 4 and network.prefixlen in _IPV4_PREFIXES:
        octets = str(network.network_address).split(".")[:_IPV4_PREFIXES[network.prefixlen]]
        prefix = ".".join(octets) + ".*"
        return prefix, f"as {prefix}"
    if network.version == 6:
        raise _Refused(f"{value!r}: an IPv6 network cannot be written in a filter pattern (CloudTrail "
                       "shortens IPv6 addresses, so no prefix text matches a network); list the addresses; "
                       f"allowed: {allowed}")
    raise _Refused(f"{value!r}: a /{network.prefixlen} network cannot be written in a filter pattern, which "
                   "has no CIDR match, only a text prefix on whole octets (/8 -> 10.*, /16 -> 10.1.*, "
                   f"/24 -> 10.1.2.*); split it into /24 networks or list the addresses; allowed: {allowed}")


def _fragment(value: str) -> Expr:
    """The condition a `pattern` item writes, parsed by the engine as a JSON pattern."""
    text = value.strip()
    wrapped = text if text.startswith("{") else "{ " + text + " }"
    shift = 0 if text.startswith("{") else 2
    try:
        tree = parse(wrapped)
    except PatternSyntaxError as err:
        column = max(1, err.column - shift)
        raise _Refused(f"{value!r} is not a JSON-pattern condition: {err.message} (at column {column}); "
                       f"allowed: {KINDS['pattern']}") from None
    if not isinstance(tree, JsonPattern):
        raise _Refused(f"{value!r} is not a JSON-pattern condition; allowed: {KINDS['pattern']}")
    for warning in lint(tree):
        if warning.code in ("W003", "W005"):
            raise _Refused(f"{value!r}: {warning.message}")
    return tree.expr


# --- negation ----------------------------------------------------------------------------------


def negate(expr: Expr) -> Expr:
    """`expr`'s complement as a JSON-pattern expression (exact on the events the module docstring
    names), or `ExclusionError` saying why it has none."""
    try:
        return _negate(expr)
    except _Refused as refused:
        raise ExclusionError([("", refused.message)]) from None


def _negate(expr: Expr) -> Expr:
    if isinstance(expr, And):
        return _flat(Or, [_negate(op) for op in expr.operands])
    if isinstance(expr, Or):
        return _flat(And, [_negate(op) for op in expr.operands])
    selector = expr.selector
    name = render_selector(selector)
    if selector.wildcards:
        raise _Refused(f"{name} has a wildcard ([*] or .*), which a filter pattern reads as 'some element': "
                       "its negation, 'no element', cannot be written; name the element ($.list[0]...)")
    others = _other_kinds(selector, name)
    if isinstance(expr, Comparison):
        if expr.op not in ("=", "!="):
            raise _Refused(f"'{name} {expr.op} ...' cannot be negated exactly: '<' and '>' are false on a string, "
                           "so the opposite comparison misses those events; exclude with = or != instead")
        flipped = "!=" if expr.op == "=" else "="
        branches: list[Expr] = [] if _matches_any(expr) and flipped == "!=" else [
            Comparison(selector, flipped, expr.value)]
        return _flat(Or, [*branches, NotExists(selector), *others])
    if isinstance(expr, IsCheck):
        rest = [branch for branch in others if branch.what != expr.what]
        return _flat(Or, [NotExists(selector), Comparison(selector, "=", StringValue("*")), *rest])
    if isinstance(expr, NotExists):
        return _flat(Or, [Comparison(selector, "=", StringValue("*")), *others])
    raise _Refused(f"cannot negate {render(expr)}")


def _matches_any(expr: Comparison) -> bool:
    return isinstance(expr.value, StringValue) and bool(expr.value.text) and not expr.value.text.strip("*")


def _other_kinds(selector: Selector, name: str) -> list[Expr]:
    """The IS branches a comparison never sees: none for a field CloudTrail only writes as a string."""
    if name in STRING_FIELDS:
        return []
    return [IsCheck(selector, what) for what in ("NULL", "TRUE", "FALSE")]


def _flat(node: type, operands: Iterable[Expr]) -> Expr:
    """`And`/`Or` of `operands`, nested ones of the same kind spliced in; one operand stands alone."""
    flat: list[Expr] = []
    for operand in operands:
        flat.extend(operand.operands if isinstance(operand, node) else [operand])
    return flat[0] if len(flat) == 1 else node(tuple(flat))


# --- merging -----------------------------------------------------------------------------------


def merge_exclusions(pattern: str, exclusions: Sequence[Exclusion]) -> str:
    """`pattern` narrowed by every exclusion, rendered by the engine and checked against AWS's quotas.

    Without exclusions the text comes back unchanged. Raises `ExclusionError` (where "") when the
    pattern is not a JSON pattern or the merged one breaks a quota, with the sizes involved.
    """
    if not exclusions:
        return pattern
    tree = parse(pattern)
    if not isinstance(tree, JsonPattern):
        raise ExclusionError([("", "exclusions need a JSON pattern ({ ... }); this detection's pattern is "
                                   f"{_family(tree)}, which has no field to test")])
    merged = render(JsonPattern(_flat(And, [tree.expr, *(e.kept for e in exclusions)])))
    limit = rules.MAX_PATTERN_LENGTH
    if len(merged) > limit:
        base = len(render(tree))
        raise ExclusionError([("", f"the pattern with these exclusions is {len(merged)} characters, over the "
                                   f"{limit} CloudWatch Logs allows in a filter pattern (the detection's pattern "
                                   f"takes {base}, the {len(exclusions)} exclusion(s) {len(merged) - base}); "
                                   "use fewer or shorter exclusions (a glob covering several principals)")])
    try:
        compile_pattern(merged)
    except PatternSyntaxError as err:
        raise ExclusionError([("", f"the pattern with these exclusions breaks a CloudWatch Logs quota: "
                                   f"{err.message}")]) from None
    return merged


def excluded_pattern(exclusions: Sequence[Exclusion]) -> str:
    """One pattern matching every event some exclusion removes (`{ E1 || E2 ... }`)."""
    if not exclusions:
        raise ValueError("no exclusions")
    return render(JsonPattern(_flat(Or, [e.excluded for e in exclusions])))


def exact_domain(exclusions: Sequence[Exclusion]) -> Expr:
    """The events on which `merge_exclusions` is exact, as a condition: every field the exclusions
    test is absent or a scalar (`= *` is a present string or number), or, for `STRING_FIELDS`,
    absent or a string or number. Tests use it to prove the merge with the containment checker."""
    names: dict[str, Selector] = {}
    for item in exclusions:
        for node in walk(item.excluded):
            if isinstance(node, (Comparison, IsCheck, NotExists)):
                names.setdefault(render_selector(node.selector), node.selector)
    return _flat(And, [_flat(Or, [Comparison(selector, "=", StringValue("*")), NotExists(selector),
                                  *_other_kinds(selector, name)]) for name, selector in names.items()])


def _family(tree: Pattern) -> str:
    return {"TermPattern": "a term pattern", "RegexPattern": "a regex pattern", "MatchAll": "the empty pattern",
            "DelimitedPattern": "a space-delimited pattern"}.get(type(tree).__name__, type(tree).__name__)


__all__ = [
    "FIELDS", "KINDS", "STRING_FIELDS", "Exclusion", "ExclusionError", "exact_domain", "excluded_pattern", "exclusion",
    "merge_exclusions", "negate", "parse_exclusion", "parse_exclusions",
]
