"""Links that leave a required alarm silent although every resource is there: settings with which
it fires once and never again or never sees data (class 2), and trail event selectors that drop
the events a detection needs (class 3). Each harmful change is reported in update, and advisory
(never a pass, never a crash) in preview when the deciding value is unknown; each benign change
passes. Unit level here; the protocol level (through pulumi-policy's servicer) is in
test_protocol.py.
"""

from __future__ import annotations

import pytest
from pulumi_policy import PolicyProviderResource
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, unknown_checking_proxy
from trailguard_policies.detections import required_detections_policy

from tests.policies.helpers import Res, build_stack, run_stack_policy_in_preview
from tests.policies.test_required_detections import alarm, messages, metric_filter, root_stack, trail
from trailguard.catalog import load_catalog

KMS = load_catalog().get("kms-key-disable-or-deletion")
KMS_ONLY = {"requiredDetections": [KMS.id]}


def kms_stack(*, trail_: Res | None = None) -> list[Res]:
    """The KMS detection's whole chain beside the root one."""
    return root_stack(trail_=trail_) + [
        metric_filter("kms-filter", KMS.pattern_for("default"), KMS.metric),
        alarm("kms-alarm", KMS.metric),
    ]


def only(reported: list[str], *fragments: str) -> None:
    assert len(reported) == 1, reported
    for fragment in fragments:
        assert fragment in reported[0], reported[0]


# --------------------------------------------------------------------------- class 2: settings


@pytest.mark.parametrize("statistic, default", [("Sum", 1), ("Sum", 0.01), ("Maximum", 1), ("SampleCount", 0)])
def test_default_value_that_breaches_keeps_the_alarm_in_alarm(statistic, default):
    filter_ = metric_filter(metricTransformation={"name": "RootAccountUsage", "namespace": "CISBenchmark",
                                                  "value": "1", "defaultValue": str(default)})
    only(messages(root_stack(filter_=filter_, alarm_=alarm(statistic=statistic))),
         f"publishes defaultValue {default} for every log event it does not match",
         "stays in ALARM once CloudTrail delivers anything")


def test_default_value_zero_with_sum_passes():
    filter_ = metric_filter(metricTransformation={"name": "RootAccountUsage", "namespace": "CISBenchmark",
                                                  "value": "1", "defaultValue": "0"})
    assert messages(root_stack(filter_=filter_)) == []


@pytest.mark.parametrize("treat, effect", [
    ("ignore", "after the first event it stays in ALARM"),
    ("breaching", "goes to ALARM without any event and stays there"),
])
def test_missing_data_that_never_leaves_alarm_is_reported(treat, effect):
    only(messages(root_stack(alarm_=alarm(treatMissingData=treat))),
         f"alarm 'root-alarm' treats missing data as {treat}", effect, "Use notBreaching")


@pytest.mark.parametrize("treat", ["notBreaching", "missing", None])
def test_missing_data_that_lets_the_alarm_return_passes(treat):
    assert messages(root_stack(alarm_=alarm(treatMissingData=treat))) == []


def test_missing_data_ignored_with_a_published_zero_passes():
    """With a default value every period with log events has a datapoint: nothing is missing."""
    filter_ = metric_filter(metricTransformation={"name": "RootAccountUsage", "namespace": "CISBenchmark",
                                                  "value": "1", "defaultValue": "0"})
    assert messages(root_stack(filter_=filter_, alarm_=alarm(treatMissingData="ignore"))) == []


@pytest.mark.parametrize("alarm_unit, filter_unit, shown", [
    ("Count", None, "publishes unit None"),       # the filter publishes no unit: the metric's unit is None
    ("Seconds", "Count", "publishes unit Count"),
])
def test_alarm_unit_the_filter_does_not_publish_is_reported(alarm_unit, filter_unit, shown):
    transformation = {"name": "RootAccountUsage", "namespace": "CISBenchmark", "value": "1"}
    if filter_unit:
        transformation["unit"] = filter_unit
    only(messages(root_stack(filter_=metric_filter(metricTransformation=transformation),
                             alarm_=alarm(unit=alarm_unit))),
         f"alarm 'root-alarm' watches unit {alarm_unit}", shown, "never receives one")


@pytest.mark.parametrize("alarm_unit, filter_unit", [("Count", "Count"), (None, "Count"), ("None", None)])
def test_matching_or_absent_alarm_unit_passes(alarm_unit, filter_unit):
    transformation = {"name": "RootAccountUsage", "namespace": "CISBenchmark", "value": "1"}
    if filter_unit:
        transformation["unit"] = filter_unit
    assert messages(root_stack(filter_=metric_filter(metricTransformation=transformation),
                               alarm_=alarm(unit=alarm_unit))) == []


def _with_regions(resources: list[Res], regions: dict[str, str]):
    """The stack as the servicer builds it, each named resource with an AWS provider in a region."""
    built = build_stack(resources)
    for resource in built:
        if resource.name in regions:
            props = unknown_checking_proxy({"region": regions[resource.name]})
            resource.provider = PolicyProviderResource("pulumi:providers:aws", props,
                                                       f"urn:provider:{regions[resource.name]}", "aws")
    return built


def _stack_messages(built, config=None):
    from pulumi_policy import StackValidationArgs
    from pulumi_policy.proxy import UnknownValueError

    reported: list[str] = []
    try:
        required_detections_policy.validate(StackValidationArgs(built, dict(config or {"requiredDetections": ["root-usage"]})),
                                            lambda message, urn=None: reported.append(message))
    except UnknownValueError as error:
        return reported, error.message
    return reported, None


def test_alarm_in_another_region_than_its_filter_is_reported():
    built = _with_regions(root_stack(), {"root-filter": "us-east-1", "root-alarm": "us-west-2"})
    reported, advisory = _stack_messages(built)
    assert advisory is None
    only(reported, "alarm 'root-alarm' is in us-west-2", "publishes its metric in us-east-1", "regional")


def test_alarm_region_read_from_arn_when_no_provider_is_sent():
    built = _with_regions(root_stack(alarm_=alarm(arn="arn:aws:cloudwatch:eu-west-1:123456789012:alarm:root")),
                          {"root-filter": "us-east-1"})
    reported, _ = _stack_messages(built)
    only(reported, "alarm 'root-alarm' is in eu-west-1")


def test_alarm_and_filter_in_the_same_region_pass():
    built = _with_regions(root_stack(), {"root-filter": "eu-central-1", "root-alarm": "eu-central-1"})
    assert _stack_messages(built) == ([], None)


def test_unknown_region_is_advisory_in_preview():
    built = _with_regions(root_stack(), {"root-filter": "us-east-1"})
    alarm_resource = next(r for r in built if r.name == "root-alarm")
    alarm_resource.provider = PolicyProviderResource(
        "pulumi:providers:aws", unknown_checking_proxy({"region": UNKNOWN_STRING_VALUE}), "urn:provider:x", "aws")
    reported, advisory = _stack_messages(built)
    assert reported == []
    assert advisory is not None and "region of alarm 'root-alarm'" in advisory


def test_unknown_missing_data_treatment_is_advisory_in_preview():
    reported, advisory = run_stack_policy_in_preview(
        required_detections_policy, root_stack(alarm_=alarm(treatMissingData=UNKNOWN_STRING_VALUE)),
        {"requiredDetections": ["root-usage"]})
    assert reported == []
    assert advisory is not None and "treatMissingData of alarm 'root-alarm' is unknown at preview" in advisory


# --------------------------------------------------------------------------- class 3: event selectors


@pytest.mark.parametrize("selectors, reason", [
    ({"eventSelectors": [{"readWriteType": "All", "includeManagementEvents": True,
                          "excludeManagementEventSources": ["kms.amazonaws.com"]}]},
     "excludeManagementEventSources lists kms.amazonaws.com"),
    ({"eventSelectors": [{"readWriteType": "ReadOnly", "includeManagementEvents": True}]},
     "readWriteType is ReadOnly"),
    ({"advancedEventSelectors": [{"name": "no-kms", "fieldSelectors": [
        {"field": "eventCategory", "equals": ["Management"]},
        {"field": "eventSource", "notEquals": ["kms.amazonaws.com"]}]}]},
     "its eventSource filter does not keep kms.amazonaws.com"),
    ({"advancedEventSelectors": [{"name": "no-disable", "fieldSelectors": [
        {"field": "eventCategory", "equals": ["Management"]},
        {"field": "eventName", "notStartsWith": ["Disable"]}]}]},
     "its eventName filter does not keep DisableKey"),
    ({"advancedEventSelectors": [{"name": "reads", "fieldSelectors": [
        {"field": "eventCategory", "equals": ["Management"]},
        {"field": "readOnly", "equals": ["true"]}]}]},
     "its readOnly filter does not keep false"),
])
def test_selectors_that_drop_the_detections_events_are_reported(selectors, reason):
    reported = messages(kms_stack(trail_=trail(**selectors)), config=KMS_ONLY)
    only(reported, "required detection 'kms-key-disable-or-deletion'",
         "does not record the write management event kms.amazonaws.com", reason)


@pytest.mark.parametrize("selectors", [
    {"eventSelectors": [{"readWriteType": "All", "includeManagementEvents": True,
                         "excludeManagementEventSources": ["rdsdata.amazonaws.com"]}]},
    {"eventSelectors": [{"readWriteType": "WriteOnly", "includeManagementEvents": True,
                         "excludeManagementEventSources": ["kms.amazonaws.com"]},
                        {"readWriteType": "All", "includeManagementEvents": True}]},
    {"advancedEventSelectors": [{"name": "management", "fieldSelectors": [
        {"field": "eventCategory", "equals": ["Management"]}]}]},
    {"advancedEventSelectors": [
        {"name": "s3-data", "fieldSelectors": [{"field": "eventCategory", "equals": ["Data"]},
                                               {"field": "resources.type", "equals": ["AWS::S3::Object"]}]},
        {"name": "writes", "fieldSelectors": [{"field": "eventCategory", "equals": ["Management"]},
                                              {"field": "readOnly", "equals": ["false"]}]}]},
])
def test_selectors_that_keep_the_detections_events_pass(selectors):
    assert messages(kms_stack(trail_=trail(**selectors)), config=KMS_ONLY) == []


def test_excluding_kms_blinds_only_the_detections_that_need_it():
    """Root use is judged on its own samples: a KMS exclusion is not reported against it."""
    stack = kms_stack(trail_=trail(eventSelectors=[{"readWriteType": "All", "includeManagementEvents": True,
                                                     "excludeManagementEventSources": ["kms.amazonaws.com"]}]))
    reported = messages(stack, config={"requiredDetections": ["root-usage", KMS.id]})
    only(reported, f"required detection '{KMS.id}'")


def test_unknown_selectors_are_advisory_in_preview():
    stack = kms_stack(trail_=trail(eventSelectors=UNKNOWN_STRING_VALUE))
    reported, advisory = run_stack_policy_in_preview(required_detections_policy, stack, KMS_ONLY)
    assert reported == []
    assert advisory is not None and "unknown at preview" in advisory


def test_log_group_check_still_reports_a_single_region_trail():
    only(messages(root_stack(trail_=trail(isMultiRegionTrail=False))), "single-region")


# --------------------------------------------------------------------------- class 6: preview identity

OTHER_ACCOUNT_TOPIC = "arn:aws:sns:us-east-1:999999999999:security"


def _topic_unknown_arn() -> Res:
    return Res("aws:sns/topic:Topic", "security", {"name": "security", "arn": UNKNOWN_STRING_VALUE})


def _with_topic(alarm_: Res, topic_: Res) -> list[Res]:
    email = Res("aws:sns/topicSubscription:TopicSubscription", "security-email",
                {"topic": UNKNOWN_STRING_VALUE, "protocol": "email", "endpoint": "soc@example.com"},
                property_dependencies={"topic": ["security"]})
    return [r for r in root_stack(alarm_=alarm_) if r.name not in ("security", "security-email")] + [topic_, email]


def test_same_named_topic_in_another_account_does_not_pass_preview():
    stack = _with_topic(alarm(alarmActions=[OTHER_ACCOUNT_TOPIC]), _topic_unknown_arn())
    reported, advisory = run_stack_policy_in_preview(required_detections_policy, stack, {"requiredDetections": ["root-usage"]})
    assert reported == []
    assert advisory is not None and f"its alarm action {OTHER_ACCOUNT_TOPIC} has the name of a topic" in advisory


def test_same_named_topic_in_another_account_fails_update():
    stack = _with_topic(alarm(alarmActions=[OTHER_ACCOUNT_TOPIC]),
                        Res("aws:sns/topic:Topic", "security", {"name": "security",
                                                                "arn": "arn:aws:sns:us-east-1:123456789012:security"}))
    only(messages(stack), "alarm 'root-alarm' notifies nobody", OTHER_ACCOUNT_TOPIC)


def test_action_computed_from_the_topic_passes_preview():
    alarm_ = alarm(alarmActions=[UNKNOWN_STRING_VALUE])
    alarm_.property_dependencies = {"alarmActions": ["security"]}
    stack = _with_topic(alarm_, _topic_unknown_arn())
    assert run_stack_policy_in_preview(required_detections_policy, stack, {"requiredDetections": ["root-usage"]}) == ([], None)


# --------------------------------------------------------------------------- class 5: nobody subscribed


def test_topic_without_a_subscription_tells_nobody():
    stack = [r for r in root_stack() if r.name != "security-email"]
    only(messages(stack), "alarm 'root-alarm' notifies SNS topic(s) 'security', which no subscription of this stack "
                          "reads: nobody is told", "subscribedElsewhere")


def test_subscription_to_another_topic_does_not_count():
    stack = [r for r in root_stack() if r.name != "security-email"] + [
        Res("aws:sns/topicSubscription:TopicSubscription", "other",
            {"topic": "arn:aws:sns:us-east-1:123456789012:other", "protocol": "email", "endpoint": "x@example.com"})]
    only(messages(stack), "which no subscription of this stack reads")


@pytest.mark.parametrize("listed", ["security", "arn:aws:sns:us-east-1:123456789012:security"])
def test_topic_subscribed_elsewhere_passes(listed):
    stack = [r for r in root_stack() if r.name != "security-email"]
    assert messages(stack, config={"requiredDetections": ["root-usage"], "subscribedElsewhere": [listed]}) == []


def test_a_second_subscription_passes():
    second = Res("aws:sns/topicSubscription:TopicSubscription", "pager",
                 {"topic": "arn:aws:sns:us-east-1:123456789012:security", "protocol": "https",
                  "endpoint": "https://pager.example.com/hook"})
    assert messages(root_stack() + [second]) == []


def test_subscription_of_unknown_topic_is_advisory_in_preview():
    stack = _with_topic(alarm(alarmActions=[UNKNOWN_STRING_VALUE]), _topic_unknown_arn())
    next(r for r in stack if r.name == "root-alarm").property_dependencies = {"alarmActions": ["security"]}
    next(r for r in stack if r.name == "security-email").property_dependencies = {}
    reported, advisory = run_stack_policy_in_preview(required_detections_policy, stack, {"requiredDetections": ["root-usage"]})
    assert reported == []
    assert advisory is not None and "have a subscription is unknown at preview" in advisory


@pytest.mark.parametrize("detection", list(load_catalog().detections.values()), ids=lambda d: d.id)
def test_needed_events_cover_every_event_name_and_source_a_pattern_pins(detection):
    """The selector check is complete only if the events it judges carry every (source, name) that
    a pattern of any profile pins; the profile-free samples alone do not (e.g. DeleteUser)."""
    from trailguard.patterns import compile_pattern, constraints
    from trailguard_policies.detections import needed_events

    kept = {(e.get("eventSource"), e.get("eventName")) for _, e in needed_events(detection)}
    for profile in detection.patterns:
        found = constraints(compile_pattern(detection.pattern_for(profile)).tree)
        names, sources = found.get(("eventName",)), found.get(("eventSource",))
        for name in names if isinstance(names, frozenset) else ():
            assert any(n == name and (not isinstance(sources, frozenset) or s in sources) for s, n in kept), \
                (profile, name)


def test_a_selector_dropping_a_name_no_sample_carries_is_caught():
    iam = load_catalog().get("iam-policy-changes")
    assert "DeleteUser" not in {s.event.get("eventName") for s in iam.profile_free_samples()}
    selectors = {"advancedEventSelectors": [{"name": "quiet", "fieldSelectors": [
        {"field": "eventCategory", "equals": ["Management"]}, {"field": "eventName", "notEquals": ["DeleteUser"]}]}]}
    stack = root_stack(trail_=trail(**selectors)) + [
        metric_filter("iam-filter", iam.pattern_for("default"), iam.metric), alarm("iam-alarm", iam.metric)]
    only(messages(stack, config={"requiredDetections": [iam.id]}),
         "iam.amazonaws.com DeleteUser", "its eventName filter does not keep DeleteUser")
