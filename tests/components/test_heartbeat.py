"""The heartbeat under mocks: a schedule calling kms:GenerateRandom as a role only it uses, a filter
on the trail's log group counting exactly those calls, an alarm when none arrived in the window."""

from __future__ import annotations

import json

import pytest

from tests.components.program_runs import (
    ALARM,
    FILTER,
    LOG_GROUP,
    MONITORING,
    PROJECT,
    ROLE,
    ROLE_POLICY,
    TOPIC,
    one,
    policy,
)
from trailguard import heartbeat
from trailguard.check.harness import MOCK_ACCOUNT, run_program
from trailguard.check.layout import ProjectLayout

LAYOUT = ProjectLayout.for_repository(PROJECT)
HEARTBEAT = "trailguard:heartbeat:Heartbeat"
SCHEDULE = "aws:scheduler/schedule:Schedule"


@pytest.fixture(scope="module", params=[False, True], ids=["update", "preview"])
def prod(request):
    return run_program(LAYOUT, "prod", preview=request.param)


def test_the_heartbeat_component_is_a_child_of_the_monitoring_and_parents_its_resources(prod):
    component = one(prod, HEARTBEAT)
    assert component.name == "trailguard-prod-heartbeat"
    assert prod.get(component.parent).type == MONITORING
    children = {r.type: r for r in prod.children(component.urn)}
    assert set(children) == {ROLE, ROLE_POLICY, SCHEDULE, FILTER, ALARM}


def test_the_schedule_calls_generate_random_as_the_heartbeat_role_every_interval(prod):
    schedule = one(prod, SCHEDULE)
    role = one(prod, ROLE, HEARTBEAT)
    assert schedule.inputs["name"] == "trailguard-prod-heartbeat"
    assert schedule.inputs["scheduleExpression"] == "rate(5 minutes)"
    assert schedule.inputs["flexibleTimeWindow"] == {"mode": "OFF"}
    assert schedule.inputs["state"] == "ENABLED"
    target = schedule.inputs["target"]
    assert target["arn"] == "arn:aws:scheduler:::aws-sdk:kms:generateRandom"
    assert json.loads(target["input"]) == {"NumberOfBytes": 1}
    assert schedule.property_dependencies["target"] == [role.urn]
    if not prod.preview:
        assert target["roleArn"] == f"arn:aws:iam::{MOCK_ACCOUNT}:role/trailguard-prod-heartbeat"


def test_the_role_trusts_only_scheduler_for_this_account_and_may_only_generate_random(prod):
    role = one(prod, ROLE, HEARTBEAT)
    assert role.inputs["name"] == "trailguard-prod-heartbeat"
    (trust,) = policy(role, "assumeRolePolicy")["Statement"]
    assert trust["Principal"] == {"Service": "scheduler.amazonaws.com"}
    assert trust["Action"] == "sts:AssumeRole"
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": MOCK_ACCOUNT}}
    (grant,) = policy(one(prod, ROLE_POLICY, HEARTBEAT))["Statement"]
    assert grant == {"Effect": "Allow", "Action": "kms:GenerateRandom", "Resource": "*"}


def test_the_filter_counts_the_heartbeat_role_s_calls_on_the_trail_log_group(prod):
    metric_filter = one(prod, FILTER, HEARTBEAT)
    log_group = one(prod, LOG_GROUP)
    assert metric_filter.inputs["pattern"] == heartbeat.pattern("trailguard-prod-heartbeat")
    assert metric_filter.inputs["logGroupName"] == log_group.inputs["name"]
    assert metric_filter.inputs["metricTransformation"] == {
        "name": "TrailguardHeartbeat", "namespace": "CISBenchmark", "value": "1", "unit": "Count"}
    assert metric_filter.protect


def test_the_alarm_fires_below_one_heartbeat_per_window_with_missing_data_breaching(prod):
    alarm = one(prod, ALARM, HEARTBEAT)
    inputs = alarm.inputs
    assert (inputs["metricName"], inputs["namespace"]) == ("TrailguardHeartbeat", "CISBenchmark")
    assert inputs["comparisonOperator"] == "LessThanThreshold" and inputs["threshold"] == 1
    assert inputs["treatMissingData"] == "breaching"
    assert (inputs["statistic"], inputs["period"], inputs["evaluationPeriods"]) == ("Sum", 1800, 1)
    assert inputs["alarmDescription"].startswith("no CloudTrail events have reached the log group for 30 minutes")
    security = [t for t in prod.of_type(TOPIC) if t.name == "trailguard-prod-security-topic"]
    assert alarm.property_dependencies["alarmActions"] == [security[0].urn]
    assert alarm.protect


def test_outputs_name_the_schedule_role_filter_and_alarm(prod):
    exported = prod.outputs["heartbeat"]
    assert exported["scheduleName"] == exported["filterName"] == exported["alarmName"] == "trailguard-prod-heartbeat"
    if not prod.preview:
        assert exported["roleArn"] == f"arn:aws:iam::{MOCK_ACCOUNT}:role/trailguard-prod-heartbeat"


def test_settings_reach_the_schedule_and_alarm_and_an_existing_trail_s_log_group_is_used():
    run = run_program(LAYOUT, "prod", config_overrides={
        "heartbeat": {"interval": 10, "window": 60, "topic": "oncall"},
        "trail": {"create": False, "existingLogGroupName": "aws-controltower/CloudTrailLogs"}})
    assert one(run, SCHEDULE).inputs["scheduleExpression"] == "rate(10 minutes)"
    alarm = one(run, ALARM, HEARTBEAT)
    assert alarm.inputs["period"] == 3600
    oncall = [t for t in run.of_type(TOPIC) if t.name == "trailguard-prod-oncall-topic"]
    assert alarm.property_dependencies["alarmActions"] == [oncall[0].urn]
    assert one(run, FILTER, HEARTBEAT).inputs["logGroupName"] == "aws-controltower/CloudTrailLogs"


def test_disabled_heartbeat_registers_nothing_and_exports_none():
    run = run_program(LAYOUT, "dev", config_overrides={"heartbeat": {"enabled": False}})
    assert not run.of_type(HEARTBEAT) and not run.of_type(SCHEDULE)
    assert run.outputs["heartbeat"] is None
