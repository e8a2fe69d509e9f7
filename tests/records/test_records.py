"""The record reader: every source shape, every kind of bad input, path expansion."""

from __future__ import annotations

import gzip
import io
import json
import sys
import zlib
from pathlib import Path

import orjson
import pytest

from trailguard import records
from trailguard.records import (
    MAX_EVENT_BYTES,
    REASON_KINDS,
    Record,
    RecordSourceError,
    Rejected,
    iter_bytes,
    iter_paths,
    iter_records,
    reason_kind,
)
from trailguard.sourcefiles import Skipped

FIXTURES = Path(__file__).parents[1] / "fixtures" / "backtest"
EVENTS = json.loads((FIXTURES / "events.json").read_text())
EVENT_IDS = [event["eventID"] for event in EVENTS]
SHARED = Path(__file__).parents[2] / ".." / "shared" / "data" / "cloudtrail" / "stratus-red-team"


@pytest.fixture(autouse=True, params=["whole", "whole-zlib", "stream"])
def read_mode(request, monkeypatch):
    """Every test runs three ways: small files read whole (the fast path, inflating with ISA-L when
    installed, and with the standard zlib) and streamed line by line (the path for files over
    WHOLE_READ_BYTES); all must give the same items."""
    if request.param == "stream":
        monkeypatch.setattr(records, "WHOLE_READ_BYTES", -1)
    if request.param == "whole-zlib":
        monkeypatch.setattr(records, "_inflate", zlib)
        monkeypatch.setattr(records, "_INFLATE_ERRORS", (zlib.error,))
    return request.param


def split(items):
    items = list(items)
    records = [item for item in items if isinstance(item, Record)]
    rejected = [item for item in items if isinstance(item, Rejected)]
    assert len(records) + len(rejected) == len(items)
    return records, rejected


# --- good shapes ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["delivery.json.gz", "delivery-pretty.json", "array.json", "events.jsonl", "gzipped-without-suffix.json"],
)
def test_every_json_shape_yields_every_event_in_order(name):
    records, rejected = split(iter_records(FIXTURES / "sources" / name))
    assert rejected == []
    assert [record.event["eventID"] for record in records] == EVENT_IDS
    assert [record.index for record in records] == list(range(len(EVENTS)))
    assert {record.source for record in records} == {str(FIXTURES / "sources" / name)}
    assert all(record.text is None for record in records)


def test_gzip_is_detected_by_magic_bytes_not_suffix(tmp_path):
    plain_named_gz = tmp_path / "plain.json.gz"
    plain_named_gz.write_bytes(orjson.dumps({"Records": EVENTS[:2]}))
    records, rejected = split(iter_records(plain_named_gz))
    assert rejected == [] and len(records) == 2


def test_single_event_document_and_blank_lines(tmp_path):
    path = tmp_path / "one.json"
    path.write_text("\n\n" + json.dumps(EVENTS[3], indent=2) + "\n\n")
    records, rejected = split(iter_records(path))
    assert rejected == []
    assert [r.event["eventName"] for r in records] == ["RunInstances"]


def test_json_lines_may_hold_envelopes_and_arrays(tmp_path):
    path = tmp_path / "mixed-shapes.jsonl"
    path.write_bytes(
        orjson.dumps({"Records": EVENTS[:2]}) + b"\n" + orjson.dumps(EVENTS[2:4]) + b"\n" + orjson.dumps(EVENTS[4]) + b"\n"
    )
    records, rejected = split(iter_records(path))
    assert rejected == []
    assert [r.event["eventID"] for r in records] == EVENT_IDS[:5]


@pytest.mark.parametrize("content", [b"", b"\n \n\t\n", gzip.compress(b"", mtime=0), gzip.compress(b"\n\n", mtime=0)])
def test_an_empty_input_is_said_to_be_empty(tmp_path, content):
    """Issue item 16: an empty file is one Skipped naming it, not silence."""
    path = tmp_path / "empty.json"
    path.write_bytes(content)
    assert list(iter_records(path)) == [Skipped(str(path), "empty: no events (the input is empty or blank)")]


def test_text_lines_need_allow_text():
    records, rejected = split(iter_records(FIXTURES / "sources" / "messages.log", allow_text=True))
    assert rejected == []
    assert [r.event is None for r in records] == [True, True, False]
    assert records[0].text.startswith("2 111122223333 eni-0a1b2c3d") and not records[0].text.endswith("\n")
    # a JSON line keeps both its decoded event and its raw text
    assert records[2].event["eventName"] == "StopLogging"
    assert json.loads(records[2].text) == EVENTS[1]

    records, rejected = split(iter_records(FIXTURES / "sources" / "messages.log"))
    assert [r.event["eventName"] for r in records] == ["StopLogging"]
    assert [r.reason.split(":")[0] for r in rejected] == ["not JSON", "not JSON"]
    assert "line 1" in rejected[0].reason and "line 2" in rejected[1].reason


def test_text_mode_accepts_json_that_is_not_cloudtrail():
    records, rejected = split(iter_bytes(b'{"level": "info", "message": "started"}\n', "app.jsonl", allow_text=True))
    assert rejected == [] and records[0].event["level"] == "info"
    _, rejected = split(iter_bytes(b'{"level": "info", "message": "started"}\n', "app.jsonl"))
    assert [r.kind for r in rejected] == ["not CloudTrail"]


# --- streams ----------------------------------------------------------------------------------


def test_binary_stream_without_peek():
    data = gzip.compress(orjson.dumps({"Records": EVENTS}), mtime=0)
    records, rejected = split(iter_records(io.BytesIO(data)))
    assert rejected == [] and len(records) == len(EVENTS)
    assert records[0].source == "<stream>"


def test_stdin_dash(monkeypatch):
    fake_stdin = io.TextIOWrapper(io.BufferedReader(io.BytesIO(b"".join(orjson.dumps(e) + b"\n" for e in EVENTS))))
    monkeypatch.setattr(sys, "stdin", fake_stdin)
    records, rejected = split(iter_records("-"))
    assert rejected == [] and [r.source for r in records][:1] == ["<stdin>"] and len(records) == len(EVENTS)


def test_in_memory_bytes_use_the_given_label():
    records, _ = split(iter_bytes(orjson.dumps(EVENTS[:1]), "s3://bucket/key.json"))
    assert records[0].source == "s3://bucket/key.json"


def test_text_stream_is_read_through_its_buffer():
    stream = io.TextIOWrapper(io.BytesIO(orjson.dumps(EVENTS[:3])))
    records, _ = split(iter_records(stream))
    assert len(records) == 3


# --- bad input: never raised, always reported -------------------------------------------------


def test_truncated_gzip_delivery_file():
    records, rejected = split(iter_records(FIXTURES / "bad" / "truncated.json.gz"))
    assert records == []
    assert len(rejected) == 1
    assert rejected[0].kind == "truncated gzip"
    assert rejected[0].source.endswith("truncated.json.gz")


def test_truncated_gzip_keeps_the_lines_before_the_cut():
    records, rejected = split(iter_records(FIXTURES / "bad" / "truncated-lines.jsonl.gz"))
    assert len(records) >= 1
    assert [r.event["eventID"] for r in records] == [f"{n:04d}" for n in range(len(records))]
    assert [r.kind for r in rejected] == ["truncated gzip"]
    assert f"after line {len(records)}" in rejected[0].reason


def test_batches_hold_the_same_events_as_records():
    from trailguard.records import iter_batches

    batches = list(iter_batches(FIXTURES / "sources" / "delivery.json.gz"))
    assert len(batches) == 1 and [e["eventID"] for e in batches[0]] == EVENT_IDS
    mixed = list(iter_batches((FIXTURES / "bad" / "mixed.jsonl").read_bytes(), label="mixed"))
    assert [type(b).__name__ for b in mixed] == ["list", "Rejected", "list", "Rejected"]
    assert mixed[1].source == "mixed"


def test_gzip_members_concatenated_and_trailing_garbage(tmp_path):
    two = tmp_path / "two.json.gz"
    two.write_bytes(gzip.compress(orjson.dumps(EVENTS[0]) + b"\n") + gzip.compress(orjson.dumps(EVENTS[1]) + b"\n"))
    records, rejected = split(iter_records(two))
    assert rejected == [] and [r.event["eventID"] for r in records] == EVENT_IDS[:2]
    garbage = tmp_path / "garbage.json.gz"
    garbage.write_bytes(gzip.compress(orjson.dumps(EVENTS[0]) + b"\n") + b"junk")
    records, rejected = split(iter_records(garbage))
    assert len(records) == 1 and [r.kind for r in rejected] == ["corrupt gzip"]


def test_corrupt_gzip():
    records, rejected = split(iter_records(FIXTURES / "bad" / "corrupt.json.gz"))
    assert records == [] and [r.kind for r in rejected] == ["corrupt gzip"]


def test_non_json_lines_are_rejected_one_by_one():
    records, rejected = split(iter_records(FIXTURES / "bad" / "mixed.jsonl"))
    assert [r.event["eventName"] for r in records] == ["ConsoleLogin", "StopLogging"]
    assert [r.reason.split(":", 2)[:2] for r in rejected] == [["not JSON", " line 2"], ["not JSON", " line 4"]]


def test_broken_pretty_document_is_one_rejection():
    records, rejected = split(iter_records(FIXTURES / "bad" / "broken-document.json"))
    assert records == []
    assert len(rejected) == 1 and rejected[0].reason.startswith("not JSON: document: ")


def test_json_lines_with_damaged_first_line_keep_the_rest(tmp_path):
    path = tmp_path / "damaged.jsonl"
    path.write_bytes(b'{"eventName": "Run\n' + b"".join(orjson.dumps(e) + b"\n" for e in EVENTS[:3]))
    records, rejected = split(iter_records(path))
    assert [r.event["eventID"] for r in records] == EVENT_IDS[:3]
    assert len(rejected) == 1 and rejected[0].reason.startswith("not JSON: line 1: ")


@pytest.mark.parametrize("allow_text", [False, True])
def test_a_digest_document_is_skipped_not_rejected(allow_text):
    """Issue item 10: a CloudTrail digest (even renamed or piped) is recognised by its content."""
    path = FIXTURES / "bad" / "digest.json"
    items = list(iter_records(path, allow_text=allow_text))
    assert [(type(i).__name__, i.kind) for i in items] == [("Skipped", "CloudTrail digest")]
    assert items[0].source == str(path) and "not events" in items[0].reason


def test_records_that_is_not_an_array():
    _, rejected = split(iter_records(FIXTURES / "bad" / "records-not-array.json"))
    assert [r.reason for r in rejected] == ["not CloudTrail: line 1: 'Records' is an object, not an array"]


def test_array_of_scalars():
    _, rejected = split(iter_records(FIXTURES / "bad" / "scalars.json"))
    assert [r.reason for r in rejected] == [
        "not CloudTrail: document, [0]: a number, not an event object",
        "not CloudTrail: document, [1]: a string, not an event object",
        "not CloudTrail: document, [2]: null, not an event object",
    ]


def _oversized_event() -> dict:
    return dict(EVENTS[3], requestParameters={"userData": "A" * (MAX_EVENT_BYTES + 100)})


def test_event_over_256_kb_in_json_lines(tmp_path):
    path = tmp_path / "big.jsonl"
    path.write_bytes(orjson.dumps(EVENTS[0]) + b"\n" + orjson.dumps(_oversized_event()) + b"\n" + orjson.dumps(EVENTS[1]) + b"\n")
    records, rejected = split(iter_records(path))
    assert [r.event["eventName"] for r in records] == ["ConsoleLogin", "StopLogging"]
    assert len(rejected) == 1
    assert rejected[0].kind == "event over 256 KB"
    assert "line 2" in rejected[0].reason


def test_event_over_256_kb_inside_a_delivery_file(tmp_path):
    path = tmp_path / "big.json.gz"
    path.write_bytes(gzip.compress(orjson.dumps({"Records": [EVENTS[0], _oversized_event(), EVENTS[1]]})))
    records, rejected = split(iter_records(path))
    assert [r.event["eventName"] for r in records] == ["ConsoleLogin", "StopLogging"]
    assert [r.kind for r in rejected] == ["event over 256 KB"]
    assert "Records[1]" in rejected[0].reason


def test_large_delivery_file_of_small_events_is_fine(tmp_path):
    many = [dict(EVENTS[n % len(EVENTS)], eventID=str(n)) for n in range(500)]
    data = orjson.dumps({"Records": many})
    assert len(data) > MAX_EVENT_BYTES
    records, rejected = split(iter_bytes(data, "big"))
    assert rejected == [] and len(records) == 500


def test_event_exactly_at_the_limit_is_kept(tmp_path):
    event = dict(EVENTS[0], pad="")
    event["pad"] = "x" * (MAX_EVENT_BYTES - len(orjson.dumps(event)))
    line = orjson.dumps(event)
    assert len(line) == MAX_EVENT_BYTES
    records, rejected = split(iter_bytes(line + b"\n", "edge"))
    assert rejected == [] and len(records) == 1


def test_reason_kinds_are_the_prefixes():
    assert reason_kind("truncated gzip: Compressed file ended") == "truncated gzip"
    assert set(REASON_KINDS) >= {"truncated gzip", "not JSON", "not CloudTrail", "event over 256 KB"}


class _RefusingDecoder:
    """A partial decoder that refuses every document: the reader must fall back to orjson."""

    def loads(self, data: bytes):
        raise ValueError("shape not supported")

    def split_records(self, data: bytes):
        return None


def test_a_refusing_decoder_falls_back_to_full_decoding():
    records, rejected = split(iter_records(FIXTURES / "sources" / "delivery.json.gz", decoder=_RefusingDecoder()))
    assert rejected == [] and [r.event["eventID"] for r in records] == EVENT_IDS


# --- sources that cannot be read raise at once ------------------------------------------------


def test_missing_path_raises_naming_it(tmp_path):
    missing = tmp_path / "nope.json.gz"
    with pytest.raises(RecordSourceError) as caught:
        iter_records(missing)  # raised at the call, not at the first next()
    assert str(missing) in str(caught.value)
    assert isinstance(caught.value, OSError) and isinstance(caught.value, ValueError)


def test_directory_given_as_a_file_raises(tmp_path):
    with pytest.raises(RecordSourceError, match=str(tmp_path)):
        iter_records(tmp_path)


# --- iter_paths -------------------------------------------------------------------------------


def _tree(tmp_path: Path) -> Path:
    root = tmp_path / "AWSLogs" / "111122223333" / "CloudTrail"
    for rel in ["us-east-1/2025/03/04/b.json.gz", "us-east-1/2025/03/04/a.json.gz", "eu-west-1/2025/03/05/c.json.gz"]:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(b"{}")
    (root / ".hidden").write_text("x")
    (root / ".git").mkdir()
    (root / ".git" / "config").write_text("x")
    return root


def test_iter_paths_recurses_sorted_and_skips_hidden(tmp_path):
    root = _tree(tmp_path)
    names = [p.relative_to(root).as_posix() for p in iter_paths([root])]
    assert names == ["eu-west-1/2025/03/05/c.json.gz", "us-east-1/2025/03/04/a.json.gz", "us-east-1/2025/03/04/b.json.gz"]


def test_iter_paths_globs_and_deduplicates(tmp_path):
    root = _tree(tmp_path)
    single = root / "us-east-1/2025/03/04/a.json.gz"
    paths = list(iter_paths([single, str(root / "**" / "*.json.gz"), "-"]))
    assert paths[0] == single
    assert len(paths) == 4 and paths[-1] == Path("-")
    assert len({p.resolve() for p in paths[:-1]}) == 3


@pytest.mark.parametrize(
    ("make_source", "expected"),
    [
        (lambda tmp: tmp / "missing.json", "missing.json: no such file or directory (give a file, a directory or a glob)"),
        (lambda tmp: tmp / "logs" / "*.json.gz", "pattern {tmp}/logs/*.json.gz matches no files"),
        (lambda tmp: tmp / "emptydir", "directory {tmp}/emptydir contains no files"),
    ],
)
def test_iter_paths_names_the_source_that_matches_nothing(tmp_path, make_source, expected):
    (tmp_path / "emptydir").mkdir()
    (tmp_path / "logs").mkdir()
    source = make_source(tmp_path)
    with pytest.raises(RecordSourceError) as caught:
        list(iter_paths([source]))
    assert str(caught.value).endswith(expected.format(tmp=tmp_path))


# --- the shared real events, when present -----------------------------------------------------


def test_shared_stratus_red_team_events_read_cleanly():
    if not SHARED.is_dir():
        pytest.skip(f"shared data not present at {SHARED}")
    records, rejected = split(item for path in iter_paths([SHARED / "*.json"]) for item in iter_records(path))
    assert rejected == []
    assert len(records) == 310
    assert all(isinstance(r.event.get("eventTime"), str) for r in records)
