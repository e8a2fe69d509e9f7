"""Every AWS name the program derives (trailguard.config.names) is the name it registers, and a stack
name or custom id that would make AWS refuse one is refused first, naming what to change."""

from __future__ import annotations

import shutil

import pytest

from tests.components.program_runs import (ALARM, BUCKET, FILTER, LOG_GROUP, PROJECT, ROLE, TOPIC, TRAIL, copy_project,
                                          with_realtime)
from tests.config.bad_inputs import custom
from trailguard.check.harness import run_program
from trailguard.check.layout import ProjectLayout
from trailguard.config import ConfigError, load_stack_config, load_stack_file_config, read_stack_config
from trailguard.config.names import AUTONAME_SUFFIX, derived_names

LAYOUT = ProjectLayout.for_repository(PROJECT)


@pytest.mark.parametrize(("stack", "fragments"), [
    pytest.param("a--b", ["CloudTrail trail name 'trailguard-a--b-audit'", "no two of . _ - side by side"],
                 id="adjacent-dashes-in-the-trail-name"),
    pytest.param("edge-", ["CloudTrail trail name 'trailguard-edge--audit'"], id="trailing-dash"),
    pytest.param("Prod_EU", ["S3 bucket name 'trailguard-prod_eu-audit-bucket-<7 random>'", "a-z 0-9 . -"],
                 id="underscore-in-the-bucket-name"),
    pytest.param("s" * 26, ["IAM role name", "(65 characters)", "1-64", "at most 25 characters"],
                 id="role-name-too-long"),
    pytest.param("prod.eu", ["SNS topic name 'trailguard-prod.eu-security-alerts-topic-<7 random>'",
                             "A-Z a-z 0-9 _ -"], id="dot-in-the-topic-name"),
])
def test_a_stack_name_aws_would_refuse_in_a_derived_name_is_refused(stack, fragments):
    with pytest.raises(ConfigError) as raised:
        load_stack_config({}, stack=stack)
    assert raised.value.key == f"stack name {stack!r}"
    assert "pulumi stack rename" in raised.value.message
    for fragment in fragments:
        assert fragment in str(raised.value)


def test_the_longest_stack_name_said_to_fit_does_fit():
    load_stack_config({}, stack="s" * 25)


def test_a_custom_id_too_long_for_an_alarm_name_names_the_id_and_the_longest_that_fits():
    long_id = "-".join(["spike"] * 45)  # 269 characters, kebab-case: the catalogue's rules accept it
    with pytest.raises(ConfigError) as raised:
        load_stack_config({"customDetections": [custom(long_id)]}, stack="prod")
    keys = {key: message for key, message in raised.value.errors}
    assert list(keys) == ["trailguard:customDetections[0].id"]
    message = keys["trailguard:customDetections[0].id"]
    assert f"CloudWatch alarm name 'trailguard-prod-{long_id}' (285 characters)" in message
    assert "1-255 characters" in message and "at most 239 characters (with stack 'prod')" in message
    load_stack_config({"customDetections": [custom("s" * 239)]}, stack="prod")


@pytest.mark.parametrize("stack", ["prod", "dev", "dev-realtime"])
def test_the_names_derived_are_the_names_the_program_registers(stack, tmp_path):
    project = PROJECT
    if stack == "dev-realtime":
        project, stack = with_realtime(tmp_path), "dev"
    config = load_stack_file_config(project, stack)
    derived = {(d.resource, d.name) for d in derived_names(config, stack)}
    run = run_program(ProjectLayout.for_repository(project), stack)
    (trail,) = run.of_type(TRAIL)
    (log_group,) = run.of_type(LOG_GROUP)
    registered = {("CloudTrail trail", trail.inputs["name"]), ("log group", log_group.inputs["name"])}
    registered |= {("metric filter", f.inputs["name"]) for f in run.of_type(FILTER)}
    registered |= {("CloudWatch alarm", a.inputs["name"]) for a in run.of_type(ALARM)}
    # auto-named: Pulumi appends "-" and 7 random characters to the logical name (S3 lower-cases it)
    registered |= {("S3 bucket", (b.name + AUTONAME_SUFFIX).lower()) for b in run.of_type(BUCKET)}
    registered |= {("IAM role", r.name + AUTONAME_SUFFIX) for r in run.of_type(ROLE) if "name" not in r.inputs}
    named_roles = {r.inputs["name"] for r in run.of_type(ROLE) if "name" in r.inputs}
    registered |= {("real-time forwarding IAM role", name) for name in named_roles if name.endswith("-realtime-forward")}
    registered |= {("heartbeat IAM role", name) for name in named_roles if not name.endswith("-realtime-forward")}
    registered |= {("EventBridge Scheduler schedule", s.inputs["name"])
                   for s in run.of_type("aws:scheduler/schedule:Schedule")}
    registered |= {("SNS topic", t.name + AUTONAME_SUFFIX) for t in run.of_type(TOPIC)}
    registered |= {("EventBridge rule", r.inputs["name"]) for r in run.of_type("aws:cloudwatch/eventRule:EventRule")}
    assert derived == registered


def test_the_program_refuses_a_stack_name_that_makes_a_refused_name_and_registers_nothing(tmp_path):
    project = copy_project(tmp_path)
    shutil.copy(project / "Pulumi.dev.yaml", project / "Pulumi.a--b.yaml")
    run = run_program(ProjectLayout.for_repository(project), "a--b", raise_errors=False)
    assert isinstance(run.error, ConfigError) and run.error.key == "stack name 'a--b'"
    assert "CloudTrail trail name 'trailguard-a--b-audit'" in str(run.error)
    assert run.resources == []


def test_an_existing_trail_derives_no_trail_names():
    existing = {"trail": {"create": False, "existingLogGroupName": "org/trail"}}
    config = load_stack_config(existing, stack="a--b")  # the trail name is never built
    assert {d.resource for d in derived_names(config, "a--b")} == {"SNS topic", "metric filter", "CloudWatch alarm",
                                                                 "EventBridge Scheduler schedule", "heartbeat IAM role"}


def test_a_lambda_subscription_statement_id_is_derived_and_checked():
    topics = {"defaultTopic": "t", "topics": {"t": {"subscriptions": [
        {"protocol": "lambda", "endpoint": "arn:aws:lambda:eu-west-1:111122223333:function:notify"}]}}}
    config = load_stack_config({"notifications": topics}, stack="prod")
    (permission,) = [d for d in derived_names(config, "prod") if d.resource == "Lambda permission statement id"]
    assert permission.name == "trailguard-prod-t-lambda-0-invoke" + AUTONAME_SUFFIX
    with pytest.raises(ConfigError, match="Lambda permission statement id"):
        load_stack_config({"notifications": topics | {"topics": {"t" * 64: topics["topics"]["t"]},
                                                      "defaultTopic": "t" * 64}}, stack="s" * 20)
