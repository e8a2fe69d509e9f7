"""Declared exclusions: each kind read, negated and merged so that the merged pattern keeps its meaning.

"Keeps its meaning": the merged pattern counts exactly the events the detection's pattern counts
minus those some exclusion matches. Shown two ways per exclusion kind:
- proved with the containment checker over the events the module documents as its exact domain
  (merged within P; merged disjoint from each exclusion; P within merged or an exclusion), and the
  checker's counterexample outside that domain shown to be the documented gap (an array or object);
- checked with the engine as the oracle over hypothesis-generated events, the catalogue's samples,
  the back-test fixture events and the real shared CloudTrail events when present.
"""

from __future__ import annotations

import copy
import functools
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from trailguard.catalog import load_catalog
from trailguard.exclusions import (
    STRING_FIELDS, ExclusionError, exact_domain, excluded_pattern, exclusion, merge_exclusions, negate,
    parse_exclusions,
)
from trailguard.patterns import compile_pattern, contains, parse, render, render_selector
from trailguard.patterns.analysis import selectors
from trailguard.patterns.ast import And, JsonPattern, Or

REPO = Path(__file__).resolve().parents[1]
SHARED_EVENTS = REPO / ".." / "shared" / "data" / "cloudtrail" / "stratus-red-team"
CATALOG = load_catalog()
NEVER = "{ $.eventName NOT EXISTS && $.eventName = * }"
"""A pattern no event matches: `contains(NEVER, X)` proves X matches nothing."""

ACCOUNT = "111122223333"
KIND_CASES: dict[str, list[dict[str, str]]] = {
    "principal": [
        {"principal": f"arn:aws:iam::{ACCOUNT}:role/deployer"},
        {"principal": f"arn:aws:iam::{ACCOUNT}:role/ops/break-glass"},
        {"principal": f"arn:aws:iam::{ACCOUNT}:role/ci-*"},
        {"principal": f"arn:aws:iam::{ACCOUNT}:user/automation-*"},
        {"principal": "*:role/auditor"},
        {"principal": f"arn:aws:sts::{ACCOUNT}:assumed-role/admin/alice"},
    ],
    "sourceIp": [
        {"sourceIp": "203.0.113.7"},
        {"sourceIp": "2001:DB8:0:0::17"},
        {"sourceIp": "198.51.100.0/24"},
        {"sourceIp": "10.1.0.0/16"},
        {"sourceIp": "172.0.0.0/8"},
    ],
    "userAgent": [
        {"userAgent": "*terraform*"},
        {"userAgent": "aws-cli/*"},
        {"userAgent": "*Boto3"},
        {"userAgent": "AWS Internal"},
    ],
    "pattern": [
        {"pattern": '$.userIdentity.invokedBy = "cloudformation.amazonaws.com"'},
        {"pattern": '$.userIdentity.type = "AssumedRole" && $.requestParameters.roleName = "deployer"'},
        {"pattern": "$.requestParameters.maxItems = 400 || $.requestParameters.dryRun IS TRUE"},
        {"pattern": "$.additionalEventData.MFAUsed NOT EXISTS"},
        {"pattern": '{ $.requestParameters.policyArn = "*AdministratorAccess" }'},
        {"pattern": "$.requestParameters.note IS NULL"},
    ],
}
REFERENCES = ("iam-policy-changes", "unauthorized-api-calls", "console-auth-failures")


def _reference(detection_id: str) -> str:
    return CATALOG.get(detection_id).pattern_for("default")


def _tree(expr: Any) -> JsonPattern:
    return JsonPattern(expr)


# --- the merge's meaning, proved ----------------------------------------------------------------


@pytest.mark.parametrize("detection_id", REFERENCES)
@pytest.mark.parametrize("kind", KIND_CASES)
def test_merge_is_proved_exact_on_its_domain(kind: str, detection_id: str) -> None:
    reference = parse(_reference(detection_id)).expr
    exclusions = parse_exclusions(KIND_CASES[kind])
    merged = And((reference, *(e.kept for e in exclusions)))
    assert contains(_tree(reference), _tree(merged)).holds, "the merge only narrows"
    for item in exclusions:
        both = contains(NEVER, _tree(And((merged, item.excluded))))
        assert both.holds, f"{item.describe()} still counted: {both.counterexample}"
    covered = contains(_tree(Or((merged, *(e.excluded for e in exclusions)))),
                       _tree(And((reference, exact_domain(exclusions)))))
    assert covered.holds, f"an event lost by the merge: {covered.counterexample}"


@pytest.mark.parametrize("kind", KIND_CASES)
def test_outside_the_domain_the_only_gap_is_the_documented_one(kind: str) -> None:
    """Over every JSON event the checker does find events the merge drops (the language cannot say
    "not an array or object"); the one it shows has such a value in a field an exclusion tests."""
    exclusions = parse_exclusions(KIND_CASES[kind])
    reference = parse(_reference("iam-policy-changes")).expr
    merged = And((reference, *(e.kept for e in exclusions)))
    gap = contains(_tree(Or((merged, *(e.excluded for e in exclusions)))), _tree(reference))
    assert gap.verdict == "not-contained"
    tested = {render_selector(s) for e in exclusions for s in selectors(_tree(e.excluded))}
    odd = [name for name in tested if _kind_at(gap.counterexample, name) in _outside_kinds(name)]
    assert odd, f"counterexample {gap.counterexample} is inside the documented domain"


def _outside_kinds(name: str) -> set[str]:
    return {"null", "bool", "container"} if name in STRING_FIELDS else {"container"}


def _kind_at(event: Any, name: str) -> str:
    value: Any = event
    for key in name[2:].split("."):
        if not isinstance(value, dict) or key not in value:
            return "absent"
        value = value[key]
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    return "container" if isinstance(value, (dict, list)) else "scalar"


# --- the merge's meaning, checked with the engine as the oracle ---------------------------------


def _events_on_disk() -> list[dict]:
    events = json.loads((REPO / "tests" / "fixtures" / "backtest" / "events.json").read_text())
    if SHARED_EVENTS.is_dir():
        for path in sorted(SHARED_EVENTS.glob("*.json")):
            events.extend(json.loads(path.read_text()))
    return events


def _catalogue_samples() -> list[dict]:
    samples: list[dict] = []
    for detection in CATALOG.detections.values():
        samples += [dict(e) for e in detection.positives_for("default")]
        samples += [dict(e) for e in detection.negatives_for("default")]
    return samples


BASES = _catalogue_samples() + _events_on_disk()
POSITIVE_BASES = [e for e in BASES if any(compile_pattern(_reference(i)).matches(e) for i in REFERENCES)]


def _groups(reference: str, items: list[dict[str, str]]) -> list[tuple]:
    """(exclusions, merged text): all items together when they fit AWS's 1024 characters, else each alone."""
    return _cached_groups(reference, json.dumps(items))


@functools.lru_cache(maxsize=None)
def _cached_groups(reference: str, items_json: str) -> list[tuple]:
    exclusions = parse_exclusions(json.loads(items_json))
    try:
        return [(exclusions, merge_exclusions(reference, exclusions))]
    except ExclusionError:
        groups = []
        for item in exclusions:
            try:
                groups.append(((item,), merge_exclusions(reference, (item,))))
            except ExclusionError:  # too long for this reference alone; the shorter references test it
                continue
        return groups


def _assert_oracle(reference: str, items: list[dict[str, str]], event: Any) -> bool:
    """merged(e) == reference(e) and no exclusion matches e, for every merge of `items`; returns
    whether some exclusion removed an event the reference counts."""
    removed = False
    for exclusions, merged in _groups(reference, items):
        hit = [e.describe() for e in exclusions if compile_pattern(e.pattern).matches(event)]
        expected = compile_pattern(reference).matches(event) and not hit
        assert compile_pattern(merged).matches(event) == expected, \
            f"{merged} disagrees on {event} (excluded by {hit})"
        removed = removed or (compile_pattern(reference).matches(event) and bool(hit))
    return removed


@pytest.mark.parametrize("kind", KIND_CASES)
def test_samples_and_real_events_keep_their_meaning(kind: str) -> None:
    assert POSITIVE_BASES, "no event matches the reference patterns: the oracle would test nothing"
    for detection_id in REFERENCES:
        for event in BASES:
            _assert_oracle(_reference(detection_id), KIND_CASES[kind], event)


def _set(event: dict, path: str, value: Any) -> dict:
    """A copy of `event` with `$.a.b` set to `value`, or removed when value is ABSENT."""
    out = copy.deepcopy(event)
    keys = path[2:].split(".")
    node = out
    for key in keys[:-1]:
        if not isinstance(node.get(key), dict):
            node[key] = {}
        node = node[key]
    if value is ABSENT:
        node.pop(keys[-1], None)
    else:
        node[keys[-1]] = value
    return out


ABSENT = object()
_session = st.text("abcdefghij-0123456789@.", min_size=1, max_size=12)
ARNS = st.one_of(
    st.just(ABSENT),
    st.sampled_from([f"arn:aws:iam::{ACCOUNT}:role/deployer", f"arn:aws:iam::{ACCOUNT}:user/automation-bot",
                     f"arn:aws:iam::{ACCOUNT}:user/automation", f"arn:aws:iam::{ACCOUNT}:root",
                     f"arn:aws:sts::{ACCOUNT}:assumed-role/admin/alice", f"arn:aws:sts::{ACCOUNT}:assumed-role/admin/bob"]),
    st.builds(lambda acct, role, session: f"arn:aws:sts::{acct}:assumed-role/{role}/{session}",
              st.sampled_from([ACCOUNT, "444455556666"]),
              st.sampled_from(["deployer", "deployer2", "break-glass", "ci-", "ci-build", "auditor", "ops"]), _session),
)
IPS = st.one_of(
    st.just(ABSENT), st.ip_addresses().map(str),
    st.sampled_from(["203.0.113.7", "203.0.113.70", "2001:db8::17", "2001:db8::170", "198.51.100.254",
                     "198.51.10.1", "10.1.2.3", "10.10.2.3", "10.12.0.1", "172.16.0.1", "17.2.0.1",
                     "cloudformation.amazonaws.com", "AWS Internal"]),
)
AGENTS = st.one_of(
    st.just(ABSENT), st.text(max_size=12),
    st.builds(lambda a, b: a + b, st.sampled_from(["", "aws-cli/", "Terraform/1.7 ", "x"]),
              st.sampled_from(["", "terraform", "Boto3", "2.15 Boto3", "AWS Internal"])),
)
SCALARS = st.one_of(st.just(ABSENT), st.none(), st.booleans(), st.sampled_from([400, 400.0, 3, "400", "x"]),
                    st.sampled_from(["cloudformation.amazonaws.com", "AssumedRole", "IAMUser", "deployer",
                                     "arn:aws:iam::aws:policy/AdministratorAccess", "No"]))
STRINGS = st.one_of(st.just(ABSENT), st.sampled_from(["cloudformation.amazonaws.com", "AssumedRole", "IAMUser",
                                                      "ec2.amazonaws.com", "x"]))
FIELD_VALUES: dict[str, Any] = {
    "$.userIdentity.arn": ARNS, "$.sourceIPAddress": IPS, "$.userAgent": AGENTS,
    "$.userIdentity.invokedBy": STRINGS, "$.userIdentity.type": STRINGS,
    "$.requestParameters.roleName": SCALARS, "$.requestParameters.maxItems": SCALARS,
    "$.requestParameters.dryRun": SCALARS, "$.additionalEventData.MFAUsed": SCALARS,
    "$.requestParameters.policyArn": SCALARS, "$.requestParameters.note": SCALARS,
}
"""Values a generated event gets at each field an exclusion tests: the exact domain's kinds (a
string field absent or a string; others any scalar or absent), near misses included."""


@st.composite
def events_for(draw: Any, kind: str) -> dict:
    event = draw(st.sampled_from(POSITIVE_BASES or BASES))
    tested = sorted({render_selector(s) for item in parse_exclusions(KIND_CASES[kind])
                     for s in selectors(_tree(item.excluded))})
    for name in tested:
        if draw(st.booleans()):
            event = _set(event, name, draw(FIELD_VALUES[name]))
    return event


@pytest.mark.parametrize("kind", KIND_CASES)
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_generated_events_keep_their_meaning(kind: str, data: Any) -> None:
    event = data.draw(events_for(kind))
    for detection_id in REFERENCES:
        _assert_oracle(_reference(detection_id), KIND_CASES[kind], event)


@pytest.mark.parametrize(("item", "field", "excluded", "kept"), [
    ({"principal": f"arn:aws:iam::{ACCOUNT}:role/deployer"}, "$.userIdentity.arn",
     f"arn:aws:sts::{ACCOUNT}:assumed-role/deployer/session-1", f"arn:aws:sts::{ACCOUNT}:assumed-role/deployer2/s"),
    ({"principal": f"arn:aws:iam::{ACCOUNT}:role/ops/break-glass"}, "$.userIdentity.arn",
     f"arn:aws:sts::{ACCOUNT}:assumed-role/break-glass/alice", "arn:aws:sts::444455556666:assumed-role/break-glass/a"),
    ({"principal": f"arn:aws:iam::{ACCOUNT}:user/automation-*"}, "$.userIdentity.arn",
     f"arn:aws:iam::{ACCOUNT}:user/automation-bot", f"arn:aws:iam::{ACCOUNT}:user/automation"),
    ({"sourceIp": "2001:DB8:0:0::17"}, "$.sourceIPAddress", "2001:db8::17", "2001:db8::170"),
    ({"sourceIp": "203.0.113.7"}, "$.sourceIPAddress", "203.0.113.7", "203.0.113.70"),
    ({"sourceIp": "10.1.0.0/16"}, "$.sourceIPAddress", "10.1.200.3", "10.10.2.3"),
    ({"userAgent": "*terraform*"}, "$.userAgent", "Terraform/1.7 terraform-provider-aws", "aws-cli/2.15.30"),
    ({"pattern": '$.userIdentity.invokedBy = "cloudformation.amazonaws.com"'}, "$.userIdentity.invokedBy",
     "cloudformation.amazonaws.com", "ec2.amazonaws.com"),
])
def test_each_kind_drops_what_it_names_and_keeps_its_neighbour(item: dict, field: str, excluded: str,
                                                               kept: str) -> None:
    reference = _reference("iam-policy-changes")
    base = next(e for e in POSITIVE_BASES if compile_pattern(reference).matches(e))
    assert _assert_oracle(reference, [item], _set(base, field, excluded))
    kept_event = _set(base, field, kept)
    assert not _assert_oracle(reference, [item], kept_event)
    assert compile_pattern(merge_exclusions(reference, parse_exclusions([item]))).matches(kept_event)


def test_an_event_without_the_field_stays_counted() -> None:
    """`!=` is false on a missing field: without the NOT EXISTS branch, console sign-in failures and
    AWS service events (no userIdentity.arn) would silently stop counting."""
    reference = _reference("console-auth-failures")
    failure = next(e for e in CATALOG.get("console-auth-failures").positives_for("default"))
    no_arn = _set(dict(failure), "$.userIdentity.arn", ABSENT)
    merged = merge_exclusions(reference, parse_exclusions([{"principal": f"arn:aws:iam::{ACCOUNT}:user/automation-*"}]))
    assert compile_pattern(merged).matches(no_arn)
    naive = reference[:-1] + f'&& $.userIdentity.arn != "arn:aws:iam::{ACCOUNT}:user/automation-*" }}'
    assert not compile_pattern(naive).matches(no_arn), "the trap this guards against"


# --- principals: the role ARN is translated to its sessions ---------------------------------------


def test_a_role_arn_excludes_its_sessions_not_the_role_arn() -> None:
    item = exclusion("principal", f"arn:aws:iam::{ACCOUNT}:role/ops/deployer")
    assert item.pattern == f'{{ $.userIdentity.arn = "arn:aws:sts::{ACCOUNT}:assumed-role/deployer/*" }}'
    assert "assumed-role/deployer/*" in item.note


def test_role_translation_matches_real_assumed_role_events() -> None:
    """Every assumed-role event carries the role ARN in sessionContext.sessionIssuer.arn: excluding that
    ARN must exclude the event (the events whose pseudonymised ARN lost its session part are left out)."""
    events = [e for e in _events_on_disk() if e.get("userIdentity", {}).get("type") == "AssumedRole"]
    checked = 0
    for event in events:
        identity = event["userIdentity"]
        role_arn = identity.get("sessionContext", {}).get("sessionIssuer", {}).get("arn")
        if not role_arn or identity.get("arn", "").count("/") < 2:
            continue
        assert compile_pattern(exclusion("principal", role_arn).pattern).matches(event), identity
        checked += 1
    assert checked >= 1


# --- bad inputs name the key and what is allowed ----------------------------------------------------


@pytest.mark.parametrize(("item", "where", "says"), [
    ({"principal": f"arn:aws:iam::{ACCOUNT}:role/de*ployer"}, "[0].principal", "only a leading and/or trailing '*'"),
    ({"principal": f"arn:aws:iam::{ACCOUNT}:role/ops/*"}, "[0].principal", "role path"),
    ({"principal": "*"}, "[0].principal", "every event"),
    ({"principal": "arn:aws:s3:::bucket"}, "[0].principal", "IAM or STS principal ARN"),
    ({"principal": "deployer"}, "[0].principal", "must start with arn:"),
    ({"principal": "arn:aws:iam::12345:user/*"}, "[0].principal", "12-digit account id"),
    ({"sourceIp": "203.0.113.256"}, "[0].sourceIp", "not an IPv4 or IPv6 address"),
    ({"sourceIp": "10.0.0.0/20"}, "[0].sourceIp", "/8 -> 10.*, /16 -> 10.1.*, /24 -> 10.1.2.*"),
    ({"sourceIp": "10.0.0.1/24"}, "[0].sourceIp", "host bits"),
    ({"sourceIp": "2001:db8::/64"}, "[0].sourceIp", "IPv6 network"),
    ({"userAgent": "aws*cli"}, "[0].userAgent", "literal asterisk"),
    ({"userAgent": ""}, "[0].userAgent", "must be a user agent"),
    ({"pattern": '$.userAgent = "x" &&'}, "[0].pattern", "is not a JSON-pattern condition"),
    ({"pattern": "ERROR"}, "[0].pattern", "is not a JSON-pattern condition"),
    ({"pattern": "$.requestParameters.count > 3"}, "[0].pattern", "cannot be negated exactly"),
    ({"pattern": '$.resources[*].ARN = "x"'}, "[0].pattern", "'some element'"),
    ({"pattern": "$.requestParameters.enabled = true"}, "[0].pattern", "IS TRUE"),
    ({"princpal": "x"}, "[0].princpal", "did you mean 'principal'"),
    ({"principal": f"arn:aws:iam::{ACCOUNT}:root", "sourceIp": "203.0.113.7"}, "[0]", "exactly one key"),
    ({}, "[0]", "exactly one key"),
    ("203.0.113.7", "[0]", "must be a mapping"),
])
def test_bad_items_name_the_key_and_what_is_allowed(item: Any, where: str, says: str) -> None:
    with pytest.raises(ExclusionError) as caught:
        parse_exclusions([item])
    assert caught.value.errors[0][0] == where
    assert says in caught.value.errors[0][1]


def test_every_bad_item_is_reported_and_repeats_are_refused() -> None:
    with pytest.raises(ExclusionError) as caught:
        parse_exclusions([{"sourceIp": "x"}, {"userAgent": "ok"}, {"userAgent": "a*b"}])
    assert [where for where, _ in caught.value.errors] == ["[0].sourceIp", "[2].userAgent"]
    with pytest.raises(ExclusionError) as caught:
        parse_exclusions([{"sourceIp": "2001:db8::1"}, {"sourceIp": "2001:DB8:0::1"}])
    assert caught.value.errors[0][0] == "[1].sourceIp" and "repeats exclusion [0]" in caught.value.errors[0][1]
    with pytest.raises(ExclusionError) as caught:
        parse_exclusions({"principal": "x"})
    assert "must be a list" in caught.value.errors[0][1]


def test_a_merged_pattern_over_the_quota_says_by_how_much() -> None:
    items = [{"userAgent": f"agent-{n}-" + "x" * 40} for n in range(3)]
    with pytest.raises(ExclusionError) as caught:
        merge_exclusions(_reference("iam-policy-changes"), parse_exclusions(items))
    message = caught.value.errors[0][1]
    assert "over the 1024 CloudWatch Logs allows" in message and "the 3 exclusion(s)" in message


def test_regex_quota_after_merge_is_reported() -> None:
    items = [{"pattern": "$.userAgent = %^a%"}, {"pattern": "$.userAgent = %^b%"}, {"pattern": "$.userAgent = %^c%"}]
    with pytest.raises(ExclusionError, match="regular expressions"):
        merge_exclusions(_reference("root-usage"), parse_exclusions(items))


def test_exclusions_need_a_json_pattern() -> None:
    with pytest.raises(ExclusionError, match="need a JSON pattern"):
        merge_exclusions('"ERROR" -"Exiting"', parse_exclusions([{"userAgent": "x"}]))


# --- rendering and negation details -------------------------------------------------------------------


def test_merge_renders_with_the_engine_and_parentheses() -> None:
    reference = '{ $.eventName = "A" || $.eventName = "B" }'
    merged = merge_exclusions(reference, parse_exclusions([{"userAgent": "x*"}]))
    assert merged == '{ ($.eventName = "A" || $.eventName = "B") && ($.userAgent != "x*" || $.userAgent NOT EXISTS) }'
    assert render(parse(merged)) == merged
    assert merge_exclusions(reference, ()) == reference


def test_negation_of_each_construct() -> None:
    def neg(text: str) -> str:
        return render(JsonPattern(negate(parse("{ " + text + " }").expr)))

    assert neg("$.a = 1") == "{ $.a != 1 || $.a NOT EXISTS || $.a IS NULL || $.a IS TRUE || $.a IS FALSE }"
    assert neg("$.a IS NULL") == "{ $.a NOT EXISTS || $.a = * || $.a IS TRUE || $.a IS FALSE }"
    assert neg("$.a NOT EXISTS") == "{ $.a = * || $.a IS NULL || $.a IS TRUE || $.a IS FALSE }"
    assert neg("$.a = *") == "{ $.a NOT EXISTS || $.a IS NULL || $.a IS TRUE || $.a IS FALSE }"
    assert neg('$.userAgent != "x"') == '{ $.userAgent = "x" || $.userAgent NOT EXISTS }'
    assert neg('$.eventName = "A" && $.userAgent = "b"') == \
        '{ $.eventName != "A" || $.eventName NOT EXISTS || $.userAgent != "b" || $.userAgent NOT EXISTS }'


def test_excluded_pattern_matches_what_any_exclusion_removes() -> None:
    exclusions = parse_exclusions([{"sourceIp": "203.0.113.7"}, {"userAgent": "*terraform*"}])
    combined = compile_pattern(excluded_pattern(exclusions))
    assert combined.matches({"sourceIPAddress": "203.0.113.7", "userAgent": "aws-cli"})
    assert combined.matches({"sourceIPAddress": "203.0.113.8", "userAgent": "Terraform terraform/1.7"})
    assert not combined.matches({"sourceIPAddress": "203.0.113.8", "userAgent": "aws-cli"})
