"""The policy-proofs issue's classes, end to end: the real program under mocks with
Pulumi.prod.yaml, judged by the pack through pulumi-policy's analyzer servicer with
policies/config/prod.json, in update and in preview. Per class, realistic harmful changes (each a
mandatory violation naming the detection, the resource and the broken link; or, where preview
cannot know the value, an advisory, never a pass) and benign ones (no violation)."""

from __future__ import annotations

import dataclasses

import pytest

from tests.policies.test_end_to_end import MODES, PREFIX, ROOT, changed, judge, run_with_config, setter, summary
from trailguard.check.harness import run_program
from trailguard.check.layout import ProjectLayout
from trailguard.check.policy_pack import load_pack, make_analyzer, read_policy_config, resolve_policy_config
from trailguard.config import read_stack_config

LAYOUT = ProjectLayout.for_repository(ROOT)
FILTER = f"aws:cloudwatch/logMetricFilter:LogMetricFilter::{PREFIX}-vpc-changes-filter"
ALARM = f"aws:cloudwatch/metricAlarm:MetricAlarm::{PREFIX}-vpc-changes-alarm"
GROUP = f"aws:cloudwatch/logGroup:LogGroup::{PREFIX}-audit-logs"


@pytest.fixture(scope="module")
def analyzer():
    pack = load_pack(LAYOUT.pack_dir, LAYOUT.pack_package)
    return make_analyzer(pack, resolve_policy_config(read_policy_config(ROOT / "policies" / "config" / "prod.json"),
                                                      pack.ALL_POLICIES))


@pytest.fixture(scope="module")
def runs():
    return {mode: run_program(LAYOUT, "prod", preview=mode == "preview") for mode in MODES}


def vpc_pattern(run) -> str:
    return next(r for r in run.resources if r.name == f"{PREFIX}-vpc-changes-filter").inputs["pattern"].strip()


def with_vpc_override(mode, **settings):
    overrides = read_stack_config(ROOT, "prod")["overrides"]
    return run_with_config(mode, overrides={**overrides, "vpc-changes": {**overrides.get("vpc-changes", {}), **settings}})


# --- class 1: narrowed patterns every sample survives ---------------------------------------------

@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("clause", ['$.userIdentity.arn != "arn:aws:iam::111122223333:user/mallory"',
                                    '$.eventVersion = "1.09"'])
def test_class1_narrowing_is_mandatory(mode, clause, runs, analyzer):
    narrowed = "{ (" + vpc_pattern(runs[mode])[1:-1] + ") && " + clause + " }"
    violations = judge(changed(runs[mode], f"{PREFIX}-vpc-changes-filter", setter(pattern=narrowed)), analyzer)
    assert summary(violations) == [("required-detections", "mandatory", FILTER)]
    assert "required detection 'vpc-changes'" in violations[0].message
    assert "narrower than the detection's" in violations[0].message and "it would not count {" in violations[0].message


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("rewrite", [
    lambda p: p.replace("($.eventName=DeleteVpc)", '($.eventName = "DeleteVpc")'),
    lambda p: "{ ((" + p[1:-1] + ")) || $.eventName = CreateDefaultVpc }",
])
def test_class1_rewrite_or_added_name_passes(mode, rewrite, runs, analyzer):
    pattern = rewrite(vpc_pattern(runs[mode]))
    assert pattern != vpc_pattern(runs[mode])
    assert judge(changed(runs[mode], f"{PREFIX}-vpc-changes-filter", setter(pattern=pattern)), analyzer) == []


# --- class 2: settings that leave an alarm that never notifies ---------------------------------

@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("treat", ["ignore", "breaching"])
def test_class2_missing_data_kept_in_alarm_is_mandatory(mode, treat, analyzer):
    violations = judge(with_vpc_override(mode, treatMissingData=treat), analyzer)
    assert summary(violations) == [("required-detections", "mandatory", ALARM)]
    assert f"treats missing data as {treat}" in violations[0].message


@pytest.mark.parametrize("mode", MODES)
def test_class2_alarm_unit_the_filter_does_not_publish_is_mandatory(mode, runs, analyzer):
    violations = judge(changed(runs[mode], f"{PREFIX}-vpc-changes-alarm", setter(unit="Seconds")), analyzer)
    assert summary(violations) == [("required-detections", "mandatory", ALARM)]
    assert "watches unit Seconds but metric filter" in violations[0].message


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("change", [{"treatMissingData": "missing"}, {"unit": "Count"}])
def test_class2_benign_settings_pass(mode, change, runs, analyzer):
    assert judge(changed(runs[mode], f"{PREFIX}-vpc-changes-alarm", setter(**change)), analyzer) == []


# --- class 3: trail selectors that drop a detection's events -----------------------------------

KMS_OUT = [{"readWriteType": "All", "includeManagementEvents": True, "excludeManagementEventSources": ["kms.amazonaws.com"]}]
READS_ONLY = [{"name": "reads", "fieldSelectors": [{"field": "eventCategory", "equals": ["Management"]},
                                                   {"field": "readOnly", "equals": ["true"]}]}]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("selectors", [{"eventSelectors": KMS_OUT}, {"advancedEventSelectors": READS_ONLY}])
def test_class3_selectors_dropping_events_are_mandatory(mode, selectors, runs, analyzer):
    violations = judge(changed(runs[mode], f"{PREFIX}-audit-trail", setter(**selectors)), analyzer)
    assert violations and all(v.policy in ("required-detections", "trail-delivers-to-cloudwatch") for v in violations)
    detection = [v for v in violations if v.policy == "required-detections"]
    assert detection and all(v.level == "mandatory" and v.resource == GROUP for v in detection)
    assert all("does not record the" in v.message for v in detection)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("selectors", [
    {"eventSelectors": [{"readWriteType": "All", "includeManagementEvents": True,
                         "excludeManagementEventSources": ["rdsdata.amazonaws.com"]}]},
    {"advancedEventSelectors": [{"name": "management", "fieldSelectors": [
        {"field": "eventCategory", "equals": ["Management"]}]}]},
])
def test_class3_selectors_keeping_events_pass(mode, selectors, runs, analyzer):
    assert judge(changed(runs[mode], f"{PREFIX}-audit-trail", setter(**selectors)), analyzer) == []


# --- class 5: nobody subscribed ------------------------------------------------------------------

def without(run, *names):
    return dataclasses.replace(run, resources=[r for r in run.resources if r.name not in names])


@pytest.mark.parametrize("mode", MODES)
def test_class5_topic_without_subscription_is_mandatory(mode, runs, analyzer):
    violations = judge(without(runs[mode], f"{PREFIX}-security-email-0"), analyzer)
    assert violations and {v.policy for v in violations} == {"required-detections"}
    assert all(v.level == "mandatory" and "nobody is told" in v.message for v in violations)


@pytest.mark.parametrize("mode", MODES)
def test_class5_one_of_two_subscriptions_removed_passes(mode, runs, analyzer):
    assert judge(without(runs[mode], f"{PREFIX}-oncall-email-1"), analyzer) == []


# --- class 6: identity by ARN or dependency, never by name --------------------------------------

@pytest.mark.parametrize("mode", MODES)
def test_class6_same_named_topic_in_another_account(mode, runs, analyzer):
    name = next(r for r in runs[mode].resources if r.name == f"{PREFIX}-security-topic").outputs["name"]
    other = f"arn:aws:sns:us-east-1:999999999999:{name}"
    run = changed(runs[mode], f"{PREFIX}-vpc-changes-alarm", setter(alarmActions=[other]), {"alarmActions": []})
    violations = judge(run, analyzer)
    mine = [v for v in violations if v.policy == "required-detections"]
    if mode == "update":  # the topic's ARN is known: the action is not it
        assert [v.level for v in mine] == ["mandatory"] and "notifies nobody" in mine[0].message
    else:  # the topic's ARN is unknown: never a pass, an advisory naming the action
        assert [v.level for v in mine] == ["advisory"] and other in mine[0].message
