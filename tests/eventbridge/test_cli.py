"""`trailguard eventbridge`: the pattern or the refusal, and the exit statuses 0, 1 and 2."""

from __future__ import annotations

import json

from click.testing import CliRunner

from trailguard.cli import main
from trailguard.eventbridge import compile_event_pattern
from trailguard.catalog import load_catalog


def run(*args: str):
    return CliRunner().invoke(main, ["eventbridge", *args])


def test_detection_id_prints_the_pattern_and_rule_state() -> None:
    result = run("kms-key-disable-or-deletion")
    assert result.exit_code == 0, result.output
    body, state = result.stdout.rsplit("rule state: ", 1)
    expected = compile_event_pattern(load_catalog().get("kms-key-disable-or-deletion").pattern_for("default"))
    assert json.loads(body) == expected.pattern and state == "ENABLED\n"


def test_profile_selects_the_pattern() -> None:
    result = run("iam-policy-changes", "--profile", "securityhub", "--json")
    record = json.loads(result.stdout)
    assert record["filter_pattern"] == load_catalog().get("iam-policy-changes").pattern_for("securityhub")
    assert "source" not in record["event_pattern"] and record["compiled"] is True


def test_pattern_json_output() -> None:
    result = run('{ $.eventName = "ConsoleLogin" }', "--json")
    record = json.loads(result.stdout)
    assert result.exit_code == 0
    assert record["event_pattern"]["detail-type"] == ["AWS Console Signin via CloudTrail"]
    assert record["rule_state"] == "ENABLED"


def test_refusal_exits_1_with_the_reason() -> None:
    result = run("{ $.errorCode = %Access.*% }")
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.startswith("error: cannot compile to EventBridge (regex)")
    as_json = run("{ $.errorCode = %Access.*% }", "--json")
    assert as_json.exit_code == 1 and json.loads(as_json.stdout)["reason"] == "regex"


def test_invalid_pattern_and_unknown_id_exit_2() -> None:
    invalid = run("{ $.eventName = }")
    assert invalid.exit_code == 2 and invalid.stderr.startswith("error: invalid filter pattern:")
    unknown = run("root-usag")
    assert unknown.exit_code == 2 and "unknown detection 'root-usag'" in unknown.stderr
