"""Unit tests of the resource policies: a compliant resource passes, each broken property is one
violation naming the resource and the fix, and unknown values at preview never raise."""

from __future__ import annotations

import pytest
from pulumi_policy.proxy import UNKNOWN_ARRAY_VALUE, UNKNOWN_BOOLEAN_VALUE, UNKNOWN_NUMBER_VALUE, UNKNOWN_STRING_VALUE
from trailguard_policies.alarms import alarm_has_action
from trailguard_policies.props import LOG_GROUP, METRIC_ALARM, TOPIC, TRAIL
from trailguard_policies.topics import alarm_topic_can_deliver
from trailguard_policies.trails import audit_log_retention, trail_delivers_to_cloudwatch

from tests.policies.helpers import run_resource_policy

GOOD_TRAIL = {
    "isMultiRegionTrail": True,
    "includeGlobalServiceEvents": True,
    "enableLogFileValidation": True,
    "enableLogging": True,
    "cloudWatchLogsGroupArn": "arn:aws:logs:us-east-1:123456789012:log-group:trailguard-prod:*",
    "cloudWatchLogsRoleArn": "arn:aws:iam::123456789012:role/trailguard-delivery",
    "s3BucketName": "trail-bucket",
}


def trail_messages(**changes):
    props = {**GOOD_TRAIL, **changes}
    props = {k: v for k, v in props.items() if v is not None}
    return run_resource_policy(trail_delivers_to_cloudwatch, TRAIL, props, name="audit-trail")


def test_compliant_trail_passes():
    assert trail_messages() == []


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"isMultiRegionTrail": False}, "trail 'audit-trail' is single-region"),
        ({"isMultiRegionTrail": None}, "trail 'audit-trail' is single-region"),  # provider default is false
        ({"includeGlobalServiceEvents": False}, "trail 'audit-trail' skips global service events"),
        ({"enableLogFileValidation": None}, "trail 'audit-trail' has no log file validation"),
        ({"enableLogging": False}, "trail 'audit-trail' is not logging (enableLogging is false)"),
        ({"cloudWatchLogsGroupArn": None}, "trail 'audit-trail' delivers to no CloudWatch Logs group"),
        (
            {"cloudWatchLogsGroupArn": "arn:aws:logs:us-east-1:123456789012:log-group:trailguard-prod"},
            "trail 'audit-trail' has cloudWatchLogsGroupArn 'arn:aws:logs:us-east-1:123456789012:log-group:trailguard-prod' "
            "without the ':*' suffix",
        ),
        ({"cloudWatchLogsRoleArn": None}, "trail 'audit-trail' has no cloudWatchLogsRoleArn"),
        (
            {"eventSelectors": [{"includeManagementEvents": True, "readWriteType": "WriteOnly"}]},
            "trail 'audit-trail' records no read and write management events",
        ),
    ],
)
def test_each_broken_trail_property_is_one_violation(changes, expected):
    messages = trail_messages(**changes)
    assert len(messages) == 1, messages
    assert messages[0].startswith(expected)


MANAGEMENT = {"field": "eventCategory", "equals": ["Management"]}


@pytest.mark.parametrize(
    ("selectors", "violations"),
    [
        ([{"name": "all management", "fieldSelectors": [MANAGEMENT]}], 0),
        ([{"fieldSelectors": [{"field": "eventCategory", "equals": ["Data"]}, {"field": "resources.type", "equals": ["AWS::S3::Object"]}]},
          {"fieldSelectors": [MANAGEMENT]}], 0),
        ([{"fieldSelectors": [MANAGEMENT, {"field": "readOnly", "equals": ["false"]}]}], 1),
        ([{"fieldSelectors": [{"field": "eventCategory", "equals": ["Data"]}]}], 1),
        ([{"fieldSelectors": [{"field": UNKNOWN_STRING_VALUE, "equals": ["Management"]}]}], 0),
    ],
)
def test_trail_advanced_event_selectors_must_keep_management_reads_and_writes(selectors, violations):
    messages = trail_messages(advancedEventSelectors=selectors)
    assert len(messages) == violations
    if violations:
        assert messages[0].startswith("trail 'audit-trail' records no read and write management events: no advanced")


def test_trail_with_management_event_selector_passes():
    assert trail_messages(eventSelectors=[{"readWriteType": "All", "includeManagementEvents": True}]) == []


def test_trail_unknowns_at_preview_do_not_raise_or_fail():
    unknowns = {
        "isMultiRegionTrail": UNKNOWN_BOOLEAN_VALUE,
        "cloudWatchLogsGroupArn": UNKNOWN_STRING_VALUE,
        "cloudWatchLogsRoleArn": UNKNOWN_STRING_VALUE,
        "eventSelectors": UNKNOWN_ARRAY_VALUE,
    }
    assert trail_messages(**unknowns) == []


def test_exempt_trail_is_ignored():
    props = {**GOOD_TRAIL, "isMultiRegionTrail": False}
    assert run_resource_policy(trail_delivers_to_cloudwatch, TRAIL, props, name="data-events",
                               config={"exemptTrails": ["data-events"]}) == []


def test_trail_policy_ignores_other_types():
    assert run_resource_policy(trail_delivers_to_cloudwatch, TOPIC, {}) == []


@pytest.mark.parametrize(("retention", "violations"), [(365, 0), (400, 0), (None, 0), (0, 0), (90, 1), (364, 1)])
def test_log_group_retention_default_minimum_is_365(retention, violations):
    props = {} if retention is None else {"retentionInDays": retention}
    messages = run_resource_policy(audit_log_retention, LOG_GROUP, props, name="trail-logs")
    assert len(messages) == violations
    if violations:
        assert messages[0].startswith(f"log group 'trail-logs' keeps events {retention} days, fewer than the required 365")


def test_log_group_retention_minimum_is_configurable_and_arrives_as_float():
    config = {"minimumRetentionDays": 731.0}  # the engine's Struct turns every number into a float
    messages = run_resource_policy(audit_log_retention, LOG_GROUP, {"retentionInDays": 400}, config=config)
    assert messages and "fewer than the required 731:" in messages[0]


def test_log_group_retention_unknown_at_preview_passes():
    assert run_resource_policy(audit_log_retention, LOG_GROUP, {"retentionInDays": UNKNOWN_NUMBER_VALUE}) == []


def test_alarm_with_action_passes():
    props = {"alarmActions": ["arn:aws:sns:us-east-1:123456789012:security"], "actionsEnabled": True}
    assert run_resource_policy(alarm_has_action, METRIC_ALARM, props) == []


@pytest.mark.parametrize(
    ("props", "expected"),
    [
        ({"alarmActions": []}, ["alarm 'root-usage' has no alarm actions"]),
        ({}, ["alarm 'root-usage' has no alarm actions"]),
        (
            {"alarmActions": ["arn:aws:sns:us-east-1:123456789012:security"], "actionsEnabled": False},
            ["alarm 'root-usage' has actions disabled"],
        ),
        ({"actionsEnabled": False}, ["alarm 'root-usage' has actions disabled", "alarm 'root-usage' has no alarm actions"]),
    ],
)
def test_alarm_without_action_or_disabled(props, expected):
    messages = run_resource_policy(alarm_has_action, METRIC_ALARM, props, name="root-usage")
    assert [m.split(" (")[0].split(":")[0] for m in messages] == expected


def test_alarm_actions_unknown_at_preview_pass():
    assert run_resource_policy(alarm_has_action, METRIC_ALARM, {"alarmActions": [UNKNOWN_STRING_VALUE]}) == []
    assert run_resource_policy(alarm_has_action, METRIC_ALARM, {"alarmActions": UNKNOWN_ARRAY_VALUE,
                                                               "actionsEnabled": UNKNOWN_BOOLEAN_VALUE}) == []


@pytest.mark.parametrize(
    "key",
    ["alias/aws/sns", "arn:aws:kms:us-east-1:123456789012:alias/aws/sns"],
)
def test_topic_on_aws_managed_key_cannot_deliver(key):
    messages = run_resource_policy(alarm_topic_can_deliver, TOPIC, {"kmsMasterKeyId": key}, name="security")
    assert len(messages) == 1
    assert messages[0].startswith(f"SNS topic 'security' is encrypted with '{key}': CloudWatch alarms cannot publish to it")


@pytest.mark.parametrize(
    "props",
    [
        {"kmsMasterKeyId": "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"},
        {"kmsMasterKeyId": "alias/trailguard-alerts"},
        {"kmsMasterKeyId": UNKNOWN_STRING_VALUE},
        {},
    ],
)
def test_topic_with_customer_key_or_unknown_key_passes(props):
    assert run_resource_policy(alarm_topic_can_deliver, TOPIC, props) == []


def test_forbidden_keys_are_configurable():
    config = {"forbiddenKmsKeys": ["alias/aws/sns", "alias/legacy"]}
    assert run_resource_policy(alarm_topic_can_deliver, TOPIC, {"kmsMasterKeyId": "alias/legacy"}, config=config)
