"""`trailguard check` end to end with click's CliRunner: prod, dev, JSON, preview and broken copies."""

from __future__ import annotations

import json
import sys

import pytest
import yaml
from click.testing import CliRunner

from tests.components.program_runs import PROJECT, copy_project
from trailguard.cli import EXIT_ERROR, EXIT_FAIL, EXIT_SUCCESS, main
from trailguard.config import load_stack_config, read_stack_config


def invoke(*args: str):
    return CliRunner().invoke(main, ["check", *args], catch_exceptions=False)


@pytest.mark.parametrize("stack", ["prod", "dev"])
def test_check_prints_the_tree_and_every_detection(stack):
    result = invoke("--stack", stack, "--project-dir", str(PROJECT))
    assert result.exit_code == EXIT_SUCCESS, result.output
    config = load_stack_config(read_stack_config(PROJECT, stack))
    text = result.output
    assert f"Stack {stack}: config valid" in text and f"{len(config.detections)} detections" in text
    assert f"└── trailguard-{stack}  trailguard:monitoring:SecurityMonitoring" in text
    assert f"trailguard-{stack}-audit-trail  aws:cloudtrail/trail:Trail" in text
    table = text.split("\nDetections\n", 1)[1].strip().split("\n\n", 1)[0].splitlines()  # up to the next section
    assert table[0].split() == ["id", "profile", "metric", "alarm", "condition", "topic"]
    rows = {line.split()[0]: line.split() for line in table[1:]}
    assert list(rows) == [d.id for d in config.detections]
    for detection in config.detections:
        row = rows[detection.id]
        assert row[2] == f"{detection.namespace}/{detection.metric}"
        assert row[3] == f"trailguard-{stack}-{detection.id}"
        assert row[-1] == detection.topic


def test_protect_shows_in_the_tree_for_prod_only():
    prod = invoke("--stack", "prod", "--project-dir", str(PROJECT)).output
    dev = invoke("--stack", "dev", "--project-dir", str(PROJECT)).output
    assert "trailguard-prod-root-usage-alarm  aws:cloudwatch/metricAlarm:MetricAlarm  [protected]" in prod
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
                    "topic": "oncall", "custom": False}
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
