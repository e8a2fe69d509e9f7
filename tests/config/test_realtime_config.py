"""`trailguard:realtime` and `overrides.<id>.realtime`: which detections get a rule, in which
regions, and every refusal's message (pure validation, the small catalogue unless said)."""

from __future__ import annotations

import json

import pytest

from tests.config.bad_inputs import custom
from tests.config.small_catalog import small_catalog
from trailguard.config import ConfigError, load_engine_config, load_stack_config
from trailguard.config.engine import encode_for_engine
from trailguard.eventbridge import compile_event_pattern

HOME = "eu-west-1"
ALL_EVENTS = "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS"


def load(raw: dict, region: str | None = HOME, stack: str | None = None):
    return load_stack_config(raw, small_catalog(), stack=stack, region=region)


def refused(raw: dict, region: str | None = HOME, stack: str | None = None) -> dict[str, str]:
    with pytest.raises(ConfigError) as caught:
        load(raw, region, stack)
    return dict(caught.value.errors)


def rules(config) -> dict:
    return {rule.id: rule for rule in config.realtime.rules}


def test_off_by_default_and_without_a_region():
    config = load({}, region=None)
    assert config.realtime.rules == () and not config.realtime.enabled and config.realtime.regions == ()


def test_enabled_covers_every_enabled_detection_in_home_and_us_east_1():
    config = load({"realtime": {"enabled": True}})
    assert list(rules(config)) == [d.id for d in config.detections]
    assert config.realtime.home_region == HOME
    assert {rule.regions for rule in config.realtime.rules} == {(HOME, "us-east-1")}
    assert config.realtime.regions == (HOME, "us-east-1")


def test_true_is_short_for_enabled_and_home_us_east_1_is_not_listed_twice():
    config = load({"realtime": True}, region="us-east-1")
    assert {rule.regions for rule in config.realtime.rules} == {("us-east-1",)}


def test_each_rule_carries_the_compiled_pattern_its_state_and_the_alarm_s_topic():
    config = load({"realtime": {"enabled": True}, "notifications": {
        "topics": {"pager": {}, "mail": {}}, "defaultTopic": "mail", "routing": {"bySeverity": {"critical": "pager"}}}})
    by_id = rules(config)
    for detection in config.detections:
        rule = by_id[detection.id]
        compiled = compile_event_pattern(detection.pattern)
        assert rule.event_pattern == compiled.text and json.loads(rule.event_pattern) == compiled.pattern
        assert rule.topic == detection.topic and rule.title == detection.title
        assert rule.severity == detection.severity and rule.runbook == detection.detection.runbook
    assert by_id["root-usage"].topic == "pager" and by_id["vpc-changes"].topic == "mail"
    assert by_id["root-usage"].state == ALL_EVENTS  # the pattern does not pin eventName
    assert by_id["vpc-changes"].state == "ENABLED"  # pinned to CreateVpc, never read-only


def test_rules_match_what_the_alarm_matches_exclusions_included():
    deployer = "arn:aws:iam::111122223333:role/deployer"
    config = load({"realtime": True, "overrides": {"iam-policy-changes": {"exclude": [{"principal": deployer}]}}})
    detection = config.detection("iam-policy-changes")
    rule = rules(config)["iam-policy-changes"]
    assert rule.event_pattern == compile_event_pattern(detection.pattern).text
    assert rule.event_pattern != compile_event_pattern(detection.reference_pattern).text
    assert "arn:aws:sts::111122223333:assumed-role/deployer/" in rule.event_pattern


def test_detections_list_takes_ids_and_presets_of_enabled_detections():
    config = load({"detections": ["all"], "realtime": {"enabled": True, "detections": ["vpc-changes", "seed"]}})
    assert list(rules(config)) == ["vpc-changes", "root-usage", "iam-policy-changes"]


def test_regions_replace_the_default_and_home_is_always_covered_first():
    config = load({"realtime": {"enabled": True, "regions": ["us-west-2", "ap-southeast-2"]}})
    assert {rule.regions for rule in config.realtime.rules} == {(HOME, "us-west-2", "ap-southeast-2")}


def test_an_override_adds_removes_or_places_one_detection():
    config = load({"overrides": {"vpc-changes": {"realtime": True},
                                 "root-usage": {"realtime": {"regions": ["us-east-1", "us-west-2"]}}}})
    assert {i: r.regions for i, r in rules(config).items()} == {
        "root-usage": (HOME, "us-east-1", "us-west-2"), "vpc-changes": (HOME, "us-east-1")}
    config = load({"realtime": True, "overrides": {"vpc-changes": {"realtime": False},
                                                   "root-usage": {"realtime": {"enabled": False}}}})
    assert list(rules(config)) == ["iam-policy-changes", "console-auth-failures"]


def test_a_thresholded_detection_chosen_by_default_is_left_out_with_why():
    config = load({"realtime": True, "overrides": {
        "vpc-changes": {"threshold": 3},
        "root-usage": {"evaluationPeriods": 3, "datapointsToAlarm": 2},
        "console-auth-failures": {"comparison": "LessThanThreshold"}}})
    assert list(rules(config)) == ["iam-policy-changes"]
    why = config.realtime.not_realtime
    assert why["vpc-changes"] == ("its alarm needs a count >= 3 in 300s; EventBridge fires per event and "
                                  "cannot count")
    assert why["root-usage"] == ("its alarm needs 2 of 3 periods of 300s; EventBridge fires per event and "
                                 "cannot count periods")
    assert "fires when events are missing" in why["console-auth-failures"]


@pytest.mark.parametrize("override", [{"threshold": 1}, {"threshold": 0.5, "comparison": "GreaterThanThreshold"},
                                      {"statistic": "Maximum"}, {"period": 60}])
def test_alarms_that_fire_on_one_event_are_real_time(override):
    config = load({"realtime": True, "overrides": {"vpc-changes": override}})
    assert "vpc-changes" in rules(config)


def test_a_thresholded_detection_named_on_its_own_is_refused_with_why():
    errors = refused({"overrides": {"vpc-changes": {"threshold": 5, "realtime": True}}})
    assert errors == {"trailguard:overrides.vpc-changes.realtime": (
        "'vpc-changes' cannot have a real-time rule: its alarm needs a count >= 5 in 300s; EventBridge fires "
        "per event and cannot count")}
    errors = refused({"realtime": {"enabled": True, "detections": ["seed", "vpc-changes"]},
                      "overrides": {"vpc-changes": {"evaluationPeriods": 2, "datapointsToAlarm": 2}}})
    assert errors["trailguard:realtime.detections[1]"].endswith("EventBridge fires per event and cannot count periods")


def test_an_uncompilable_pattern_is_refused_with_the_compiler_s_reason():
    regex = custom(pattern="{ $.eventName = %Put.*Acl% }")
    errors = refused({"customDetections": [regex], "overrides": {"s3-public-grant": {"realtime": True}}})
    assert errors["trailguard:overrides.s3-public-grant.realtime"] == (
        "'s3-public-grant' cannot have a real-time rule: its pattern has no exact EventBridge form: cannot compile "
        "to EventBridge (regex): EventBridge has no regular expressions: %Put.*Acl%")
    config = load({"customDetections": [regex], "realtime": True})
    assert "s3-public-grant" not in rules(config)
    assert "(regex)" in config.realtime.not_realtime["s3-public-grant"]


def test_an_exclusion_that_leaves_no_exact_form_refuses_the_rule():
    config = load({"realtime": True, "overrides": {"vpc-changes": {"exclude": [{"pattern": "$.eventName = CreateVpc"}]}}})
    assert "(two-conditions-one-field)" in config.realtime.not_realtime["vpc-changes"]


@pytest.mark.parametrize("raw, key, fragments", [
    ({"realtime": "yes"}, "trailguard:realtime", ["must be true, false or a mapping", "got 'yes'"]),
    ({"realtime": {"enable": True}}, "trailguard:realtime.enable", ["did you mean 'enabled'?", "allowed: enabled, detections, regions"]),
    ({"realtime": {"enabled": "on"}}, "trailguard:realtime.enabled", ["must be true or false", "got 'on'"]),
    ({"realtime": {"enabled": True, "regions": "us-east-1"}}, "trailguard:realtime.regions", ["a list of AWS Region codes"]),
    ({"realtime": {"enabled": True, "regions": []}}, "trailguard:realtime.regions", ["at least one AWS Region code"]),
    ({"realtime": {"enabled": True, "regions": ["us-west-2", "US-EAST-1"]}}, "trailguard:realtime.regions[1]",
     ["'US-EAST-1' is not an AWS Region code"]),
    ({"realtime": {"enabled": True, "regions": ["us-east1"]}}, "trailguard:realtime.regions[0]", ["not an AWS Region code"]),
    ({"realtime": {"enabled": True, "regions": ["us-west-2", "us-west-2"]}}, "trailguard:realtime.regions[1]", ["listed twice"]),
    ({"realtime": {"enabled": True, "detections": ["vpc-chang"]}}, "trailguard:realtime.detections[0]",
     ["unknown detection id or preset 'vpc-chang'", "did you mean 'vpc-changes'?"]),
    ({"detections": ["seed"], "realtime": {"enabled": True, "detections": ["console-auth-failures"]}},
     "trailguard:realtime.detections[0]", ["'console-auth-failures' is not enabled", "trailguard:detections"]),
    ({"overrides": {"vpc-changes": {"realtime": "always"}}}, "trailguard:overrides.vpc-changes.realtime",
     ["must be true, false or a mapping"]),
    ({"overrides": {"vpc-changes": {"realtime": {"region": ["us-east-1"]}}}},
     "trailguard:overrides.vpc-changes.realtime.region", ["did you mean 'regions'?"]),
    ({"overrides": {"vpc-changes": {"realtime": {"regions": ["mars-1"]}}}},
     "trailguard:overrides.vpc-changes.realtime.regions[0]", ["'mars-1' is not an AWS Region code"]),
])
def test_bad_realtime_config_is_refused_naming_the_key(raw, key, fragments):
    errors = refused(raw)
    assert key in errors, errors
    assert all(fragment in errors[key] for fragment in fragments), errors[key]


def test_real_time_needs_the_stack_s_region():
    errors = refused({"realtime": True}, region=None)
    assert errors == {"aws:region": ("real-time rules (trailguard:realtime, overrides.<id>.realtime) need the stack's "
                                     "region, where the alert topics live: pulumi config set aws:region <region>")}
    assert "aws:region" in refused({"realtime": True}, region="Ireland")


EXISTING = "arn:aws:sns:{}:111122223333:secops"


def test_an_existing_topic_in_another_region_cannot_receive_real_time_alerts():
    errors = refused({"realtime": True, "notifications": {"topics": {"secops": {"arn": EXISTING.format("us-west-2")}}}})
    assert list(errors) == ["trailguard:notifications.topics.secops.arn"]
    assert errors["trailguard:notifications.topics.secops.arn"].startswith(
        "is in us-west-2, but the real-time rule of 'root-usage' notifies from the stack's region eu-west-1")


def test_an_existing_topic_in_the_home_region_is_used_with_a_warning_about_its_policy():
    config = load({"realtime": True, "notifications": {"topics": {"secops": {"arn": EXISTING.format(HOME)}}}})
    assert {rule.topic for rule in config.realtime.rules} == {"secops"}
    warnings = dict(config.warnings)
    assert "events.amazonaws.com sns:Publish" in warnings["trailguard:notifications.topics.secops.arn"]


EXISTING_TRAIL = {"create": False, "existingLogGroupName": "org-trail"}
"""No trail here, so the bucket and delivery role (the longest names) do not bound the stack name."""


def refused_list(raw: dict, stack: str, region: str = HOME) -> list[tuple[str, str]]:
    with pytest.raises(ConfigError) as caught:
        load(raw, region, stack)
    return caught.value.errors


def test_rule_names_are_checked_against_eventbridge_s_limit():
    stack = "s" * 33
    load({"trail": EXISTING_TRAIL}, stack=stack)  # fine without real-time
    errors = refused_list({"trail": EXISTING_TRAIL, "realtime": True}, stack)
    assert errors == [(f"stack name '{stack}'", (
        f"makes the EventBridge rule name 'trailguard-{stack}-console-auth-failures' (66 characters), which AWS "
        "refuses; allowed: an EventBridge rule name (1-64 of A-Z a-z 0-9 . - _); use a stack name of letters, "
        "digits and single '-' between them, at most 31 characters for this config (pulumi stack rename)"))]
    long_id = custom(detection_id="s3-public-grant-" + "x" * 40)
    errors = refused_list({"customDetections": [long_id], "realtime": True}, "prod")
    assert [key for key, _ in errors] == ["trailguard:customDetections[0].id"]
    assert "EventBridge rule name" in errors[0][1] and "shorten the id to at most 48 characters" in errors[0][1]


def test_the_forwarding_role_name_is_checked_when_a_rule_leaves_home():
    stack, only_vpc = "s" * 37, {"enabled": True, "detections": ["vpc-changes"]}
    errors = refused_list({"trail": EXISTING_TRAIL, "realtime": only_vpc}, stack)
    assert len(errors) == 1 and errors[0][1].startswith(
        f"makes the real-time forwarding IAM role name 'trailguard-{stack}-realtime-forward' (65 characters)")
    config = load({"trail": EXISTING_TRAIL, "realtime": only_vpc}, region="us-east-1", stack=stack)
    assert rules(config)["vpc-changes"].regions == ("us-east-1",)  # home only: no role, no problem


def test_engine_strings_read_as_the_program_reads_them():
    engine = {"aws:region": "us-west-2", **{f"trailguard:{k}": v for k, v in encode_for_engine(
        {"realtime": {"enabled": True, "detections": ["seed"]}}).items()}}
    config = load_engine_config(engine, "prod", small_catalog())
    assert config.realtime.home_region == "us-west-2"
    assert {rule.regions for rule in config.realtime.rules} == {("us-west-2", "us-east-1")}
    assert load_engine_config({"aws:region": "us-west-2", "trailguard:realtime": "true"}, "prod",
                              small_catalog()).realtime.enabled  # `pulumi config set trailguard:realtime true`


def test_settings_under_a_disabled_realtime_are_flagged_as_having_no_effect():
    config = load({"realtime": {"detections": ["seed"], "regions": ["us-west-2"]}})
    assert config.realtime.rules == ()
    assert dict(config.warnings)["trailguard:realtime.enabled"] == (
        "is false, so detections and regions have no effect; set enabled: true to deploy the rules")
    config = load({"realtime": {"regions": ["us-west-2"]}, "overrides": {"vpc-changes": {"realtime": True}}})
    assert rules(config)["vpc-changes"].regions == (HOME, "us-west-2")  # the override uses the regions
    assert "trailguard:realtime.enabled" not in dict(config.warnings)
    assert "trailguard:realtime.enabled" not in dict(load({"realtime": {"enabled": True}}).warnings)


def test_a_sigma_derived_detection_keeps_its_author_in_the_real_time_alert():
    """The Detection Rule License asks that messages based on a rule's matches keep its author:
    the real-time message, like the alarm description, ends with the attribution."""
    from trailguard.realtime import alert_transformer, render_input_transformer
    from trailguard.eventbridge import event_for

    source = {"sigma": "8ad1600d-e9dc-4251-b0ee-a65268f29add", "author": "vitaliy0x1",
              "link": "https://example.com/rule.yml"}
    config = load({"customDetections": [custom(source=source)], "realtime": {"enabled": True}})
    rule = rules(config)["s3-public-grant"]
    assert rule.attribution.startswith("Based on Sigma 8ad1600d-e9dc-4251-b0ee-a65268f29add by vitaliy0x1")
    paths, template = alert_transformer(rule.id, rule.title, rule.severity.value, rule.runbook, rule.attribution)
    record = config.detection("s3-public-grant").positives[0]
    text = json.loads(render_input_transformer(paths, template, event_for(record)))
    assert text.endswith(rule.attribution.replace('"', "'"))
    plain = load({"customDetections": [custom()], "realtime": {"enabled": True}})
    assert rules(plain)["s3-public-grant"].attribution == ""
