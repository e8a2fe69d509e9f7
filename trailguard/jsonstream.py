"""Split one large JSON value into the raw bytes of its events, reading it piece by piece.

A CloudTrail delivery document is one line, `{"Records": [...]}`; a busy trail or a merged export
can make that line hundreds of megabytes, and decoding it whole costs ten times its size in Python
objects. `split_events` walks the value as its pieces arrive and hands back each element of the
envelope's `Records` (or of a top-level array) as bytes, so the caller decodes one event at a
time: memory follows the largest event, not the document.

Python's JSON scanner finds where each element ends (it runs in C; the values it builds are
thrown away); the element's own bytes are then decoded by the caller with its usual decoder, so
what is accepted or rejected is decided by the same rules as for a small document.
"""

from __future__ import annotations

import codecs
import json
import re
from dataclasses import dataclass
from typing import Iterator, Union

_WHITESPACE = re.compile(r"[ \t\n\r]*")
_KEEP_BUFFER = 1 << 20  # consumed text is dropped from the buffer once it is this long
_GATHER = 256 * 1024  # bytes of input appended to the text at a time


def _nothing(_: str) -> None:
    return None


_SCANNER = json.JSONDecoder(parse_int=_nothing, parse_float=_nothing, parse_constant=_nothing,
                            object_pairs_hook=_nothing)
"""Finds the end of a JSON value; numbers of any length are fine (their values are not built)."""


@dataclass(frozen=True, slots=True)
class Element:
    """One element of the streamed array: its bytes and its position in the array."""

    data: bytes
    position: int
    in_records: bool  # an element of an envelope's `Records` (else of a top-level array)


@dataclass(frozen=True, slots=True)
class Broken:
    """The value cannot be split further: what is wrong, and where (in characters from its start)."""

    detail: str


@dataclass(frozen=True, slots=True)
class NoRecords:
    """A top-level object without a `Records` array: `size` bytes in all; `records_type` is the
    JSON type `Records` has when present and not an array; `names` its first 64 member names."""

    size: int
    records_type: str | None
    names: frozenset[str] = frozenset()
    data: bytes | None = None  # the whole object, when it was still held at its end (then decode it as usual)


Piece = Union[Element, Broken, NoRecords]


class _Text:
    """The pieces decoded into a sliding window of text (invalid UTF-8 kept as lone surrogates, so
    each element's bytes come back exactly)."""

    def __init__(self, pieces: Iterator[bytes]) -> None:
        self._pieces = pieces
        self._decoder = codecs.getincrementaldecoder("utf-8")("surrogateescape")
        self.text = ""
        self.pos = 0
        self.offset = 0  # characters dropped from the front of `text`
        self.ended = False

    def more(self) -> bool:
        """Append the next piece; False at the end of the input."""
        if self.ended:
            return False
        if self.pos > _KEEP_BUFFER:
            self.offset += self.pos
            self.text = self.text[self.pos:]
            self.pos = 0
        gathered: list[bytes] = []
        size = 0
        for piece in self._pieces:  # small pieces (the lines of a pretty document) are joined first
            gathered.append(piece)
            size += len(piece)
            if size >= _GATHER:
                break
        else:
            self.ended = True
        if gathered:
            self.text += self._decoder.decode(b"".join(gathered), final=self.ended)
        elif self.ended:
            self.text += self._decoder.decode(b"", final=True)
        return bool(gathered)

    def peek(self) -> str:
        """The next non-blank character ("" at the end), skipping blanks."""
        while True:
            self.pos = _WHITESPACE.match(self.text, self.pos).end()  # type: ignore[union-attr]
            if self.pos < len(self.text):
                return self.text[self.pos]
            if not self.more():
                return ""

    def value(self, limit: int) -> tuple[int, int] | str:
        """(start, end) of the JSON value at the current position, reading more as needed; a
        message when it is not valid or runs past `limit` characters. Leaves `pos` at its end."""
        self.peek()
        while True:
            start = self.pos  # `more` may move the window: the value starts at `pos` until it is found
            try:
                _, end = _SCANNER.raw_decode(self.text, start)
            except json.JSONDecodeError as error:
                if self.ended or len(self.text) - start > limit:
                    return str(error) if self.ended else f"a value runs past {limit:,} bytes without ending ({error})"
                self.more()
                continue
            except RecursionError:
                return "nested too deeply to split (more than about 900 levels)"
            if end == len(self.text) and not self.ended:  # a number or word may go on in the next piece
                self.more()
                continue
            self.pos = end
            return start, end

    def expect(self, allowed: str) -> str:
        found = self.peek()
        if found and found in allowed:
            self.pos += 1
        return found

    def drain(self) -> int:
        """Read to the end, keeping nothing; the characters that were left."""
        left = len(self.text) - self.pos
        self.text, self.pos = "", 0
        for piece in self._pieces:
            left += len(piece)
        self.ended = True
        return left


def split_events(pieces: Iterator[bytes], limit: int) -> Iterator[Piece]:
    """Elements of the `Records` array of an envelope, or of a top-level array, in order; a
    `Broken` last when the value stops making sense (the rest is read and dropped); a `NoRecords`
    for an object without a `Records` array. `limit` bounds the characters held for one element."""
    text = _Text(pieces)
    opening = text.expect("[{")
    if opening == "[":
        yield from _elements(text, limit, in_records=False)
    elif opening == "{":
        yield from _envelope(text, limit)
    else:
        yield Broken(f"expected '[' or '{{', found {opening!r}" if opening else "no JSON value")
    if text.peek():
        text.drain()
        yield Broken("data after the end of the JSON value")


def _elements(text: _Text, limit: int, *, in_records: bool) -> Iterator[Piece]:
    position = 0
    if text.peek() == "]":
        text.pos += 1
        return
    while True:
        found = text.value(limit)
        if isinstance(found, str):
            text.drain()
            yield Broken(f"element {position}: {found}")
            return
        start, end = found
        yield Element(text.text[start:end].encode("utf-8", "surrogateescape"), position, in_records)
        position += 1
        separator = text.expect(",]")
        if separator == "]":
            return
        if separator != ",":
            text.drain()
            yield Broken(f"after element {position - 1}: expected ',' or ']', found {separator!r}" if separator
                         else f"cut off after element {position - 1}")
            return


def _envelope(text: _Text, limit: int) -> Iterator[Piece]:
    start = text.offset + text.pos - 1
    records_type: str | None = None
    streamed = False
    names: set[str] = set()
    if text.peek() == "}":
        text.pos += 1
        yield NoRecords(2, None, frozenset(), b"{}")
        return
    while True:
        key = text.value(limit)
        if isinstance(key, str) or text.text[key[0]] != '"':
            text.drain()
            yield Broken(f"expected a member name: {key}" if isinstance(key, str) else "expected a member name")
            return
        name = json.loads(text.text[key[0]:key[1]])
        if len(names) < 64:
            names.add(name)
        if text.expect(":") != ":":
            text.drain()
            yield Broken(f"expected ':' after member {name!r}")
            return
        if name == "Records" and text.peek() == "[":
            text.pos += 1
            streamed = True
            for piece in _elements(text, limit, in_records=True):
                yield piece
                if isinstance(piece, Broken):
                    return
        else:
            found = text.value(limit)
            if isinstance(found, str):
                text.drain()
                yield Broken(f"member {name!r}: {found}")
                return
            if name == "Records":
                records_type = _type_of(text.text[found[0]])
        separator = text.expect(",}")
        if separator == "}":
            break
        if separator != ",":
            text.drain()
            yield Broken(f"expected ',' or '}}' after member {name!r}")
            return
    if not streamed:
        held = start - text.offset
        data = text.text[held:text.pos].encode("utf-8", "surrogateescape") if held >= 0 else None
        yield NoRecords(text.offset + text.pos - start, records_type, frozenset(names), data)


def _type_of(first: str) -> str:
    return {"{": "object", "[": "array", '"': "string", "t": "boolean", "f": "boolean", "n": "null"}.get(first, "number")
