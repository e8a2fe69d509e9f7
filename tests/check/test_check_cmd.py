"""`trailguard check` end to end with click's CliRunner: prod, dev, JSON, preview and broken copies."""

from __future__ import annotations

import io
import json
import shutil
import sys

import pytest
import yaml
from click.testing import CliRunner
from rich.console import Console

from tests.check.rich_output import joined, table_rows
from tests.components.program_runs import PROJECT, copy_project
from trailguard.check.layout import ProjectLayout
from trailguard.check.policy_pack import check_policies
from trailguard.check.report import condition, detection_rows, render_check, render_policy_report
from trailguard.check.stack import check_stack
from trailguard.cli import main
from trailguard.cli.errors import EXIT_ERROR, EXIT_FAIL, EXIT_SUCCESS
from trailguard.config import load_stack_config, load_stack_file_config, read_stack_config


def invoke(*args: str):
    return CliRunner().invoke(main, ["check", *args], catch_exceptions=False)


@pytest.mark.parametrize("stack", ["prod", "dev"])
def test_check_prints_the_tree_and_every_detection(stack):
    result = invoke("--stack", stack, "--project-dir", str(PROJECT))
    assert result.exit_code == EXIT_SUCCESS, result.output
    config = load_stack_file_config(PROJECT, stack)
    text = result.output
    assert f"Stack {stack}: config valid" in text and f"{len(config.detections)} detections" in text
    assert f"└── trailguard-{stack}  trailguard:monitoring:SecurityMonitoring" in text
    assert f"trailguard-{stack}-audit-trail  aws:cloudtrail/trail:Trail" in text
    header, rows = table_rows(text, "Detections")
    assert header == ["id", "profile", "metric", "alarm", "condition", "topic"]
    assert all(len(cell) == 1 for row in rows for cell in row)  # a pipe is wide enough: one line per row
    by_id = {row[0][0]: [cell[0] for cell in row] for row in rows}
    assert list(by_id) == [d.id for d in config.detections]
    for detection in config.detections:
        row = by_id[detection.id]
        assert row[2] == f"{detection.namespace}/{detection.metric}"
        assert row[3] == f"trailguard-{stack}-{detection.id}"
        assert row[4] == condition(detection)
        assert row[-1] == detection.topic


@pytest.mark.parametrize("stack", ["prod", "dev"])
def test_at_80_columns_nothing_is_cut(stack):
    """A narrow terminal folds long cells onto more lines; ids stay whole and no cell is cropped."""
    layout = ProjectLayout.for_repository(PROJECT)
    check = check_stack(layout, stack)
    policies = check_policies(check.run, layout, stack)
    console = Console(width=80, record=True, file=io.StringIO(), highlight=False)
    console.print(render_check(check))
    console.print(render_policy_report(policies))
    text = console.export_text()
    assert "…" not in text and max(map(len, text.splitlines())) <= 80
    for resource in check.run.resources:
        if resource.custom:  # a resource's name is whole on its tree line, its type follows (folded if long)
            line = next(line for line in text.splitlines() if f"── {resource.name}" in line)
            assert line.split("── ", 1)[1].split()[0] == resource.name
    rows = detection_rows(check)
    header, table = table_rows(text, "Detections")
    assert [row[0] for row in table] == [[row["id"]] for row in rows]  # ids never wrap
    for row, printed in zip(rows, table):
        expected = [row["profile"], f"{row['namespace']}/{row['metric']}", row["alarm"], row["condition"], row["topic"]]
        assert [joined(cell) for cell in printed[1:]] == [value.replace(" ", "") for value in expected]
    if stack == "prod":  # the pack passes prod: its verdict line, and no table
        assert not policies.violations and "Policy violations" not in text
        return
    _, violations = table_rows(text, "Policy violations")
    assert len(violations) == len(policies.violations) == 10
    expected = sorted(policies.violations, key=lambda v: (v.level != "mandatory", v.policy, v.urn))
    for violation, printed in zip(expected, violations):
        assert [joined(cell) for cell in printed] == [
            violation.level, violation.policy, (violation.resource + violation.message).replace(" ", "")]


def test_protect_shows_in_the_tree_for_prod_only():
    prod = invoke("--stack", "prod", "--project-dir", str(PROJECT)).output
    dev = invoke("--stack", "dev", "--project-dir", str(PROJECT)).output
    assert "├── trailguard-prod-root-usage-alarm  aws:cloudwatch/metricAlarm:MetricAlarm  [protected]" in prod
    assert "└── trailguard-prod-root-usage-filter  aws:cloudwatch/logMetricFilter:LogMetricFilter  [protected]" in prod
    assert "[protected]" not in dev


def test_json_output_is_one_document_with_resources_detections_and_outputs():
    result = invoke("--stack", "prod", "--project-dir", str(PROJECT), "--json")
    assert result.exit_code == EXIT_SUCCESS
    data = json.loads(result.output)
    assert data["valid"] is True and data["stack"] == "prod" and data["mode"] == "update"
    assert data["profile"] == "securityhub"
    root = next(d for d in data["detections"] if d["id"] == "root-usage")
    assert root == {"id": "root-usage", "severity": "critical", "profile": "securityhub",
                    "namespace": "CISBenchmark", "metric": "RootAccountUsage",
                    "alarm": "trailguard-prod-root-usage", "condition": "Sum >= 1 in 1 of 1 x 300s",
                    "topic": "oncall", "custom": False, "exclusions": [],
                    "pattern": load_stack_config(read_stack_config(PROJECT, "prod")).detection("root-usage").pattern}
    types = {r["type"] for r in data["resources"]}
    assert {"aws:cloudtrail/trail:Trail", "aws:cloudwatch/metricAlarm:MetricAlarm"} <= types
    assert data["outputs"]["trailArn"].startswith("arn:aws:cloudtrail:us-east-1:")


def test_preview_leaves_computed_values_unknown():
    data = json.loads(invoke("--stack", "dev", "--project-dir", str(PROJECT), "--json", "--preview").output)
    assert data["mode"] == "preview"
    assert data["outputs"]["trailArn"] == "<computed>"
    assert data["outputs"]["logGroupName"] == "/aws/cloudtrail/trailguard-dev-audit"


def test_default_project_dir_is_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(copy_project(tmp_path))
    result = invoke("--stack", "dev")
    assert result.exit_code == EXIT_SUCCESS and "Stack dev: config valid" in result.output


def break_stack(project, stack: str, key: str, value) -> None:
    path = project / f"Pulumi.{stack}.yaml"
    document = yaml.safe_load(path.read_text())
    document["config"][key] = value
    path.write_text(yaml.safe_dump(document))


def test_broken_copy_exits_1_with_the_message_naming_the_key(tmp_path):
    project = copy_project(tmp_path)
    break_stack(project, "prod", "trailguard:overrides", {"root-usage": {"period": 45}})
    result = CliRunner().invoke(main, ["check", "--stack", "prod", "--project-dir", str(project)])
    assert result.exit_code == EXIT_FAIL
    assert "error: trailguard:overrides.root-usage.period: CloudWatch refuses a period of 45 s" in result.output
    assert "Resources" not in result.output


def test_broken_copy_with_json_reports_the_error_as_data(tmp_path):
    project = copy_project(tmp_path)
    break_stack(project, "dev", "trailguard:detections", ["seed", "root-usge"])
    result = CliRunner().invoke(
        main, ["check", "--stack", "dev", "--project-dir", str(project), "--json"])
    assert result.exit_code == EXIT_FAIL
    data = json.loads(result.stdout)
    assert data["valid"] is False and data["error"]["key"] == "trailguard:detections"
    assert "did you mean 'root-usage'" in data["error"]["message"]
    assert "error: trailguard:detections" in result.stderr


def test_secure_endpoint_is_a_placeholder_offline(tmp_path):
    project = copy_project(tmp_path)
    break_stack(project, "dev", "trailguard:notifications", {"topics": {"dev-alerts": {"subscriptions": [
        {"protocol": "https", "endpoint": {"secure": "v1:ciphertext-we-cannot-decrypt"}}]}}})
    result = invoke("--stack", "dev", "--project-dir", str(project))
    assert result.exit_code == EXIT_SUCCESS, result.output
    assert "trailguard-dev-dev-alerts-https-0  aws:sns/topicSubscription:TopicSubscription" in result.output


def test_unknown_stack_exits_1_listing_the_stacks(tmp_path):
    result = CliRunner().invoke(main, ["check", "--stack", "staging", "--project-dir", str(PROJECT)])
    assert result.exit_code == EXIT_FAIL
    assert "Pulumi.staging.yaml: no such stack file; stacks here: dev, prod" in result.output


def test_directory_without_a_project_exits_1_naming_the_file(tmp_path):
    result = CliRunner().invoke(main, ["check", "--stack", "dev", "--project-dir", str(tmp_path)])
    assert result.exit_code == EXIT_FAIL
    assert "Pulumi.yaml: file not found" in result.output and "--project-dir" in result.output


def test_missing_pulumi_sdk_exits_2_with_the_install_hint(monkeypatch):
    monkeypatch.setitem(sys.modules, "trailguard.check.stack", None)  # import fails as without pulumi
    result = CliRunner().invoke(main, ["check", "--stack", "dev", "--project-dir", str(PROJECT)])
    assert result.exit_code == EXIT_ERROR
    assert "needs the Pulumi SDK" in result.output and "pip install 'trailguard[pulumi]'" in result.output


def test_the_offline_mocks_refuse_an_invoke_they_cannot_answer():
    """A data source the program starts to use without an offline answer stops the check with its
    token named, rather than handing the program an empty result."""
    from pulumi.runtime import MockCallArgs

    from trailguard.check.harness import MOCK_ACCOUNT, _ProgramMocks

    mocks = _ProgramMocks("eu-west-1", preview=False)
    known = mocks.call(MockCallArgs("aws:index/getCallerIdentity:getCallerIdentity", {}, ""))
    assert known["accountId"] == MOCK_ACCOUNT
    with pytest.raises(NotImplementedError, match="aws:ec2/getVpc:getVpc.*_ProgramMocks.call"):
        mocks.call(MockCallArgs("aws:ec2/getVpc:getVpc", {}, ""))


def test_check_shows_each_detections_exclusions_and_the_pattern_it_deploys(tmp_path):
    project = copy_project(tmp_path)
    stack_file = project / "Pulumi.dev.yaml"
    settings = yaml.safe_load(stack_file.read_text())
    excludes = [{"principal": "arn:aws:iam::111122223333:role/deployer"}, {"sourceIp": "198.51.100.0/24"}]
    settings["config"].setdefault("trailguard:overrides", {})["iam-policy-changes"] = {"exclude": excludes}
    stack_file.write_text(yaml.safe_dump(settings))
    config = load_stack_file_config(project, "dev")
    detection = config.detection("iam-policy-changes")
    result = invoke("--stack", "dev", "--project-dir", str(project))
    assert result.exit_code in (EXIT_SUCCESS, EXIT_FAIL), result.output
    header, rows = table_rows(result.output, "Exclusions (overrides.<id>.exclude: these events are not counted)")
    assert header == ["id", "excludes", "deployed pattern"]
    assert [row[0] for row in rows] == [["iam-policy-changes"]]
    assert joined(rows[0][1]) == ("principal arn:aws:iam::111122223333:role/deployer (its sessions: "
                                  "arn:aws:sts::111122223333:assumed-role/deployer/*)"
                                  "sourceIp 198.51.100.0/24 (as 198.51.100.*)").replace(" ", "")
    assert joined(rows[0][2]) == detection.pattern.replace(" ", "")
    data = json.loads(invoke("--stack", "dev", "--project-dir", str(project), "--json").output)
    row = next(d for d in data["detections"] if d["id"] == "iam-policy-changes")
    assert row["pattern"] == detection.pattern
    assert [(e["kind"], e["value"]) for e in row["exclusions"]] == [("principal", excludes[0]["principal"]),
                                                                   ("sourceIp", "198.51.100.0/24")]
    assert row["exclusions"][1]["excludes"] == '{ $.sourceIPAddress = "198.51.100.*" }'


def test_without_exclusions_check_prints_no_exclusions_table():
    assert "Exclusions" not in invoke("--stack", "dev", "--project-dir", str(PROJECT)).output


BROKEN_DEV = """\
config:
  aws:region: eu-west-1
  trailguard:detections:
    - seed
  trailguard:protect: "false"
  trailguard:overrides:
    root-usage:
      period: 45
    iam-policy-changes:
      threshold: .nan
  trailgaurd:tags:
    Team: sec
  trailguard:notifications:
    topics:
      dev-alerts:
        subscriptions:
          - protocol: email
            endpoint: |
              dev-team@example.com
"""


def test_every_config_problem_is_reported_in_one_run_with_its_stack_file_line(tmp_path):
    project = copy_project(tmp_path)
    (project / "Pulumi.dev.yaml").write_text(BROKEN_DEV)
    result = CliRunner().invoke(main, ["check", "--stack", "dev", "--project-dir", str(project)])
    assert result.exit_code == EXIT_FAIL
    assert "Traceback" not in result.output and "Resources" not in result.output
    assert "error: 4 problems in the stack config:" in result.output
    for key, line, fragment in [
        ("trailgaurd:tags", 11, "did you mean 'trailguard:tags'"),
        ("trailguard:overrides.root-usage.period", 8, "CloudWatch refuses a period of 45 s"),
        ("trailguard:overrides.iam-policy-changes.threshold", 10, "must be a finite number >= 0"),
        ("trailguard:notifications.topics.dev-alerts.subscriptions[0].endpoint", 18, "is not an email address"),
    ]:
        (printed,) = [text for text in result.output.splitlines() if text.strip().startswith(f"{key}:")]
        assert fragment in printed and printed.endswith(f"(Pulumi.dev.yaml line {line})"), printed
    assert "trailguard:protect" not in result.output  # "false", as `pulumi config set` writes it, is valid


def test_json_lists_every_problem_with_its_location(tmp_path):
    project = copy_project(tmp_path)
    (project / "Pulumi.dev.yaml").write_text(BROKEN_DEV)
    result = CliRunner().invoke(main, ["check", "--stack", "dev", "--project-dir", str(project), "--json"])
    assert result.exit_code == EXIT_FAIL
    data = json.loads(result.stdout)
    assert data["valid"] is False and data["error"] == data["errors"][0]
    assert {e["key"]: e["location"] for e in data["errors"]} == {
        "trailgaurd:tags": "Pulumi.dev.yaml line 11",
        "trailguard:overrides.root-usage.period": "Pulumi.dev.yaml line 8",
        "trailguard:overrides.iam-policy-changes.threshold": "Pulumi.dev.yaml line 10",
        "trailguard:notifications.topics.dev-alerts.subscriptions[0].endpoint": "Pulumi.dev.yaml line 18",
    }


def test_warnings_are_printed_and_do_not_fail_the_check(tmp_path):
    project = copy_project(tmp_path)
    break_stack(project, "dev", "trailguard:overrides", {"console-auth-failures": {"threshold": 3}})
    result = invoke("--stack", "dev", "--project-dir", str(project))
    assert result.exit_code == EXIT_SUCCESS, result.output
    assert "Stack dev: config valid with 1 warning(s)" in result.output
    assert ("warning: trailguard:overrides.console-auth-failures: has no effect: 'console-auth-failures' is not "
            "enabled") in " ".join(result.output.split())
    data = json.loads(invoke("--stack", "dev", "--project-dir", str(project), "--json").output)
    assert [w["key"] for w in data["warnings"]] == ["trailguard:overrides.console-auth-failures"]


def test_a_stack_name_that_makes_a_refused_aws_name_fails_the_check(tmp_path):
    project = copy_project(tmp_path)
    (project / "Pulumi.edge-.yaml").write_text((project / "Pulumi.dev.yaml").read_text())
    result = CliRunner().invoke(main, ["check", "--stack", "edge-", "--project-dir", str(project)])
    assert result.exit_code == EXIT_FAIL
    assert "error: stack name 'edge-': makes the CloudTrail trail name 'trailguard-edge--audit'" in result.output


def test_check_shows_the_heartbeat_in_text_and_json():
    text = invoke("--stack", "prod", "--project-dir", str(PROJECT)).output
    assert ("Heartbeat: schedule trailguard-prod-heartbeat calls kms:GenerateRandom every 5 min as role "
            "trailguard-prod-heartbeat") in " ".join(text.split())
    data = json.loads(invoke("--stack", "prod", "--project-dir", str(PROJECT), "--json").output)
    assert data["heartbeat"]["intervalMinutes"] == 5 and data["heartbeat"]["windowMinutes"] == 30
    assert data["heartbeat"]["topic"] == "security" and data["heartbeat"]["alarm"] == "trailguard-prod-heartbeat"
    assert data["outputs"]["heartbeat"]["scheduleName"] == "trailguard-prod-heartbeat"


def test_a_stack_on_an_existing_log_group_and_topic_is_told_what_the_pack_needs(tmp_path):
    """The hint's snippet, used as the pack config, is exactly what makes the stack pass."""
    project = copy_project(tmp_path)
    shutil.copytree(PROJECT / "policies", project / "policies", ignore=shutil.ignore_patterns("__pycache__", "venv"))
    (project / "Pulumi.ext.yaml").write_text(yaml.safe_dump({"config": {
        "aws:region": "us-east-1",
        "trailguard:trail": {"create": False, "existingLogGroupName": "/org/cloudtrail"},
        "trailguard:notifications": {"topics": {"org": {"arn": "arn:aws:sns:us-east-1:111122223333:org-security"}},
                                     "defaultTopic": "org"}}}))
    result = invoke("--stack", "ext", "--project-dir", str(project))
    assert result.exit_code == EXIT_FAIL
    hint = " ".join(result.output[result.output.index("hint: this stack reads an existing log group"):].split())
    snippet = json.loads(hint[hint.index('{"required-detections"'):])
    assert snippet == {"required-detections": {"externalLogGroups": ["/org/cloudtrail"],
                                               "externalTopicArns": ["arn:aws:sns:us-east-1:111122223333:org-security"]}}
    (project / "pack.json").write_text(json.dumps(snippet))
    passed = invoke("--stack", "ext", "--project-dir", str(project), "--policy-config", str(project / "pack.json"))
    assert passed.exit_code == EXIT_SUCCESS, passed.output
    assert "hint:" not in passed.output
