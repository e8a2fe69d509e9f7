"""Read CloudTrail records from files and streams in every shape they are kept in.

CloudTrail delivers `{"Records": [...]}` documents to S3 (gzipped, one line each); people also
keep JSON arrays (the shared Stratus Red Team captures), JSON lines (exports, `jq -c` output)
and, for non-CloudTrail logs, plain text lines. `iter_records` hides the shape: it yields one
`Record` per event, a `Rejected` for input it cannot use and a `Skipped` for input that holds no
events on purpose (an empty file, a CloudTrail digest), and never raises for bad content, because
one corrupt object in a month of archive must not stop a back-test. Only a source that cannot be
opened at all raises `RecordSourceError`. `trailguard test` and `trailguard backtest` both read
through here, so they accept, reject and count every input alike; `test` also takes plain text
lines and JSON objects that are not CloudTrail (any CloudWatch Logs event), which the back-test
rejects.

What is JSON is decided once per input: if its first non-blank character is `{` or `[`, every
line of it is JSON, and a line or document that does not parse is rejected and named (never read
as text). Input that is neither JSON nor UTF-8 text (NUL bytes, invalid UTF-8 at its start) is
rejected as binary.

Memory stays bounded whatever the shape: a regular file up to WHOLE_READ_BYTES (delivery files
are kilobytes to a few megabytes) is read and inflated in one go if it inflates to at most
WHOLE_INFLATE_BYTES; everything else is inflated and split into lines piece by piece, a line or
multi-line document longer than MAX_LINE_BYTES is split into its events as it is read
(`trailguard.jsonstream`), and a gzip file's damage is reported after what inflated before it.
The JSON decoder is pluggable (`RecordDecoder`) so the back-test can decode only the fields its
patterns read, and `iter_batches` hands it lists of events without a `Record` per event; the
default decodes everything with orjson, widened (`loads_json`) to accept what the partial decoder
does, so that both decoders accept the same inputs.
"""

from __future__ import annotations

import io
import json
import os
import stat
import sys
import zlib
from dataclasses import dataclass
from itertools import repeat
from pathlib import Path
from typing import IO, Any, BinaryIO, Callable, Iterable, Iterator, Protocol, Union

import orjson

from trailguard import jsonstream
from trailguard.sourcefiles import (
    SKIPPED_DIGEST, SKIPPED_EMPTY, SKIPPED_NOT_FILE, Listing, Skipped, digest_skip, list_sources,
)

try:  # ISA-L inflates gzip 2-3x faster than zlib, with the same API; optional (`pip install isal`)
    from isal import isal_zlib as _inflate

    _INFLATE_ERRORS: tuple[type[BaseException], ...] = (zlib.error, _inflate.error)
except ImportError:  # pragma: no cover - exercised by the tests through monkeypatching
    _inflate = zlib  # type: ignore[assignment]
    _INFLATE_ERRORS = (zlib.error,)

MAX_EVENT_BYTES = 256 * 1024
"""CloudTrail does not send events over 256 KB to CloudWatch Logs, so no metric filter sees them."""

GZIP_MAGIC = b"\x1f\x8b"

CLOUDTRAIL_KEYS: frozenset[str] = frozenset({"eventVersion", "eventName", "eventSource", "eventTime"})
"""An object with none of these keys is not a CloudTrail event (a digest file, some other log)."""

DIGEST_KEYS: frozenset[str] = frozenset({"digestStartTime", "digestEndTime"})
"""A document with both is a CloudTrail digest file, skipped wherever it is found."""

# Reason kinds: every `Rejected.reason` starts with one of these, then ": " and the detail.
TRUNCATED_GZIP = "truncated gzip"
CORRUPT_GZIP = "corrupt gzip"
NOT_JSON = "not JSON"
NOT_CLOUDTRAIL = "not CloudTrail"
EVENT_TOO_LARGE = "event over 256 KB"
UNREADABLE = "unreadable"
BINARY = "binary"
REASON_KINDS: tuple[str, ...] = (TRUNCATED_GZIP, CORRUPT_GZIP, NOT_JSON, NOT_CLOUDTRAIL, EVENT_TOO_LARGE, UNREADABLE,
                                 BINARY)

MAX_JSON_DEPTH = 1024
"""JSON nested deeper than this is rejected (orjson's limit; the partial decoder falls back to it)."""

STDIN = "-"

WHOLE_READ_BYTES = 2 * 1024 * 1024
"""Regular files up to this size (as stored) are read and decompressed in one go; larger ones,
and pipes, are streamed."""

WHOLE_INFLATE_BYTES = 16 * 1024 * 1024
"""...if they inflate to at most this; a file that inflates further (a gzip bomb) is streamed."""

MAX_LINE_BYTES = 4 * 1024 * 1024
"""A line, or a multi-line JSON document, up to this size is decoded whole; a longer one is split
into its events as it is read (decoded whole, it would take about ten times its size)."""

MAX_DOCUMENT_BYTES = MAX_LINE_BYTES

MAX_SPLIT_ELEMENT_BYTES = 16 * 1024 * 1024
"""While splitting a long line, one element may take this much before the rest of the line is
rejected (an event over 256 KB is rejected anyway; this bounds the search for its end)."""

STREAM_CHUNK_BYTES = 1024 * 1024
"""What a streamed source is read (and inflated) in at a time."""


class RecordSourceError(OSError, ValueError):
    """A source that cannot be read at all: a missing path, a directory without files, a glob
    matching nothing. The message names the source."""


@dataclass(frozen=True, slots=True)
class Record:
    """One log event: `event` is the decoded JSON object (None for a plain text line) and `text`
    the raw line when text input is allowed (None otherwise). `index` counts records within
    `source` from 0."""

    event: dict[str, Any] | None
    text: str | None
    source: str
    index: int


@dataclass(frozen=True, slots=True)
class Rejected:
    """Input that is not a usable event; `reason` is `"<kind>: <detail>"` with kind in REASON_KINDS."""

    source: str
    reason: str
    count: int = 1

    @property
    def kind(self) -> str:
        return reason_kind(self.reason)


Item = Union[Record, Rejected, Skipped]


def reason_kind(reason: str) -> str:
    """The kind part of a rejection reason, used to group rejections in summaries."""
    return reason.split(":", 1)[0]


class RecordDecoder(Protocol):
    """Turns JSON bytes into Python values. `loads` may return a partial object (only some
    keys) but must keep every key of CLOUDTRAIL_KEYS that is present and `Records`; it raises
    ValueError (or a subclass) for input it cannot decode. `split_records` returns the raw
    bytes of each element of an envelope's `Records` (to measure event sizes), or None if the
    document is not an envelope."""

    def loads(self, data: bytes) -> Any: ...

    def split_records(self, data: bytes) -> list[bytes] | None: ...


def loads_json(data: bytes | str) -> Any:
    """Decode JSON with orjson, accepting what the back-test's partial decoder accepts when it
    skips a member: invalid UTF-8 (read as U+FFFD) and numbers beyond a double's range (read as
    +-infinity; a 200,000-digit number is valid JSON). Raises ValueError naming what is wrong;
    nesting deeper than MAX_JSON_DEPTH is refused."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as error:
        message = str(error)
    if "UTF-8" in message and isinstance(data, bytes):
        data = data.decode("utf-8", "replace")
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError as error:
            message = str(error)
    if "number" in message:
        try:
            return json.loads(data, parse_int=_int_or_infinity, parse_constant=_no_constant)
        except RecursionError:
            raise ValueError(f"nested deeper than {MAX_JSON_DEPTH:,} levels") from None
    raise ValueError(message)


def _int_or_infinity(digits: str) -> int | float:
    return int(digits) if len(digits) < 4000 else float(digits)


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def encode_json(value: Any) -> bytes:
    """`value` as compact JSON: orjson, or the standard library for nesting orjson will not write
    (deeper than 255 levels). Raises ValueError if neither can."""
    try:
        return orjson.dumps(value)
    except orjson.JSONEncodeError:
        pass
    try:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str).encode("utf-8", "replace")
    except (RecursionError, ValueError) as error:
        raise ValueError(f"cannot be written as JSON: {error or 'nested too deeply'}") from None


class OrjsonDecoder:
    """The default decoder: everything, with orjson (`loads_json`)."""

    loads = staticmethod(loads_json)

    def split_records(self, data: bytes) -> list[bytes] | None:
        value = loads_json(data)
        if not isinstance(value, dict) or not isinstance(value.get("Records"), list):
            return None
        return [_encoded(item) for item in value["Records"]]


DEFAULT_DECODER = OrjsonDecoder()


def iter_records(
    source: str | os.PathLike[str] | BinaryIO,
    *,
    allow_text: bool = False,
    decoder: RecordDecoder | None = None,
) -> Iterator[Item]:
    """Records of one file path, `-` (stdin) or binary stream, in file order.

    Raises RecordSourceError at once if a path cannot be opened; everything wrong inside the
    content is yielded as `Rejected`.
    """
    return _records(*_open(source, allow_text, decoder))


def iter_bytes(data: bytes, source: str, *, allow_text: bool = False, decoder: RecordDecoder | None = None) -> Iterator[Item]:
    """Records of an in-memory object (an S3 object body), same rules as `iter_records`."""
    return _records(source, _Reader(source, allow_text, decoder or DEFAULT_DECODER).from_bytes(data))


def iter_batches(
    source: str | os.PathLike[str] | BinaryIO | bytes, *, label: str = "", decoder: RecordDecoder | None = None
) -> Iterator[list[dict[str, Any]] | Rejected]:
    """CloudTrail events of one source as lists of decoded events (one list per document or
    line) and `Rejected` items, in source order: `iter_records` without a Record per event, for
    the back-test's inner loop. `bytes` are an in-memory object named by `label`."""
    if isinstance(source, bytes):
        return _Reader(label or "<bytes>", False, decoder or DEFAULT_DECODER).from_bytes(source)
    return _open(source, False, decoder)[1]


def _records(source: str, items: Iterator[Any]) -> Iterator[Item]:
    """Number the reader's output: event batches and text lines become Records, in order."""
    index = 0
    for item in items:
        cls = item.__class__
        if cls is list:
            for event in item:
                yield Record(event, None, source, index)
                index += 1
        elif cls is tuple:
            yield Record(item[0], item[1], source, index)
            index += 1
        else:
            yield item


def _open(source: str | os.PathLike[str] | BinaryIO, allow_text: bool, decoder: RecordDecoder | None
          ) -> tuple[str, Iterator[Any]]:
    """(label, reader output) for a path, `-` or a stream; a path that cannot be opened raises."""
    decoder = decoder or DEFAULT_DECODER
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        if path == STDIN:
            return "<stdin>", _Reader("<stdin>", allow_text, decoder).from_stream(sys.stdin.buffer, close=False)
        try:
            stream: BinaryIO = open(path, "rb")  # noqa: SIM115 - closed by the reader
            info = os.fstat(stream.fileno())
        except OSError as error:
            raise RecordSourceError(f"cannot read {path}: {error.strerror or error}") from error
        reader = _Reader(path, allow_text, decoder)
        if stat.S_ISREG(info.st_mode) and info.st_size <= WHOLE_READ_BYTES:  # a pipe's size says nothing
            return path, reader.from_small_file(stream)
        return path, reader.from_stream(stream, close=True)
    if isinstance(source, io.TextIOBase):
        buffer = getattr(source, "buffer", None)
        if buffer is None:
            raise TypeError("iter_records needs a binary stream; got a text stream without .buffer")
        source = buffer
    name = getattr(source, "name", None)
    label = str(name) if isinstance(name, str) else "<stream>"
    return label, _Reader(label, allow_text, decoder).from_stream(source, close=False)


def iter_paths(sources: Iterable[str | os.PathLike[str]]) -> Iterator[Path]:
    """Expand files, directories (recursively, hidden files skipped) and globs into file paths,
    in a stable order, each file once (`sourcefiles.list_sources`; digest and non-regular files
    met in a directory or glob are left out). `-` passes through for stdin.

    Raises RecordSourceError naming the first source that matches no file.
    """
    return map(Path, iter_path_names(sources))


def iter_path_names(sources: Iterable[str | os.PathLike[str]]) -> Iterator[str]:
    """`iter_paths` as strings (no Path object per file: an archive can hold a million)."""
    return iter(listing_or_raise(sources).files)


def listing_or_raise(sources: Iterable[str | os.PathLike[str]]) -> Listing:
    """`list_sources`, raising RecordSourceError for the first source that names no file."""
    listing = list_sources(sources)
    if listing.missing:
        raise RecordSourceError(listing.missing[0])
    return listing


# --- reading one stream ---------------------------------------------------------------------


_BOM = b"\xef\xbb\xbf"
_BATCH = 1000  # events handed on at a time while a long line is split


class _Reader:
    """Reads one source. Yields, in order: lists of CloudTrail event dicts, `Rejected` and
    `Skipped` items and (text mode) `(event, text)` tuples; `_records` turns those into Records."""

    def __init__(self, source: str, allow_text: bool, decoder: RecordDecoder) -> None:
        self.source = source
        self.allow_text = allow_text
        self.decoder = decoder
        self._loads = decoder.loads
        self.empty = False

    # three ways in: a small file read whole, bytes in memory, or a stream read piece by piece

    def from_small_file(self, stream: BinaryIO) -> Iterator[Any]:
        try:
            with stream:
                data = stream.read()
        except OSError as error:
            yield self._reject(UNREADABLE, str(error))
            return
        yield from self.from_bytes(data)

    def from_bytes(self, data: bytes) -> Iterator[Any]:
        failure = None
        cut = False
        if data[:2] == GZIP_MAGIC:
            inflated, failure, cut = _gunzip(data, WHOLE_INFLATE_BYTES)
            if inflated is None:  # inflates past the bound: piece by piece instead
                yield from self.from_stream(io.BytesIO(data), close=False)
                return
            data = inflated
        elif len(data) > WHOLE_INFLATE_BYTES:
            yield from self.from_stream(io.BytesIO(data), close=False)
            return
        newline = data.find(b"\n")
        if newline == -1 and not cut:
            parts = [data]  # one line, the S3 delivery shape: no copy
        else:
            parts = data.split(b"\n")
            if cut or parts[-1] == b"":
                parts.pop()  # the newline's empty tail, or bytes cut off mid-line by a broken gzip
        if len(parts) == 1 and len(parts[0]) > MAX_LINE_BYTES:
            yield from self.from_stream(io.BytesIO(parts[0]), close=False)
        else:
            yield from self._dispatch(_numbered(parts))
        if failure is not None:
            kind, detail = failure
            yield self._reject(kind, f"{detail}{_after(len(parts))}")
        elif self.empty:
            yield self._empty()

    def from_stream(self, raw: BinaryIO, *, close: bool) -> Iterator[Any]:
        try:
            buffered = raw if hasattr(raw, "peek") else io.BufferedReader(_RawAdapter(raw))
            gzipped = buffered.peek(2)[:2] == GZIP_MAGIC  # type: ignore[attr-defined]
            chunks = _Chunks(buffered, gzipped)
            lines = _Lines(chunks)
            yield from self._dispatch(lines.read())
            if chunks.failure is not None:
                kind, detail = chunks.failure
                yield self._reject(kind, f"{detail}{_after(lines.number)}")
            elif self.empty:
                yield self._empty()
        finally:
            if close:
                raw.close()

    def _dispatch(self, lines: Iterator[tuple[int, Any]]) -> Iterator[Any]:
        """Decide once what the input is. JSON when its first non-blank character is `{` or `[`:
        JSON lines if the first line is JSON on its own, else a multi-line document (split into
        events as it is read past MAX_DOCUMENT_BYTES), else JSON lines with damaged lines;
        nothing in it is read as text. Otherwise: binary data is rejected whole; text lines are
        read as text when allowed, or (the back-test) as JSON lines or a document with damage."""
        first = next(lines, None)
        if first is None:
            self.empty = True
            return
        number, line = first
        if line.__class__ is not bytes:  # a first line too long to hold: split it as it comes
            json_source = yield from self._long_line(number, line, None)
            yield from self._line_mode(lines, json_source)
            return
        json_source = _starts_json(line)
        if not json_source:
            where = _binary_at(line)
            if where is not None:
                yield self._reject(BINARY, f"NUL bytes or invalid UTF-8 {where}; {self._allowed()}")
                for _ in lines:
                    pass
                return
        if line.startswith(_BOM):
            line = line[len(_BOM):]
        first_value = self._try_loads(line)
        if first_value is not _FAILED or (self.allow_text and not json_source):
            yield from self._line_items(number, line, first_value, json_source)
            yield from self._line_mode(lines, json_source)
            return
        head = [(number, line)]
        size = len(line)
        for numbered in lines:
            head.append(numbered)
            if numbered[1].__class__ is not bytes:
                break
            size += len(numbered[1])
            if size > MAX_DOCUMENT_BYTES:
                break
        else:
            data = b"\n".join(line for _, line in head)
            value = self._try_loads(data)
            if value is not _FAILED:
                yield from self._items(value, data, "document")
                return
            if not any(isinstance(self._try_loads(line), (dict, list)) for _, line in head[1:]):
                yield self._reject(NOT_JSON, f"document: {_json_error(data)}")
                return
            for number, line in head:
                yield from self._line_items(number, line, self._try_loads(line), json_source)
            return
        # too long to hold: a document split as it is read, unless its lines are JSON on their own
        if json_source and not any(line.__class__ is bytes and isinstance(self._try_loads(line), (dict, list))
                                   for _, line in head[1:64]):
            yield from self._split(_rejoined(head, lines), "document")
            return
        for number, line in head:
            if line.__class__ is bytes:
                yield from self._line_items(number, line, self._try_loads(line), json_source)
            else:
                yield from self._long_line(number, line, json_source)
        yield from self._line_mode(lines, json_source)

    def _line_mode(self, lines: Iterator[tuple[int, Any]], json_source: bool) -> Iterator[Any]:
        for number, line in lines:
            if line.__class__ is bytes:
                yield from self._line_items(number, line, self._try_loads(line), json_source)
            else:
                yield from self._long_line(number, line, json_source)

    def _line_items(self, number: int, line: bytes, value: Any, json_source: bool) -> Iterator[Any]:
        if value is _FAILED:
            if self.allow_text and not json_source:
                yield self._text(line) if len(line) <= MAX_EVENT_BYTES else self._too_large(f"line {number}", len(line))
            else:
                yield self._reject(NOT_JSON, f"line {number}: {_json_error(line)}")
        elif self.allow_text and value.__class__ is dict and "Records" not in value:
            if _is_digest(value):
                yield digest_skip(self.source)
            else:
                yield self._text(line, value) if len(line) <= MAX_EVENT_BYTES else self._too_large(f"line {number}", len(line))
        else:
            yield from self._items(value, line, f"line {number}")

    def _long_line(self, number: int, pieces: Iterator[bytes], json_source: bool | None) -> Iterator[Any]:
        """A line longer than MAX_LINE_BYTES: split into its events if it is JSON, else rejected
        whole (no log event is that long). Returns whether it was JSON (for a first line)."""
        first = b""
        for piece in pieces:
            first += piece
            if first.strip():
                break
        is_json = _starts_json(first)
        if json_source is None:
            json_source = is_json
        if first.startswith(_BOM):
            first = first[len(_BOM):]
        if is_json:
            yield from self._split(_prepend(first, pieces), f"line {number}")
        else:
            size = len(first) + sum(len(piece) for piece in pieces)
            if json_source or not self.allow_text:
                yield self._reject(NOT_JSON, f"line {number}: {size:,} bytes that do not start a JSON value")
            else:
                yield self._too_large(f"line {number}", size)
        return json_source

    def _split(self, pieces: Iterator[bytes], where: str) -> Iterator[Any]:
        """The events of a JSON value too long to hold, decoded one at a time as it is read."""
        batch: list[Any] = []
        allow_text = self.allow_text
        for piece in jsonstream.split_events(pieces, MAX_SPLIT_ELEMENT_BYTES):
            if piece.__class__ is jsonstream.Element:
                data = piece.data
                at = f"{where}, {'Records' if piece.in_records else ''}[{piece.position}]"
                value = self._try_loads(data)
                if value is _FAILED:
                    if batch:
                        yield batch
                        batch = []
                    yield self._reject(NOT_JSON, f"{at}: {_json_error(data)}")
                elif (value.__class__ is dict and (allow_text or _is_event(value)) and len(data) <= MAX_EVENT_BYTES):
                    batch.append(value)
                    if len(batch) >= _BATCH:
                        yield batch
                        batch = []
                else:
                    if batch:
                        yield batch
                        batch = []
                    yield self._refuse(value, len(data), at)
                continue
            if batch:
                yield batch
                batch = []
            if piece.__class__ is jsonstream.Broken:
                yield self._reject(NOT_JSON, f"{where}: {piece.detail}")
            elif piece.data is not None:  # an object still held whole: read as any other
                value = self._try_loads(piece.data)
                if value is _FAILED:
                    yield self._reject(NOT_JSON, f"{where}: {_json_error(piece.data)}")
                elif self.allow_text and value.__class__ is dict and "Records" not in value and not _is_digest(value):
                    yield self._text(piece.data, value) if len(piece.data) <= MAX_EVENT_BYTES else self._too_large(where, piece.size)
                else:
                    yield from self._items(value, piece.data, where)
            elif DIGEST_KEYS <= piece.names:
                yield digest_skip(self.source)
            elif piece.records_type is not None:
                yield self._reject(NOT_CLOUDTRAIL, f"{where}: 'Records' is {_a(piece.records_type)}, not an array")
            else:
                yield self._too_large(where, piece.size)
        if batch:
            yield batch

    def _items(self, value: Any, data: bytes, where: str) -> Iterator[Any]:
        """Events of one decoded JSON value: an envelope, an array of events or one event."""
        if value.__class__ is dict:
            records = value.get("Records")
            if records is None:
                if _is_digest(value):
                    yield digest_skip(self.source)
                    return
                size = len(data)
                if where == "document" and size > MAX_EVENT_BYTES:
                    size = _encoded_size(value)  # pretty-printed: measure the event as CloudTrail sends it
                if 0 <= size <= MAX_EVENT_BYTES and (self.allow_text or _is_event(value)):
                    yield [value]
                else:
                    yield self._refuse(value, size, where)
            elif records.__class__ is not list:
                yield self._reject(NOT_CLOUDTRAIL, f"{where}: 'Records' is {_a(_json_type(records))}, not an array")
            elif len(data) <= MAX_EVENT_BYTES:
                yield from self._events(records, None, f"{where}, Records")
            else:
                raws = self.decoder.split_records(data)
                if raws is None or len(raws) != len(records):
                    yield from self._events(records, [_encoded_size(item) for item in records], f"{where}, Records")
                else:
                    yield from self._events(records, [len(raw) for raw in raws], f"{where}, Records")
        elif value.__class__ is list:
            sizes = None
            if len(data) > MAX_EVENT_BYTES:
                sizes = [_encoded_size(item) if item.__class__ is dict else 0 for item in value]
            yield from self._events(value, sizes, f"{where}, ")
        elif self.allow_text:
            yield self._text(data)
        else:
            yield self._reject(NOT_CLOUDTRAIL, f"{where}: {_a(_json_type(value))}, not an event object")

    def _events(self, values: list[Any], sizes: list[int] | None, where: str) -> Iterator[Any]:
        """`values` as batches of acceptable events, with what `_refuse` gives in place of each
        bad one. `sizes` are the events' JSON sizes, None when all are known to be small."""
        allow_text = self.allow_text
        if sizes is None and not allow_text:
            try:  # the usual batch, all objects with an eventName, checked without a Python step per event
                if all(map(dict.__contains__, values, repeat("eventName"))):
                    if values:
                        yield values
                    return
            except TypeError:  # an item that is not an object: the loop below says which
                pass
        start = 0
        for position, value in enumerate(values):
            if (value.__class__ is dict  # _is_event, inlined: this runs once per event
                    and (allow_text or "eventName" in value or "eventTime" in value or "eventSource" in value
                         or "eventVersion" in value)
                    and (sizes is None or 0 <= sizes[position] <= MAX_EVENT_BYTES)):
                continue
            if position > start:
                yield values[start:position]
            start = position + 1
            yield self._refuse(value, sizes[position] if sizes is not None else 0, f"{where}[{position}]")
        if start == 0:
            if values:
                yield values
        elif start < len(values):
            yield values[start:]

    def _refuse(self, value: Any, size: int, where: str) -> Any:
        """What to yield for a value that is not an acceptable event: a Rejected, or in text mode
        a text record for a JSON value that is not an object."""
        if size < 0:
            return self._reject(NOT_JSON, f"{where}: nested too deeply to measure (at most {MAX_JSON_DEPTH:,} levels)")
        if size > MAX_EVENT_BYTES:
            return self._too_large(where, size)
        if value.__class__ is not dict:
            if self.allow_text:
                return self._text(_encoded(value))
            return self._reject(NOT_CLOUDTRAIL, f"{where}: {_a(_json_type(value))}, not an event object")
        return self._reject(NOT_CLOUDTRAIL, f"{where}: object has none of {', '.join(sorted(CLOUDTRAIL_KEYS))}")

    def _text(self, line: bytes, event: dict[str, Any] | None = None) -> tuple[dict[str, Any] | None, str]:
        return event, line.decode("utf-8", errors="replace").rstrip("\r\n")

    def _too_large(self, where: str, size: int) -> Rejected:
        return self._reject(EVENT_TOO_LARGE, f"{where}: {size:,} bytes (CloudTrail does not send it to CloudWatch Logs)")

    def _reject(self, kind: str, detail: str) -> Rejected:
        return Rejected(self.source, f"{kind}: {detail}")

    def _empty(self) -> Skipped:
        return Skipped(self.source, f"{SKIPPED_EMPTY}: no events (the input is empty or blank)")

    def _allowed(self) -> str:
        if self.allow_text:
            return "allowed: CloudTrail JSON (gzipped or not), JSON lines, or UTF-8 text lines"
        return "allowed: CloudTrail JSON (gzipped or not) or JSON lines"

    def _try_loads(self, data: bytes) -> Any:
        try:
            return self._loads(data)
        except (ValueError, RecursionError):  # msgspec meets Python's recursion limit on deep nesting
            if self.decoder is DEFAULT_DECODER:
                return _FAILED
        # a partial decoder may refuse valid JSON of an unexpected shape: decode it all
        try:
            return loads_json(data)
        except ValueError:
            return _FAILED


_FAILED: Any = object()


def _is_event(value: dict[str, Any]) -> bool:
    """Has one of CLOUDTRAIL_KEYS (written out: this runs once per event)."""
    return "eventName" in value or "eventTime" in value or "eventSource" in value or "eventVersion" in value


def _is_digest(value: dict[str, Any]) -> bool:
    """A CloudTrail digest file's document (hashes of the log files of an hour): DIGEST_KEYS."""
    return "digestStartTime" in value and "digestEndTime" in value


def _encoded(value: Any) -> bytes:
    try:
        return encode_json(value)
    except ValueError:
        return b""


def _encoded_size(value: Any) -> int:
    """The size of `value` as compact JSON, or -1 if it cannot be written (nested too deeply)."""
    try:
        return len(encode_json(value))
    except ValueError:
        return -1


def _starts_json(line: bytes) -> bool:
    """Whether a first line opens a JSON object or array: `{` then a member name or `}`, `[` then a
    value that is an object, array or string, or nothing more on the line. A log line such as
    `[ERROR 419] ...` or `{main} started` is text."""
    line = line.removeprefix(_BOM).lstrip(b" \t")
    opener, rest = line[:1], line[1:].lstrip(b" \t\r\n")
    if opener == b"{":
        return rest[:1] in (b'"', b"}", b"")
    if opener == b"[":
        return rest[:1] in (b"{", b"[", b'"', b"]", b"")
    return False


def _binary_at(line: bytes) -> str | None:
    """Where a first line shows binary data (a NUL byte or invalid UTF-8 in its first 64 KB), or None."""
    head = line[:65536]
    nul = head.find(b"\0")
    if nul != -1:
        return f"(a NUL byte at byte {nul})"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        if not (error.end == len(head) and len(head) < len(line)):  # not merely a character cut at 64 KB
            return f"(at byte {error.start})"
    return None


def _numbered(parts: list[bytes]) -> Iterator[tuple[int, bytes]]:
    for number, line in enumerate(parts, 1):
        line = line.rstrip(b"\r")
        if line.strip():
            yield number, line


def _rejoined(head: list[tuple[int, Any]], lines: Iterator[tuple[int, Any]]) -> Iterator[bytes]:
    """The pieces of a multi-line document again, from its held lines and the rest."""
    for _, line in head:
        if line.__class__ is bytes:
            yield line
        else:
            yield from line
        yield b"\n"
    for _, line in lines:
        if line.__class__ is bytes:
            yield line
        else:
            yield from line
        yield b"\n"


def _prepend(first: bytes, pieces: Iterator[bytes]) -> Iterator[bytes]:
    yield first
    yield from pieces


def _gunzip(data: bytes, limit: int) -> tuple[bytes | None, tuple[str, str] | None, bool]:
    """Decompress every gzip member: (data, failure, cut). On a cut or corrupt stream, what came
    out before it and why, `cut` telling that the last line is incomplete; trailing garbage after
    complete members keeps every line. Data None: it inflates past `limit` bytes."""
    out: list[bytes] = []
    room = limit
    while data:
        decompressor = _inflate.decompressobj(zlib.MAX_WBITS | 16)
        try:
            piece = decompressor.decompress(data, room + 1)
        except _INFLATE_ERRORS as error:
            return b"".join(out), (CORRUPT_GZIP, str(error)), True
        room -= len(piece)
        if room < 0 or decompressor.unconsumed_tail:
            return None, None, False
        out.append(piece)
        if not decompressor.eof:
            try:
                out.append(decompressor.flush())
            except _INFLATE_ERRORS:
                pass
            return b"".join(out), (TRUNCATED_GZIP, "Compressed file ended before the end-of-stream marker was reached"), True
        data = decompressor.unused_data
        if data and data[:2] != GZIP_MAGIC:
            if data.strip(b"\0"):
                return b"".join(out), (CORRUPT_GZIP, _TRAILING_GARBAGE), False
            break
    return b"".join(out), None, False


_TRAILING_GARBAGE = "trailing garbage after the gzip data (the records before it are read)"


class _Chunks:
    """A stream's bytes, inflated when gzipped, STREAM_CHUNK_BYTES at a time. Damage ends the
    chunks quietly and is kept in `failure` (kind, detail) for the reader to report after the
    lines read before it; `cut` says the last line is incomplete."""

    def __init__(self, stream: IO[bytes], gzipped: bool) -> None:
        self._stream = stream
        self._gzipped = gzipped
        self.failure: tuple[str, str] | None = None
        self.cut = False

    def __iter__(self) -> Iterator[bytes]:
        try:
            if self._gzipped:
                yield from self._inflated()
            else:
                while chunk := self._stream.read(STREAM_CHUNK_BYTES):
                    yield chunk
        except OSError as error:
            self.failure, self.cut = (UNREADABLE, str(error)), True

    def _inflated(self) -> Iterator[bytes]:
        read = self._stream.read
        pending = b""
        decompressor: Any = None
        while True:
            if not pending:
                pending = read(STREAM_CHUNK_BYTES)
                if not pending:
                    if decompressor is not None and not decompressor.eof:
                        self.failure = (TRUNCATED_GZIP, "Compressed file ended before the end-of-stream marker was reached")
                        self.cut = True
                    return
            if decompressor is None or decompressor.eof:  # a member starts here, or trailing bytes
                if len(pending) < 2:
                    more = read(STREAM_CHUNK_BYTES)
                    if more:
                        pending += more
                        continue
                if pending[:2] != GZIP_MAGIC:
                    if pending.strip(b"\0"):
                        self.failure = (CORRUPT_GZIP, _TRAILING_GARBAGE)
                        return
                    pending = b""  # zero padding after the last member
                    continue
                decompressor = zlib.decompressobj(zlib.MAX_WBITS | 16)
            try:
                out = decompressor.decompress(pending, STREAM_CHUNK_BYTES)
            except zlib.error as error:
                self.failure, self.cut = (CORRUPT_GZIP, str(error)), True
                return
            pending = decompressor.unused_data if decompressor.eof else decompressor.unconsumed_tail
            if out:
                yield out


class _Lines:
    """Non-blank lines of a chunk stream, without their line endings, numbered from 1: bytes for
    a line up to MAX_LINE_BYTES, an iterator of its pieces for a longer one (which must be read
    to its end before the next line is asked for)."""

    def __init__(self, chunks: _Chunks) -> None:
        self._chunks = chunks
        self._source = iter(chunks)
        self._buffer = b""
        self._start = 0
        self.number = 0  # the last line read

    def _fill(self) -> bool:
        chunk = next(self._source, None)
        if chunk is None:
            return False
        self._buffer = self._buffer[self._start:] + chunk
        self._start = 0
        return True

    def read(self) -> Iterator[tuple[int, Any]]:
        while True:
            searched = self._start
            while True:
                newline = self._buffer.find(b"\n", searched)
                if newline != -1 or len(self._buffer) - self._start > MAX_LINE_BYTES:
                    break
                searched = len(self._buffer) - self._start
                if not self._fill():
                    break
                searched = max(searched, 0)
            if (newline - self._start if newline != -1 else len(self._buffer) - self._start) > MAX_LINE_BYTES:
                self.number += 1
                pieces = self._long()
                yield self.number, pieces
                for _ in pieces:  # what the reader left of the line
                    pass
                continue
            if newline == -1:  # the end: a last line without a newline, unless damage cut it
                line = self._buffer[self._start:]
                self._buffer, self._start = b"", 0
                if line and not self._chunks.cut:
                    self.number += 1
                    line = line.rstrip(b"\r")
                    if line.strip():
                        yield self.number, line
                return
            line = self._buffer[self._start:newline].rstrip(b"\r")
            self._start = newline + 1
            self.number += 1
            if line.strip():
                yield self.number, line

    def _long(self) -> Iterator[bytes]:
        while True:
            newline = self._buffer.find(b"\n", self._start)
            if newline != -1:
                yield self._buffer[self._start:newline]
                self._start = newline + 1
                return
            yield self._buffer[self._start:]
            self._buffer, self._start = b"", 0
            if not self._fill():
                return


def _json_error(data: bytes) -> str:
    try:
        loads_json(data)
    except ValueError as error:
        message = str(error)
        if "depth limit" in message or "nested deeper" in message:
            return f"{message} (JSON may nest at most {MAX_JSON_DEPTH:,} levels)"
        return message
    return "invalid JSON"


def _after(line_number: int) -> str:
    return f" (after line {line_number})" if line_number else " (before the first line)"


def _a(type_name: str) -> str:
    return type_name if type_name == "null" else ("an " if type_name[0] in "aeiou" else "a ") + type_name


def _json_type(value: Any) -> str:
    names: dict[type, str] = {str: "string", int: "number", float: "number", bool: "boolean", list: "array", dict: "object"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


class _RawAdapter(io.RawIOBase):
    """Lets io.BufferedReader wrap any object with `read(n)` (streams without `peek`)."""

    def __init__(self, stream: Any) -> None:
        self._read: Callable[[int], bytes] = stream.read

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._read(len(buffer))
        buffer[: len(data)] = data
        return len(data)
