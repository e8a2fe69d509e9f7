"""The program with the shipped `Pulumi.prod.yaml`, under mocks, in update and in preview mode."""

from __future__ import annotations

import pytest

from tests.components.program_runs import (
    ALARM,
    ALERT_TOPIC,
    AUDIT_TRAIL,
    BUCKET,
    BUCKET_POLICY,
    DETECTION,
    FILTER,
    KEY,
    LOG_GROUP,
    MONITORING,
    PROJECT,
    ROLE,
    ROLE_POLICY,
    SUBSCRIPTION,
    TOPIC,
    TOPIC_POLICY,
    TRAIL,
    one,
    policy,
    statement,
)
from trailguard.check.harness import MOCK_ACCOUNT, UNKNOWN, run_program
from trailguard.check.layout import ProjectLayout
from trailguard.config import load_stack_config, read_stack_config

LAYOUT = ProjectLayout.for_repository(PROJECT)
REGION = "us-east-1"  # aws:region in Pulumi.prod.yaml


@pytest.fixture(scope="module")
def prod_config():
    return load_stack_config(read_stack_config(PROJECT, "prod"))


@pytest.fixture(scope="module", params=[False, True], ids=["update", "preview"])
def prod(request):
    return run_program(LAYOUT, "prod", preview=request.param)


def topic_urn(run, topic_name: str) -> str:
    (topic,) = [r for r in run.of_type(TOPIC) if run.get(r.parent).name == f"trailguard-prod-{topic_name}"]
    return topic.urn


def test_prod_enables_the_seed_and_cis_detections(prod_config):
    ids = [d.id for d in prod_config.detections]
    assert {"root-usage", "ec2-instance-changes", "iam-policy-changes", "security-group-changes",
            "vpc-changes", "unauthorized-api-calls", "cloudtrail-config-changes"} <= set(ids)
    assert len(ids) == len(set(ids)) >= 15


def test_each_detection_has_one_filter_on_the_trail_log_group(prod, prod_config):
    log_group = one(prod, LOG_GROUP)
    filters = [f for f in prod.of_type(FILTER) if prod.get(f.parent).type == DETECTION]
    assert len(filters) == len(prod_config.detections)
    for detection in prod_config.detections:
        (metric_filter,) = [f for f in filters if f.inputs["metricTransformation"]["name"] == detection.metric]
        transformation = metric_filter.inputs["metricTransformation"]
        assert transformation == {"name": detection.metric, "namespace": detection.namespace,
                                  "value": "1", "unit": "Count"}  # no defaultValue
        assert metric_filter.inputs["pattern"] == detection.pattern
        assert metric_filter.inputs["logGroupName"] == log_group.inputs["name"]
        assert metric_filter.property_dependencies["logGroupName"] == [log_group.urn]


def test_each_detection_has_one_alarm_on_its_filter_metric_targeting_its_topic(prod, prod_config):
    alarms = [a for a in prod.of_type(ALARM) if prod.get(a.parent).type == DETECTION]
    assert len(alarms) == len(prod_config.detections)
    for detection in prod_config.detections:
        matching = [a for a in alarms
                    if (a.inputs["metricName"], a.inputs["namespace"]) == (detection.metric, detection.namespace)]
        assert len(matching) == 1, detection.id
        alarm = matching[0]
        expected_topic = topic_urn(prod, detection.topic)
        assert alarm.property_dependencies["alarmActions"] == [expected_topic]
        assert len(alarm.inputs["alarmActions"]) == 1
        if not prod.preview:
            assert alarm.inputs["alarmActions"] == [prod.get(expected_topic).outputs["arn"]]
        else:
            assert alarm.inputs["alarmActions"] == [UNKNOWN]
        settings = detection.alarm
        assert {key: alarm.inputs[key] for key in (
            "statistic", "period", "threshold", "comparisonOperator", "evaluationPeriods",
            "datapointsToAlarm", "treatMissingData", "actionsEnabled")} == {
            "statistic": settings.statistic, "period": settings.period, "threshold": settings.threshold,
            "comparisonOperator": settings.comparison, "evaluationPeriods": settings.evaluation_periods,
            "datapointsToAlarm": settings.datapoints_to_alarm, "treatMissingData": settings.treat_missing_data,
            "actionsEnabled": settings.actions_enabled}
        assert ("okActions" in alarm.inputs) is detection.ok_actions
        assert detection.title in alarm.inputs["alarmDescription"]
        (own_filter,) = [f for f in prod.children(alarm.parent) if f.type == FILTER]
        assert own_filter.urn in alarm.dependencies  # created after the filter that feeds its metric
        assert own_filter.inputs["metricTransformation"]["name"] == alarm.inputs["metricName"]


def test_prod_overrides_and_routing_reach_the_alarms(prod, prod_config):
    by_metric = {a.inputs["metricName"]: a for a in prod.of_type(ALARM)}
    unauthorized = by_metric[prod_config.detection("unauthorized-api-calls").metric]
    assert (unauthorized.inputs["threshold"], unauthorized.inputs["evaluationPeriods"],
            unauthorized.inputs["datapointsToAlarm"]) == (5, 3, 2)
    root = by_metric[prod_config.detection("root-usage").metric]
    assert root.property_dependencies["okActions"] == [topic_urn(prod, "oncall")]
    assert prod_config.detection("root-usage").topic == "oncall"  # critical -> oncall


def test_delivery_role_has_the_seed_statements_on_this_log_group_streams_only(prod):
    log_group_name = one(prod, LOG_GROUP).inputs["name"]
    document = policy(one(prod, ROLE_POLICY, AUDIT_TRAIL))
    assert [s["Sid"] for s in document["Statement"]] == [
        "AWSCloudTrailCreateLogStream2014110", "AWSCloudTrailPutLogEvents20141101"]
    stream = (f"arn:aws:logs:{REGION}:{MOCK_ACCOUNT}:log-group:{log_group_name}"
              f":log-stream:{MOCK_ACCOUNT}_CloudTrail_{REGION}*")
    for item, action in zip(document["Statement"], ("logs:CreateLogStream", "logs:PutLogEvents")):
        assert item["Effect"] == "Allow" and item["Action"] == [action]
        assert item["Resource"] == [stream]
        assert all(resource != "*" and not resource.endswith(":*") for resource in item["Resource"])
    trust = policy(one(prod, ROLE, AUDIT_TRAIL), "assumeRolePolicy")
    (assume,) = trust["Statement"]
    assert assume["Principal"] == {"Service": "cloudtrail.amazonaws.com"}
    assert assume["Condition"]["StringEquals"]["aws:SourceArn"].endswith(":trail/trailguard-prod-audit")


def test_bucket_policy_denies_non_tls_and_conditions_the_cloudtrail_grant(prod):
    bucket = one(prod, BUCKET)
    document = policy(one(prod, BUCKET_POLICY))
    bucket_arn = f"arn:aws:s3:::{bucket.outputs['bucket']}"
    deny = statement(document, "DenyInsecureTransport")
    assert deny["Effect"] == "Deny" and deny["Principal"] == "*" and deny["Action"] == "s3:*"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert set(deny["Resource"]) == {bucket_arn, f"{bucket_arn}/*"}
    trail_arn = f"arn:aws:cloudtrail:{REGION}:{MOCK_ACCOUNT}:trail/trailguard-prod-audit"
    for sid in ("AWSCloudTrailAclCheck", "AWSCloudTrailWrite"):
        grant = statement(document, sid)
        assert grant["Principal"] == {"Service": "cloudtrail.amazonaws.com"}
        assert grant["Condition"]["StringEquals"]["aws:SourceArn"] == trail_arn
    assert statement(document, "AWSCloudTrailWrite")["Resource"] == [f"{bucket_arn}/AWSLogs/{MOCK_ACCOUNT}/*"]
    if not prod.preview:
        assert one(prod, TRAIL).outputs["arn"] == trail_arn


def test_bucket_is_versioned_private_owner_enforced_and_kms_encrypted(prod):
    bucket = one(prod, BUCKET)
    children = {r.type.rsplit(":", 1)[-1]: r for r in prod.resources
                if r.property_dependencies.get("bucket") == [bucket.urn]}
    assert children["BucketVersioning"].inputs["versioningConfiguration"]["status"] == "Enabled"
    assert all(children["BucketPublicAccessBlock"].inputs[key] for key in (
        "blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"))
    assert children["BucketOwnershipControls"].inputs["rule"] == {"objectOwnership": "BucketOwnerEnforced"}
    (rule,) = children["BucketServerSideEncryptionConfiguration"].inputs["rules"]
    assert rule["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "aws:kms"
    trail_key = [k for k in prod.of_type(KEY) if k.name == "trailguard-prod-audit-key"][0]
    assert children["BucketServerSideEncryptionConfiguration"].property_dependencies["rules"] == [trail_key.urn]


def test_trail_is_multi_region_validated_logging_and_delivers_after_its_role_policy(prod):
    trail = one(prod, TRAIL)
    inputs = trail.inputs
    assert inputs["isMultiRegionTrail"] and inputs["includeGlobalServiceEvents"]
    assert inputs["enableLogFileValidation"] and inputs["enableLogging"]
    assert inputs["eventSelectors"] == [{"readWriteType": "All", "includeManagementEvents": True}]
    assert one(prod, ROLE_POLICY, AUDIT_TRAIL).urn in trail.dependencies
    assert one(prod, BUCKET_POLICY).urn in trail.dependencies
    log_group = one(prod, LOG_GROUP)
    assert trail.property_dependencies["cloudWatchLogsGroupArn"] == [log_group.urn]
    if prod.preview:
        assert inputs["cloudWatchLogsGroupArn"] == UNKNOWN
    else:
        assert inputs["cloudWatchLogsGroupArn"] == log_group.outputs["arn"] + ":*"


def test_log_group_keeps_a_year_and_its_key_is_scoped_to_it(prod):
    log_group = one(prod, LOG_GROUP)
    assert log_group.inputs["retentionInDays"] >= 365
    (key_urn,) = log_group.property_dependencies["kmsKeyId"]
    document = policy(prod.get(key_urn))
    grant = statement(document, "LogsEncryptsThisLogGroup")
    assert grant["Principal"] == {"Service": f"logs.{REGION}.amazonaws.com"}
    assert grant["Condition"]["ArnEquals"]["kms:EncryptionContext:aws:logs:arn"] == (
        f"arn:aws:logs:{REGION}:{MOCK_ACCOUNT}:log-group:{log_group.inputs['name']}")


def test_topic_keys_grant_cloudwatch_and_topic_policies_admit_only_this_account_alarms(prod, prod_config):
    topics = [t for t in prod.of_type(TOPIC)]
    assert len(topics) == len(prod_config.topics)
    for topic in topics:
        (key_urn,) = topic.property_dependencies["kmsMasterKeyId"]
        grant = statement(policy(prod.get(key_urn)), "CloudWatchAlarmsPublishEncrypted")
        assert grant["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
        assert set(grant["Action"]) == {"kms:Decrypt", "kms:GenerateDataKey*"}
        assert grant["Condition"]["StringEquals"] == {"aws:SourceAccount": MOCK_ACCOUNT}
    for topic_policy in prod.of_type(TOPIC_POLICY):
        # built from the topic's name: known at preview too, so the pack judges it before the topic exists
        (topic_urn,) = topic_policy.property_dependencies["policy"]
        publish = statement(policy(topic_policy), "CloudWatchAlarmsPublish")
        assert publish["Resource"] == f"arn:aws:sns:{REGION}:{MOCK_ACCOUNT}:{prod.get(topic_urn).outputs['name']}"
        assert publish["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
        assert publish["Condition"] == {
            "StringEquals": {"aws:SourceAccount": MOCK_ACCOUNT},
            "ArnLike": {"aws:SourceArn": f"arn:aws:cloudwatch:{REGION}:{MOCK_ACCOUNT}:alarm:*"}}


def test_subscriptions_come_from_config(prod, prod_config):
    expected = sorted((s.protocol, s.endpoint) for t in prod_config.topics.values() for s in t.subscriptions)
    subscriptions = prod.of_type(SUBSCRIPTION)
    assert sorted((s.inputs["protocol"], s.inputs["endpoint"]) for s in subscriptions) == expected
    for subscription in subscriptions:  # https URLs often carry a token: kept secret in state
        assert ("endpoint" in subscription.secret_inputs) is (subscription.inputs["protocol"] == "https")


def test_every_child_has_its_component_as_parent_and_a_derived_name(prod):
    monitoring = one(prod, MONITORING)
    assert monitoring.parent == prod.stack_urn
    for resource in prod.resources:
        if resource is monitoring:
            continue
        parent = prod.get(resource.parent)
        assert parent.type.startswith("trailguard:"), resource.urn
        assert resource.name.startswith(f"{parent.name}-"), resource.urn
        if resource.type in (AUDIT_TRAIL, ALERT_TOPIC, DETECTION):
            assert parent is monitoring


def test_detection_resources_and_audit_data_are_protected_in_prod(prod):
    protected = {r.type for r in prod.resources if r.protect}
    assert {FILTER, ALARM, BUCKET, LOG_GROUP, TRAIL} <= protected
    assert all(r.protect for r in prod.of_type(FILTER) + prod.of_type(ALARM))


def test_taggable_resources_carry_the_stack_tags(prod, prod_config):
    for type_token in (BUCKET, KEY, LOG_GROUP, ROLE, TOPIC, TRAIL, ALARM):
        for resource in prod.of_type(type_token):
            assert dict(prod_config.tags).items() <= resource.inputs["tags"].items(), resource.urn


def test_outputs_are_set(prod, prod_config):
    outputs = prod.outputs
    assert set(outputs) == {"trailArn", "logGroupName", "topicArns", "detections", "heartbeat", "realtime"}
    assert outputs["realtime"] is None  # off unless trailguard:realtime asks for it
    assert outputs["logGroupName"] == "/aws/cloudtrail/trailguard-prod-audit"
    assert set(outputs["topicArns"]) == set(prod_config.topics)
    assert list(outputs["detections"]) == [d.id for d in prod_config.detections]
    for detection in prod_config.detections:
        exported = outputs["detections"][detection.id]
        assert exported["metric"] == detection.metric and exported["topic"] == detection.topic
        assert exported["filterName"] == exported["alarmName"] == f"trailguard-prod-{detection.id}"
    if prod.preview:
        assert outputs["trailArn"] == UNKNOWN
    else:
        assert outputs["trailArn"] == one(prod, TRAIL).outputs["arn"]
        assert all(arn.startswith(f"arn:aws:sns:{REGION}:{MOCK_ACCOUNT}:") for arn in outputs["topicArns"].values())


def test_trail_key_lets_cloudtrail_encrypt_this_trail_only(prod):
    trail = one(prod, TRAIL)
    (key_urn,) = trail.property_dependencies["kmsKeyId"]
    document = policy(prod.get(key_urn))
    trail_arn = f"arn:aws:cloudtrail:{REGION}:{MOCK_ACCOUNT}:trail/{trail.inputs['name']}"
    encrypt = statement(document, "CloudTrailEncryptsThisTrail")
    assert encrypt["Principal"] == {"Service": "cloudtrail.amazonaws.com"}
    assert encrypt["Action"] == "kms:GenerateDataKey*"
    assert encrypt["Condition"]["StringEquals"] == {"aws:SourceArn": trail_arn}
    read = statement(document, "AccountReadsLogFiles")
    assert read["Principal"] == {"AWS": f"arn:aws:iam::{MOCK_ACCOUNT}:root"}
    assert read["Condition"]["StringEquals"] == {"kms:CallerAccount": MOCK_ACCOUNT}
    assert all(s["Principal"] != "*" for s in document["Statement"])
