"""Listing inputs (issue "Reading CloudTrail", items 10, 12, 13): digests and FIFOs skipped and
named, symlink loops walked once, every file listed once."""

from __future__ import annotations

import gzip
import json
import os
import threading
from pathlib import Path

import pytest

from trailguard.backtest import RunOptions, from_pattern, run
from trailguard.matching import match_records
from trailguard.patterns import compile_pattern
from trailguard.sourcefiles import is_digest_path, list_sources

STOP = {"eventVersion": "1.08", "eventName": "StopLogging", "eventSource": "cloudtrail.amazonaws.com",
        "eventTime": "2025-03-04T09:02:30Z"}
DIGEST = {"awsAccountId": "111122223333", "digestStartTime": "2025-03-04T08:05:00Z",
          "digestEndTime": "2025-03-04T09:05:00Z", "logFiles": []}


def synced_bucket(root: Path) -> tuple[Path, Path]:
    """What `aws s3 sync` of a trail bucket gives: logs and, beside them, digests."""
    logs = root / "AWSLogs" / "111122223333" / "CloudTrail" / "us-east-1" / "2025" / "03" / "04"
    digests = root / "AWSLogs" / "111122223333" / "CloudTrail-Digest" / "us-east-1" / "2025" / "03" / "04"
    logs.mkdir(parents=True)
    digests.mkdir(parents=True)
    log = logs / "111122223333_CloudTrail_us-east-1_20250304T0905Z_a1.json.gz"
    log.write_bytes(gzip.compress(json.dumps({"Records": [STOP]}).encode()))
    digest = digests / "111122223333_CloudTrail-Digest_us-east-1_trail_us-east-1_20250304T090500Z.json.gz"
    digest.write_bytes(gzip.compress(json.dumps(DIGEST).encode()))
    return log, digest


def test_digest_paths_are_recognised():
    assert is_digest_path("AWSLogs/1/CloudTrail-Digest/us-east-1/2025/03/04/x.json.gz")
    assert is_digest_path("/data/111122223333_CloudTrail-Digest_us-east-1_t_us-east-1_20250304T090500Z.json.gz")
    assert not is_digest_path("AWSLogs/1/CloudTrail/us-east-1/2025/03/04/x_CloudTrail_us-east-1_y.json.gz")


def test_digests_in_a_synced_bucket_are_skipped_and_counted_by_both_commands(tmp_path):
    """Item 10: digests were rejected one by one (and stopped --strict at the first)."""
    log, digest = synced_bucket(tmp_path)
    listing = list_sources([str(tmp_path)])
    assert listing.files == [str(log)] and [s.source for s in listing.skipped] == [str(digest)]
    assert listing.skipped[0].reason.startswith("CloudTrail digest: ")

    matches = match_records(compile_pattern("{ $.eventName = StopLogging }"), [str(tmp_path)])
    assert len(list(matches)) == 1
    assert matches.summary.complete and [s.source for s in matches.summary.skipped] == [str(digest)]

    result = run([str(tmp_path)], from_pattern("{ $.eventName = StopLogging }"),
                 RunOptions(strict=True, keep_freed_memory=False))  # --strict does not stop at a digest
    assert (result.tally.files, result.tally.rejected, result.tally.detections[0].matches) == (1, 0, 1)
    assert [source for source, _ in result.tally.skipped] == [str(digest)]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")
def test_a_fifo_in_a_directory_is_skipped_and_named_not_read(tmp_path):
    """Item 12: reading a FIFO nobody writes to blocks the run forever."""
    (tmp_path / "a.json").write_text(json.dumps({"Records": [STOP]}))
    os.mkfifo(tmp_path / "pipe")
    outcome: list = []
    worker = threading.Thread(target=lambda: outcome.append(_test_counts(tmp_path)), daemon=True)
    worker.start()
    worker.join(20)
    if worker.is_alive():  # unblock the reader so the test process can end, then fail
        with open(tmp_path / "pipe", "wb"):
            pass
        pytest.fail("the run blocked on the FIFO")
    (summary,) = outcome
    assert (summary.events, summary.files) == (1, 1)
    (skip,) = summary.skipped
    assert skip.source == str(tmp_path / "pipe")
    assert skip.reason == ("not a regular file: a FIFO; only regular files in a directory or glob are read "
                           "(name it to read it)")


def _test_counts(directory: Path):
    run_ = match_records(compile_pattern("{ $.eventName = StopLogging }"), [str(directory)])
    list(run_)
    return run_.summary


def test_a_glob_over_a_symlink_loop_lists_each_file_once(tmp_path):
    """Item 13: `**` followed `loop -> ..` again and again, reading every file many times."""
    logs = tmp_path / "logs"
    (logs / "day").mkdir(parents=True)
    (logs / "day" / "a.json").write_text(json.dumps({"Records": [STOP]}))
    (logs / "b.json").write_text(json.dumps({"Records": [STOP]}))
    (logs / "day" / "loop").symlink_to(logs, target_is_directory=True)
    (logs / "day" / "again").symlink_to(logs, target_is_directory=True)
    (logs / "alias.json").symlink_to(logs / "b.json")
    for source in (str(logs / "**" / "*.json"), str(logs), str(tmp_path / "*")):
        listing = list_sources([source])
        assert sorted(Path(p).resolve().name for p in listing.files) == ["a.json", "b.json"], source
    matches = match_records(compile_pattern("{ $.eventName = StopLogging }"), [str(logs / "**" / "*.json")])
    assert len(list(matches)) == 2 and matches.summary.events == 2


def test_glob_semantics_are_kept(tmp_path):
    """The walker that replaces glob.glob matches what glob does: `*` within a name, `**` across
    folders, hidden names only when the pattern says so, matched folders read whole."""
    for name in ("a/x.json", "a/y.log", "a/b/z.json", "a/.hidden/h.json", "a/.h.json", "c/d/w.json"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("{}")
    def names(pattern: str) -> list[str]:
        return [str(Path(p).relative_to(tmp_path)) for p in list_sources([str(tmp_path / pattern)]).files]
    assert names("a/*.json") == ["a/x.json"]
    assert names("a/**/*.json") == ["a/b/z.json", "a/x.json"]
    assert names("a/.*.json") == ["a/.h.json"]
    assert names("*/d") == ["c/d/w.json"]
    assert names("?/*.log") == ["a/y.log"]
    assert list_sources([str(tmp_path / "nothing-*.json")]).missing == [f"pattern {tmp_path / 'nothing-*.json'} matches no files"]
