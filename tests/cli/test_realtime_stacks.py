"""The offline commands read a stack with real-time rules on as the program does: its home region
(`aws:region`) comes from the stack file, so `test --stack` and `backtest --stack` accept it."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from tests.components.program_runs import with_realtime
from tests.patterns.cloudtrail import event
from trailguard.cli import main
from trailguard.config import load_stack_file_config

ATTACH = event("AttachUserPolicy", "iam.amazonaws.com")


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_a_realtime_stack_validates_with_its_stack_files_region(tmp_path: Path) -> None:
    config = load_stack_file_config(with_realtime(tmp_path), "dev")
    assert config.realtime is not None and config.realtime.rules, "the variant turns real-time on"


def test_test_and_backtest_read_a_realtime_stack(tmp_path: Path) -> None:
    (tmp_path / "project").mkdir()
    project = with_realtime(tmp_path / "project")
    events = tmp_path / "events.json"
    events.write_text(json.dumps({"Records": [ATTACH]}))
    tested = run("test", "--detection", "iam-policy-changes", "--stack", "dev", "--project-dir", str(project),
                 str(events))
    assert tested.exit_code == 0, tested.output
    assert tested.stdout.splitlines()[-1] == "1 of 1 events matched"
    replayed = run("backtest", str(events), "--stack", "dev", "--project-dir", str(project), "--json")
    assert replayed.exit_code == 0, replayed.output
    by_id = {d["id"]: d for d in json.loads(replayed.stdout)["detections"]}
    assert by_id["iam-policy-changes"]["matches"] == 1
