"""Property: a rule converted as "exact" counts, with the engine's matcher, exactly the events a
small reference reading of Sigma counts (case-insensitive strings unless |cased, `*`/`?` wildcards,
`null` as absent or null, `exists` as holding a value, `not` as the complement), over generated
rules and a fixed population of CloudTrail-shaped events.

The events respect what "exact" assumes of CloudTrail (trailguard/sigma/fields.py): fields AWS
writes in one fixed spelling hold lower-case values here and rules write them that way (a fragment's
case is then the same wherever it occurs, as "exact" assumes of AWS's spellings; a value starting in
lower case on `eventName` is converted with a `case` caveat, and so left out of the property); fields AWS
always writes are present; known string fields are strings or absent. Caller-chosen fields
(`userAgent`, `userIdentity.arn`) take values in any case.
"""

from __future__ import annotations

import ipaddress
import random
import re
from typing import Any

from hypothesis import HealthCheck, given, settings, strategies as st
from sigma.conditions import (
    ConditionAND, ConditionFieldEqualsValueExpression, ConditionNOT, ConditionOR,
)
from sigma.rule import SigmaRule
from sigma.types import (
    SigmaCasedString, SigmaCIDRExpression, SigmaExists, SigmaNull, SigmaRegularExpression, SigmaString, SpecialChars,
)

from trailguard.patterns import compile_pattern
from trailguard.sigma.convert import convert_rule

SETTINGS = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])

FIXED = {"eventName": ["deletebucket", "deletetrail", "stoplogging", "getuser", "de*te"],
         "errorCode": ["accessdenied", "success", "throttling"]}
CALLER = {"userAgent": ["Boto3/1.2", "boto3/1.2", "BOTO3", "aws-cli/2 Python/3", "x?y", "Mozilla"],
          "userIdentity.arn": ["arn:aws:iam::1:user/Alice", "arn:aws:iam::1:user/alice", "arn:aws:iam::1:root"]}
IPS = ["10.1.2.3", "10.200.0.1", "172.16.5.5", "172.20.0.1", "192.168.1.9", "203.0.113.7", "AWS Internal"]
MISSING = object()


def _population() -> list[dict[str, Any]]:
    rng = random.Random(7)
    events = []
    for _ in range(300):
        event: dict[str, Any] = {"eventSource": "s3.amazonaws.com", "userIdentity": {"type": "IAMUser"}}
        event["eventName"] = rng.choice(FIXED["eventName"])
        code = rng.choice(FIXED["errorCode"] + [MISSING])
        if code is not MISSING:
            event["errorCode"] = code
        event["userAgent"] = rng.choice(CALLER["userAgent"])
        arn = rng.choice(CALLER["userIdentity.arn"] + [MISSING])
        if arn is not MISSING:
            event["userIdentity"]["arn"] = arn
        event["sourceIPAddress"] = rng.choice(IPS)
        events.append(event)
    return events


EVENTS = _population()


# ---------------------------------------------------------------- the reference reading of Sigma

def _get(event: dict, field: str) -> Any:
    node: Any = event
    for key in field.split("."):
        if not isinstance(node, dict) or key not in node:
            return MISSING
        node = node[key]
    return node


def _string_regex(value: SigmaString) -> re.Pattern[str]:
    parts = []
    for part in value.s:
        if part is SpecialChars.WILDCARD_MULTI:
            parts.append(".*")
        elif part is SpecialChars.WILDCARD_SINGLE:
            parts.append(".")
        else:
            parts.append(re.escape(part))
    flags = re.S if isinstance(value, SigmaCasedString) else re.S | re.I
    return re.compile("".join(parts), flags)


def _leaf(event: dict, field: str, value: Any) -> bool:
    actual = _get(event, field)
    if isinstance(value, SigmaNull):
        return actual is MISSING or actual is None
    if isinstance(value, SigmaExists):
        return (actual is not MISSING and actual is not None) == bool(value)
    if not isinstance(actual, str):
        return False
    if isinstance(value, SigmaRegularExpression):
        return re.search(value.regexp.original, actual) is not None
    if isinstance(value, SigmaCIDRExpression):
        try:
            return ipaddress.ip_address(actual) in value.network
        except ValueError:
            return False
    return _string_regex(value).fullmatch(actual) is not None


def sigma_matches(node: Any, event: dict) -> bool:
    if isinstance(node, ConditionNOT):
        return not sigma_matches(node.args[0], event)
    if isinstance(node, ConditionAND):
        return all(sigma_matches(arg, event) for arg in node.args)
    if isinstance(node, ConditionOR):
        return any(sigma_matches(arg, event) for arg in node.args)
    assert isinstance(node, ConditionFieldEqualsValueExpression), node
    return _leaf(event, node.field, node.value)


# ---------------------------------------------------------------- generated rules

def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


@st.composite
def detection_items(draw) -> str:
    kind = draw(st.sampled_from(["fixed", "caller", "cidr", "null", "exists", "re"]))
    if kind == "cidr":
        nets = draw(st.lists(st.sampled_from(["10.0.0.0/8", "172.16.0.0/12", "192.168.1.0/24", "203.0.113.7/32",
                                              "10.128.0.0/9"]), min_size=1, max_size=2, unique=True))
        return "sourceIPAddress|cidr: [" + ", ".join(_quoted(n) for n in nets) + "]"
    if kind == "null":
        return draw(st.sampled_from(["errorCode", "userIdentity.arn"])) + ": null"
    if kind == "exists":
        return draw(st.sampled_from(["errorCode", "userIdentity.arn"])) + "|exists: " + draw(
            st.sampled_from(["true", "false"]))
    if kind == "re":
        field = draw(st.sampled_from(["eventName", "userAgent"]))
        return f"{field}|re: " + _quoted(draw(st.sampled_from(["^delete", "trail$", "[Bb]oto3", "o.o|^x", r"\d"])))
    pool = FIXED if kind == "fixed" else CALLER
    field = draw(st.sampled_from(sorted(pool)))
    modifier = draw(st.sampled_from(["", "|contains", "|startswith", "|endswith", "|contains|all", "|cased"]))

    def fragment() -> str:
        text = draw(st.sampled_from(pool[field]))
        start = draw(st.integers(0, len(text) - 1))
        end = draw(st.integers(start + 1, len(text)))
        cut = text[start:end] if modifier else text
        if kind == "caller" and draw(st.booleans()):
            cut = cut.swapcase()
        if draw(st.integers(0, 4)) == 0:  # a wildcard of Sigma's own
            at = draw(st.integers(0, len(cut)))
            cut = cut[:at] + draw(st.sampled_from(["*", "?"])) + cut[at:]
        return cut

    values = [fragment() for _ in range(draw(st.integers(1, 3)))]
    return f"{field}{modifier}: [" + ", ".join(_quoted(v) for v in values) + "]"


CONDITIONS = ["a", "a and b", "a or b", "a and not b", "not a", "not (a or b)", "not (a and b)", "1 of them",
              "all of them", "a and not (b or c)", "(a or b) and not c", "1 of them and not c"]


@st.composite
def rules(draw) -> SigmaRule:
    names = ["a", "b", "c"]
    body = []
    for name in names:
        items = draw(st.lists(detection_items(), min_size=1, max_size=2))
        fields = [item.split(":", 1)[0].split("|", 1)[0] for item in items]
        if len(set(fields)) < len(fields):  # one key per field in a map
            items = items[:1]
        body.append(f"    {name}:\n" + "".join(f"        {item}\n" for item in items))
    condition = draw(st.sampled_from(CONDITIONS))
    text = ("title: generated\nid: 22222222-3333-4444-8555-666666666666\nlogsource:\n    product: aws\n"
            "    service: cloudtrail\ndetection:\n" + "".join(body) + f"    condition: {condition}\n")
    return SigmaRule.from_yaml(text)


@SETTINGS
@given(rules())
def test_exact_conversions_count_what_sigma_counts(rule: SigmaRule):
    conversion = convert_rule(rule)
    if conversion.verdict != "exact":
        return
    compiled = compile_pattern(conversion.pattern)
    (condition,) = rule.detection.parsed_condition
    tree = condition.parsed
    for event in EVENTS:
        assert compiled.matches(event) is sigma_matches(tree, event), (conversion.pattern, event)


def test_the_generator_reaches_exact_conversions_of_every_construct():
    """The property above is only as good as the exact conversions it sees: make sure each kind of
    leaf, negations and folded regexes come out exact on their own."""
    seen = set()
    for detection in ["eventName|contains: 'let'", "userAgent: 'bo?o3*'", "sourceIPAddress|cidr: '172.16.0.0/12'",
                      "errorCode: null", "userIdentity.arn|exists: false", "eventName|re: '^delete'",
                      "userAgent|cased: 'Boto3/1.2'"]:
        text = ("title: t\nid: 22222222-3333-4444-8555-666666666666\nlogsource:\n    product: aws\n    service: "
                f"cloudtrail\ndetection:\n    a:\n        {detection}\n    condition: not a\n")
        conversion = convert_rule(SigmaRule.from_yaml(text))
        assert conversion.verdict == "exact", (detection, conversion)
        tree = SigmaRule.from_yaml(text).detection.parsed_condition[0].parsed
        compiled = compile_pattern(conversion.pattern)
        outcomes = {compiled.matches(e) for e in EVENTS}
        assert outcomes == {True, False}, detection  # the population tells the two apart
        assert all(compiled.matches(e) is sigma_matches(tree, e) for e in EVENTS), detection
        seen.add(detection)
    assert len(seen) == 7
