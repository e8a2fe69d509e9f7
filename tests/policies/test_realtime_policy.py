"""`realtime-detections` through `policy.validate`, props behind pulumi-policy's unknown-checking proxy:
the contract shape passes; each way an insider or a slip breaks the real-time channel is reported
naming the detection, the region and what is wrong."""

from __future__ import annotations

import pytest

from tests.policies.realtime_stacks import (
    EVENT_RULE, EVENT_TARGET, HOME, ROLE_ARN, TOPIC_ARN, Item, contract_stack, find, home_bus,
    pattern_of, rule_name, run, set_pattern, without,
)
from trailguard_policies.realtime import REALTIME_SCHEMA, realtime_detections

SECOND = "eu-west-1"
REGIONS = [HOME, SECOND]


def config(*detections: str, regions: list[str] | None = REGIONS, **extra) -> dict:
    wanted: dict = {"detections": list(detections)}
    if regions is not None:
        wanted["regions"] = regions
    return {"requireRealtime": wanted, **extra}


def messages(items: list[Item], cfg: dict | None) -> list[str]:
    reported, undecided = run(realtime_detections, items, cfg)
    assert undecided is None, undecided
    return [message for message, _ in reported]


# --- passing stacks ----------------------------------------------------------------------------


def test_contract_shape_passes_for_every_catalogue_detection() -> None:
    ids = ["root-usage", "iam-policy-changes", "console-signin-without-mfa", "unauthorized-api-calls",
           "organizations-changes", "monitoring-tampering"]
    assert messages(contract_stack(ids, REGIONS), config(*ids)) == []


def test_presets_resolve() -> None:
    from trailguard.catalog import load_catalog

    seed = list(load_catalog().resolve(["seed"]))
    assert messages(contract_stack(seed, [HOME]), config("seed", regions=[HOME])) == []


@pytest.mark.parametrize("cfg", [None, {}, {"requireRealtime": {"detections": []}}])
def test_default_requires_nothing(cfg) -> None:
    """Stacks without the real-time channel (every stack today) are unaffected by the default."""
    assert messages([], cfg) == []
    assert REALTIME_SCHEMA.properties["requireRealtime"]["default"] == {"detections": []}


def test_default_regions_are_us_east_1_and_the_regions_of_the_stacks_rules() -> None:
    stack = contract_stack(["root-usage"], ["eu-west-1", HOME])
    assert messages(stack, config("root-usage", regions=None)) == []
    # a stack with rules only in eu-west-1 still needs us-east-1, where global services' events arrive
    only_eu = contract_stack(["iam-policy-changes"], ["eu-west-1"], home="eu-west-1")
    found = messages(only_eu, config("iam-policy-changes", regions=None))
    assert found == ["required real-time detection 'iam-policy-changes' (IAM policy changes) in us-east-1: no "
                     "EventBridge rule in us-east-1 matches its events: deploy a rule on the default event bus there "
                     "(`trailguard eventbridge iam-policy-changes` prints the pattern) with a target that reaches an "
                     "SNS topic of this stack"]


def test_hand_written_equivalent_pattern_passes() -> None:
    """A pattern written another way (names reordered, prefix for a single name, default bus by ARN)."""
    stack = contract_stack(["kms-key-disable-or-deletion"], [HOME])
    name = rule_name("kms-key-disable-or-deletion", HOME)
    pattern = pattern_of(stack, name)
    assert sorted(pattern["detail"]["eventName"]) == ["DisableKey", "ScheduleKeyDeletion"]
    pattern["detail"]["eventName"] = ["ScheduleKeyDeletion", {"prefix": "DisableKey"}]
    del pattern["detail-type"]
    set_pattern(stack, name, pattern)
    find(stack, name).props["eventBusName"] = home_bus()
    assert messages(stack, config("kms-key-disable-or-deletion", regions=[HOME])) == []


def test_region_input_overrides_the_provider() -> None:
    """pulumi-aws v7's per-resource `region`: a rule in eu-west-1 through the us-east-1 provider."""
    stack = contract_stack(["vpc-changes"], [HOME, SECOND])
    for item in stack:
        if item.region == SECOND:
            item.region = HOME
            item.props["region"] = SECOND
    assert messages(stack, config("vpc-changes")) == []


# --- harmful changes ---------------------------------------------------------------------------


def test_rule_missing_in_a_region() -> None:
    stack = without(contract_stack(["root-usage"], REGIONS), rule_name("root-usage", SECOND),
                    rule_name("root-usage", SECOND) + "-target")
    assert messages(stack, config("root-usage")) == [
        "required real-time detection 'root-usage' (Root user activity) in eu-west-1: no EventBridge rule in eu-west-1 "
        "matches its events: deploy a rule on the default event bus there (`trailguard eventbridge root-usage` prints "
        "the pattern) with a target that reaches an SNS topic of this stack"]


def test_event_name_dropped_is_shown_with_the_event_it_misses() -> None:
    stack = contract_stack(["iam-policy-changes"], [HOME])
    name = rule_name("iam-policy-changes", HOME)
    pattern = pattern_of(stack, name)
    pattern["detail"]["eventName"].remove("PutRolePolicy")
    found = messages(set_pattern(stack, name, pattern), config("iam-policy-changes", regions=[HOME]))
    assert len(found) == 1
    assert found[0].startswith(
        f"required real-time detection 'iam-policy-changes' (IAM policy changes) in us-east-1: EventBridge rule '{name}' "
        "misses 1 of ")
    assert "PutRolePolicy from iam.amazonaws.com" in found[0]


def test_insider_exemption_the_samples_cannot_see_is_proved_missing() -> None:
    """An extra condition exempting one principal: every catalogue sample still matches, containment does not."""
    stack = contract_stack(["iam-policy-changes"], [HOME])
    name = rule_name("iam-policy-changes", HOME)
    pattern = pattern_of(stack, name)
    pattern["detail"]["userIdentity"] = {"arn": [
        {"anything-but": {"prefix": "arn:aws:sts::123456789012:assumed-role/ops/"}}, {"exists": False}]}
    found = messages(set_pattern(stack, name, pattern), config("iam-policy-changes", regions=[HOME]))
    assert len(found) == 1
    assert (f"EventBridge rule '{name}' matches the catalogue samples but not every event the detection's default "
            "pattern counts: it would miss {") in found[0]
    assert '"userIdentity": {"arn": "arn:aws:sts::123456789012:assumed-role/ops/' in found[0]


def test_anything_but_without_exists_false_misses_events_without_the_field() -> None:
    """EventBridge's anything-but never matches a missing field: exempting a principal that way also
    drops every event that carries no principal ARN."""
    stack = contract_stack(["iam-policy-changes"], [HOME])
    name = rule_name("iam-policy-changes", HOME)
    pattern = pattern_of(stack, name)
    pattern["detail"]["userIdentity"] = {"arn": [{"anything-but": "arn:aws:iam::123456789012:user/ops"}]}
    found = messages(set_pattern(stack, name, pattern), config("iam-policy-changes", regions=[HOME]))
    assert len(found) == 1 and "without $.errorCode, $.userIdentity.arn" in found[0]
    assert "realtime-detections allowedExclusions.iam-policy-changes" in found[0]


def test_allowed_exclusion_accepts_exactly_that_narrowing() -> None:
    stack = contract_stack(["iam-policy-changes"], [HOME])
    name = rule_name("iam-policy-changes", HOME)
    pattern = pattern_of(stack, name)
    deployer = "arn:aws:iam::123456789012:role/deployer"
    pattern["detail"]["userIdentity"] = {"arn": [
        {"anything-but": {"wildcard": "arn:aws:sts::123456789012:assumed-role/deployer/*"}}, {"exists": False}]}
    set_pattern(stack, name, pattern)
    assert messages(stack, config("iam-policy-changes", regions=[HOME],
                                  allowedExclusions={"iam-policy-changes": [{"principal": deployer}]})) == []
    other = messages(stack, config("iam-policy-changes", regions=[HOME], allowedExclusions={
        "iam-policy-changes": [{"principal": "arn:aws:iam::123456789012:role/someone-else"}]}))
    assert len(other) == 1 and "assumed-role/deployer/" in other[0]


def test_prefix_that_drops_events() -> None:
    stack = contract_stack(["iam-policy-changes"], [HOME])
    name = rule_name("iam-policy-changes", HOME)
    pattern = pattern_of(stack, name)
    pattern["detail"]["eventName"] = [{"prefix": "Put"}, {"prefix": "Delete"}, {"prefix": "Attach"},
                                      {"prefix": "Detach"}, {"prefix": "Create"}, {"prefix": "Update"}]
    found = messages(set_pattern(stack, name, pattern), config("iam-policy-changes", regions=[HOME]))
    assert len(found) == 1
    assert "AddUserToGroup" in found[0]


def test_narrowed_rule_in_the_forwarding_region_is_reported_there() -> None:
    stack = contract_stack(["cloudtrail-config-changes"], REGIONS)
    name = rule_name("cloudtrail-config-changes", SECOND)
    pattern = pattern_of(stack, name)
    pattern["detail"]["awsRegion"] = ["eu-west-1"]  # every catalogue sample is from eu-west-1
    found = messages(set_pattern(stack, name, pattern), config("cloudtrail-config-changes"))
    assert len(found) == 1 and found[0].startswith(
        "required real-time detection 'cloudtrail-config-changes' (CloudTrail configuration changes) in eu-west-1: "
        f"EventBridge rule '{name}' ")
    assert '"awsRegion": "' in found[0]


@pytest.mark.parametrize("state, expected", [
    ("ENABLED", "is in state ENABLED, which never receives read-only management events, and the detection's pattern "
                "can match them (a Get*, List* or Describe* call): use ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS"),
    ("DISABLED", "is DISABLED: it matches nothing"),
])
def test_state_that_does_not_receive_the_events(state: str, expected: str) -> None:
    stack = contract_stack(["root-usage"], REGIONS)
    name = rule_name("root-usage", HOME)
    find(stack, name).props["state"] = state
    found = messages(stack, config("root-usage"))
    # the home rule is broken, and the eu-west-1 rule forwards to it
    assert found[0] == (f"required real-time detection 'root-usage' (Root user activity) in us-east-1: EventBridge rule "
                        f"'{name}' {expected}")
    assert "forwards to the default event bus in us-east-1, where no EventBridge rule matching" in found[1]


def test_is_enabled_false_is_disabled_and_enabled_suffices_for_write_only_detections() -> None:
    stack = contract_stack(["vpc-changes"], [HOME])
    name = rule_name("vpc-changes", HOME)
    find(stack, name).props["state"] = "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS"
    assert messages(stack, config("vpc-changes", regions=[HOME])) == []
    del find(stack, name).props["state"]
    assert messages(stack, config("vpc-changes", regions=[HOME])) == []
    find(stack, name).props["isEnabled"] = False
    assert messages(stack, config("vpc-changes", regions=[HOME])) == [
        f"required real-time detection 'vpc-changes' (VPC changes) in us-east-1: EventBridge rule '{name}' is "
        "DISABLED: it matches nothing"]


def test_target_to_a_foreign_topic() -> None:
    stack = contract_stack(["vpc-changes"], [HOME])
    name = rule_name("vpc-changes", HOME)
    foreign = "arn:aws:sns:us-east-1:999999999999:trailguard-security"
    find(stack, name + "-target").props["arn"] = foreign
    assert messages(stack, config("vpc-changes", regions=[HOME])) == [
        f"required real-time detection 'vpc-changes' (VPC changes) in us-east-1: EventBridge rule '{name}' delivers to "
        f"no SNS topic of this stack: its targets ({foreign}) are neither a stack topic in us-east-1 nor another "
        "region's default event bus where a rule delivers to one"]


def test_forwarding_to_a_bus_with_no_delivering_rule() -> None:
    stack = without(contract_stack(["vpc-changes"], REGIONS), rule_name("vpc-changes", HOME) + "-target")
    found = messages(stack, config("vpc-changes", regions=[SECOND]))
    assert found == [
        f"required real-time detection 'vpc-changes' (VPC changes) in eu-west-1: EventBridge rule "
        f"'{rule_name('vpc-changes', SECOND)}' reaches no SNS topic of this stack: target "
        f"'{rule_name('vpc-changes', SECOND)}-target' forwards to the default event bus in us-east-1, where no "
        "EventBridge rule matching the detection delivers to an SNS topic of this stack"]


def test_forwarding_without_a_role_or_to_another_account() -> None:
    stack = contract_stack(["vpc-changes"], REGIONS)
    target = find(stack, rule_name("vpc-changes", SECOND) + "-target")
    del target.props["roleArn"]
    found = messages(stack, config("vpc-changes", regions=[SECOND]))
    assert len(found) == 1 and "without a roleArn" in found[0]
    target.props.update(roleArn=ROLE_ARN, arn=home_bus(HOME, "999999999999"))
    found = messages(stack, config("vpc-changes", regions=[SECOND]))
    assert len(found) == 1 and "forwards to account 999999999999, which holds no SNS topic of this stack" in found[0]


def test_topic_in_another_region_does_not_count_as_direct() -> None:
    stack = contract_stack(["vpc-changes"], REGIONS)
    target = find(stack, rule_name("vpc-changes", SECOND) + "-target")
    target.props = {"rule": target.props["rule"], "arn": TOPIC_ARN}
    found = messages(stack, config("vpc-changes", regions=[SECOND]))
    assert len(found) == 1 and "delivers to no SNS topic of this stack" in found[0]


def test_rule_on_a_custom_bus() -> None:
    stack = contract_stack(["vpc-changes"], [HOME])
    name = rule_name("vpc-changes", HOME)
    find(stack, name).props["eventBusName"] = "security-bus"
    find(stack, name + "-target").props["eventBusName"] = "security-bus"
    found = messages(stack, config("vpc-changes", regions=[HOME]))
    assert found == [f"required real-time detection 'vpc-changes' (VPC changes) in us-east-1: EventBridge rule '{name}' "
                     "is on event bus 'security-bus', which CloudTrail does not deliver to: put it on the default bus"]


def test_target_of_a_rule_with_the_same_name_in_another_region_does_not_count() -> None:
    stack = contract_stack(["vpc-changes"], REGIONS)
    for item in stack:
        if item.type == EVENT_RULE:
            item.props["name"] = "trailguard-vpc-changes"
        if item.type == EVENT_TARGET:
            item.props["rule"] = "trailguard-vpc-changes"
    assert messages(stack, config("vpc-changes")) == []
    home_target = rule_name("vpc-changes", HOME) + "-target"
    moved = [i for i in stack if i.name != home_target] + [
        Item(EVENT_TARGET, home_target, find(stack, home_target).props, SECOND)]
    found = messages(moved, config("vpc-changes", regions=[HOME]))
    assert len(found) == 1 and "has no target: nobody is told" in found[0]


@pytest.mark.parametrize("missing, sharing", [("root-usage", "console-auth-failures"),
                                              ("console-auth-failures", "root-usage")])
def test_another_detections_rule_is_not_blamed_for_a_missing_one(missing: str, sharing: str) -> None:
    """Console sign-in failures and root usage share ConsoleLogin samples; the other's rule is not the
    closest candidate, the missing rule is."""
    stack = without(contract_stack([missing, sharing], [HOME]), rule_name(missing, HOME))
    found = messages(stack, config(missing, regions=[HOME]))
    assert len(found) == 1 and f" in us-east-1: no EventBridge rule in us-east-1 matches its events" in found[0]


def test_invalid_pattern_is_reported() -> None:
    stack = contract_stack(["vpc-changes"], [HOME])
    name = rule_name("vpc-changes", HOME)
    find(stack, name).props["eventPattern"] = '{"detail": {"eventName": [{"regex": "Create.*"}]}}'
    found = messages(stack, config("vpc-changes", regions=[HOME]))
    assert found == [
        "required real-time detection 'vpc-changes' (VPC changes) in us-east-1: no EventBridge rule in us-east-1 "
        "matches its events: deploy a rule on the default event bus there (`trailguard eventbridge vpc-changes` prints "
        "the pattern) with a target that reaches an SNS topic of this stack"]


def test_one_broken_forwarding_target_names_every_detection_it_breaks() -> None:
    ids = ["vpc-changes", "nacl-changes"]
    stack = contract_stack(ids, [HOME])
    for item in stack:
        if item.type == EVENT_TARGET:
            item.props["arn"] = "arn:aws:sns:us-east-1:999999999999:elsewhere"
    found = messages(stack, config(*ids, regions=[HOME]))
    assert len(found) == 2 and all("delivers to no SNS topic" in m for m in found)


# --- undecided, preview ------------------------------------------------------------------------


def test_a_reading_gap_falls_back_to_the_samples_as_advisory() -> None:
    """A cidr the reading cannot express: the samples judge, and the rest stays an advisory."""
    stack = contract_stack(["vpc-changes"], [HOME])
    name = rule_name("vpc-changes", HOME)
    pattern = pattern_of(stack, name)
    pattern["detail"]["sourceIPAddress"] = [{"cidr": "0.0.0.0/0"}, {"anything-but": "203.0.113.10"}, {"exists": False}]
    reported, undecided = run(realtime_detections, set_pattern(stack, name, pattern),
                              config("vpc-changes", regions=[HOME]))
    assert reported == []
    assert undecided is not None and "judged by the samples only" in undecided
    assert "the cidr '0.0.0.0/0'" in undecided
    assert "(decided on update)" not in undecided


def test_preview_links_by_property_dependencies() -> None:
    stack = contract_stack(["vpc-changes"], [HOME])
    name = rule_name("vpc-changes", HOME)
    topic, target = find(stack, "security"), find(stack, name + "-target")
    topic.props["arn"] = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
    target.props["arn"] = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
    target.props["rule"] = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
    target.property_dependencies = {"arn": ["security"], "rule": [name]}
    assert messages(stack, config("vpc-changes", regions=[HOME])) == []
    target.property_dependencies = {"arn": [], "rule": [name]}
    found = messages(stack, config("vpc-changes", regions=[HOME]))
    assert len(found) == 1 and "delivers to no SNS topic of this stack: its targets (a computed value)" in found[0]
    target.property_dependencies = {}
    reported, undecided = run(realtime_detections, stack, config("vpc-changes", regions=[HOME]))
    assert reported == []
    assert undecided is not None and undecided.endswith("(decided on update)")


def test_unknown_pattern_at_preview_is_undecided_not_passed() -> None:
    stack = contract_stack(["vpc-changes"], [HOME])
    find(stack, rule_name("vpc-changes", HOME)).props["eventPattern"] = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
    reported, undecided = run(realtime_detections, stack, config("vpc-changes", regions=[HOME]))
    assert reported == [] and "event pattern of EventBridge rule" in (undecided or "")


# --- config ------------------------------------------------------------------------------------


def test_bad_config_is_reported_naming_the_key() -> None:
    stack = contract_stack(["vpc-changes"], [HOME])
    found = messages(stack, config("vpc-changes", "no-such-detection", regions=[HOME, "Mars-1"],
                                   allowedExclusions={"not-a-detection": []}))
    assert any(m.startswith("policy config requireRealtime.detections: ") and "no-such-detection" in m for m in found)
    assert "policy config requireRealtime.regions: 'Mars-1' is not an AWS region name (like us-east-1 or eu-west-1)" in found
    assert any(m.startswith("policy config allowedExclusions.not-a-detection: ") for m in found)
    assert len(found) == 3  # vpc-changes itself passes in us-east-1


def test_config_is_checked_like_the_cli_checks_it() -> None:
    from trailguard.check.policy_pack import PolicyConfigError, resolve_policy_config
    from trailguard_policies import ALL_POLICIES

    resolved = resolve_policy_config({"realtime-detections": {"requireRealtime": {"detections": ["seed"]}}},
                                     ALL_POLICIES)
    assert resolved["realtime-detections"] == ("mandatory", {"requireRealtime": {"detections": ["seed"]},
                                                             "allowedExclusions": {}})
    with pytest.raises(PolicyConfigError, match=r"realtime-detections.requireRealtime: unknown key 'region'; "
                                                 r"allowed: detections, regions"):
        resolve_policy_config({"realtime-detections": {"requireRealtime": {"region": ["us-east-1"]}}}, ALL_POLICIES)


# --- robustness --------------------------------------------------------------------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE  # noqa: E402

PATTERN_TEXTS = st.sampled_from([
    "[]", "3", "not json", "{}", '{"detail": []}', '{"detail": {"a": []}}', '{"detail": {"a": [[1]]}}',
    '{"detail": {"a": [{"anything-but": []}]}}', '{"detail": {"a": [{"prefix": 5}]}}',
    '{"detail": {"a\'b]": ["x"]}}', '{"detail": {"$or": [{"a": ["x"]}]}}', '{"detail": {"a": [{"numeric": [">", "1"]}]}}',
    '{"source": [{"prefix": "aws."}], "detail": {"eventName": [{"wildcard": "*Policy*"}]}}',
    '{"detail": {"eventSource": ["iam.amazonaws.com"], "eventName": [{"equals-ignore-case": []}]}}',
    '{"detail": {"eventName": ["\\u0000"], "x": {"y": [null, true, 1.5e300]}}}',
])
ODD = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.just(UNKNOWN_STRING_VALUE), PATTERN_TEXTS,
                st.sampled_from(["", "default", "ENABLED", "DISABLED", "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS",
                                 TOPIC_ARN, home_bus(), home_bus(SECOND), "eu-west-1", "x"]),
                st.lists(st.just("x"), max_size=2), st.dictionaries(st.just("k"), st.just(1), max_size=1))
RULE_KEYS = ("name", "eventPattern", "state", "isEnabled", "eventBusName", "region")
TARGET_KEYS = ("rule", "arn", "roleArn", "eventBusName", "region")


@settings(max_examples=80, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(rule=st.fixed_dictionaries({}, optional={k: ODD for k in RULE_KEYS}),
       target=st.fixed_dictionaries({}, optional={k: ODD for k in TARGET_KEYS}),
       topic_arn=ODD)
def test_odd_values_never_crash_the_policy(rule: dict, target: dict, topic_arn) -> None:
    stack = contract_stack(["vpc-changes", "root-usage"], REGIONS)
    find(stack, rule_name("vpc-changes", HOME)).props.update(rule)
    find(stack, rule_name("root-usage", SECOND) + "-target").props.update(target)
    find(stack, "security").props["arn"] = topic_arn
    reported, undecided = run(realtime_detections, stack, config("vpc-changes", "root-usage"))
    assert all(isinstance(message, str) and message for message, _ in reported)
