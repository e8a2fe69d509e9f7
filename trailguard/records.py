"""Read CloudTrail records from files and streams in every shape they are kept in.

CloudTrail delivers `{"Records": [...]}` documents to S3 (gzipped, one line each); people also
keep JSON arrays (the shared Stratus Red Team captures), JSON lines (exports, `jq -c` output)
and, for non-CloudTrail logs, plain text lines. `iter_records` hides the shape: it yields one
`Record` per event, or a `Rejected` for input it cannot use, and never raises for bad content,
because one corrupt object in a month of archive must not stop a back-test. Only a source that
cannot be opened at all raises `RecordSourceError`.

Memory stays flat: a file up to WHOLE_READ_BYTES (delivery files are kilobytes to a few
megabytes) is read and inflated in one go, larger files are streamed line by line, and a
multi-line document (a pretty-printed array) is parsed whole up to MAX_DOCUMENT_BYTES. The JSON
decoder is pluggable (`RecordDecoder`) so the back-test can decode only the fields its patterns
read, and `iter_batches` hands it lists of events without a `Record` per event; the default
decodes everything with orjson.
"""

from __future__ import annotations

import glob
import gzip
import io
import os
import sys
import zlib
from dataclasses import dataclass
from itertools import repeat
from pathlib import Path
from typing import IO, Any, BinaryIO, Callable, Iterable, Iterator, Protocol, Union

import orjson

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

# Reason kinds: every `Rejected.reason` starts with one of these, then ": " and the detail.
TRUNCATED_GZIP = "truncated gzip"
CORRUPT_GZIP = "corrupt gzip"
NOT_JSON = "not JSON"
NOT_CLOUDTRAIL = "not CloudTrail"
EVENT_TOO_LARGE = "event over 256 KB"
UNREADABLE = "unreadable"
REASON_KINDS: tuple[str, ...] = (TRUNCATED_GZIP, CORRUPT_GZIP, NOT_JSON, NOT_CLOUDTRAIL, EVENT_TOO_LARGE, UNREADABLE)

STDIN = "-"

WHOLE_READ_BYTES = 2 * 1024 * 1024
"""Files up to this size (as stored) are read and decompressed in one go; larger ones are streamed."""

MAX_DOCUMENT_BYTES = 64 * 1024 * 1024
"""A multi-line JSON document is parsed whole up to this size; past it the input is read as lines."""


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


Item = Union[Record, Rejected]


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


class OrjsonDecoder:
    """The default decoder: everything, with orjson."""

    loads = staticmethod(orjson.loads)

    def split_records(self, data: bytes) -> list[bytes] | None:
        value = orjson.loads(data)
        if not isinstance(value, dict) or not isinstance(value.get("Records"), list):
            return None
        return [orjson.dumps(item) for item in value["Records"]]


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
            size = os.fstat(stream.fileno()).st_size
        except OSError as error:
            raise RecordSourceError(f"cannot read {path}: {error.strerror or error}") from error
        reader = _Reader(path, allow_text, decoder)
        if size <= WHOLE_READ_BYTES:
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
    in a stable order without duplicates. `-` passes through for stdin.

    Raises RecordSourceError naming the first source that matches no file.
    """
    return map(Path, iter_path_names(sources))


def iter_path_names(sources: Iterable[str | os.PathLike[str]]) -> Iterator[str]:
    """`iter_paths` as strings (no Path object per file: an archive can hold a million)."""
    seen: set[str] = set()
    for source in sources:
        for path in _expand(os.fspath(source)):
            key = os.path.abspath(path) if path != STDIN else STDIN
            if key not in seen:
                seen.add(key)
                yield path


def _expand(source: str) -> list[str]:
    if source == STDIN:
        return [STDIN]
    if os.path.isdir(source):
        files = _files_under(source)
        if not files:
            raise RecordSourceError(f"directory {source} contains no files")
        return files
    if os.path.exists(source):
        return [source]
    if glob.has_magic(source):
        matches = sorted(glob.glob(source, recursive=True))
        files: list[str] = []
        for match in matches:
            files.extend(_files_under(match) if os.path.isdir(match) else [match])
        if not files:
            raise RecordSourceError(f"pattern {source} matches no files")
        return files
    raise RecordSourceError(f"{source}: no such file or directory (give a file, a directory or a glob)")


def _files_under(directory: str) -> list[str]:
    found: list[str] = []
    for root, dirs, files in os.walk(directory):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found.extend(os.path.join(root, name) for name in sorted(files) if not name.startswith("."))
    return found


# --- reading one stream ---------------------------------------------------------------------


class _GzipError(Exception):
    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(detail)
        self.kind = kind


class _Reader:
    """Reads one source. Yields, in order: lists of CloudTrail event dicts, `Rejected` items and
    (text mode) `(source, event, text)` tuples; `_records` turns those into Records."""

    def __init__(self, source: str, allow_text: bool, decoder: RecordDecoder) -> None:
        self.source = source
        self.allow_text = allow_text
        self.decoder = decoder
        self._loads = decoder.loads

    # three ways in: a small file read whole, bytes in memory, or a stream read line by line

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
        if data[:2] == GZIP_MAGIC:
            data, failure = _gunzip(data)
        newline = data.find(b"\n")
        if newline == -1 and failure is None:
            parts = [data]  # one line, the S3 delivery shape: no copy
        else:
            parts = data.split(b"\n")
            if failure is not None or parts[-1] == b"":
                parts.pop()  # the newline's empty tail, or bytes cut off mid-line by a broken gzip
        yield from self._dispatch(_numbered(parts))
        if failure is not None:
            kind, detail = failure
            yield self._reject(kind, f"{detail}{_after(len(parts))}")

    def from_stream(self, raw: BinaryIO, *, close: bool) -> Iterator[Any]:
        try:
            buffered = raw if hasattr(raw, "peek") else io.BufferedReader(_RawAdapter(raw))
            gzipped = buffered.peek(2)[:2] == GZIP_MAGIC  # type: ignore[attr-defined]
            stream: IO[bytes] = gzip.GzipFile(fileobj=buffered, mode="rb") if gzipped else buffered  # type: ignore[assignment]
            try:
                yield from self._dispatch(self._stream_lines(stream, gzipped))
            except _GzipError as error:
                yield self._reject(error.kind, str(error))
        finally:
            if close:
                raw.close()

    def _stream_lines(self, stream: IO[bytes], gzipped: bool) -> Iterator[tuple[int, bytes]]:
        """Non-blank lines without their line ending, with 1-based numbers; gzip failures become _GzipError."""
        number = 0
        while True:
            try:
                line = stream.readline()
            except EOFError as error:
                raise _GzipError(TRUNCATED_GZIP, f"{error}{_after(number)}") from None
            except (gzip.BadGzipFile, zlib.error) as error:
                raise _GzipError(CORRUPT_GZIP, f"{error}{_after(number)}") from None
            except OSError as error:
                if gzipped:
                    raise _GzipError(CORRUPT_GZIP, f"{error}{_after(number)}") from None
                raise _GzipError(UNREADABLE, str(error)) from None
            if not line:
                return
            number += 1
            line = line.rstrip(b"\r\n")
            if line.strip():
                yield number, line

    def _dispatch(self, lines: Iterator[tuple[int, bytes]]) -> Iterator[Item]:
        """JSON lines if the first non-blank line is JSON on its own; otherwise a multi-line
        document, parsed whole; if that fails, text lines (when allowed) or, when some lines
        are JSON on their own, JSON lines with damaged lines."""
        first = next(lines, None)
        if first is None:
            return
        first_value = self._try_loads(first[1])
        if first_value is not _FAILED:
            yield from self._line_items(first[0], first[1], first_value)
            yield from self._line_mode(lines)
            return
        head = [first]
        size = len(first[1])
        for numbered in lines:
            head.append(numbered)
            size += len(numbered[1])
            if size > MAX_DOCUMENT_BYTES:
                break  # too big for a document: treat as JSON lines from here on
        else:
            data = b"\n".join(line for _, line in head)
            value = self._try_loads(data)
            if value is not _FAILED:
                yield from self._items(value, data, "document")
                return
            if not self.allow_text and not any(isinstance(self._try_loads(line), (dict, list)) for _, line in head[1:]):
                yield self._reject(NOT_JSON, f"document: {_json_error(data)}")
                return
        for number, line in head:
            yield from self._line_items(number, line, self._try_loads(line))
        yield from self._line_mode(lines)

    def _line_mode(self, lines: Iterator[tuple[int, bytes]]) -> Iterator[Item]:
        for number, line in lines:
            yield from self._line_items(number, line, self._try_loads(line))

    def _line_items(self, number: int, line: bytes, value: Any) -> Iterator[Item]:
        if value is _FAILED:
            if self.allow_text:
                yield self._text(line)
            else:
                yield self._reject(NOT_JSON, f"line {number}: {_json_error(line)}")
        elif self.allow_text and isinstance(value, dict) and "Records" not in value:
            yield self._text(line, value) if len(line) <= MAX_EVENT_BYTES else self._too_large(f"line {number}", len(line))
        else:
            yield from self._items(value, line, f"line {number}")

    def _items(self, value: Any, data: bytes, where: str) -> Iterator[Any]:
        """Events of one decoded JSON value: an envelope, an array of events or one event."""
        if value.__class__ is dict:
            records = value.get("Records")
            if records is None:
                size = len(data)
                if where == "document" and size > MAX_EVENT_BYTES:
                    size = len(orjson.dumps(value))  # pretty-printed: measure the event as CloudTrail sends it
                if size <= MAX_EVENT_BYTES and (self.allow_text or _is_event(value)):
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
                    raws = [orjson.dumps(item) for item in records]
                yield from self._events(records, [len(raw) for raw in raws], f"{where}, Records")
        elif value.__class__ is list:
            sizes = None
            if len(data) > MAX_EVENT_BYTES:
                sizes = [len(orjson.dumps(item)) if item.__class__ is dict else 0 for item in value]
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
                    and (sizes is None or sizes[position] <= MAX_EVENT_BYTES)):
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
        if size > MAX_EVENT_BYTES:
            return self._too_large(where, size)
        if value.__class__ is not dict:
            if self.allow_text:
                return self._text(orjson.dumps(value))
            return self._reject(NOT_CLOUDTRAIL, f"{where}: {_a(_json_type(value))}, not an event object")
        return self._reject(NOT_CLOUDTRAIL, f"{where}: object has none of {', '.join(sorted(CLOUDTRAIL_KEYS))}")

    def _text(self, line: bytes, event: dict[str, Any] | None = None) -> tuple[dict[str, Any] | None, str]:
        return event, line.decode("utf-8", errors="replace").rstrip("\r\n")

    def _too_large(self, where: str, size: int) -> Rejected:
        return self._reject(EVENT_TOO_LARGE, f"{where}: {size:,} bytes (CloudTrail does not send it to CloudWatch Logs)")

    def _reject(self, kind: str, detail: str) -> Rejected:
        return Rejected(self.source, f"{kind}: {detail}")

    def _try_loads(self, data: bytes) -> Any:
        try:
            return self.decoder.loads(data)
        except ValueError:
            if self.decoder is DEFAULT_DECODER:
                return _FAILED
        # a partial decoder may refuse valid JSON of an unexpected shape: decode it all
        try:
            return orjson.loads(data)
        except ValueError:
            return _FAILED


_FAILED: Any = object()


def _is_event(value: dict[str, Any]) -> bool:
    """Has one of CLOUDTRAIL_KEYS (written out: this runs once per event)."""
    return "eventName" in value or "eventTime" in value or "eventSource" in value or "eventVersion" in value


def _numbered(parts: list[bytes]) -> Iterator[tuple[int, bytes]]:
    for number, line in enumerate(parts, 1):
        line = line.rstrip(b"\r")
        if line.strip():
            yield number, line


def _gunzip(data: bytes) -> tuple[bytes, tuple[str, str] | None]:
    """Decompress every gzip member; on a cut or corrupt stream, what came out before it and why."""
    out: list[bytes] = []
    while data:
        decompressor = _inflate.decompressobj(zlib.MAX_WBITS | 16)
        try:
            out.append(decompressor.decompress(data))
        except _INFLATE_ERRORS as error:
            return b"".join(out), (CORRUPT_GZIP, str(error))
        if not decompressor.eof:
            out.append(decompressor.flush())
            return b"".join(out), (TRUNCATED_GZIP, "Compressed file ended before the end-of-stream marker was reached")
        data = decompressor.unused_data
        if data and data[:2] != GZIP_MAGIC:
            if data.strip(b"\0"):
                return b"".join(out), (CORRUPT_GZIP, "trailing garbage after the gzip data")
            break
    return b"".join(out), None


def _json_error(data: bytes) -> str:
    try:
        orjson.loads(data)
    except orjson.JSONDecodeError as error:
        return str(error)
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
