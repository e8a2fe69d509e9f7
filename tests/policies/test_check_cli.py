"""`trailguard check` runs the policy pack on the mocked resources: each violation printed with its
level, exit 1 on a mandatory one, `--policy-config` read and validated like the CLI's
`--policy-pack-config`."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from tests.check.rich_output import violation_rows
from tests.components.program_runs import PROJECT, copy_project
from trailguard.cli import EXIT_FAIL, EXIT_SUCCESS, main


def invoke(*args: str):
    return CliRunner().invoke(main, ["check", *args], catch_exceptions=False)


@pytest.mark.parametrize("mode", [[], ["--preview"]])
def test_prod_passes_the_pack_with_its_config(mode):
    result = invoke("--stack", "prod", "--project-dir", str(PROJECT), *mode)
    assert result.exit_code == EXIT_SUCCESS, result.output
    assert (f"Policy pack {PROJECT / 'policies'} (config {PROJECT / 'policies' / 'config' / 'prod.json'}): "
            "0 mandatory, 0 advisory violation(s)") in result.output


def test_dev_without_protect_gets_advisory_violations_and_exit_0():
    result = invoke("--stack", "dev", "--project-dir", str(PROJECT))
    assert result.exit_code == EXIT_SUCCESS, result.output
    assert "(schema defaults): 0 mandatory, 10 advisory violation(s)" in result.output
    rows = {resource: (level, policy, message) for level, policy, resource, message in violation_rows(result.output)}
    assert len(rows) == 10
    level, policy, message = rows["aws:cloudwatch/metricAlarm:MetricAlarm::trailguard-dev-root-usage-alarm"]
    assert (level, policy) == ("advisory", "detections-protected")
    assert message.startswith(
        "alarm 'trailguard-dev-root-usage-alarm' of required detection 'root-usage' (Root user activity) is not protected")


def test_policy_config_raises_levels_and_mandatory_exits_1(tmp_path):
    config = tmp_path / "strict.json"
    config.write_text(json.dumps({"detections-protected": "mandatory"}))
    result = invoke("--stack", "dev", "--project-dir", str(PROJECT), "--policy-config", str(config))
    assert result.exit_code == EXIT_FAIL
    assert f"(config {config}): 10 mandatory, 0 advisory violation(s)" in result.output
    rows = violation_rows(result.output)
    assert len(rows) == 10 and {(level, policy) for level, policy, _, _ in rows} == {("mandatory", "detections-protected")}


@pytest.fixture
def project_copy(tmp_path: Path) -> Path:
    copy_project(tmp_path)
    shutil.copytree(PROJECT / "policies", tmp_path / "policies", ignore=shutil.ignore_patterns("__pycache__", "venv"))
    return tmp_path


def test_a_stack_change_that_breaks_a_required_alarm_fails_the_check(project_copy):
    stack_file = project_copy / "Pulumi.prod.yaml"
    stack = yaml.safe_load(stack_file.read_text())
    stack["config"]["trailguard:overrides"]["vpc-changes"] = {"threshold": 100}
    stack_file.write_text(yaml.safe_dump(stack))
    result = invoke("--stack", "prod", "--project-dir", str(project_copy))
    assert result.exit_code == EXIT_FAIL
    (level, policy, resource, message), = violation_rows(result.output)
    assert (level, policy, resource) == (
        "mandatory", "required-detections", "aws:cloudwatch/metricAlarm:MetricAlarm::trailguard-prod-vpc-changes-alarm")
    assert message.startswith("required detection 'vpc-changes' (VPC changes): alarm 'trailguard-prod-vpc-changes-alarm' "
                              "does not fire on a single matching event: its threshold 100 is above the allowed maximum 1")


def test_json_output_carries_the_policy_verdict(project_copy):
    stack_file = project_copy / "Pulumi.prod.yaml"
    stack = yaml.safe_load(stack_file.read_text())
    stack["config"]["trailguard:detections"] = ["seed"]
    stack_file.write_text(yaml.safe_dump(stack))
    result = invoke("--stack", "prod", "--project-dir", str(project_copy), "--json")
    assert result.exit_code == EXIT_FAIL
    verdict = json.loads(result.output)["policies"]
    assert verdict["config"] == str(project_copy / "policies" / "config" / "prod.json")
    assert [(v["policy"], v["level"], v["urn"]) for v in verdict["violations"]] == [
        ("required-detections", "mandatory", None)]
    assert verdict["violations"][0]["message"].startswith(
        "required detections 'unauthorized-api-calls', 'console-signin-without-mfa', 'cloudtrail-config-changes', ")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{", "not JSON: Expecting property name enclosed in double quotes at line 1 column 2"),
        ('["mandatory"]', "the policy config must be a JSON object of policy names, got list"),
        ('{"audit-log-retention": {"minimumRetentionDays": -1}}',
         "audit-log-retention.minimumRetentionDays: -1 is below the minimum 1"),
        ('{"protect": "mandatory"}', "unknown policy 'protect'; allowed: all, required-detections, "),
    ],
)
def test_bad_policy_config_file_is_an_error_naming_file_and_key(tmp_path, content, message):
    config = tmp_path / "pack.json"
    config.write_text(content)
    result = CliRunner().invoke(main, ["check", "--stack", "prod", "--project-dir", str(PROJECT),
                                       "--policy-config", str(config)])
    assert result.exit_code == EXIT_FAIL
    assert f"error: {config}: {message}" in result.output


def test_missing_policy_config_file_is_an_error(tmp_path):
    missing = tmp_path / "absent.json"
    result = CliRunner().invoke(main, ["check", "--stack", "prod", "--project-dir", str(PROJECT),
                                       "--policy-config", str(missing)])
    assert result.exit_code == EXIT_FAIL
    assert f"error: {missing}: cannot read the policy config: No such file or directory" in result.output


def test_a_minimal_stack_meets_its_own_pack_but_for_a_subscription(tmp_path):
    """Only aws:region set: the program's default detections cover the pack's default required set,
    so the one thing the pack asks for is someone to tell (the default topic has no subscription)."""
    from trailguard.check.layout import ProjectLayout
    from trailguard.check.policy_pack import check_policies
    from trailguard.check.stack import check_stack
    from trailguard.config.validate import DEFAULTS
    from trailguard_policies.settings import SEED_DETECTIONS

    project = copy_project(tmp_path)
    (project / "Pulumi.minimal.yaml").write_text("config:\n  aws:region: us-east-1\n")
    repository = ProjectLayout.for_repository(PROJECT)
    layout = ProjectLayout(project, repository.program_modules, repository.pack_dir, repository.pack_package)
    result = check_stack(layout, "minimal")
    enabled = {d.id for d in result.config.detections}
    assert set(SEED_DETECTIONS) <= enabled and DEFAULTS["detections"][0] == "seed"
    report = check_policies(result.run, layout, "minimal")
    assert report is not None
    mandatory = [v.message for v in report.violations if v.level == "mandatory"]
    assert mandatory and all("which no subscription of this stack reads: nobody is told" in m for m in mandatory)
