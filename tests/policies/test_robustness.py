"""No policy may fail with an exception on whatever the engine sends: arbitrary JSON values and
unknown sentinels in every property a policy reads. Resource policies never raise; the stack
policy raises only the UnknownValueError the servicer turns into an advisory diagnostic."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pulumi_policy.proxy import (
    UNKNOWN_ARRAY_VALUE,
    UNKNOWN_BOOLEAN_VALUE,
    UNKNOWN_NUMBER_VALUE,
    UNKNOWN_OBJECT_VALUE,
    UNKNOWN_STRING_VALUE,
)
from trailguard_policies import ALL_POLICIES
from trailguard_policies.detections import required_detections_policy
from trailguard_policies.props import (
    KMS_ALIAS,
    KMS_KEY,
    KMS_KEY_POLICY,
    LOG_GROUP,
    MANAGED_POLICY,
    METRIC_ALARM,
    METRIC_FILTER,
    ROLE,
    ROLE_POLICY,
    ROLE_POLICY_ATTACHMENT,
    SUBSCRIPTION,
    TOPIC,
    TOPIC_POLICY,
    TRAIL,
)

from tests.policies.helpers import Res, run_resource_policy, run_stack_policy_in_preview

SENTINELS = st.sampled_from([UNKNOWN_STRING_VALUE, UNKNOWN_BOOLEAN_VALUE, UNKNOWN_NUMBER_VALUE,
                             UNKNOWN_ARRAY_VALUE, UNKNOWN_OBJECT_VALUE])
POLICY_TEXTS = [  # policy documents as JSON text: valid, odd and broken
    '{"Statement": {"Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "*"}}',
    '{"Statement": [{"Effect": "Allow", "Principal": {"Service": ["cloudtrail.amazonaws.com"]}, '
    '"Action": "sts:AssumeRole", "Condition": {"ArnLike": {"aws:SourceArn": "arn:aws:cloudtrail:*"}}}]}',
    '{"Statement": [{"Effect": "Allow", "NotAction": "iam:*", "NotResource": "x", '
    '"Condition": {"NumericLessThan": {"k": 1}, "ForAnyValue:StringLike": {"a": ["b"]}}}]}',
    '{"Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": ["kms:*"], "Resource": "*", '
    '"Condition": {"Null": {"aws:SourceArn": "false"}, "Bool": {"aws:SecureTransport": true}}}]}',
    '{"Statement": 3}', "[]", "not json", '{"Statement": [null, "x", {"Effect": "Deny"}]}',
]
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-5, 100_000), st.floats(allow_nan=False),
                    st.sampled_from(["", "1", "$.x", "arn:aws:sns:us-east-1:1:t", "alias/aws/sns", "g",
                                     "arn:aws:logs:us-east-1:1:log-group:g:*", "Sum", "Average",
                                     "GreaterThanOrEqualToThreshold", "{ $.eventName = CreateVpc }", "{",
                                     "arn:aws:iam::1:role/r", "arn:aws:kms:us-east-1:1:key/k", "k", "r",
                                     "alias/k", "arn:aws:iam::1:policy/p", *POLICY_TEXTS]),
                    SENTINELS)
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                        st.dictionaries(st.sampled_from(["name", "namespace", "value", "defaultValue", "dimensions", "readWriteType", "includeManagementEvents", "fieldSelectors", "field", "equals", "notEquals", "excludeManagementEventSources", "unit", "region", "Statement", "Effect", "Principal", "Service", "Action", "Resource", "Condition", "policy"]), inner, max_size=4)),
                      max_leaves=8)
KEYS = {
    TRAIL: ["isMultiRegionTrail", "includeGlobalServiceEvents", "enableLogFileValidation", "enableLogging",
            "cloudWatchLogsGroupArn", "cloudWatchLogsRoleArn", "eventSelectors", "advancedEventSelectors"],
    LOG_GROUP: ["name", "arn", "retentionInDays", "kmsKeyId"],
    METRIC_FILTER: ["pattern", "logGroupName", "metricTransformation"],
    METRIC_ALARM: ["metricName", "namespace", "statistic", "extendedStatistic", "threshold", "comparisonOperator",
                   "period", "evaluationPeriods", "datapointsToAlarm", "actionsEnabled", "alarmActions", "dimensions",
                   "treatMissingData", "unit", "arn"],
    TOPIC: ["name", "arn", "kmsMasterKeyId", "policy"],
    SUBSCRIPTION: ["topic", "protocol", "endpoint"],
    TOPIC_POLICY: ["arn", "policy"],
    ROLE: ["name", "arn", "assumeRolePolicy", "inlinePolicies", "managedPolicyArns", "permissionsBoundary"],
    ROLE_POLICY: ["role", "policy"],
    MANAGED_POLICY: ["arn", "policy"],
    ROLE_POLICY_ATTACHMENT: ["role", "policyArn"],
    KMS_KEY: ["arn", "keyId", "policy"],
    KMS_KEY_POLICY: ["keyId", "policy"],
    KMS_ALIAS: ["name", "arn", "targetKeyId"],
}


def props_for(type_token: str):
    return st.dictionaries(st.sampled_from(KEYS[type_token]), VALUES, max_size=len(KEYS[type_token]))


RESOURCES = st.one_of(*[st.tuples(st.just(t), props_for(t)) for t in KEYS])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(RESOURCES, st.booleans())
def test_resource_policies_never_raise(resource, protect):
    type_token, props = resource
    for policy in ALL_POLICIES:
        if policy is not required_detections_policy:
            messages = run_resource_policy(policy, type_token, props, protect=protect)
            assert all(isinstance(m, str) and m for m in messages)


def whole_chain() -> list[Res]:
    """A chain that passes, for the stack test to break value by value."""
    from trailguard.catalog import load_catalog

    arn = "arn:aws:logs:us-east-1:1:log-group:g"
    return [
        Res(TRAIL, "trail", {"isMultiRegionTrail": True, "cloudWatchLogsGroupArn": arn + ":*",
                             "cloudWatchLogsRoleArn": "arn:aws:iam::1:role/r"}),
        Res(ROLE, "role", {"name": "r", "arn": "arn:aws:iam::1:role/r", "assumeRolePolicy": json.dumps({"Statement": [
            {"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "sts:AssumeRole"}]})}),
        Res(ROLE_POLICY, "role-policy", {"role": "r", "policy": json.dumps({"Statement": [
            {"Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"], "Resource": arn + ":*"}]})}),
        Res(LOG_GROUP, "logs", {"name": "g", "arn": arn}),
        Res(METRIC_FILTER, "filter", {"logGroupName": "g", "pattern": load_catalog().get("root-usage").pattern_for("default"),
                                      "metricTransformation": {"name": "M", "namespace": "N", "value": "1"}}),
        Res(METRIC_ALARM, "alarm", {"metricName": "M", "namespace": "N", "statistic": "Sum", "period": 300,
                                    "evaluationPeriods": 1, "threshold": 1,
                                    "comparisonOperator": "GreaterThanOrEqualToThreshold",
                                    "alarmActions": ["arn:aws:sns:us-east-1:1:t"]}),
        Res(TOPIC, "topic", {"name": "t", "arn": "arn:aws:sns:us-east-1:1:t"}),
        Res(SUBSCRIPTION, "email",
            {"topic": "arn:aws:sns:us-east-1:1:t", "protocol": "email", "endpoint": "soc@example.com"}),
    ]


def test_the_unbroken_chain_passes():
    assert run_stack_policy_in_preview(required_detections_policy, whole_chain(), {"requiredDetections": ["root-usage"]}) == ([], None)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_stack_policy_never_raises_anything_but_undecided(data):
    stack = whole_chain()
    names = [r.name for r in stack]
    for r in stack:
        r.props.update(data.draw(props_for(r.type)))  # break some values of every resource
        if data.draw(st.booleans()):
            key = data.draw(st.sampled_from(["logGroupName", "cloudWatchLogsGroupArn", "alarmActions", "topic",
                                             "cloudWatchLogsRoleArn", "role", "kmsKeyId", "kmsMasterKeyId",
                                             "arn", "keyId", "targetKeyId", "policyArn"]))
            r.property_dependencies[key] = data.draw(st.lists(st.sampled_from(names), max_size=2))
    stack += [Res(t, f"extra{i}", p) for i, (t, p) in enumerate(data.draw(st.lists(RESOURCES, max_size=3)))]
    reported, _ = run_stack_policy_in_preview(required_detections_policy, stack, {"requiredDetections": ["root-usage"]})
    assert all(isinstance(m, str) and m for m in reported)
