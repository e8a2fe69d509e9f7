"""Protocol tests: pulumi-policy's analyzer servicer, configured as the engine configures it
(`Configure` with a level for every policy and the schema defaults filled in), fed `Analyze` and
`AnalyzeStack` requests whose properties carry unknown sentinels and secret values."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from google.protobuf import struct_pb2
from pulumi.runtime import proto
from pulumi_policy.deserialize import SPECIAL_SECRET_SIG, SPECIAL_SIG_KEY
from pulumi_policy.proxy import UNKNOWN_BOOLEAN_VALUE, UNKNOWN_STRING_VALUE
from trailguard_policies.props import (
    KMS_ALIAS,
    KMS_KEY,
    LOG_GROUP,
    METRIC_ALARM,
    METRIC_FILTER,
    ROLE,
    ROLE_POLICY,
    SUBSCRIPTION,
    TOPIC,
    TRAIL,
)

import trailguard_policies
from components import documents
from trailguard.catalog import load_catalog
from trailguard.check.policy_pack import PolicyConfigError, make_analyzer, resolve_policy_config

PACK_DIR = Path(__file__).resolve().parents[2] / "policies"
ROOT_PATTERN = load_catalog().get("root-usage").pattern_for("securityhub")


def secret(value):
    return {SPECIAL_SIG_KEY: SPECIAL_SECRET_SIG, "value": value}


def struct(values) -> struct_pb2.Struct:
    result = struct_pb2.Struct()
    result.update(values)
    return result


def servicer(raw_config=None):
    config = resolve_policy_config(raw_config or {}, trailguard_policies.ALL_POLICIES)
    return make_analyzer(trailguard_policies, config).servicer


def urn(type_token, name):
    return f"urn:pulumi:prod::trailguard::{type_token}::{name}"


def analyze(analyzer, type_token, name, props, protect=False):
    request = proto.AnalyzeRequest(type=type_token, urn=urn(type_token, name), name=name, properties=struct(props),
                                   options=proto.AnalyzerResourceOptions(protect=protect))
    return list(analyzer.Analyze(request, None).diagnostics)


def stack_resource(type_token, name, props, property_dependencies=None, protect=True):
    resource = proto.AnalyzerResource(type=type_token, urn=urn(type_token, name), name=name, properties=struct(props),
                                      options=proto.AnalyzerResourceOptions(protect=protect))
    for key, names in (property_dependencies or {}).items():
        resource.propertyDependencies[key].urns.extend(urn(t, n) for t, n in names)
        resource.dependencies.extend(urn(t, n) for t, n in names)
    return resource


def analyze_stack(analyzer, resources):
    return list(analyzer.AnalyzeStack(proto.AnalyzeStackRequest(resources=resources), None).diagnostics)


def test_analyzer_info_lists_the_seven_policies_with_schemas_and_levels():
    info = servicer().GetAnalyzerInfo(None, None)
    policies = {p.name: p for p in info.policies}
    assert list(policies) == ["required-detections", "trail-delivers-to-cloudwatch", "alarm-has-action",
                              "alarm-topic-can-deliver", "audit-log-retention", "detections-protected",
                              "realtime-detections"]
    assert policies["detections-protected"].enforcementLevel == proto.ADVISORY
    assert all(policies[name].enforcementLevel == proto.MANDATORY for name in list(policies) if name != "detections-protected")
    for policy in info.policies:
        properties = json_of(policy.configSchema.properties)
        assert properties, policy.name
        for name, spec in properties.items():
            assert spec.get("description"), f"{policy.name}.{name} has no description"
            assert "default" in spec or policy.name == "required-detections" and name == "perDetection", (policy.name, name)
    assert json_of(policies["audit-log-retention"].configSchema.properties)["minimumRetentionDays"]["default"] == 365
    assert json_of(policies["required-detections"].configSchema.properties)["requiredDetections"]["default"] == [
        "root-usage", "ec2-instance-changes", "iam-policy-changes", "security-group-changes", "vpc-changes"]


def json_of(message):
    from google.protobuf import json_format

    return json_format.MessageToDict(message)


def test_analyze_reports_mandatory_with_description_prefix():
    diagnostics = analyze(servicer(), TOPIC, "security", {"kmsMasterKeyId": "alias/aws/sns"})
    assert len(diagnostics) == 1
    diagnostic = diagnostics[0]
    assert diagnostic.policyName == "alarm-topic-can-deliver"
    assert diagnostic.policyPackName == "trailguard"
    assert diagnostic.enforcementLevel == proto.MANDATORY
    assert diagnostic.message.startswith(
        "SNS topics are not encrypted with alias/aws/sns, which CloudWatch alarms cannot publish to.\n"
        "SNS topic 'security' is encrypted with 'alias/aws/sns'")


def test_secret_values_are_judged_by_their_plain_value():
    analyzer = servicer()
    assert len(analyze(analyzer, TOPIC, "security", {"kmsMasterKeyId": secret("alias/aws/sns")})) == 1
    trail = {"isMultiRegionTrail": True, "enableLogFileValidation": True,
             "cloudWatchLogsGroupArn": secret("arn:aws:logs:us-east-1:1:log-group:g:*"),
             "cloudWatchLogsRoleArn": secret("arn:aws:iam::1:role/r")}
    assert analyze(analyzer, TRAIL, "trail", trail) == []


def test_unknown_sentinels_in_analyze_yield_no_diagnostic():
    analyzer = servicer()
    trail = {"isMultiRegionTrail": True, "enableLogFileValidation": True, "enableLogging": UNKNOWN_BOOLEAN_VALUE,
             "cloudWatchLogsGroupArn": UNKNOWN_STRING_VALUE, "cloudWatchLogsRoleArn": UNKNOWN_STRING_VALUE}
    assert analyze(analyzer, TRAIL, "trail", trail) == []
    assert analyze(analyzer, METRIC_ALARM, "a", {"alarmActions": [UNKNOWN_STRING_VALUE]}) == []
    assert analyze(analyzer, TOPIC, "t", {"kmsMasterKeyId": UNKNOWN_STRING_VALUE}) == []
    assert analyze(analyzer, LOG_GROUP, "g", {"retentionInDays": UNKNOWN_STRING_VALUE}) == []


def test_enforcement_levels_come_from_the_config():
    unprotected_filter = {"pattern": ROOT_PATTERN, "logGroupName": "g",
                          "metricTransformation": {"name": "RootAccountUsage", "namespace": "CISBenchmark", "value": "1"}}
    advisory = analyze(servicer(), METRIC_FILTER, "root", unprotected_filter)
    assert [(d.policyName, d.enforcementLevel) for d in advisory] == [("detections-protected", proto.ADVISORY)]
    mandatory = analyze(servicer({"detections-protected": "mandatory"}), METRIC_FILTER, "root", unprotected_filter)
    assert [d.enforcementLevel for d in mandatory] == [proto.MANDATORY]
    assert analyze(servicer({"all": "disabled"}), METRIC_FILTER, "root", unprotected_filter) == []
    assert analyze(servicer({"detections-protected": "advisory"}), METRIC_FILTER, "root", unprotected_filter, protect=True) == []


def preview_chain(with_dependencies=True):
    group = (LOG_GROUP, "logs")
    topic = (TOPIC, "security")
    role = (ROLE, "delivery-role")
    key = (KMS_KEY, "topic-key")
    deps = with_dependencies
    return [
        stack_resource(TRAIL, "trail", {"isMultiRegionTrail": True, "enableLogging": True,
                                        "cloudWatchLogsGroupArn": UNKNOWN_STRING_VALUE,
                                        "cloudWatchLogsRoleArn": UNKNOWN_STRING_VALUE},
                       {"cloudWatchLogsGroupArn": [group], "cloudWatchLogsRoleArn": [role]} if deps else None),
        stack_resource(*role, {"name": "delivery", "arn": UNKNOWN_STRING_VALUE, "assumeRolePolicy": json.dumps(
            documents.delivery_trust_policy("aws", "us-east-1", "123456789012", "trail"))}),
        stack_resource(ROLE_POLICY, "delivery-policy", {"role": UNKNOWN_STRING_VALUE, "policy": json.dumps(
            documents.delivery_role_policy("aws", "us-east-1", "123456789012", "g"))}, {"role": [role]}),
        stack_resource(*key, {"arn": UNKNOWN_STRING_VALUE, "policy": secret(json.dumps(
            documents.topic_key_policy("aws", "us-east-1", "123456789012")))}),
        stack_resource(KMS_ALIAS, "topic-key-alias", {"name": "alias/trailguard", "targetKeyId": UNKNOWN_STRING_VALUE},
                       {"targetKeyId": [key]}),
        stack_resource(*group, {"name": UNKNOWN_STRING_VALUE, "arn": UNKNOWN_STRING_VALUE}),
        stack_resource(METRIC_FILTER, "root-filter", {
            "logGroupName": UNKNOWN_STRING_VALUE, "pattern": ROOT_PATTERN,
            "metricTransformation": {"name": "RootAccountUsage", "namespace": "CISBenchmark", "value": "1"}},
            {"logGroupName": [group]} if deps else None),
        stack_resource(METRIC_ALARM, "root-alarm", {
            "metricName": "RootAccountUsage", "namespace": "CISBenchmark", "statistic": "Sum", "period": 300,
            "evaluationPeriods": 1, "threshold": 1, "comparisonOperator": "GreaterThanOrEqualToThreshold",
            "alarmActions": [secret(UNKNOWN_STRING_VALUE)]},
            {"alarmActions": [topic]} if deps else None),
        stack_resource(*topic, {"arn": UNKNOWN_STRING_VALUE, "kmsMasterKeyId": secret("alias/trailguard")}),
        stack_resource(SUBSCRIPTION, "security-email", {"topic": UNKNOWN_STRING_VALUE, "protocol": "email",
                                                        "endpoint": "soc@example.com"},
                       {"topic": [topic]} if deps else None),
    ]


def test_analyze_stack_at_preview_links_through_property_dependencies():
    analyzer = servicer({"required-detections": {"requiredDetections": ["root-usage"]}})
    assert analyze_stack(analyzer, preview_chain()) == []


def test_analyze_stack_undecidable_link_is_one_advisory_diagnostic():
    analyzer = servicer({"required-detections": {"requiredDetections": ["root-usage"]}})
    diagnostics = analyze_stack(analyzer, preview_chain(with_dependencies=False))
    assert [(d.policyName, d.enforcementLevel) for d in diagnostics] == [("required-detections", proto.ADVISORY)]
    assert diagnostics[0].message.startswith(
        "can't run policy 'required-detections' from policy pack 'trailguard@v0.1.0' during preview: "
        "required detection 'root-usage': whether metric filter 'root-filter' reads a log group")


def test_analyze_stack_missing_detection_is_mandatory_whatever_else_is_unknown():
    analyzer = servicer({"required-detections": {"requiredDetections": ["root-usage", "vpc-changes"]}})
    diagnostics = analyze_stack(analyzer, preview_chain(with_dependencies=False))
    assert [d.enforcementLevel for d in diagnostics] == [proto.MANDATORY, proto.ADVISORY]
    assert diagnostics[0].message.splitlines()[-1].startswith("required detection 'vpc-changes' (VPC changes): no metric filter")
    assert "can't run policy 'required-detections'" in diagnostics[1].message


def test_analyze_stack_with_default_config_requires_the_seed_five():
    diagnostics = analyze_stack(servicer(), preview_chain())
    assert len(diagnostics) == 1 and diagnostics[0].enforcementLevel == proto.MANDATORY
    assert "required detections 'ec2-instance-changes', 'iam-policy-changes', 'security-group-changes', 'vpc-changes'" \
        in diagnostics[0].message


def test_the_prod_pack_config_is_valid():
    raw = json.loads((PACK_DIR / "config" / "prod.json").read_text())
    resolved = resolve_policy_config(raw, trailguard_policies.ALL_POLICIES)
    assert resolved["required-detections"][0] == "mandatory"
    assert resolved["required-detections"][1]["requiredDetections"] == ["seed", "cis"]
    assert resolved["trail-delivers-to-cloudwatch"] == ("mandatory", {"exemptTrails": []})


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"required-detection": "mandatory"},
         "policy config: unknown policy 'required-detection'; allowed: all, required-detections, "
         "trail-delivers-to-cloudwatch, alarm-has-action, alarm-topic-can-deliver, audit-log-retention, "
         "detections-protected, realtime-detections"),
        ({"all": "strict"},
         "policy config: all: 'strict' is not an enforcement level; allowed: advisory, mandatory, remediate, disabled"),
        ({"audit-log-retention": {"minimumRetentionDays": "365"}},
         'policy config: audit-log-retention.minimumRetentionDays: expected an integer, got "365"'),
        ({"audit-log-retention": {"minimumRetentionDays": 0}},
         "policy config: audit-log-retention.minimumRetentionDays: 0 is below the minimum 1"),
        ({"audit-log-retention": {"retention": 365}},
         "policy config: audit-log-retention.retention is not a setting of this policy; allowed: enforcementLevel, "
         "minimumRetentionDays, exemptLogGroups"),
        ({"required-detections": {"requiredDetections": "seed"}},
         'policy config: required-detections.requiredDetections: expected an array, got "seed"'),
        ({"required-detections": {"subscribedElsewhere": "security"}},
         'policy config: required-detections.subscribedElsewhere: expected an array, got "security"'),
        ({"required-detections": {"perDetection": {"root-usage": {"maxThreshhold": 2}}}},
         "policy config: required-detections.perDetection.root-usage: unknown key 'maxThreshhold'; allowed: "
         "maxThreshold, maxDatapointsToAlarm, maxEvaluationWindowSeconds"),
        ({"alarm-has-action": 1},
         "policy config: alarm-has-action must be an enforcement level (advisory, mandatory, remediate, disabled) "
         "or an object"),
    ],
)
def test_bad_policy_config_names_the_key_and_what_is_allowed(raw, message):
    with pytest.raises(PolicyConfigError) as raised:
        resolve_policy_config(raw, trailguard_policies.ALL_POLICIES)
    assert str(raised.value) == message
