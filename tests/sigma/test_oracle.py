"""The SQLite oracle on hand-made rules: what a Sigma rule matches, as pySigma's SQLite backend says,
over the view trailguard builds (case, absent and null fields, nested paths, arrays, objects,
booleans, modifiers). And the generated events: deterministic, realistic, aimed at the edges."""

from __future__ import annotations

import pytest

pytest.importorskip("sigma.backends.sqlite", reason="the sigma extra is part of requirements-dev.txt")

from sigma.collection import SigmaCollection  # noqa: E402

from trailguard.sigma.generate import generate_events, one_char_changed, realistic  # noqa: E402
from trailguard.sigma.oracle import OracleError, json_path, oracle_query, rule_matches, view_sql  # noqa: E402


def rule(detection: str, extra: str = "") -> object:
    """A CloudTrail rule with `detection` (YAML lines under `detection:`, indented four spaces)."""
    text = ("title: Hand-made\nid: 5f3c1a8e-0000-4000-8000-000000000001\nstatus: test\n"
            "logsource:\n    product: aws\n    service: cloudtrail\n"
            f"detection:\n{detection}\nlevel: medium\n{extra}")
    return SigmaCollection.from_yaml(text).rules[0]


NAMED = rule("    selection:\n        eventName: CreateAccessKey\n    condition: selection")


def test_equality_ignores_case_as_sigma_does_and_case_sensitive_mode_does_not():
    events = [{"eventName": "CreateAccessKey"}, {"eventName": "createaccesskey"}, {"eventName": "CreateAccessKeys"}]
    assert rule_matches(NAMED, events) == [True, True, False]
    assert rule_matches(NAMED, events, case_sensitive=True) == [True, False, False]


def test_cased_modifier_is_case_sensitive_in_both_modes():
    cased = rule("    selection:\n        userAgent|cased: Boto3\n    condition: selection")
    assert rule_matches(cased, [{"userAgent": "Boto3"}, {"userAgent": "boto3"}]) == [True, False]


def test_not_on_an_absent_field_is_true_two_valued_logic():
    excluded = rule("    selection:\n        eventName: ConsoleLogin\n    filter:\n        userIdentity.userName: admin\n"
                    "    condition: selection and not filter")
    events = [{"eventName": "ConsoleLogin"}, {"eventName": "ConsoleLogin", "userIdentity": {"userName": "ADMIN"}},
              {"eventName": "ConsoleLogin", "userIdentity": {"userName": "bob"}}]
    assert rule_matches(excluded, events) == [True, False, True]


def test_null_matches_an_absent_field_and_json_null_but_not_an_empty_string():
    null = rule("    selection:\n        errorCode: null\n    condition: selection")
    assert rule_matches(null, [{}, {"errorCode": None}, {"errorCode": ""}, {"errorCode": "AccessDenied"}]) == [
        True, True, False, False]


def test_dotted_path_walks_objects_and_finds_nothing_through_an_array():
    nested = rule("    selection:\n        requestParameters.ipPermissions.items.ipProtocol: '-1'\n"
                  "    condition: selection")
    through_object = {"requestParameters": {"ipPermissions": {"items": {"ipProtocol": "-1"}}}}
    through_array = {"requestParameters": {"ipPermissions": {"items": [{"ipProtocol": "-1"}]}}}
    assert rule_matches(nested, [through_object, through_array]) == [True, False]


def test_an_object_is_searched_as_its_json_text():
    contains = rule("    selection:\n        requestParameters|contains: Suspended\n    condition: selection")
    events = [{"requestParameters": {"VersioningConfiguration": {"Status": "Suspended"}}},
              {"requestParameters": {"VersioningConfiguration": {"Status": "Enabled"}}}, {"requestParameters": None}]
    assert rule_matches(contains, events) == [True, False, False]


def test_json_booleans_read_as_true_and_false_strings():
    public = rule("    selection:\n        responseElements.publiclyAccessible: 'true'\n    condition: selection")
    events = [{"responseElements": {"publiclyAccessible": True}}, {"responseElements": {"publiclyAccessible": False}},
              {"responseElements": {"publiclyAccessible": "true"}}]
    assert rule_matches(public, events) == [True, False, True]


def test_modifiers_numbers_regex_and_cidr():
    modifiers = rule("    by_agent:\n        userAgent|startswith: aws-cli/\n"
                     "    by_ip:\n        sourceIPAddress|cidr: 198.51.100.0/24\n"
                     "    by_count:\n        requestParameters.maxResults|gt: 100\n"
                     "    by_regex:\n        eventName|re: '^Delete[A-Z]'\n"
                     "    condition: 1 of by_*")
    events = [{"userAgent": "AWS-CLI/2.0"}, {"sourceIPAddress": "198.51.100.77"}, {"sourceIPAddress": "198.51.101.1"},
              {"requestParameters": {"maxResults": 101}}, {"requestParameters": {"maxResults": 100}},
              {"eventName": "DeleteTrail"}, {"eventName": "Deletetrail"}, {"userAgent": "boto3"}]
    assert rule_matches(modifiers, events) == [True, True, False, True, False, True, False, False]


def test_comparisons_read_numbers_and_strings_spelling_one_never_other_text():
    """SQLite ranks any text above any number; the oracle compares only numbers (and "150")."""
    greater = rule("    selection:\n        requestParameters.maxResults|gt: 100\n    condition: selection")
    values = [150, "150", "1.5e3", "abc", "", True, None, 50, "50"]
    events = [{"requestParameters": {"maxResults": v}} for v in values]
    assert rule_matches(greater, events) == [True, True, True, False, False, False, False, False, False]
    equal = rule("    selection:\n        requestParameters.maxResults: 150\n    condition: selection")
    assert rule_matches(equal, events) == [True, True, False, False, False, False, False, False, False]


def test_keyword_rules_are_refused_with_the_rule_named():
    keywords = rule("    keywords:\n        - AccessDenied\n    condition: keywords")
    with pytest.raises(OracleError, match="5f3c1a8e-0000-4000-8000-000000000001"):
        rule_matches(keywords, [{}])


def test_a_rule_a_correlation_refers_to_is_still_evaluated():
    collection = SigmaCollection.from_yaml(
        "title: Base\nid: 5f3c1a8e-0000-4000-8000-000000000002\nname: base\nlogsource:\n    product: aws\n"
        "    service: cloudtrail\ndetection:\n    selection:\n        eventName: ConsoleLogin\n"
        "    condition: selection\n---\ntitle: Many\nid: 5f3c1a8e-0000-4000-8000-000000000003\ncorrelation:\n"
        "    type: event_count\n    rules:\n        - base\n    group-by:\n        - sourceIPAddress\n"
        "    timespan: 10m\n    condition:\n        gte: 10\n")
    assert rule_matches(collection.rules[0], [{"eventName": "ConsoleLogin"}, {"eventName": "Other"}]) == [True, False]


def test_view_quotes_every_key_of_the_path_and_the_column_name():
    assert json_path("userIdentity.arn") == '$."userIdentity"."arn"'
    sql = view_sql(["userIdentity.arn", "we`ird"])
    assert '`userIdentity.arn`' in sql and "`we``ird`" in sql
    query = oracle_query(NAMED)
    assert query.fields == ("eventName",) and all("FROM events" in q for q in query.queries)


# --- generated events ------------------------------------------------------------------------------


def test_generation_is_deterministic():
    both = rule("    selection:\n        eventSource: iam.amazonaws.com\n        userAgent|contains: Boto3\n"
                "    filter:\n        errorCode: null\n    condition: selection and not filter")
    assert generate_events(both) == generate_events(both)


def test_generated_events_are_labelled_by_the_oracle_on_both_sides():
    contains = rule("    selection:\n        eventName: CreateUser\n        userAgent|contains: Boto3\n"
                    "    condition: selection")
    generated = generate_events(contains)
    matched = dict(zip((g.name for g in generated), rule_matches(contains, [g.event for g in generated])))
    assert matched["satisfies-1"] is True
    assert any(name.startswith("breaks") for name in matched) and not all(matched.values())
    assert matched["satisfies-1-userAgent-upper"] is True  # Sigma ignores case
    off_by_one = [g.name for g in generated if g.event.get("userAgent") == one_char_changed("Boto3")]
    assert off_by_one and not any(matched[name] for name in off_by_one)  # one character off


def test_only_realistic_edges_a_fixed_case_or_always_present_field_keeps_its_shape():
    generated = generate_events(NAMED)
    assert not any(g.field == "eventName" and g.variant in ("upper", "lower", "missing", "null", "object")
                   for g in generated)
    assert all("eventName" in g.event for g in generated)
    assert realistic("userAgent", "upper") and not realistic("eventName", "upper")
    assert realistic("requestParameters.layers", "object") and not realistic("errorCode", "object")


def test_a_value_aws_writes_in_another_case_is_generated_as_aws_spells_it():
    """No real event holds `MFAUsed: NO`: the generated events carry AWS's `No` instead."""
    mfa = rule("    selection:\n        additionalEventData.MFAUsed: 'NO'\n    condition: selection")
    values = {g.event.get("additionalEventData", {}).get("MFAUsed") for g in generate_events(mfa)}
    assert "No" in values and "NO" not in values


def test_one_char_changed_changes_exactly_one_character():
    for text in ("CreateAccessKey", "a", "z9", "-1"):
        changed = one_char_changed(text)
        assert changed != text and len(changed) == len(text)
        assert sum(a != b for a, b in zip(text, changed)) == 1
