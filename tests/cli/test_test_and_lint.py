"""`trailguard test` and `trailguard lint` end to end through click's runner."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from trailguard.cli import main
from tests.patterns.cloudtrail import console_login, event

STOP = event("StopLogging", "cloudtrail.amazonaws.com")
RUN = event("RunInstances")
ROOT = event("DescribeRegions", identity="Root")
EVENTS = [STOP, RUN, ROOT, console_login()]
PATTERN = '{ $.eventName = "StopLogging" || $.userIdentity.type = "Root" }'


def run(*args: str, input: str | bytes | None = None):
    return CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)


@pytest.fixture()
def shapes(tmp_path: Path) -> dict[str, Path]:
    envelope = json.dumps({"Records": EVENTS}).encode()
    files = {
        "delivery.json": envelope,
        "delivery.json.gz": gzip.compress(envelope),
        "array.json": json.dumps(EVENTS, indent=2).encode(),
        "lines.jsonl": b"\n".join(orjson.dumps(e) for e in EVENTS) + b"\n",
    }
    out = {}
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
        out[name] = tmp_path / name
    return out


@pytest.mark.parametrize("name", ["delivery.json", "delivery.json.gz", "array.json", "lines.jsonl"])
def test_each_input_shape(shapes: dict[str, Path], name: str) -> None:
    result = run("test", PATTERN, str(shapes[name]))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[-1] == "2 of 4 events matched"
    assert lines[0] == (f"{STOP['eventTime']}  StopLogging  arn:aws:iam::111122223333:user/alice  "
                        f"{STOP['sourceIPAddress']}")
    assert "DescribeRegions  arn:aws:iam::111122223333:root" in lines[1]


def test_directory_and_json_output(shapes: dict[str, Path]) -> None:
    result = run("test", "--json", PATTERN, str(shapes["delivery.json"].parent))
    assert result.exit_code == 0
    objects = [json.loads(line) for line in result.stdout.splitlines()]
    summary = objects[-1]["summary"]
    assert summary["matches"] == 8 and summary["events"] == 16 and summary["files"] == 4
    assert {o["name"] for o in objects[:-1]} == {"StopLogging", "DescribeRegions"}
    assert objects[0]["event"]["eventName"] in {"StopLogging", "DescribeRegions"}


def test_stdin_json_lines_and_text() -> None:
    data = orjson.dumps(STOP).decode() + "\n" + orjson.dumps(RUN).decode() + "\n"
    assert run("test", PATTERN, input=data).stdout.splitlines()[-1] == "1 of 2 events matched"
    text = "[ERROR 419] MISSING ARGUMENTS\n[INFO] fine\n[ERROR 420] INVALID ARGUMENTS\n"
    result = run("test", "ERROR ARGUMENTS", "-", input=text)
    assert result.stdout.splitlines() == ["[ERROR 419] MISSING ARGUMENTS", "[ERROR 420] INVALID ARGUMENTS",
                                          "2 of 3 events matched"]


def test_zero_matches_exit_zero(shapes: dict[str, Path]) -> None:
    result = run("test", '{ $.eventName = "Nothing" }', str(shapes["lines.jsonl"]))
    assert result.exit_code == 0
    assert result.stdout.splitlines() == ["0 of 4 events matched"]


def test_invalid_pattern_exits_2_with_caret() -> None:
    result = run("test", "{ $.eventName = }", input="")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "error: invalid pattern: expected a value after '=' (a number, a \"quoted string\", a word or a %regex%), "
        "found '}' (at column 17)",
        "  { $.eventName = }",
        "                  ^",
    ]
    assert result.stdout == ""


def test_truncated_gzip_is_reported_and_exits_1(shapes: dict[str, Path], tmp_path: Path) -> None:
    data = gzip.compress(json.dumps({"Records": EVENTS * 50}).encode())
    broken = tmp_path / "broken.json.gz"
    broken.write_bytes(data[: len(data) // 2])
    result = run("test", PATTERN, str(broken), str(shapes["lines.jsonl"]))
    assert result.exit_code == 1
    assert "truncated gzip" in result.stderr and str(broken) in result.stderr
    assert "2 of 4 events matched" in result.stdout  # the readable file is still tested


def test_missing_file_exits_1_naming_it(tmp_path: Path) -> None:
    result = run("test", PATTERN, str(tmp_path / "nope.json"))
    assert result.exit_code == 1
    assert "nope.json" in result.stderr


def test_warnings_go_to_stderr(shapes: dict[str, Path]) -> None:
    result = run("test", '{ $.errorCode != "AccessDenied" }', str(shapes["lines.jsonl"]))
    assert result.exit_code == 0
    assert "warning: W001" in result.stderr


def test_lint_reports_errors_and_warnings() -> None:
    result = run("lint", '{ $.a = 1 || $.b = 2 && $.c = 3 }', "{ $.a EXISTS }", "ERROR")
    assert result.exit_code == 2
    out = result.stdout
    assert "pattern 1: warning: W002" in out
    assert "pattern 2: error: E132: EXISTS is not supported" in out
    assert "pattern 3: ok" in out


def test_lint_clean_patterns_exit_0_and_json() -> None:
    result = run("lint", "--json", '{ $.eventName = "ConsoleLogin" }', "?a b")
    assert result.exit_code == 0
    first, second = (json.loads(line) for line in result.stdout.splitlines())
    assert first == {"pattern": '{ $.eventName = "ConsoleLogin" }', "valid": True, "errors": [], "warnings": []}
    assert second["warnings"][0]["code"] == "W004"


def test_lint_requires_a_pattern() -> None:
    result = CliRunner().invoke(main, ["lint"])
    assert result.exit_code == 2
    assert "Missing argument 'PATTERN...'" in result.output


# --- reading hardening (issue "Reading CloudTrail") ------------------------------------------


def test_truncated_json_and_binary_files_exit_1_naming_them(tmp_path: Path) -> None:
    """Item 8: these were read as text "events" with exit status 0."""
    truncated = tmp_path / "truncated.json"
    truncated.write_text(json.dumps({"Records": EVENTS})[:100])
    garbage = tmp_path / "garbage.bin"
    garbage.write_bytes(bytes(range(256)) * 4)
    result = run("test", PATTERN, str(truncated), str(garbage))
    assert result.exit_code == 1
    assert f"error: {truncated}: not JSON: document: unexpected end of data" in result.stderr
    assert f"error: {garbage}: binary: NUL bytes or invalid UTF-8" in result.stderr and "allowed: " in result.stderr
    assert result.stdout.splitlines()[-1] == "0 of 0 events matched; 2 records rejected, 0 sources unreadable (see errors above)"


def test_a_missing_file_does_not_stop_the_others(shapes: dict[str, Path], tmp_path: Path) -> None:
    """Item 9: one missing file aborted the whole command."""
    result = run("test", PATTERN, str(tmp_path / "nope.json"), str(shapes["lines.jsonl"]))
    assert result.exit_code == 1
    assert f"error: {tmp_path / 'nope.json'}: no such file or directory" in result.stderr
    assert result.stdout.splitlines()[-1].startswith("2 of 4 events matched; 0 records rejected, 1 sources unreadable")


def test_an_empty_file_is_said_to_be_empty(tmp_path: Path) -> None:
    """Item 16: an empty input gave "0 of 0 events matched" and nothing else."""
    empty = tmp_path / "empty.json"
    empty.write_bytes(b"")
    result = run("test", PATTERN, str(empty))
    assert result.exit_code == 0
    assert result.stderr == f"skipped: {empty}: empty: no events (the input is empty or blank)\n"
    assert result.stdout == "0 of 0 events matched; 1 inputs skipped (empty: 1)\n"
    summary = json.loads(run("test", "--json", PATTERN, str(empty)).stdout)["summary"]
    assert summary["skipped"] == [{"source": str(empty), "reason": "empty: no events (the input is empty or blank)"}]


def test_json_matches_keep_the_file_and_the_event_source_apart(shapes: dict[str, Path]) -> None:
    """Item 18: "source" held the file, then was overwritten by the event source."""
    result = run("test", "--json", PATTERN, str(shapes["lines.jsonl"]))
    first = json.loads(result.stdout.splitlines()[0])
    assert first["file"] == str(shapes["lines.jsonl"]) and first["index"] == 0
    assert first["source"] == "cloudtrail.amazonaws.com" and first["name"] == "StopLogging"
    text = json.loads(run("test", "--json", "ERROR", "-", input="ERROR x\n").stdout.splitlines()[0])
    assert text == {"file": "<stdin>", "index": 0, "text": "ERROR x"}
