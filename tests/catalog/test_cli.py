"""`trailguard catalog`: the table, --json, one detection whole, and the error exits."""

from __future__ import annotations

import io
import json

import pytest
from click.testing import CliRunner

from trailguard.catalog import CatalogError, load_catalog
from trailguard.catalog.render import TABLE_HEADERS
from trailguard.cli import EXIT_ERROR, EXIT_FAIL, main
from trailguard.cli import catalog_cmd

CATALOG = load_catalog()


def invoke(*args: str, code: int = 0):
    result = CliRunner().invoke(main, ["catalog", *args])
    assert result.exit_code == code, (result.output, result.stderr, result.exception)
    return result


def test_table_lists_every_detection_with_its_references() -> None:
    lines = invoke().stdout.splitlines()
    assert lines[0].split() == "ID Title Severity CIS Security Hub Metric".split()
    rows = {line.split()[0]: line for line in lines[1:]}
    assert list(rows) == list(CATALOG.detections)
    assert "critical" in rows["root-usage"] and "CloudWatch.1 " in rows["root-usage"]
    assert "4.3 (1.4.0-5.0.0)" in rows["root-usage"] and rows["root-usage"].endswith("RootAccountUsage")
    assert "4.15 (1.4.0-5.0.0), 5.15 (6.0.0)" in rows["organizations-changes"]
    assert "\x1b[" not in "\n".join(lines)  # not a terminal: plain text


def test_json_lists_records_with_patterns_and_presets() -> None:
    records = json.loads(invoke("--json").stdout)
    assert [r["id"] for r in records] == list(CATALOG.detections)
    assert all(set(r) == {"id", "title", "severity", "metric", "references", "patterns", "presets"} for r in records)
    by_id = {r["id"]: r for r in records}
    assert by_id["root-usage"]["presets"] == ["seed", "cis", "all"]
    assert by_id["ec2-instance-changes"]["presets"] == ["seed", "all"]
    assert set(by_id["route-table-changes"]["patterns"]) == {"default", "securityhub"}
    assert set(by_id["organizations-changes"]["patterns"]) == {"default"}
    securityhub = {"framework": "SecurityHub", "control": "CloudWatch.13", "version": None}
    assert securityhub in by_id["route-table-changes"]["references"]


def test_one_detection_shows_runbook_patterns_and_samples() -> None:
    detection = CATALOG.get("console-signin-without-mfa")
    text = invoke("console-signin-without-mfa").stdout
    assert text.startswith("console-signin-without-mfa: Console sign-in without MFA\n")
    assert "Runbook:\n  1. `userIdentity.userName`" in text
    assert detection.patterns["default"] in text
    assert "- identity-center-sso-login: IAM Identity Center sign-ins" in text
    assert "presets: cis, all" in text


def test_one_detection_marks_profile_specific_samples_and_fallback() -> None:
    text = invoke("organizations-changes").stdout
    assert "  securityhub: same as default\n" in text
    text = invoke("route-table-changes").stdout
    assert "- api-gateway-create-route [default only]" in text


def test_one_detection_as_json_is_whole() -> None:
    record = json.loads(invoke("route-table-changes", "--json").stdout)
    detection = CATALOG.get("route-table-changes")
    assert record["runbook"] == detection.runbook and record["why"] == detection.why
    assert len(record["samples"]) == len(detection.samples)
    first = record["samples"][0]
    assert first["event"]["eventName"] == "CreateRoute" and first["positive"] is True
    assert first["profiles"] == ["default", "securityhub"]


def test_unknown_id_exits_2_with_the_nearest_suggestion() -> None:
    result = invoke("root-usag", code=EXIT_ERROR)
    assert result.stdout == ""
    assert "unknown detection 'root-usag' (did you mean 'root-usage'?)" in result.stderr


def test_invalid_catalogue_exits_1(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken() -> None:
        raise CatalogError("unknown profile 'prowler'", source="x.yaml", detection="x", field="patterns.prowler")

    monkeypatch.setattr(catalog_cmd, "load_catalog", broken)
    result = invoke(code=EXIT_FAIL)
    assert "the detection catalogue is invalid: x.yaml: detection 'x': field 'patterns.prowler'" in result.stderr


@pytest.mark.parametrize("no_color", [False, True])
def test_terminal_table_colours_unless_no_color(monkeypatch: pytest.MonkeyPatch, no_color: bool) -> None:
    if no_color:
        monkeypatch.setenv("NO_COLOR", "1")
    else:
        monkeypatch.delenv("NO_COLOR", raising=False)
    stream = io.StringIO()
    catalog_cmd._print_rich_table(CATALOG, stream, force_terminal=True, width=200)
    text = stream.getvalue()
    assert all(header in text for header in TABLE_HEADERS) and "organizations-changes" in text
    assert ("\x1b[31m" in text or "\x1b[1;31m" in text) is not no_color


def test_terminal_detection_follows_isatty() -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert catalog_cmd._wants_rich(Tty()) and not catalog_cmd._wants_rich(io.StringIO())
