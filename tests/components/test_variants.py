"""The program's other shapes: dev, existing trail or topic, organization trail, a provider in opts,
and every rejected config registering nothing."""

from __future__ import annotations

import pulumi
import pytest

from tests.components.program_runs import (
    ALARM,
    ALERT_TOPIC,
    AUDIT_TRAIL,
    BUCKET,
    BUCKET_POLICY,
    FILTER,
    KEY,
    LOG_GROUP,
    PROJECT,
    ROLE_POLICY,
    SUBSCRIPTION,
    TOPIC,
    TRAIL,
    copy_project,
    one,
    policy,
    statement,
)
from tests.config.bad_inputs import BAD_INPUTS
from trailguard.check.harness import MOCK_ACCOUNT, run_program
from trailguard.check.layout import ProjectLayout
from trailguard.config import ConfigError, load_stack_config, read_stack_config

LAYOUT = ProjectLayout.for_repository(PROJECT)
ORG_ID = "o-abcdef1234"


def test_dev_is_unprotected_sse_s3_and_has_no_log_group_key():
    run = run_program(LAYOUT, "dev")
    assert not any(r.protect for r in run.resources)
    (rule,) = [r for r in run.resources if r.type.endswith("BucketServerSideEncryptionConfiguration")][0].inputs["rules"]
    assert rule["applyServerSideEncryptionByDefault"] == {"sseAlgorithm": "AES256"}
    assert "kmsKeyId" not in one(run, TRAIL).inputs
    assert "kmsKeyId" not in one(run, LOG_GROUP).inputs
    assert [k.name for k in run.of_type(KEY)] == ["trailguard-dev-dev-alerts-key"]  # the topic's only
    assert "eu-west-1" in policy(one(run, ROLE_POLICY, AUDIT_TRAIL))["Statement"][0]["Resource"][0]


def test_existing_trail_creates_no_trail_resources_and_filters_use_its_log_group():
    run = run_program(LAYOUT, "dev", config_overrides={
        "trail": {"create": False, "existingLogGroupName": "aws-controltower/CloudTrailLogs"}})
    audit = one(run, AUDIT_TRAIL)
    assert run.children(audit.urn) == []
    assert not run.of_type(TRAIL) and not run.of_type(BUCKET) and not run.of_type(LOG_GROUP)
    filters = run.of_type(FILTER)
    assert filters and {f.inputs["logGroupName"] for f in filters} == {"aws-controltower/CloudTrailLogs"}
    assert run.outputs["trailArn"] is None
    assert run.outputs["logGroupName"] == "aws-controltower/CloudTrailLogs"


def test_existing_topic_is_referenced_not_created():
    arn = f"arn:aws:sns:eu-west-1:{MOCK_ACCOUNT}:security-pager"
    run = run_program(LAYOUT, "dev", config_overrides={"notifications": {"topics": {"pager": {"arn": arn}}}})
    assert run.children(one(run, ALERT_TOPIC).urn) == []
    assert not run.of_type(TOPIC) and not run.of_type(SUBSCRIPTION)
    assert {tuple(a.inputs["alarmActions"]) for a in run.of_type(ALARM)} == {(arn,)}
    assert run.outputs["topicArns"] == {"pager": arn}


def test_organization_trail_scopes_role_and_bucket_to_the_organization_too():
    run = run_program(LAYOUT, "dev", config_overrides={
        "trail": {"organization": True, "organizationId": ORG_ID}})
    assert one(run, TRAIL).inputs["isOrganizationTrail"] is True
    streams = policy(one(run, ROLE_POLICY, AUDIT_TRAIL))["Statement"][0]["Resource"]
    assert [s.rsplit(":log-stream:", 1)[1] for s in streams] == [
        f"{MOCK_ACCOUNT}_CloudTrail_eu-west-1*", f"{ORG_ID}_*"]
    write = statement(policy(one(run, BUCKET_POLICY)), "AWSCloudTrailWrite")
    assert [r.rsplit("/AWSLogs/", 1)[1] for r in write["Resource"]] == [f"{MOCK_ACCOUNT}/*", f"{ORG_ID}/*"]


def test_lambda_subscription_gets_an_invoke_permission_for_this_topic_only():
    function = f"arn:aws:lambda:eu-west-1:{MOCK_ACCOUNT}:function:alert-router"
    run = run_program(LAYOUT, "dev", config_overrides={"notifications": {"topics": {"alerts": {
        "subscriptions": [{"protocol": "lambda", "endpoint": function}]}}}})
    (permission,) = run.of_type("aws:lambda/permission:Permission")
    topic = one(run, TOPIC)
    assert permission.inputs["function"] == function
    assert permission.inputs["principal"] == "sns.amazonaws.com"
    assert permission.inputs["sourceArn"] == topic.outputs["arn"]


def test_provider_passed_in_opts_reaches_every_child_and_its_region_the_policies(tmp_path):
    project = copy_project(tmp_path)
    main = (project / "__main__.py").read_text()
    main = main.replace(
        'monitoring = SecurityMonitoring(monitoring_name(pulumi.get_stack()), config)',
        'import pulumi_aws as aws\n'
        'frankfurt = aws.Provider("frankfurt", region="eu-central-1")\n'
        'monitoring = SecurityMonitoring(monitoring_name(pulumi.get_stack()), config,\n'
        '                                opts=pulumi.ResourceOptions(providers={"aws": frankfurt}))')
    assert "frankfurt" in main
    (project / "__main__.py").write_text(main)
    run = run_program(ProjectLayout.for_repository(project), "dev")
    (provider,) = run.of_type("pulumi:providers:aws")
    custom = [r for r in run.resources if r.custom and r is not provider]
    assert custom and all(r.provider and r.provider.startswith(provider.urn) for r in custom)
    assert "CloudTrail_eu-central-1*" in policy(one(run, ROLE_POLICY, AUDIT_TRAIL))["Statement"][0]["Resource"][0]


def test_two_instances_never_collide(tmp_path):
    project = copy_project(tmp_path)
    main = (project / "__main__.py").read_text()
    main += '\nsecond = SecurityMonitoring(f"trailguard-{pulumi.get_stack()}-eu", config)\n'
    (project / "__main__.py").write_text(main)
    run = run_program(ProjectLayout.for_repository(project), "dev")
    urns = [r.urn for r in run.resources]
    assert len(urns) == len(set(urns))
    assert len(run.of_type(TRAIL)) == 2
    assert len({t.inputs["name"] for t in run.of_type(TRAIL)}) == 2


@pytest.mark.parametrize(("overrides", "key", "fragments"), BAD_INPUTS)
def test_rejected_config_registers_nothing(overrides, key, fragments):
    run = run_program(LAYOUT, "prod", config_overrides=overrides, raise_errors=False)
    assert isinstance(run.error, ConfigError)
    assert isinstance(run.error, pulumi.RunError)  # Pulumi prints the message, not a traceback
    assert run.error.key == key
    for fragment in fragments:
        assert fragment in str(run.error)
    assert run.resources == []


def test_run_program_raises_the_config_error_by_default():
    with pytest.raises(ConfigError, match="trailguard:overrides.root-usage.threshold"):
        run_program(LAYOUT, "prod", config_overrides={"overrides": {"root-usage": {"threshold": -1}}})


def test_unknown_stack_key_in_the_program_is_refused():
    run = run_program(LAYOUT, "dev", config_overrides={"trailguard:detecions": ["seed"]}, raise_errors=False)
    assert isinstance(run.error, ConfigError) and "did you mean 'detections'" in str(run.error)
    assert run.resources == []


def test_harness_runs_repeatedly_in_one_process_without_leaking_state():
    first = run_program(LAYOUT, "dev")
    failed = run_program(LAYOUT, "dev", config_overrides={"profile": "nope"}, raise_errors=False)
    again = run_program(LAYOUT, "dev", preview=True)
    last = run_program(LAYOUT, "dev")
    assert failed.error is not None and failed.resources == []
    assert [r.urn for r in first.resources] == [r.urn for r in last.resources]
    assert sorted(r.urn for r in again.resources) == sorted(r.urn for r in first.resources)
    assert first.outputs == last.outputs


def test_a_program_failing_midway_reports_what_it_registered_and_the_next_run_is_clean(tmp_path):
    project = copy_project(tmp_path)
    main = (project / "__main__.py").read_text()
    (project / "__main__.py").write_text(main + '\nraise RuntimeError("boom after registering")\n')
    failed = run_program(ProjectLayout.for_repository(project), "dev", raise_errors=False)
    assert isinstance(failed.error, RuntimeError) and "boom" in str(failed.error)
    assert failed.of_type(TRAIL)
    clean = run_program(LAYOUT, "dev")
    assert clean.error is None and clean.outputs["logGroupName"] == "/aws/cloudtrail/trailguard-dev-audit"


def test_declared_exclusions_deploy_the_merged_pattern_and_name_them_in_the_alarm():
    overrides = {"iam-policy-changes": {"exclude": [{"principal": "arn:aws:iam::111122223333:role/deployer"},
                                                    {"userAgent": "*terraform*"}]}}
    run = run_program(LAYOUT, "prod", config_overrides={"overrides": overrides})
    config = load_stack_config(read_stack_config(PROJECT, "prod") | {"overrides": overrides})
    detection = config.detection("iam-policy-changes")
    (metric_filter,) = [f for f in run.of_type(FILTER)
                        if f.inputs["metricTransformation"]["name"] == detection.metric]
    assert metric_filter.inputs["pattern"] == detection.pattern != detection.reference_pattern
    assert '$.userIdentity.arn != "arn:aws:sts::111122223333:assumed-role/deployer/*"' in metric_filter.inputs["pattern"]
    (alarm,) = [a for a in run.of_type(ALARM) if a.inputs["metricName"] == detection.metric]
    assert "Excludes: principal arn:aws:iam::111122223333:role/deployer" in alarm.inputs["alarmDescription"]
    assert "userAgent *terraform*" in alarm.inputs["alarmDescription"]
    others = [f for f in run.of_type(FILTER) if f is not metric_filter]
    assert all("!=" not in f.inputs["pattern"] or "assumed-role" not in f.inputs["pattern"] for f in others)
