"""End to end: the real program under mocks with Pulumi.prod.yaml, judged by the pack with
policies/config/prod.json through the analyzer servicer, in update and in preview mode.

Changes a stack config can express go through the config (`config_overrides`); the others
(a hand-edited pattern, a trail flag, a topic key...) are applied to the program's registrations
as a code change would register them, keeping the property dependencies the SDK would send.
Each change must yield exactly the expected mandatory violations, no more.
"""

from __future__ import annotations

import copy
import json
import dataclasses
from pathlib import Path
from typing import Any, Callable

import pytest

from tests.config.bad_inputs import event
from trailguard.catalog import load_catalog
from trailguard.check.harness import ProgramRun, run_program
from trailguard.check.layout import ProjectLayout
from trailguard.check.policy_pack import (
    PolicyViolation,
    analyze_run,
    load_pack,
    make_analyzer,
    read_policy_config,
    resolve_policy_config,
)
from trailguard.config import read_stack_config

ROOT = Path(__file__).resolve().parents[2]
LAYOUT = ProjectLayout.for_repository(ROOT)
PREFIX = "trailguard-prod"
MODES = ["update", "preview"]
VPC_SECURITYHUB = load_catalog().get("vpc-changes").pattern_for("securityhub")


@pytest.fixture(scope="module")
def analyzer():
    pack = load_pack(LAYOUT.pack_dir, LAYOUT.pack_package)
    config = resolve_policy_config(read_policy_config(ROOT / "policies" / "config" / "prod.json"), pack.ALL_POLICIES)
    return make_analyzer(pack, config)


@pytest.fixture(scope="module")
def prod_runs() -> dict[str, ProgramRun]:
    return {mode: run_program(LAYOUT, "prod", preview=mode == "preview") for mode in MODES}


def judge(run: ProgramRun, analyzer) -> list[PolicyViolation]:
    return analyze_run(run, analyzer)


def run_with_config(mode: str, **overrides: Any) -> ProgramRun:
    return run_program(LAYOUT, "prod", preview=mode == "preview", config_overrides=overrides)


def changed(run: ProgramRun, name: str, change: Callable[[dict], None],
            property_dependencies: dict[str, list[str]] | None = None) -> ProgramRun:
    """`run` with the registration named `name` changed in its inputs and outputs."""
    resources = []
    found = False
    for resource in run.resources:
        if resource.name == name:
            found = True
            inputs, outputs = copy.deepcopy(resource.inputs), copy.deepcopy(resource.outputs)
            change(inputs)
            change(outputs)
            resource = dataclasses.replace(
                resource, inputs=inputs, outputs=outputs,
                property_dependencies={**resource.property_dependencies, **(property_dependencies or {})})
        resources.append(resource)
    assert found, f"no resource {name}"
    return dataclasses.replace(run, resources=resources)


def setter(**values: Any) -> Callable[[dict], None]:
    return lambda props: props.update(values)


def summary(violations: list[PolicyViolation]) -> list[tuple[str, str, str]]:
    return sorted((v.policy, v.level, v.resource) for v in violations)


@pytest.mark.parametrize("mode", MODES)
def test_prod_stack_has_no_violation(mode, prod_runs, analyzer):
    assert judge(prod_runs[mode], analyzer) == []


@pytest.mark.parametrize("mode", MODES)
def test_prod_preview_carries_unknowns(mode, prod_runs):
    """Guards the preview tests: the trail's log group ARN and the alarm actions really are unknown."""
    trail = next(r for r in prod_runs[mode].resources if r.type == "aws:cloudtrail/trail:Trail")
    assert (trail.outputs["cloudWatchLogsGroupArn"] == "<computed>") == (mode == "preview")


# --- changes that must be caught ---------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_required_detection_removed_from_config(mode, analyzer):
    ids = [i for i in load_catalog().resolve(["seed", "cis"]) if i != "vpc-changes"]
    violations = judge(run_with_config(mode, detections=ids), analyzer)
    assert summary(violations) == [("required-detections", "mandatory", "stack")]
    assert violations[0].message == (
        "required detection 'vpc-changes' (VPC changes): no metric filter in the stack matches all its positive and "
        "none of its negative catalogue samples; add it to the stack's trailguard:detections")


@pytest.mark.parametrize("mode", MODES)
def test_pattern_weakened_by_dropping_an_event_name(mode, prod_runs, analyzer):
    weakened = VPC_SECURITYHUB.replace("($.eventName=DeleteVpc) || ", "")
    assert weakened != VPC_SECURITYHUB
    run = changed(prod_runs[mode], f"{PREFIX}-vpc-changes-filter", setter(pattern=weakened))
    violations = judge(run, analyzer)
    assert summary(violations) == [
        ("required-detections", "mandatory", f"aws:cloudwatch/logMetricFilter:LogMetricFilter::{PREFIX}-vpc-changes-filter")]
    assert violations[0].message.startswith(
        "required detection 'vpc-changes' (VPC changes): no metric filter in the stack matches all its positive and "
        f"none of its negative catalogue samples; closest is metric filter '{PREFIX}-vpc-changes-filter', which "
        "misses 1 of ")
    assert "(first: 'delete-vpc', DeleteVpc from ec2.amazonaws.com)" in violations[0].message


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("match_all", ["", "{ $.eventName = * }"])
def test_pattern_made_match_all(mode, match_all, prod_runs, analyzer):
    run = changed(prod_runs[mode], f"{PREFIX}-vpc-changes-filter", setter(pattern=match_all))
    violations = judge(run, analyzer)
    assert summary(violations) == [
        ("required-detections", "mandatory", f"aws:cloudwatch/logMetricFilter:LogMetricFilter::{PREFIX}-vpc-changes-filter")]
    assert f"closest is metric filter '{PREFIX}-vpc-changes-filter', which matches " in violations[0].message
    assert "negative samples" in violations[0].message


@pytest.mark.parametrize("mode", MODES)
def test_filter_on_another_log_group(mode, prod_runs, analyzer):
    run = changed(prod_runs[mode], f"{PREFIX}-root-usage-filter", setter(logGroupName="/aws/cloudtrail/elsewhere"),
                  property_dependencies={"logGroupName": []})
    violations = judge(run, analyzer)
    assert summary(violations) == [
        ("required-detections", "mandatory", f"aws:cloudwatch/logMetricFilter:LogMetricFilter::{PREFIX}-root-usage-filter")]
    assert violations[0].message == (
        f"required detection 'root-usage' (Root user activity): metric filter '{PREFIX}-root-usage-filter' is on log "
        "group '/aws/cloudtrail/elsewhere', which is neither a log group of this stack nor listed in externalLogGroups")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("key", "value", "watched"), [
    ("metricName", "RootAccountUse", "CISBenchmark/RootAccountUse"),
    ("namespace", "Security", "Security/RootAccountUsage"),
])
def test_alarm_metric_name_or_namespace_changed(mode, key, value, watched, prod_runs, analyzer):
    run = changed(prod_runs[mode], f"{PREFIX}-root-usage-alarm", setter(**{key: value}))
    violations = judge(run, analyzer)
    assert summary(violations) == [
        ("required-detections", "mandatory", f"aws:cloudwatch/logMetricFilter:LogMetricFilter::{PREFIX}-root-usage-filter")]
    assert violations[0].message == (
        "required detection 'root-usage' (Root user activity): no alarm watches metric 'CISBenchmark/RootAccountUsage' "
        f"of metric filter '{PREFIX}-root-usage-filter' (alarm '{PREFIX}-root-usage-alarm' watches '{watched}')")


@pytest.mark.parametrize("mode", MODES)
def test_alarm_actions_removed(mode, prod_runs, analyzer):
    run = changed(prod_runs[mode], f"{PREFIX}-root-usage-alarm", setter(alarmActions=[]),
                  property_dependencies={"alarmActions": []})
    violations = judge(run, analyzer)
    alarm = f"aws:cloudwatch/metricAlarm:MetricAlarm::{PREFIX}-root-usage-alarm"
    assert summary(violations) == [("alarm-has-action", "mandatory", alarm), ("required-detections", "mandatory", alarm)]
    by_policy = {v.policy: v.message for v in violations}
    assert by_policy["required-detections"] == (
        f"required detection 'root-usage' (Root user activity): alarm '{PREFIX}-root-usage-alarm' notifies nobody: "
        "it has no alarm actions")
    assert by_policy["alarm-has-action"].startswith(f"alarm '{PREFIX}-root-usage-alarm' has no alarm actions")


@pytest.mark.parametrize("mode", MODES)
def test_alarm_actions_disabled(mode, analyzer):
    overrides = read_stack_config(ROOT, "prod")["overrides"]
    run = run_with_config(mode, overrides={**overrides, "root-usage": {**overrides["root-usage"], "actionsEnabled": False}})
    violations = judge(run, analyzer)
    alarm = f"aws:cloudwatch/metricAlarm:MetricAlarm::{PREFIX}-root-usage-alarm"
    assert summary(violations) == [("alarm-has-action", "mandatory", alarm), ("required-detections", "mandatory", alarm)]
    assert {v.policy: v.message for v in violations}["required-detections"] == (
        f"required detection 'root-usage' (Root user activity): alarm '{PREFIX}-root-usage-alarm' has actions "
        "disabled (actionsEnabled is false)")


@pytest.mark.parametrize("mode", MODES)
def test_alarm_threshold_raised_to_100(mode, analyzer):
    overrides = read_stack_config(ROOT, "prod")["overrides"]
    run = run_with_config(mode, overrides={**overrides, "vpc-changes": {"threshold": 100}})
    violations = judge(run, analyzer)
    assert summary(violations) == [
        ("required-detections", "mandatory", f"aws:cloudwatch/metricAlarm:MetricAlarm::{PREFIX}-vpc-changes-alarm")]
    assert violations[0].message == (
        f"required detection 'vpc-changes' (VPC changes): alarm '{PREFIX}-vpc-changes-alarm' does not fire on a "
        "single matching event: its threshold 100 is above the allowed maximum 1; one matching event gives Sum 1, "
        "which is not GreaterThanOrEqualToThreshold 100")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("flag", "trail_message", "reason"), [
    ("isMultiRegionTrail", "is single-region", "is single-region (isMultiRegionTrail is false)"),
    ("enableLogging", "is not logging", "has logging off (enableLogging is false)"),
])
def test_trail_single_region_or_not_logging(mode, flag, trail_message, reason, prod_runs, analyzer):
    run = changed(prod_runs[mode], f"{PREFIX}-audit-trail", setter(**{flag: False}))
    violations = judge(run, analyzer)
    assert summary(violations) == [
        ("required-detections", "mandatory", f"aws:cloudwatch/logGroup:LogGroup::{PREFIX}-audit-logs"),
        ("trail-delivers-to-cloudwatch", "mandatory", f"aws:cloudtrail/trail:Trail::{PREFIX}-audit-trail"),
    ]
    by_policy = {v.policy: v.message for v in violations}
    assert by_policy["trail-delivers-to-cloudwatch"].startswith(f"trail '{PREFIX}-audit-trail' {trail_message}")
    every_required = ", ".join(f"'{i}'" for i in load_catalog().resolve(["seed", "cis"]))
    assert by_policy["required-detections"] == (
        f"required detections {every_required} and the heartbeat: log group '/aws/cloudtrail/{PREFIX}-audit' is fed "
        "by no multi-region, "
        f"logging trail: trail '{PREFIX}-audit' {reason}")


@pytest.mark.parametrize("mode", MODES)
def test_topic_encrypted_with_aws_managed_key(mode, prod_runs, analyzer):
    run = changed(prod_runs[mode], f"{PREFIX}-security-topic", setter(kmsMasterKeyId="alias/aws/sns"),
                  property_dependencies={"kmsMasterKeyId": []})
    violations = judge(run, analyzer)
    topic = f"aws:sns/topic:Topic::{PREFIX}-security-topic"
    assert summary(violations) == [("alarm-topic-can-deliver", "mandatory", topic), ("required-detections", "mandatory", topic)]
    by_policy = {v.policy: v.message for v in violations}
    assert by_policy["alarm-topic-can-deliver"].startswith(
        f"SNS topic '{PREFIX}-security-topic' is encrypted with 'alias/aws/sns': CloudWatch alarms cannot publish to it")
    # the chain breaks too: every detection routed to the security topic (all but the critical ones) is named
    assert by_policy["required-detections"].startswith("required detections ")
    assert "is encrypted with the AWS-managed key alias/aws/sns" in by_policy["required-detections"]


@pytest.mark.parametrize("mode", MODES)
def test_unprotected_detection_is_advisory_by_default_and_mandatory_in_prod(mode, prod_runs, analyzer):
    run = changed(prod_runs[mode], f"{PREFIX}-root-usage-alarm", lambda props: None)
    run.resources[:] = [dataclasses.replace(r, protect=False) if r.name == f"{PREFIX}-root-usage-alarm" else r
                        for r in run.resources]
    alarm = f"aws:cloudwatch/metricAlarm:MetricAlarm::{PREFIX}-root-usage-alarm"
    assert summary(judge(run, analyzer)) == [("detections-protected", "mandatory", alarm)]
    pack = load_pack(LAYOUT.pack_dir, LAYOUT.pack_package)
    default = make_analyzer(pack, resolve_policy_config({}, pack.ALL_POLICIES))
    assert ("detections-protected", "advisory", alarm) in summary(judge(run, default))


# --- changes that must pass ----------------------------------------------------------------------


def reformatted(pattern: str) -> str:
    """The same OR of clauses, clause order reversed, spacing changed."""
    clauses = pattern.strip("{}").split(" || ")
    return "{ " + " ||\n  ".join(reversed(clauses)) + " }"


@pytest.mark.parametrize("mode", MODES)
def test_pattern_reformatted_and_reordered_passes(mode, prod_runs, analyzer):
    new_pattern = reformatted(VPC_SECURITYHUB)
    assert new_pattern != VPC_SECURITYHUB
    run = changed(prod_runs[mode], f"{PREFIX}-vpc-changes-filter", setter(pattern=new_pattern))
    assert judge(run, analyzer) == []


@pytest.mark.parametrize("mode", MODES)
def test_extra_detections_pass(mode, analyzer):
    custom = {
        "id": "guardduty-disabled",
        "title": "GuardDuty detector deleted",
        "pattern": "{ ($.eventSource = guardduty.amazonaws.com) && ($.eventName = DeleteDetector) }",
        "severity": "high",
        "metric": "GuardDutyDisabled",
        "samples": {
            "positives": [event("DeleteDetector", "guardduty.amazonaws.com")],
            "negatives": [event("CreateDetector", "guardduty.amazonaws.com")],
        },
    }
    run = run_with_config(mode, customDetections=[custom])
    assert any(r.name == f"{PREFIX}-guardduty-disabled-alarm" for r in run.resources)
    assert judge(run, analyzer) == []


@pytest.mark.parametrize("mode", MODES)
def test_renamed_alarm_passes(mode, prod_runs, analyzer):
    old = f"{PREFIX}-root-usage-alarm"
    renamed = [
        dataclasses.replace(r, name="root-alarm-v2", urn=r.urn.replace(old, "root-alarm-v2"),
                            inputs={**r.inputs, "name": "root-alarm-v2"}, outputs={**r.outputs, "name": "root-alarm-v2"})
        if r.name == old else r
        for r in prod_runs[mode].resources
    ]
    assert judge(dataclasses.replace(prod_runs[mode], resources=renamed), analyzer) == []


# --- links that leave an alarm silent (settings, trail selectors) -------------------------------


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("treat", ["ignore", "breaching"])
def test_missing_data_that_keeps_the_alarm_in_alarm(mode, treat, analyzer):
    overrides = read_stack_config(ROOT, "prod")["overrides"]
    run = run_with_config(mode, overrides={**overrides, "vpc-changes": {"treatMissingData": treat}})
    violations = judge(run, analyzer)
    alarm = f"aws:cloudwatch/metricAlarm:MetricAlarm::{PREFIX}-vpc-changes-alarm"
    assert summary(violations) == [("required-detections", "mandatory", alarm)]
    assert violations[0].message.startswith(
        f"required detection 'vpc-changes' (VPC changes): alarm '{PREFIX}-vpc-changes-alarm' treats missing data as "
        f"{treat}: ")


@pytest.mark.parametrize("mode", MODES)
def test_filter_default_value_that_breaches(mode, prod_runs, analyzer):
    def with_default(props):
        props["metricTransformation"] = {**props["metricTransformation"], "defaultValue": "1"}
    run = changed(prod_runs[mode], f"{PREFIX}-vpc-changes-filter", with_default)
    violations = judge(run, analyzer)
    assert summary(violations) == [
        ("required-detections", "mandatory", f"aws:cloudwatch/logMetricFilter:LogMetricFilter::{PREFIX}-vpc-changes-filter")]
    assert "publishes defaultValue 1 for every log event it does not match" in violations[0].message


@pytest.mark.parametrize("mode", MODES)
def test_trail_excluding_kms_events_blinds_the_kms_detection(mode, prod_runs, analyzer):
    selectors = [{"readWriteType": "All", "includeManagementEvents": True,
                  "excludeManagementEventSources": ["kms.amazonaws.com"]}]
    run = changed(prod_runs[mode], f"{PREFIX}-audit-trail", setter(eventSelectors=selectors))
    violations = judge(run, analyzer)
    group = f"aws:cloudwatch/logGroup:LogGroup::{PREFIX}-audit-logs"
    assert summary(violations) == [("required-detections", "mandatory", group)] * 2
    by_detection = {v.message.split("'")[1]: v.message for v in violations}
    # the KMS detection's own events, and the unauthorized-calls sample of a denied KMS Decrypt
    assert sorted(by_detection) == ["kms-key-disable-or-deletion", "unauthorized-api-calls"]
    assert "the write management event kms.amazonaws.com DisableKey" in by_detection["kms-key-disable-or-deletion"]
    assert "the read-only management event kms.amazonaws.com Decrypt" in by_detection["unauthorized-api-calls"]
    assert all("excludeManagementEventSources lists kms.amazonaws.com" in m for m in by_detection.values())


@pytest.mark.parametrize("mode", MODES)
def test_trail_excluding_rds_data_events_passes(mode, prod_runs, analyzer):
    selectors = [{"readWriteType": "All", "includeManagementEvents": True,
                  "excludeManagementEventSources": ["rdsdata.amazonaws.com"]}]
    run = changed(prod_runs[mode], f"{PREFIX}-audit-trail", setter(eventSelectors=selectors))
    assert judge(run, analyzer) == []


@pytest.mark.parametrize("mode", MODES)
def test_disabled_root_usage_is_reported_missing_not_against_another_filter(mode, analyzer):
    overrides = read_stack_config(ROOT, "prod")["overrides"]
    run = run_with_config(mode, overrides={**overrides, "root-usage": {"enabled": False}})
    violations = judge(run, analyzer)
    assert summary(violations) == [("required-detections", "mandatory", "stack")]
    assert violations[0].message == (
        "required detection 'root-usage' (Root user activity): no metric filter in the stack matches all its "
        "positive and none of its negative catalogue samples; add it to the stack's trailguard:detections")

# --- delivery links: the trail's role and log-group key (class 4), the topic's policy and key (class 5) ---

ACCOUNT = "123456789012"
AUDIT_GROUP = f"/aws/cloudtrail/{PREFIX}-audit"
LOGS_ARN = f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:{AUDIT_GROUP}"


def edit_policy(key: str, edit: Callable[[dict], None]) -> Callable[[dict], None]:
    """A change to the JSON policy document held in `key`, as a code change to the document would make it."""
    def change(props: dict) -> None:
        document = json.loads(props[key])
        edit(document)
        props[key] = json.dumps(document)
    return change


def statement(document: dict, sid: str) -> dict:
    return next(s for s in document["Statement"] if s.get("Sid") == sid)


def only_required(violations: list[PolicyViolation], resource: str, *fragments: str) -> None:
    assert summary(violations) == [("required-detections", "mandatory", resource)], violations
    message = violations[0].message
    assert message.startswith("required detections "), message  # every detection shares the broken link
    for fragment in fragments:
        assert fragment in message, message


def _trust_other_trail(document: dict) -> None:
    document["Statement"][0]["Condition"]["StringEquals"]["aws:SourceArn"] = (
        f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/{PREFIX}-old-audit")


def _trust_lambda(document: dict) -> None:
    document["Statement"][0]["Principal"] = {"Service": "lambda.amazonaws.com"}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("edit, fragment", [
    (_trust_other_trail, "no statement of the trust policy (assumeRolePolicy)"),
    (_trust_lambda, "no statement of the trust policy (assumeRolePolicy)"),
])
def test_delivery_role_trust_that_shuts_out_cloudtrail(mode, edit, fragment, prod_runs, analyzer):
    run = changed(prod_runs[mode], f"{PREFIX}-audit-delivery-role", edit_policy("assumeRolePolicy", edit))
    only_required(judge(run, analyzer), f"aws:iam/role:Role::{PREFIX}-audit-delivery-role",
                  f"CloudTrail cannot assume role '{PREFIX}-audit-delivery-role-", f"to deliver trail '{PREFIX}-audit'",
                  fragment)


def _trust_also_by_account(document: dict) -> None:
    document["Statement"][0]["Condition"]["StringEquals"]["aws:SourceAccount"] = ACCOUNT


def _trust_by_arn_like(document: dict) -> None:
    condition = document["Statement"][0]["Condition"]
    condition["ArnLike"] = {"aws:SourceArn": f"arn:aws:cloudtrail:*:{ACCOUNT}:trail/{PREFIX}-*"}
    del condition["StringEquals"]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("edit", [_trust_also_by_account, _trust_by_arn_like])
def test_delivery_role_trust_narrowed_or_reworded_passes(mode, edit, prod_runs, analyzer):
    run = changed(prod_runs[mode], f"{PREFIX}-audit-delivery-role", edit_policy("assumeRolePolicy", edit))
    assert judge(run, analyzer) == []


def _streams_of_another_group(document: dict) -> None:
    for grant in document["Statement"]:
        grant["Resource"] = [f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/aws/cloudtrail/other:log-stream:*"]


def _no_put_log_events(document: dict) -> None:
    document["Statement"] = [s for s in document["Statement"] if s["Action"] != ["logs:PutLogEvents"]]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("edit, action", [(_streams_of_another_group, "logs:CreateLogStream"),
                                          (_no_put_log_events, "logs:PutLogEvents")])
def test_delivery_role_policy_that_cannot_write_the_group(mode, edit, action, prod_runs, analyzer):
    run = changed(prod_runs[mode], f"{PREFIX}-audit-delivery-policy", edit_policy("policy", edit))
    only_required(judge(run, analyzer), f"aws:iam/role:Role::{PREFIX}-audit-delivery-role",
                  f"may not write log group '{AUDIT_GROUP}': {action} on ", "no statement of role policy")


def _one_statement_any_stream(document: dict) -> None:
    document["Statement"] = [{"Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                              "Resource": f"{LOGS_ARN}:log-stream:*"}]


def _wildcard_actions(document: dict) -> None:
    for grant in document["Statement"]:
        grant["Action"] = "logs:*Log*"


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("edit", [_one_statement_any_stream, _wildcard_actions])
def test_delivery_role_policy_rewritten_or_widened_on_the_group_passes(mode, edit, prod_runs, analyzer):
    run = changed(prod_runs[mode], f"{PREFIX}-audit-delivery-policy", edit_policy("policy", edit))
    assert judge(run, analyzer) == []


def _logs_of_another_region(document: dict) -> None:
    statement(document, "LogsEncryptsThisLogGroup")["Principal"] = {"Service": "logs.eu-west-1.amazonaws.com"}


def _logs_of_another_group(document: dict) -> None:
    statement(document, "LogsEncryptsThisLogGroup")["Condition"] = {
        "ArnEquals": {"kms:EncryptionContext:aws:logs:arn": f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/app"}}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("edit", [_logs_of_another_region, _logs_of_another_group])
def test_log_group_key_that_shuts_out_cloudwatch_logs(mode, edit, prod_runs, analyzer):
    run = changed(prod_runs[mode], f"{PREFIX}-audit-logs-key", edit_policy("policy", edit))
    only_required(judge(run, analyzer), f"aws:kms/key:Key::{PREFIX}-audit-logs-key",
                  f"KMS key '{PREFIX}-audit-logs-key' of log group '{AUDIT_GROUP}' does not let CloudWatch Logs "
                  "(logs.", "for this log group")


def _logs_of_any_group_here(document: dict) -> None:
    statement(document, "LogsEncryptsThisLogGroup")["Condition"] = {
        "ArnLike": {"kms:EncryptionContext:aws:logs:arn": f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:*"}}


def _logs_grant_as_kms_star(document: dict) -> None:
    statement(document, "LogsEncryptsThisLogGroup")["Action"] = "kms:*"


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("edit", [_logs_of_any_group_here, _logs_grant_as_kms_star])
def test_log_group_key_widened_passes(mode, edit, prod_runs, analyzer):
    run = changed(prod_runs[mode], f"{PREFIX}-audit-logs-key", edit_policy("policy", edit))
    assert judge(run, analyzer) == []


def _deny_publish_from_other_accounts(document: dict) -> None:
    document["Statement"].append({"Sid": "OnlyAccount999", "Effect": "Deny", "Principal": "*", "Action": "sns:Publish",
                                  "Resource": "*", "Condition": {"StringNotEquals": {"aws:SourceAccount": "999999999999"}}})


def _deny_all_but_the_owner(document: dict) -> None:
    document["Statement"].append({"Sid": "OwnerOnly", "Effect": "Deny",
                                  "NotPrincipal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                                  "Action": "sns:*", "Resource": "*"})


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("edit, sid", [(_deny_publish_from_other_accounts, "OnlyAccount999"),
                                       (_deny_all_but_the_owner, "OwnerOnly")])
def test_topic_policy_that_denies_cloudwatch(mode, edit, sid, prod_runs, analyzer):
    run = changed(prod_runs[mode], f"{PREFIX}-security-policy", edit_policy("policy", edit))
    only_required(judge(run, analyzer), f"aws:sns/topicPolicy:TopicPolicy::{PREFIX}-security-policy",
                  f"SNS topic '{PREFIX}-security-topic-", "refuses CloudWatch alarms",
                  f"statement '{sid}' of topic policy '{PREFIX}-security-policy' denies it")


def _deny_publish_from_other_accounts_but_ours(document: dict) -> None:
    document["Statement"].append({"Sid": "OnlyThisAccount", "Effect": "Deny", "Principal": "*", "Action": "sns:Publish",
                                  "Resource": "*", "Condition": {"StringNotEquals": {"aws:SourceAccount": ACCOUNT}}})


def _deny_insecure_transport_for_everything(document: dict) -> None:
    statement(document, "DenyInsecureTransport")["Action"] = "sns:*"


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("edit", [_deny_publish_from_other_accounts_but_ours, _deny_insecure_transport_for_everything])
def test_topic_policy_denies_that_spare_cloudwatch_pass(mode, edit, prod_runs, analyzer):
    run = changed(prod_runs[mode], f"{PREFIX}-security-policy", edit_policy("policy", edit))
    assert judge(run, analyzer) == []


def _topic_key_without_data_keys(document: dict) -> None:
    statement(document, "CloudWatchAlarmsPublishEncrypted")["Action"] = ["kms:Decrypt"]


def _topic_key_for_alarms_elsewhere(document: dict) -> None:
    statement(document, "CloudWatchAlarmsPublishEncrypted")["Condition"]["ArnLike"]["aws:SourceArn"] = (
        f"arn:aws:cloudwatch:eu-west-1:{ACCOUNT}:alarm:*")


@pytest.mark.parametrize("mode", MODES)
def test_topic_key_without_data_keys_shuts_out_cloudwatch(mode, prod_runs, analyzer):
    run = changed(prod_runs[mode], f"{PREFIX}-security-key", edit_policy("policy", _topic_key_without_data_keys))
    only_required(judge(run, analyzer), f"aws:kms/key:Key::{PREFIX}-security-key",
                  f"KMS key '{PREFIX}-security-key' of SNS topic '{PREFIX}-security-topic-",
                  "does not let cloudwatch.amazonaws.com use it, so alarm notifications are dropped: kms:GenerateDataKey")


@pytest.mark.parametrize("mode", MODES)
def test_topic_key_for_alarms_of_another_region_fails_update_and_is_advisory_in_preview(mode, prod_runs, analyzer):
    """The alarms' region is unknown to a first preview, and the changed key names eu-west-1 where every other
    policy of the stack names us-east-1: undecided at preview (advisory), decided on update."""
    run = changed(prod_runs[mode], f"{PREFIX}-security-key", edit_policy("policy", _topic_key_for_alarms_elsewhere))
    violations = judge(run, analyzer)
    if mode == "update":
        only_required(violations, f"aws:kms/key:Key::{PREFIX}-security-key",
                      "does not let cloudwatch.amazonaws.com use it, so alarm notifications are dropped: kms:GenerateDataKey")
        return
    assert summary(violations) == [("required-detections", "advisory", "stack")]
    assert violations[0].message.startswith("can't run policy 'required-detections' from policy pack")
    assert (f"whether KMS key '{PREFIX}-security-key' of SNS topic '{PREFIX}-security-topic-" in violations[0].message
            and "for some of the accounts or regions the stack's policies name" in violations[0].message)


def _topic_key_for_this_account_only(document: dict) -> None:
    del statement(document, "CloudWatchAlarmsPublishEncrypted")["Condition"]["ArnLike"]


def _topic_key_data_keys_by_wildcard(document: dict) -> None:
    statement(document, "CloudWatchAlarmsPublishEncrypted")["Action"] = ["kms:Decrypt", "kms:GenerateDataKey*",
                                                                         "kms:DescribeKey"]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("edit", [_topic_key_for_this_account_only, _topic_key_data_keys_by_wildcard])
def test_topic_key_reworded_passes(mode, edit, prod_runs, analyzer):
    run = changed(prod_runs[mode], f"{PREFIX}-security-key", edit_policy("policy", edit))
    assert judge(run, analyzer) == []
