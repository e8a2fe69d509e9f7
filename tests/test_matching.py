"""trailguard.matching: one pattern over log files, matches streamed, then a summary."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from tests.patterns.cloudtrail import event
from trailguard.matching import match_records
from trailguard.patterns import compile_pattern

STOP = event("StopLogging", "cloudtrail.amazonaws.com")
RUN = event("RunInstances")
PATTERN = compile_pattern("{ $.eventName = StopLogging }")


def test_matches_stream_in_input_order_and_the_summary_counts_them(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text(json.dumps({"Records": [STOP, RUN, STOP]}))
    (tmp_path / "b.jsonl").write_text(json.dumps(RUN) + "\nnot json\n" + json.dumps(dict(STOP, eventID="last")) + "\n")
    run = match_records(PATTERN, [str(tmp_path)])
    with pytest.raises(RuntimeError, match="iterate the run first"):
        run.summary
    found = [(Path(r.source).name, r.index) for r in run]
    assert found == [("a.json", 0), ("a.json", 2), ("b.jsonl", 1)]
    summary = run.summary
    # a line that is not JSON in a JSON-lines file is rejected, as the back-test does (not read as text)
    assert (summary.matches, summary.events, summary.files) == (3, 5, 2)
    assert [(Path(r.source).name, r.reason.split(":")[:2]) for r in summary.rejected] == [("b.jsonl", ["not JSON", " line 2"])]
    assert not summary.complete and summary.unreadable == ()


def test_text_lines_are_tested_as_messages(tmp_path: Path) -> None:
    (tmp_path / "app.log").write_text("[ERROR] disk full\n[INFO] fine\n[ERROR] again\n")
    run = match_records(compile_pattern("ERROR"), [str(tmp_path / "app.log")])
    assert [r.text for r in run] == ["[ERROR] disk full", "[ERROR] again"]
    assert (run.summary.matches, run.summary.events, run.summary.complete) == (2, 3, True)


def test_rejected_records_are_merged_per_source_and_reason(tmp_path: Path) -> None:
    data = gzip.compress(json.dumps({"Records": [STOP] * 200}).encode())
    (tmp_path / "cut.json.gz").write_bytes(data[: len(data) // 2])
    (tmp_path / "ok.json").write_text(json.dumps([STOP, RUN]))
    run = match_records(PATTERN, [str(tmp_path)])
    assert len(list(run)) == 1
    (rejected,) = run.summary.rejected
    assert rejected.source == str(tmp_path / "cut.json.gz") and rejected.reason.startswith("truncated gzip")
    assert run.summary.records_rejected == rejected.count and not run.summary.complete


def test_a_missing_source_is_unreadable_and_the_rest_is_still_read(tmp_path: Path) -> None:
    """Issue item 9: one missing file does not stop the others from being tested."""
    (tmp_path / "a.json").write_text(json.dumps({"Records": [STOP, RUN]}))
    run = match_records(PATTERN, [str(tmp_path / "nope.json"), str(tmp_path / "a.json"), str(tmp_path / "no-*.json")])
    assert [Path(r.source).name for r in run] == ["a.json"]
    summary = run.summary
    assert (summary.matches, summary.events, summary.files) == (1, 2, 1) and not summary.complete
    assert summary.unreadable == (
        f"{tmp_path / 'nope.json'}: no such file or directory (give a file, a directory or a glob)",
        f"pattern {tmp_path / 'no-*.json'} matches no files",
    )
