"""The two GitHub Actions linters over `.github/workflows/`, as CI runs them: zizmor (security:
actions pinned to commits, no token left in the checkout, ...) and actionlint (syntax,
expressions, job graph). Both come from requirements-dev.txt; both must report nothing.

Each also runs on a fixture that is wrong on purpose, so a linter that silently checks nothing
(a missing audit offline, a file it skipped) fails here instead of passing.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.delivery.iam_eval import ROOT
from tests.delivery.workflow_rules import WORKFLOWS, workflow_files

FIXTURES = ROOT / "tests" / "fixtures" / "workflows"
# Inline `# zizmor: ignore[...]` comments the workflows may carry, each with its reason beside
# it in the workflow. Any other ignore would hide a finding from the test below.
ALLOWED_ZIZMOR_IGNORES = {"self-repository"}


def _tool(name: str) -> str:
    """The linter installed next to this interpreter (the venv of requirements-dev.txt)."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.is_file() else shutil.which(name)
    if found is None:
        pytest.fail(f"`{name}` is not installed: pip install -r requirements-dev.txt")
    return found


def _zizmor(target: Path, tmp_path: Path) -> list[dict]:
    """zizmor's findings for `target`, offline: no GitHub token, no network, no config file
    (so nothing outside the workflows can switch an audit off)."""
    env = {key: value for key, value in os.environ.items()
           if key not in {"GH_TOKEN", "GITHUB_TOKEN", "ZIZMOR_GITHUB_TOKEN", "ZIZMOR_CONFIG"}}
    result = subprocess.run(
        [_tool("zizmor"), "--offline", "--no-config", "--no-progress", "--format", "json",
         "--cache-dir", str(tmp_path / "zizmor-cache"), str(target)],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
    # 0: no findings; 10-14: findings of the highest severity found; anything else: it failed.
    assert result.returncode in (0, 10, 11, 12, 13, 14), result.stderr
    return json.loads(result.stdout)


def _actionlint(*files: Path) -> list[dict]:
    """actionlint's findings for `files`. ShellCheck and pyflakes are off so the result does not
    depend on what else the machine has installed (the `run:` scripts are one-liners)."""
    result = subprocess.run(
        [_tool("actionlint"), "-format", "{{json .}}", "-shellcheck=", "-pyflakes=",
         *map(str, files)],
        capture_output=True, text=True, cwd=ROOT, timeout=120)
    # 0: clean; 1: findings; anything else: a bad flag or an unreadable file.
    assert result.returncode in (0, 1), result.stdout + result.stderr
    return json.loads(result.stdout)


def _summary(findings: list[dict]) -> list[str]:
    return [f"{f['ident']} ({f['determinations']['severity']}): {f['desc']}" for f in findings]


def test_zizmor_finds_nothing_in_the_workflows(tmp_path):
    findings = _zizmor(WORKFLOWS, tmp_path)
    assert _summary(findings) == []


def test_zizmor_offline_reports_an_unpinned_action_and_a_checkout_that_keeps_its_token(tmp_path):
    findings = _zizmor(FIXTURES / "unpinned-and-persisted.yml", tmp_path)
    assert {(f["ident"], f["determinations"]["severity"]) for f in findings} == {
        ("unpinned-uses", "High"), ("artipacked", "Medium")}


def test_the_workflows_switch_off_no_zizmor_audit_but_the_allowed_ones():
    ignored = {audit.strip() for path in workflow_files()
               for group in re.findall(r"#\s*zizmor:\s*ignore\[([^\]]*)\]", path.read_text())
               for audit in group.split(",")}
    assert ignored <= ALLOWED_ZIZMOR_IGNORES, ignored - ALLOWED_ZIZMOR_IGNORES


def test_actionlint_finds_nothing_in_the_workflows():
    files = workflow_files()
    assert len(files) == 3
    findings = _actionlint(*files)
    assert [f"{f['filepath']}:{f['line']}: {f['message']}" for f in findings] == []


def test_actionlint_reports_a_missing_job_and_an_unknown_context():
    findings = _actionlint(FIXTURES / "actionlint-errors.yml")
    assert sorted((f["kind"], f["line"]) for f in findings) == [
        ("expression", 17), ("job-needs", 13)]
