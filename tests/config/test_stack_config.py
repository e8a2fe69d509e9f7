"""Stack config validation (pure): defaults, resolution, routing, and every refusal's message."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.config.bad_inputs import BAD_INPUTS, TOPICS, custom, event, topics_with
from tests.config.small_catalog import small_catalog
from trailguard.alarms import AlarmSettings
from trailguard.config import (
    DEFAULTS,
    SECRET_PLACEHOLDER,
    ConfigError,
    load_stack_config,
    read_stack_config,
)

PROJECT = Path(__file__).resolve().parents[2]


def load(raw: dict):
    return load_stack_config(raw, small_catalog())


def test_empty_config_gets_the_documented_defaults():
    config = load({})
    assert [d.id for d in config.detections] == ["root-usage", "iam-policy-changes", "vpc-changes", "console-auth-failures"]
    assert config.profile == "default" and config.namespace == "CISBenchmark" and config.protect is True
    assert list(config.topics) == ["security-alerts"]
    assert {d.topic for d in config.detections} == {"security-alerts"}
    assert config.trail.create and config.trail.retention_days == 365
    assert config.trail.bucket_encryption == "kms" and config.trail.log_group_kms
    assert all(d.alarm == AlarmSettings() for d in config.detections)


def test_pulumi_yaml_declares_the_same_defaults_as_the_validator():
    declared = yaml.safe_load((PROJECT / "Pulumi.yaml").read_text())["config"]
    assert declared, "Pulumi.yaml declares no config"
    for key, declaration in declared.items():
        assert declaration["default"] == DEFAULTS[key], key


def test_presets_expand_in_order_without_duplicates_and_ids_add_to_them():
    config = load({"detections": ["seed", "cis", "vpc-changes"]})
    assert [d.id for d in config.detections] == [
        "root-usage", "iam-policy-changes", "vpc-changes", "console-auth-failures"]


def test_profile_picks_the_profile_pattern_and_falls_back_to_default():
    config = load({"profile": "securityhub", "detections": ["iam-policy-changes", "root-usage"]})
    assert config.detection("iam-policy-changes").pattern == \
        "{($.eventName=PutUserPolicy)||($.eventName=CreatePolicy)}"
    assert config.detection("root-usage").pattern == '{ $.userIdentity.type = "Root" }'


def test_overrides_change_alarm_settings_and_enable_or_disable():
    config = load({"detections": ["cis"], "overrides": {
        "root-usage": {"threshold": 0, "period": 60, "evaluationPeriods": 5, "datapointsToAlarm": 3,
                       "treatMissingData": "missing", "okActions": True, "description": "Root!"},
        "console-auth-failures": {"enabled": False},
        "vpc-changes": {"enabled": True, "metric": "VpcChangeCount", "namespace": "Security"},
    }})
    assert [d.id for d in config.detections] == ["root-usage", "iam-policy-changes", "vpc-changes"]
    root = config.detection("root-usage")
    assert root.alarm == AlarmSettings(threshold=0.0, period=60, evaluation_periods=5, datapoints_to_alarm=3,
                                       treat_missing_data="missing")
    assert root.ok_actions and root.description == "Root!"
    vpc = config.detection("vpc-changes")
    assert (vpc.namespace, vpc.metric) == ("Security", "VpcChangeCount")


def test_default_description_carries_title_references_and_runbook():
    description = load({}).detection("root-usage").description
    assert description == "Root usage (CIS 1.4.0 4.4). Runbook: docs/runbooks/root-usage.md"


def test_topic_routing_most_specific_wins():
    notifications = {
        "defaultTopic": "general",
        "topics": {name: {} for name in ("general", "critical", "iam", "vpc")},
        "routing": {"bySeverity": {"critical": "critical", "high": "critical"},
                    "byDetection": {"iam-policy-changes": "iam", "vpc-changes": "iam"}},
    }
    config = load({"detections": ["all"], "notifications": notifications,
                   "overrides": {"vpc-changes": {"topic": "vpc"}}})
    assert {d.id: d.topic for d in config.detections} == {
        "root-usage": "critical",  # by severity
        "iam-policy-changes": "iam",  # by detection beats severity high
        "vpc-changes": "vpc",  # override beats routing
        "console-auth-failures": "general",  # low: the default
    }


def test_single_topic_is_the_default_and_existing_topics_are_referenced_by_arn():
    config = load({"notifications": {"topics": {"pager": {
        "arn": "arn:aws:sns:us-east-1:123456789012:pager"}}}})
    assert {d.topic for d in config.detections} == {"pager"}
    assert config.topics["pager"].existing_arn == "arn:aws:sns:us-east-1:123456789012:pager"
    assert not config.topics["pager"].created


def test_custom_detection_is_enabled_with_its_samples():
    config = load({"detections": [], "customDetections": [custom()]})
    (detection,) = config.detections
    assert detection.custom and detection.detection is None
    assert detection.pattern == '{ $.eventName = "PutBucketAcl" }'
    assert detection.metric == "S3PublicGrant" and detection.severity.value == "high"
    assert detection.positives == (event("PutBucketAcl"),)
    assert detection.negatives == (event("GetBucketAcl"),)
    assert detection.description == "S3 bucket ACL made public"  # the title, no runbook given


def test_custom_description_and_runbook_reach_the_alarm():
    with_runbook = load({"customDetections": [custom(runbook="https://wiki.example.com/s3-acl")]})
    assert with_runbook.detection("s3-public-grant").description == \
        "S3 bucket ACL made public. Runbook: https://wiki.example.com/s3-acl"
    described = load({"customDetections": [custom(description="Someone made a bucket ACL public")]})
    assert described.detection("s3-public-grant").description == "Someone made a bucket ACL public"


@pytest.mark.parametrize(("fields", "key", "fragments"), [
    pytest.param({"metric": "s3_public_grant"}, "metric", ["not a PascalCase metric name", "RootAccountUsage"],
                 id="metric-not-pascal-case"),
    pytest.param({"samples": {"positives": [{"eventName": "PutBucketAcl"}]}}, "samples.positives[0]",
                 ["not a CloudTrail event: missing eventVersion, userIdentity"], id="sample-not-an-event"),
    pytest.param({"samples": {"positives": [event("PutBucketAcl", recipientAccountId=111122223333)]}},
                 "samples.positives[0].recipientAccountId", ["CloudTrail writes this field as a string"],
                 id="sample-field-not-a-string"),
    pytest.param({"samples": {"positives": [event("GetBucketAcl")]}}, "samples.positives[0]",
                 ["does not match the pattern", "does not prove it"], id="positive-does-not-prove"),
    pytest.param({"samples": {"positives": [event("PutBucketAcl")], "negatives": [event("PutBucketAcl")]}},
                 "samples.negatives[0]", ["matches the pattern"], id="negative-does-not-prove"),
    pytest.param({"pattern": "{ $.eventName = PutBucketAcl"}, "pattern", ["invalid filter pattern"],
                 id="pattern-the-engine-refuses"),
])
def test_custom_detection_is_held_to_the_catalogue_rules(fields, key, fragments):
    """Custom detections go through the catalogue's rule book; errors keep the config's keys."""
    with pytest.raises(ConfigError) as caught:
        load({"customDetections": [custom(), {**custom("second-custom", metric="SecondCustom"), **fields}]})
    assert caught.value.key == f"trailguard:customDetections[1].{key}"
    for fragment in fragments:
        assert fragment in str(caught.value)


def test_cloudwatch_limits_as_aws_documents_them():
    """PutMetricAlarm: periods 10, 20, 30 or a multiple of 60; a window up to seven days for an
    hourly (or longer) period."""
    config = load({"overrides": {"root-usage": {"period": 3600, "evaluationPeriods": 168},
                                 "iam-policy-changes": {"period": 20}}})
    assert config.detection("root-usage").alarm.evaluation_periods == 168
    assert config.detection("iam-policy-changes").alarm.period == 20


@pytest.mark.parametrize(("raw", "key", "fragment"), [
    pytest.param({"namespace": "Security:Trail"}, "trailguard:namespace", "not a custom metric namespace",
                 id="namespace-colon"),
    pytest.param({"tags": {"Team#1": "sec"}}, "trailguard:tags.Team#1", "tag key 'Team#1' has '#'",
                 id="tag-key-character"),
    pytest.param({"tags": {"Team": "sec!"}}, "trailguard:tags.Team", "tag value 'sec!' has '!'",
                 id="tag-value-character"),
])
def test_characters_aws_refuses_are_refused_first(raw, key, fragment):
    """PutMetricFilter's namespace pattern has no ':'; tags allow letters, digits, spaces, _.:/=+-@."""
    with pytest.raises(ConfigError) as caught:
        load(raw)
    assert caught.value.key == key and fragment in str(caught.value)


def test_every_problem_is_reported_at_once_with_its_key():
    raw = {
        "detecions": ["cis"],
        "protect": "yes",
        "overrides": {"root-usage": {"period": 45, "treshold": 2}, "vpc-changes": {"threshold": -1}},
        "customDetections": [custom(metric="s3-public")],
        "notifications": topics_with({"protocol": "email", "endpoint": "secops.example.com"}),
        "trail": {"retentionDays": 180},
        "tags": {"aws:owner": "me"},
    }
    with pytest.raises(ConfigError) as caught:
        load(raw)
    error = caught.value
    keys = [key for key, _ in error.errors]
    assert keys == [
        "trailguard:detecions",
        "trailguard:protect",
        "trailguard:tags.aws:owner",
        "trailguard:trail.retentionDays",
        "trailguard:customDetections[0].metric",
        "trailguard:notifications.topics.security.subscriptions[0].endpoint",
        "trailguard:overrides.root-usage.treshold",
        "trailguard:overrides.vpc-changes.threshold",
    ]
    assert (error.key, error.message) == error.errors[0]
    text = str(error)
    assert text.startswith("8 problems in the stack config:\n")
    for fragment in ("unknown key 'detecions' (did you mean 'detections'?)", "must be true or false, got 'yes'",
                     "may not start with 'aws:'", "under the 365 days", "not a PascalCase metric name",
                     "'secops.example.com' is not an email address", "did you mean 'threshold'",
                     "-1 is negative"):
        assert fragment in text
    for key in keys:
        assert f"\n  {key}: " in text


def test_existing_trail_needs_only_its_log_group():
    trail = load({"trail": {"create": False, "existingLogGroupName": "aws-controltower/CloudTrailLogs"}}).trail
    assert not trail.create and trail.existing_log_group_name == "aws-controltower/CloudTrailLogs"


def test_organization_trail_keeps_its_id():
    trail = load({"trail": {"organization": True, "organizationId": "o-abcdef1234"}}).trail
    assert trail.organization and trail.organization_id == "o-abcdef1234"


def test_secret_endpoint_placeholder_is_accepted_offline():
    config = load({"notifications": topics_with({"protocol": "https", "endpoint": SECRET_PLACEHOLDER})})
    assert config.topics["security"].subscriptions[0].endpoint == SECRET_PLACEHOLDER


@pytest.mark.parametrize(("raw", "key", "fragments"), BAD_INPUTS)
def test_bad_input_is_refused_naming_the_key(raw, key, fragments):
    with pytest.raises(ConfigError) as caught:
        load(raw)
    assert caught.value.key == key
    for fragment in fragments:
        assert fragment in str(caught.value)


@pytest.mark.parametrize(("raw", "key", "fragments"), [
    pytest.param({"detecions": ["cis"]}, "trailguard:detecions", ["unknown key", "did you mean 'detections'"],
                 id="unknown-top-level-key"),
    pytest.param({"overrides": {"root-usage": {"treshold": 2}}}, "trailguard:overrides.root-usage.treshold",
                 ["did you mean 'threshold'"], id="unknown-override-key"),
    pytest.param({"overrides": {"rot-usage": {"threshold": 2}}}, "trailguard:overrides.rot-usage",
                 ["unknown detection id", "did you mean 'root-usage'"], id="unknown-override-id"),
    pytest.param({"profile": "cis"}, "trailguard:profile", ["allowed: default, securityhub"], id="bad-profile"),
    pytest.param({"namespace": "AWS/Logs"}, "trailguard:namespace", ["not starting with 'AWS/'"],
                 id="aws-namespace"),
    pytest.param({"protect": "yes"}, "trailguard:protect", ["true or false"], id="protect-not-bool"),
    pytest.param({"detections": "cis"}, "trailguard:detections", ["list of detection ids"], id="detections-not-list"),
    pytest.param({"overrides": {"root-usage": {"threshold": "1"}}}, "trailguard:overrides.root-usage.threshold",
                 ["must be a number"], id="threshold-not-number"),
    pytest.param({"overrides": {"root-usage": {"period": 0}}}, "trailguard:overrides.root-usage.period",
                 ["whole number of seconds"], id="period-zero"),
    pytest.param({"overrides": {"root-usage": {"evaluationPeriods": 0}}},
                 "trailguard:overrides.root-usage.evaluationPeriods", [">= 1"], id="evaluation-periods-zero"),
    pytest.param({"overrides": {"root-usage": {"treatMissingData": "ignored"}}},
                 "trailguard:overrides.root-usage.treatMissingData",
                 ["missing, notBreaching, breaching, ignore", "did you mean 'ignore'"], id="treat-missing-data"),
    pytest.param({"overrides": {"root-usage": {"description": "x" * 1025}}},
                 "trailguard:overrides.root-usage.description", ["1025 characters", "1024"], id="long-description"),
    pytest.param({"notifications": {**TOPICS, "defaultTopic": "pager"}}, "trailguard:notifications.defaultTopic",
                 ["unknown topic 'pager'"], id="undefined-default-topic"),
    pytest.param({"notifications": {**TOPICS, "routing": {"bySeverity": {"critical": "pager"}}}},
                 "trailguard:notifications.routing.bySeverity.critical", ["unknown topic 'pager'"],
                 id="undefined-routed-topic"),
    pytest.param({"notifications": {**TOPICS, "routing": {"bySeverity": {"urgent": "security"}}}},
                 "trailguard:notifications.routing.bySeverity.urgent",
                 ["unknown severity 'urgent'", "low, medium, high, critical"], id="unknown-severity"),
    pytest.param({"notifications": {**TOPICS, "routing": {"byDetection": {"rot-usage": "security"}}}},
                 "trailguard:notifications.routing.byDetection.rot-usage",
                 ["did you mean 'root-usage'"], id="routing-unknown-detection"),
    pytest.param({"notifications": {"topics": {"a": {}, "b": {}}}}, "trailguard:notifications.defaultTopic",
                 ["required with several topics", "a, b"], id="default-topic-ambiguous"),
    pytest.param({"notifications": {"topics": {}}}, "trailguard:notifications.topics",
                 ["at least one topic"], id="no-topics"),
    pytest.param({"notifications": topics_with({"protocol": "sms", "endpoint": "+15555550100"})},
                 "trailguard:notifications.topics.security.subscriptions[0].protocol",
                 ["allowed: email, https, sqs, lambda"], id="unsupported-protocol"),
    pytest.param({"notifications": topics_with({"protocol": "sqs", "endpoint": "my-queue"})},
                 "trailguard:notifications.topics.security.subscriptions[0].endpoint",
                 ["not an sqs ARN", "arn:aws:sqs:"], id="sqs-not-arn"),
    pytest.param({"notifications": topics_with({"protocol": "lambda", "endpoint": "arn:aws:sqs:us-east-1:123456789012:q"})},
                 "trailguard:notifications.topics.security.subscriptions[0].endpoint",
                 ["not an lambda ARN", "function:"], id="lambda-not-function-arn"),
    pytest.param({"notifications": {"topics": {"security": {"subscriptions": [
        {"protocol": "email", "endpoint": "a@example.com"}, {"protocol": "email", "endpoint": "a@example.com"}]}}}},
        "trailguard:notifications.topics.security.subscriptions[1]", ["duplicate subscription"],
        id="duplicate-subscription"),
    pytest.param({"notifications": {"topics": {"pager": {"arn": "arn:aws:sns:us-east-1:1:pager"}}}},
                 "trailguard:notifications.topics.pager.arn", ["not an SNS topic ARN"], id="bad-topic-arn"),
    pytest.param({"notifications": {"topics": {"pager": {"arn": "arn:aws:sns:us-east-1:123456789012:pager",
                                                         "subscriptions": [{"protocol": "email",
                                                                            "endpoint": "a@example.com"}]}}}},
                 "trailguard:notifications.topics.pager.subscriptions", ["managed elsewhere"],
                 id="subscriptions-on-existing-topic"),
    pytest.param({"notifications": SECRET_PLACEHOLDER}, "trailguard:notifications",
                 ["must be a mapping", "secure: value can't be read offline"], id="whole-key-secret"),
    pytest.param({"customDetections": [custom(samples={"positives": [event("PutBucketAcl")],
                                                       "negatives": [event("PutBucketAcl")]})]},
                 "trailguard:customDetections[0].samples.negatives[0]", ["matches the pattern"],
                 id="custom-negative-matches"),
    pytest.param({"customDetections": [custom(samples={"negatives": [event("GetBucketAcl")]})]},
                 "trailguard:customDetections[0].samples.positives", ["at least one event"],
                 id="custom-without-positives"),
    pytest.param({"customDetections": [custom(severity="urgent")]}, "trailguard:customDetections[0].severity",
                 ["low, medium, high, critical"], id="custom-bad-severity"),
    pytest.param({"customDetections": [custom("S3 Public")]}, "trailguard:customDetections[0].id",
                 ["kebab-case"], id="custom-bad-id"),
    pytest.param({"customDetections": [{k: v for k, v in custom().items() if k != "metric"}]},
                 "trailguard:customDetections[0].metric", ["is required"], id="custom-missing-metric"),
    pytest.param({"customDetections": [custom(), custom()]}, "trailguard:customDetections[1].id",
                 ["duplicate id 's3-public-grant'", "customDetections"], id="duplicate-custom-id"),
    pytest.param({"overrides": {"vpc-changes": {"enabled": True, "metric": "RootAccountUsage"}}},
                 "trailguard:overrides.vpc-changes.metric", ["duplicate metric"], id="override-duplicate-metric"),
    pytest.param({"trail": {"retentionDays": 180}}, "trailguard:trail.retentionDays",
                 ["under the 365 days"], id="retention-short"),
    pytest.param({"trail": {"retentionDays": 500}}, "trailguard:trail.retentionDays",
                 ["not a CloudWatch Logs retention", "365, 400"], id="retention-not-allowed"),
    pytest.param({"trail": {"organization": True}}, "trailguard:trail.organizationId", ["is required"],
                 id="organization-without-id"),
    pytest.param({"trail": {"organization": True, "organizationId": "org-1"}}, "trailguard:trail.organizationId",
                 ["not an organization id"], id="bad-organization-id"),
    pytest.param({"trail": {"create": False}}, "trailguard:trail.existingLogGroupName", ["is required"],
                 id="existing-without-log-group"),
    pytest.param({"trail": {"existingLogGroupName": "x"}}, "trailguard:trail.existingLogGroupName",
                 ["only used with create: false"], id="log-group-with-create"),
    pytest.param({"trail": {"bucketEncryption": "none"}}, "trailguard:trail.bucketEncryption",
                 ["allowed: kms, s3"], id="bucket-encryption"),
    pytest.param({"tags": {"aws:owner": "me"}}, "trailguard:tags.aws:owner", ["may not start with 'aws:'"],
                 id="reserved-tag"),
    pytest.param({"tags": {"Owner": ["a"]}}, "trailguard:tags.Owner", ["tag values are strings"],
                 id="tag-not-string"),
])
def test_more_bad_inputs_are_refused_naming_the_key(raw, key, fragments):
    with pytest.raises(ConfigError) as caught:
        load(raw)
    assert caught.value.key == key
    for fragment in fragments:
        assert fragment in str(caught.value)


# --- reading the files ----------------------------------------------------------------------


def write_project(tmp_path: Path, stack_config: dict, stack: str = "test") -> Path:
    (tmp_path / "Pulumi.yaml").write_text((PROJECT / "Pulumi.yaml").read_text())
    (tmp_path / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump({"config": stack_config}))
    return tmp_path


def test_read_stack_config_merges_declared_defaults_and_strips_the_namespace(tmp_path):
    project = write_project(tmp_path, {"aws:region": "eu-west-1", "trailguard:profile": "securityhub",
                                       "trailguard:tags": {"Team": "sec"}})
    raw = read_stack_config(project, "test")
    assert raw == {"detections": ["seed", "cis"], "profile": "securityhub", "namespace": "CISBenchmark",
                   "protect": True, "tags": {"Team": "sec"}}


def test_secure_values_become_placeholders_at_any_depth(tmp_path):
    project = write_project(tmp_path, {
        "trailguard:notifications": {"topics": {"security": {"subscriptions": [
            {"protocol": "https", "endpoint": {"secure": "v1:abc"}}]}}},
        "trailguard:namespace": {"secure": "v1:def"},
    })
    raw = read_stack_config(project, "test")
    assert raw["notifications"]["topics"]["security"]["subscriptions"][0]["endpoint"] == SECRET_PLACEHOLDER
    assert raw["namespace"] == SECRET_PLACEHOLDER


def test_missing_stack_file_lists_the_stacks_there(tmp_path):
    project = write_project(tmp_path, {}, stack="dev")
    with pytest.raises(ConfigError) as caught:
        read_stack_config(project, "prod")
    assert "Pulumi.prod.yaml" in caught.value.key
    assert "stacks here: dev" in str(caught.value)


def test_invalid_yaml_names_the_file(tmp_path):
    project = write_project(tmp_path, {})
    (project / "Pulumi.broken.yaml").write_text("config: [unclosed\n")
    with pytest.raises(ConfigError) as caught:
        read_stack_config(project, "broken")
    assert caught.value.key.endswith("Pulumi.broken.yaml") and "not valid YAML" in str(caught.value)


def test_project_must_be_named_for_the_config_namespace(tmp_path):
    project = write_project(tmp_path, {})
    (project / "Pulumi.yaml").write_text("name: alarms\nruntime: python\n")
    with pytest.raises(ConfigError) as caught:
        read_stack_config(project, "test")
    assert "project name is 'alarms'" in str(caught.value) and "'trailguard'" in str(caught.value)


@pytest.mark.parametrize("stack", ["prod", "dev"])
def test_shipped_stack_files_use_only_known_keys(stack):
    raw = read_stack_config(PROJECT, stack)
    assert raw and set(raw) <= set(DEFAULTS)


# --- declared exclusions (overrides.<id>.exclude) ---------------------------------------------------

DEPLOYER = "arn:aws:iam::111122223333:role/deployer"


def test_exclusions_are_merged_into_the_deployed_pattern_and_the_reference_is_kept():
    config = load({"overrides": {"iam-policy-changes": {"exclude": [
        {"principal": DEPLOYER}, {"sourceIp": "198.51.100.0/24"}]}}})
    detection = config.detection("iam-policy-changes")
    assert detection.reference_pattern == "{ ($.eventName = PutUserPolicy) || ($.eventName = CreatePolicy) }"
    assert detection.pattern == (
        "{ ($.eventName = PutUserPolicy || $.eventName = CreatePolicy) && "
        '($.userIdentity.arn != "arn:aws:sts::111122223333:assumed-role/deployer/*" || $.userIdentity.arn NOT EXISTS) && '
        '($.sourceIPAddress != "198.51.100.*" || $.sourceIPAddress NOT EXISTS) }')
    assert [e.kind for e in detection.exclusions] == ["principal", "sourceIp"]
    untouched = config.detection("root-usage")
    assert untouched.pattern == untouched.reference_pattern and untouched.exclusions == ()


def test_exclusions_merge_into_the_profile_pattern():
    config = load({"profile": "securityhub", "overrides": {"iam-policy-changes": {"exclude": [{"userAgent": "*terraform*"}]}}})
    detection = config.detection("iam-policy-changes")
    assert detection.reference_pattern == "{($.eventName=PutUserPolicy)||($.eventName=CreatePolicy)}"
    assert detection.pattern.endswith('&& ($.userAgent != "*terraform*" || $.userAgent NOT EXISTS) }')


def test_the_alarm_description_names_the_exclusions():
    config = load({"overrides": {"root-usage": {"description": "Root used.", "exclude": [
        {"principal": DEPLOYER}, {"userAgent": "*terraform*"}]}}})
    assert config.detection("root-usage").description == (
        "Root used. Excludes: principal arn:aws:iam::111122223333:role/deployer (its sessions: "
        "arn:aws:sts::111122223333:assumed-role/deployer/*); userAgent *terraform*.")


def test_a_full_alarm_description_still_says_it_has_exclusions_within_the_limit():
    config = load({"overrides": {"root-usage": {"description": "d" * 1024, "exclude": [{"userAgent": "*terraform*"}]}}})
    description = config.detection("root-usage").description
    assert len(description) == 1024
    assert description.endswith("Excludes 1 declared exclusion(s); trailguard check lists them.")


def test_every_exclusion_problem_is_reported_with_the_others():
    with pytest.raises(ConfigError) as caught:
        load({"overrides": {
            "root-usage": {"period": 45, "exclude": [{"sourceIp": "10.0.0.0/20"}, {"userAgent": "ok"},
                                                     {"principal": "arn:aws:iam::111122223333:role/a*b"}]},
            "iam-policy-changes": {"exclude": [{"userAgent": "u" * 1000}]}}})
    keys = [key for key, _ in caught.value.errors]
    assert keys == ["trailguard:overrides.root-usage.exclude[0].sourceIp",
                    "trailguard:overrides.root-usage.exclude[2].principal",
                    "trailguard:overrides.root-usage.period",
                    "trailguard:overrides.iam-policy-changes.exclude"]


def test_exclusions_on_a_custom_detection():
    config = load({"customDetections": [custom()], "overrides": {"s3-public-grant": {"exclude": [
        {"pattern": '$.userIdentity.invokedBy = "cloudformation.amazonaws.com"'}]}}})
    detection = config.detection("s3-public-grant")
    assert detection.pattern == ('{ $.eventName = "PutBucketAcl" && ($.userIdentity.invokedBy != '
                                 '"cloudformation.amazonaws.com" || $.userIdentity.invokedBy NOT EXISTS) }')
