"""`trailguard test --detection ID` (with --profile or --stack), the waiting message on a terminal,
and `trailguard lint --strict`."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from trailguard.catalog import load_catalog
from trailguard.cli import main
from trailguard.patterns import compile_pattern
from tests.patterns.cloudtrail import event

REPO = Path(__file__).parents[2]
CREATE_USER = event("CreateUser", "iam.amazonaws.com")  # in the default iam-policy-changes, not in CloudWatch.4
ATTACH = event("AttachUserPolicy", "iam.amazonaws.com")  # in both profiles
WAITING = "waiting for events on standard input"


def run(*args: str, input=None):
    return CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)


@pytest.fixture()
def events_file(tmp_path: Path) -> Path:
    path = tmp_path / "events.json"
    path.write_text(json.dumps({"Records": [CREATE_USER, ATTACH]}))
    return path


def test_the_sample_events_tell_the_profiles_apart() -> None:
    detection = load_catalog().get("iam-policy-changes")
    assert compile_pattern(detection.pattern_for("default")).matches(CREATE_USER)
    assert not compile_pattern(detection.pattern_for("securityhub")).matches(CREATE_USER)
    assert compile_pattern(detection.pattern_for("securityhub")).matches(ATTACH)


def test_detection_tests_the_catalogue_pattern_of_the_default_profile(events_file: Path) -> None:
    result = run("test", "--detection", "iam-policy-changes", str(events_file))
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == "2 of 2 events matched"
    assert "iam-policy-changes (profile default)" in result.stderr


def test_profile_picks_the_pattern(events_file: Path) -> None:
    result = run("test", "--detection", "iam-policy-changes", "--profile", "securityhub", "--json", str(events_file))
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.splitlines()[-1])["summary"]
    assert summary["matches"] == 1
    assert summary["pattern"] == load_catalog().get("iam-policy-changes").pattern_for("securityhub")


def test_stack_picks_its_profile(events_file: Path) -> None:
    # Pulumi.prod.yaml sets trailguard:profile securityhub
    result = run("test", "--detection", "iam-policy-changes", "--stack", "prod", "--project-dir", str(REPO),
                 str(events_file))
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == "1 of 2 events matched"
    assert "(profile securityhub, stack prod)" in result.stderr


def test_stack_custom_detection_is_found(tmp_path: Path, events_file: Path) -> None:
    shutil.copy(REPO / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    custom = {"id": "create-user", "title": "User created", "pattern": '{ $.eventName = "CreateUser" }',
              "severity": "low", "metric": "CreateUserCount",
              "samples": {"positives": [CREATE_USER], "negatives": [ATTACH]}}
    (tmp_path / "Pulumi.lab.yaml").write_text(json.dumps({"config": {
        "trailguard:detections": ["seed"], "trailguard:customDetections": [custom]}}))
    result = run("test", "--detection", "create-user", "--stack", "lab", "--project-dir", str(tmp_path),
                 str(events_file))
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == "1 of 2 events matched"


def test_unknown_detection_is_named_with_the_nearest_id(events_file: Path) -> None:
    result = run("test", "--detection", "iam-policy-change", str(events_file))
    assert result.exit_code == 2
    assert "'iam-policy-change'" in result.stderr and "did you mean 'iam-policy-changes'" in result.stderr
    assert "root-usage" in result.stderr  # what is allowed


def test_unknown_detection_in_a_stack_is_named_too(events_file: Path) -> None:
    result = run("test", "--detection", "rot-usage", "--stack", "prod", "--project-dir", str(REPO), str(events_file))
    assert result.exit_code == 2
    assert "did you mean 'root-usage'" in result.stderr


@pytest.mark.parametrize(("args", "says"), [
    (("--profile", "securityhub", "{ $.a = 1 }"), "--profile needs --detection"),
    (("--stack", "prod", "{ $.a = 1 }"), "--stack needs --detection"),
    (("--detection", "root-usage", "--stack", "prod", "--profile", "default"), "exclude each other"),
    ((), "give a PATTERN or --detection ID"),
])
def test_option_mistakes_are_usage_errors(args: tuple[str, ...], says: str) -> None:
    result = run("test", *args, input="")
    assert result.exit_code == 2
    assert says in result.stderr


def test_bad_stack_fails_naming_it(events_file: Path, tmp_path: Path) -> None:
    result = run("test", "--detection", "root-usage", "--stack", "nope", "--project-dir", str(REPO), str(events_file))
    assert result.exit_code == 1
    assert "stack 'nope'" in result.stderr and "prod" in result.stderr


class TerminalInput(io.BytesIO):
    """Standard input that says it is a terminal (click's runner reads from it)."""

    def isatty(self) -> bool:
        return True


def test_waiting_message_when_stdin_is_a_terminal() -> None:
    result = run("test", "{ $.eventName = StopLogging }", input=TerminalInput(json.dumps(ATTACH).encode()))
    assert result.exit_code == 0
    assert WAITING in result.stderr and "Ctrl-D" in result.stderr
    assert result.stdout.splitlines()[-1] == "0 of 1 events matched"


def test_waiting_message_also_for_an_explicit_dash() -> None:
    result = run("test", "{ $.eventName = StopLogging }", "-", input=TerminalInput(b""))
    assert WAITING in result.stderr


def test_no_waiting_message_when_stdin_is_a_pipe_or_a_file_is_given(events_file: Path) -> None:
    piped = run("test", "{ $.eventName = StopLogging }", input=json.dumps(ATTACH))
    assert piped.exit_code == 0 and WAITING not in piped.stderr
    with_file = run("test", "{ $.eventName = StopLogging }", str(events_file), input=TerminalInput(b""))
    assert with_file.exit_code == 0 and WAITING not in with_file.stderr


# --- lint --strict ------------------------------------------------------------------------------

def test_lint_strict_fails_on_warnings_with_1() -> None:
    result = run("lint", "--strict", "{ $.a = 1 || $.b = 2 && $.c = 3 }", "{ $.a = 1 }")
    assert result.exit_code == 1
    assert "pattern 1: warning: W002" in result.stdout and "pattern 2: ok" in result.stdout
    assert "--strict" in result.stderr and "1 pattern" in result.stderr


def test_lint_without_strict_still_passes_warnings() -> None:
    assert run("lint", "{ $.a = 1 || $.b = 2 && $.c = 3 }").exit_code == 0


def test_lint_strict_passes_clean_patterns_and_invalid_still_exits_2() -> None:
    assert run("lint", "--strict", "{ $.a = 1 }").exit_code == 0
    assert run("lint", "--strict", "{ $.a = 1 || $.b = 2 && $.c = 3 }", "{ $.a EXISTS }").exit_code == 2


def test_lint_strict_with_json() -> None:
    result = run("lint", "--strict", "--json", '{ $.errorCode != "AccessDenied" }')
    assert result.exit_code == 1
    assert json.loads(result.stdout)["warnings"][0]["code"] == "W001"
