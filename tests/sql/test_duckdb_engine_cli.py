"""`trailguard backtest --engine`: the option, its errors, and the same output as the native engine."""

from __future__ import annotations

import json
import sys

import pytest
from click.testing import CliRunner

from trailguard.cli import main

from ..backtest.conftest import FIXTURES

SOURCES = str(FIXTURES / "sources")


def invoke(*args: str, code: int = 0):
    result = CliRunner().invoke(main, ["backtest", *args])
    assert result.exit_code == code, (result.output, getattr(result, "stderr", ""), result.exception)
    return result


def without_timings(report: dict) -> dict:
    for name in ("seconds", "eventsPerSecond"):
        report["summary"].pop(name)
    return report


def test_engine_duckdb_prints_the_native_json():
    native = without_timings(json.loads(invoke(SOURCES, "--detections", "all", "--json").stdout))
    duck = without_timings(json.loads(invoke(SOURCES, "--detections", "all", "--engine", "duckdb", "--json").stdout))
    assert duck == native and sum(d["matches"] for d in native["detections"]) > 0


def test_engine_duckdb_writes_the_html_report_and_the_table(tmp_path):
    page = tmp_path / "report.html"
    result = invoke(SOURCES, "--engine", "duckdb", "--html", str(page), "--detections", "cis")
    assert "root-usage" in result.stdout and "events" in result.stdout
    assert page.read_text().startswith("<!DOCTYPE html>") and "root-usage" in page.read_text()


def test_default_engine_is_native_and_help_names_the_choices():
    result = invoke("--help")
    assert "--engine [native|duckdb|athena]" in result.stdout
    assert "default: native" in result.stdout


def test_unknown_engine_is_a_usage_error():
    result = invoke(SOURCES, "--engine", "spark", code=2)
    assert "'spark' is not one of 'native', 'duckdb', 'athena'" in result.stderr


def test_workers_with_a_sql_engine_is_refused():
    result = invoke(SOURCES, "--engine", "duckdb", "--workers", "2", code=2)
    assert "--workers 2 applies to --engine native" in result.stderr


def test_a_refused_detection_stops_before_anything_is_read(monkeypatch, tmp_path):
    from trailguard.sql import compile as compiler

    real = compiler.compile_predicate

    def refuse_root_usage(pattern, dialect):
        if "Root" in str(pattern):
            raise compiler.SqlRefusal("regex", "a test double")
        return real(pattern, dialect)

    monkeypatch.setattr(compiler, "compile_predicate", refuse_root_usage)
    missing = str(tmp_path / "not-there")  # read first, it would fail with exit status 1
    result = invoke(missing, "--engine", "duckdb", "--detections", "cis", code=2)
    assert "error: --engine duckdb: detection 'root-usage': cannot compile to SQL (regex): " in result.stderr
    assert "a test double; replay it with --engine native, or leave it out" in result.stderr


def test_engine_athena_without_its_module_says_so(monkeypatch):
    monkeypatch.setitem(sys.modules, "trailguard.sql.athena_engine", None)  # import fails as if absent
    result = invoke(SOURCES, "--engine", "athena", code=2)
    assert "--engine athena is not available" in result.stderr


def test_missing_duckdb_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "duckdb", None)
    result = invoke(SOURCES, "--engine", "duckdb", code=1)
    assert "--engine duckdb needs the 'sql' extra" in result.stderr


def test_strict_rejection_with_duckdb():
    result = invoke(str(FIXTURES / "bad" / "truncated.json.gz"), "--engine", "duckdb", "--strict", code=1)
    assert "--strict stops at the first rejected input" in result.stderr
