"""`realtime-detections` on the real program: the dev stack with real-time rules on (components/
realtime.py) passes a pack that requires them, and the changes a tired engineer or an insider
would make to the stack file are each caught, through `trailguard check` (the program under
mocks, the pack through its analyzer servicer), in update and preview."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from tests.components.program_runs import PROJECT, with_realtime
from trailguard.cli import main

REQUIRED = ["root-usage", "iam-policy-changes"]
PACK = {"realtime-detections": {"requireRealtime": {"detections": REQUIRED, "regions": ["eu-west-1", "us-east-1"]}}}


def project_with(tmp_path: Path, **config) -> Path:
    project = with_realtime(tmp_path)
    shutil.copytree(PROJECT / "policies", project / "policies", ignore=shutil.ignore_patterns("__pycache__", "venv"))
    stack_file = project / "Pulumi.dev.yaml"
    settings = yaml.safe_load(stack_file.read_text())
    settings["config"].update(config)
    stack_file.write_text(yaml.safe_dump(settings))
    (project / "pack.json").write_text(json.dumps(PACK))
    return project


def realtime_violations(project: Path, *mode: str) -> tuple[int, list[dict]]:
    result = CliRunner().invoke(main, ["check", "--stack", "dev", "--project-dir", str(project), "--policy-config",
                                       str(project / "pack.json"), "--json", *mode], catch_exceptions=False)
    data = json.loads(result.stdout)
    return result.exit_code, [v for v in data["policies"]["violations"] if v["policy"] == "realtime-detections"]


@pytest.mark.parametrize("mode", [(), ("--preview",)], ids=["update", "preview"])
def test_the_program_s_real_time_rules_satisfy_the_pack(tmp_path, mode):
    code, violations = realtime_violations(project_with(tmp_path), *mode)
    assert violations == [] and code == 0


def test_a_detection_left_out_of_real_time_is_reported_in_every_required_region(tmp_path):
    project = project_with(tmp_path, **{"trailguard:overrides": {"root-usage": {"realtime": False}}})
    code, violations = realtime_violations(project)
    assert code != 0
    messages = " ".join(v["message"] for v in violations if v["level"] == "mandatory")
    assert "root-usage" in messages and "us-east-1" in messages and "eu-west-1" in messages
    assert "iam-policy-changes" not in messages


def test_a_global_service_rule_kept_only_at_home_is_reported_for_us_east_1(tmp_path):
    """IAM's events arrive in us-east-1 only: a rule for them in eu-west-1 alone never fires."""
    project = project_with(tmp_path, **{"trailguard:realtime": {"enabled": True, "regions": ["eu-west-1"]}})
    code, violations = realtime_violations(project)
    assert code != 0
    mandatory = [v["message"] for v in violations if v["level"] == "mandatory"]
    assert mandatory and all("us-east-1" in m for m in mandatory)
    assert {d for d in REQUIRED if any(d in m for m in mandatory)} == set(REQUIRED)


def test_an_exclusion_narrows_the_rule_and_the_pack_shows_what_it_misses(tmp_path):
    """An insider excluding their own role from iam-policy-changes narrows the alarm and the rule
    alike; without an allowance for it the pack refuses both."""
    exclude = [{"principal": "arn:aws:iam::123456789012:role/insider"}]
    project = project_with(tmp_path, **{"trailguard:overrides": {"iam-policy-changes": {"exclude": exclude}}})
    code, violations = realtime_violations(project)
    assert code != 0
    mandatory = [v["message"] for v in violations if v["level"] == "mandatory"]
    assert mandatory and all("iam-policy-changes" in m for m in mandatory)
    assert any("insider" in m for m in mandatory)
