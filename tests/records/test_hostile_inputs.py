"""Hostile inputs (issue: "Reading CloudTrail", items 8, 11, 14, 15): `trailguard test` and
`trailguard backtest` read them through one reader and must agree on every count."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import orjson
import pytest

from trailguard import jsonstream, records
from trailguard.backtest import RunOptions, from_pattern, run
from trailguard.matching import match_records
from trailguard.patterns import compile_pattern
from trailguard.records import Record, Rejected, iter_records
from trailguard.sourcefiles import Skipped

PATTERN = "{ $.eventName = StopLogging }"
STOP = {"eventVersion": "1.08", "eventName": "StopLogging", "eventSource": "cloudtrail.amazonaws.com",
        "eventTime": "2025-03-04T09:02:30Z", "awsRegion": "us-east-1"}
RUN = dict(STOP, eventName="RunInstances", eventSource="ec2.amazonaws.com")
ENVELOPE = json.dumps({"Records": [STOP, RUN]})


def _with_member(event: dict, raw_value: bytes) -> bytes:
    """An event as JSON with `requestParameters` written as the given raw bytes."""
    return orjson.dumps(event)[:-1] + b',"requestParameters":' + raw_value + b"}"


def hostile_inputs(directory: Path) -> dict[str, Path]:
    """One file per hostile shape the issue names, plus the shapes around them."""
    files = {
        "truncated.json": ENVELOPE[: len(ENVELOPE) // 2].encode(),
        "truncated-pretty.json": json.dumps([STOP, RUN], indent=2)[:150].encode(),
        "garbage.bin": bytes(range(256)) * 8,
        "bignum.json": b'{"Records":[' + _with_member(STOP, b'{"n":' + b"9" * 200_000 + b"}") + b"]}",
        "huge-float.jsonl": _with_member(STOP, b"1e999") + b"\n" + orjson.dumps(RUN) + b"\n",
        "bad-utf8.jsonl": _with_member(STOP, b'"caf\xe9"') + b"\n"
                          + orjson.dumps(STOP).replace(b"StopLogging", b"Stop\xffLogging") + b"\n"
                          + orjson.dumps(RUN) + b"\n",
        "deep.json": b'{"Records":[' + _with_member(STOP, b"[" * 10_000 + b"]" * 10_000) + b"," + orjson.dumps(RUN) + b"]}",
        "deep.jsonl": _with_member(STOP, b"[" * 10_000 + b"]" * 10_000) + b"\n" + orjson.dumps(STOP) + b"\n",
        "damaged.jsonl": orjson.dumps(STOP) + b"\n" + orjson.dumps(RUN)[:20] + b"\n" + orjson.dumps(STOP) + b"\n",
        "trailing-garbage.json.gz": gzip.compress(ENVELOPE.encode(), mtime=0) + b"not gzip at all",
        "empty.json": b"",
        "digest.json.gz": gzip.compress(json.dumps({"awsAccountId": "111122223333", "digestStartTime": "2025-03-04T08:05:00Z",
                                                    "digestEndTime": "2025-03-04T09:05:00Z", "logFiles": []}).encode()),
    }
    paths = {}
    for name, data in files.items():
        paths[name] = directory / name
        paths[name].write_bytes(data)
    return paths


def counts_of_test(path: Path) -> tuple[int, int, int, int]:
    """(events, rejected records, skipped inputs, matches) as `trailguard test` counts them."""
    matches = match_records(compile_pattern(PATTERN), [str(path)])
    matched = len(list(matches))
    summary = matches.summary
    return summary.events, summary.records_rejected, len(summary.skipped), matched


def counts_of_backtest(path: Path) -> tuple[int, int, int, int]:
    """The same four numbers as `trailguard backtest --pattern` counts them (its partial decoder)."""
    result = run([str(path)], from_pattern(PATTERN), RunOptions(keep_freed_memory=False))
    tally = result.tally
    return tally.evaluated, tally.rejected, len(tally.skipped), tally.detections[0].matches


EXPECTED = {  # (events, rejected, skipped, matches): what both commands must report
    "truncated.json": (0, 1, 0, 0),
    "truncated-pretty.json": (0, 1, 0, 0),
    "garbage.bin": (0, 1, 0, 0),
    "bignum.json": (1, 0, 0, 1),
    "huge-float.jsonl": (2, 0, 0, 1),
    "bad-utf8.jsonl": (3, 0, 0, 1),
    "deep.json": (0, 1, 0, 0),
    "deep.jsonl": (1, 1, 0, 1),
    "damaged.jsonl": (2, 1, 0, 2),
    "trailing-garbage.json.gz": (2, 1, 0, 1),
    "empty.json": (0, 0, 1, 0),
    "digest.json.gz": (0, 0, 1, 0),
}


@pytest.fixture(params=["whole", "stream", "split"])
def read_mode(request, monkeypatch):
    """Small files read whole, everything streamed, and every line split as it is read."""
    if request.param in ("stream", "split"):
        monkeypatch.setattr(records, "WHOLE_READ_BYTES", -1)
    if request.param == "split":
        monkeypatch.setattr(records, "MAX_LINE_BYTES", 64)
        monkeypatch.setattr(records, "MAX_DOCUMENT_BYTES", 64)
    return request.param


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_both_commands_read_every_hostile_input_alike(tmp_path, read_mode, name):
    """Item 8: the same reader, the same rejections, the same counts; item 11: no traceback."""
    path = hostile_inputs(tmp_path)[name]
    assert counts_of_test(path) == EXPECTED[name]
    assert counts_of_backtest(path) == EXPECTED[name]


def test_json_that_does_not_parse_is_rejected_and_named_not_read_as_text(tmp_path):
    """Item 8: `test` used to read a truncated JSON file as one text "event" and exit 0."""
    paths = hostile_inputs(tmp_path)
    items = list(iter_records(paths["truncated.json"], allow_text=True))
    assert len(items) == 1 and isinstance(items[0], Rejected)
    assert items[0].source == str(paths["truncated.json"])
    assert items[0].reason.startswith("not JSON: document: unexpected end of data")


def test_binary_garbage_is_rejected_saying_what_is_allowed(tmp_path):
    paths = hostile_inputs(tmp_path)
    (rejected,) = list(iter_records(paths["garbage.bin"], allow_text=True))
    assert rejected.source == str(paths["garbage.bin"])
    assert rejected.reason == ("binary: NUL bytes or invalid UTF-8 (a NUL byte at byte 0); allowed: CloudTrail JSON "
                               "(gzipped or not), JSON lines, or UTF-8 text lines")


def test_text_logs_stay_text(tmp_path):
    """Lines such as `[ERROR] ...` or `{main} ...` are text, not broken JSON."""
    path = tmp_path / "app.log"
    path.write_text("[ERROR 419] MISSING ARGUMENTS\n{main} started\n[2025-03-04 10:00] ok\n")
    items = list(iter_records(path, allow_text=True))
    assert [item.text for item in items] == ["[ERROR 419] MISSING ARGUMENTS", "{main} started", "[2025-03-04 10:00] ok"]


def test_deep_nesting_is_a_rejection_naming_the_limit(tmp_path):
    """Item 11: 10,000 levels used to end a back-test with a RecursionError traceback."""
    paths = hostile_inputs(tmp_path)
    from trailguard.backtest.decode import decoder_for

    items = list(records.iter_batches(paths["deep.jsonl"], decoder=decoder_for([compile_pattern(PATTERN)])))
    rejected = [item for item in items if isinstance(item, Rejected)]
    assert len(rejected) == 1 and rejected[0].source == str(paths["deep.jsonl"])
    assert rejected[0].reason.startswith("not JSON: line 1: depth limit exceeded")
    assert rejected[0].reason.endswith("(JSON may nest at most 1,024 levels)")


def test_gzip_with_trailing_garbage_keeps_its_single_line_document(tmp_path, read_mode):
    """Item 15: a delivery file is one line without a newline; garbage after the gzip data used to
    drop that line and with it every record."""
    path = hostile_inputs(tmp_path)["trailing-garbage.json.gz"]
    items = list(iter_records(path))
    assert [item.event["eventName"] for item in items if isinstance(item, Record)] == ["StopLogging", "RunInstances"]
    (rejected,) = [item for item in items if isinstance(item, Rejected)]
    assert rejected.source == str(path)
    assert rejected.reason == "corrupt gzip: trailing garbage after the gzip data (the records before it are read) (after line 1)"


def test_a_truncated_gzip_still_drops_only_the_cut_line(tmp_path, read_mode):
    data = gzip.compress(b"".join(orjson.dumps(dict(STOP, eventID=str(n))) + b"\n" for n in range(500)), mtime=0)
    path = tmp_path / "cut.json.gz"
    path.write_bytes(data[: len(data) * 2 // 3])
    items = list(iter_records(path))
    events = [item.event["eventID"] for item in items if isinstance(item, Record)]
    assert events and events == [str(n) for n in range(len(events))]
    kinds = [item.kind for item in items if isinstance(item, Rejected)]
    # split as it is read, the cut line's own events come out first and its broken tail is named
    assert kinds == (["not JSON", "truncated gzip"] if read_mode == "split" else ["truncated gzip"])


def test_a_long_line_is_split_into_events_as_it_is_read(tmp_path, monkeypatch):
    """Item 14, structurally: a delivery line longer than MAX_LINE_BYTES yields its first events
    before the file has been read to its end, and no piece held is longer than a chunk."""
    monkeypatch.setattr(records, "WHOLE_READ_BYTES", -1)
    monkeypatch.setattr(records, "MAX_LINE_BYTES", 4096)
    monkeypatch.setattr(records, "STREAM_CHUNK_BYTES", 1024)
    monkeypatch.setattr(records, "_BATCH", 10)  # events are handed on in batches of _BATCH
    monkeypatch.setattr(jsonstream, "_GATHER", 1024)  # and read in pieces of _GATHER
    events = [dict(STOP, eventID=str(n)) for n in range(2000)]
    path = tmp_path / "big.json"
    path.write_bytes(orjson.dumps({"Records": events}))
    with path.open("rb") as stream:
        items = iter_records(stream)
        first = next(items)
        assert first.event["eventID"] == "0" and stream.tell() < path.stat().st_size // 10
        rest = list(items)
    assert [item.event["eventID"] for item in [first, *rest]] == [str(n) for n in range(2000)]


def test_a_split_line_rejects_what_a_whole_line_rejects(tmp_path, monkeypatch):
    """Splitting a long line keeps the rules: a non-event, an event over 256 KB and a broken tail."""
    monkeypatch.setattr(records, "WHOLE_READ_BYTES", -1)
    monkeypatch.setattr(records, "MAX_LINE_BYTES", 1024)
    big = dict(STOP, requestParameters={"blob": "x" * (records.MAX_EVENT_BYTES + 10)})
    line = orjson.dumps({"Records": [STOP, 42, big, RUN]})
    path = tmp_path / "mixed.json"
    path.write_bytes(line + b"\n" + line[: len(line) // 3 * 2] + b"\n")
    items = list(iter_records(path))
    assert [item.event["eventName"] for item in items if isinstance(item, Record)] == [
        "StopLogging", "RunInstances", "StopLogging"]
    reasons = [item.reason for item in items if isinstance(item, Rejected)]
    assert reasons[0] == "not CloudTrail: line 1, Records[1]: a number, not an event object"
    assert reasons[1].startswith("event over 256 KB: line 1, Records[2]: ")
    assert reasons[2] == "not CloudTrail: line 2, Records[1]: a number, not an event object"
    assert reasons[3].startswith("not JSON: line 2: element 2: Unterminated string") and len(reasons) == 4


def test_a_gzip_bomb_is_not_inflated_whole(tmp_path, monkeypatch):
    """A small file that inflates past WHOLE_INFLATE_BYTES goes the streaming way."""
    monkeypatch.setattr(records, "WHOLE_INFLATE_BYTES", 1000)
    seen = []
    real = records._Reader.from_stream

    def spy(self, raw, *, close):
        seen.append(self.source)
        return real(self, raw, close=close)

    monkeypatch.setattr(records._Reader, "from_stream", spy)
    path = tmp_path / "bomb.json.gz"
    path.write_bytes(gzip.compress(b"".join(orjson.dumps(STOP) + b"\n" for _ in range(100)), mtime=0))
    items = list(iter_records(path))
    assert seen == [str(path)] and len(items) == 100


def test_a_skipped_item_is_neither_record_nor_rejection(tmp_path):
    path = tmp_path / "empty.jsonl"
    path.write_bytes(b"\n\n")
    (item,) = list(iter_records(path))
    assert isinstance(item, Skipped) and item.kind == "empty"
