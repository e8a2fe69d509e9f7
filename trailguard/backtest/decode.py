"""Decode only the parts of each CloudTrail event that the enabled patterns read.

A delivery file is mostly `requestParameters`, `responseElements`, `tlsDetails` and friends,
which no CIS pattern looks at. msgspec decodes into a TypedDict that declares only the keys we
need and skips the rest without building Python objects for it; the result is still a plain
dict, so the compiled patterns run on it unchanged. What is kept: the key paths the patterns read
(nested: `$.userIdentity.type` keeps only that member of `userIdentity`), the keys that tell a
CloudTrail event from other JSON, and the who/what/where that samples show.

When a document does not fit the declared shape (a `Records` item that is not an object, or a
member the patterns descend into is neither an object nor null), the decoder raises and the record
reader falls back to orjson for that document: same answer, slower.
"""

from __future__ import annotations

from typing import Any, Iterable, Optional, TypedDict, Union

try:
    import msgspec
except ImportError:  # optional: without it every event is decoded whole with orjson (same answers)
    msgspec = None  # type: ignore[assignment]

from trailguard.patterns import CompiledPattern
from trailguard.records import CLOUDTRAIL_KEYS, DIGEST_KEYS

SAMPLE_PATHS: tuple[tuple[str, ...], ...] = (
    ("eventTime",), ("eventName",), ("eventSource",), ("awsRegion",), ("recipientAccountId",), ("sourceIPAddress",),
    ("errorCode",), ("userIdentity", "arn"), ("userIdentity", "type"), ("userIdentity", "invokedBy"),
    ("userIdentity", "userName"), ("userIdentity", "principalId"),
)
"""What a sample event shows (`scan.sample_of`): when, what, where, who, from where, how it went.
Kept short on purpose: every event pays for each key decoded; a sample's file and index locate
the full event."""

_WHOLE: Any = object()  # trie leaf: decode this value entirely


class PartialDecoder:
    """A `RecordDecoder` keeping only the given key paths of every event (and envelope
    `Records`). A path ends where the patterns stop naming plain keys: `("userIdentity", "type")`
    keeps that one member of `userIdentity`; `("resources",)` keeps all of `resources`."""

    def __init__(self, paths: Iterable[tuple[str, ...]]) -> None:
        trie: dict[str, Any] = {}
        for path in [*paths, *((key,) for key in CLOUDTRAIL_KEYS | DIGEST_KEYS), *SAMPLE_PATHS]:
            _insert(trie, path)
        trie.pop("Records", None)
        self.trie = trie
        self.keys: frozenset[str] = frozenset(trie)
        event = _typed_dict("PartialEvent", trie)
        fields = {key: _field_type(f"PartialEvent_{key}", sub) for key, sub in trie.items()}
        envelope = TypedDict("PartialEnvelope", {**fields, "Records": list[event]}, total=False)  # type: ignore[misc,valid-type]
        self._decoder = msgspec.json.Decoder(Union[envelope, list[event]])  # type: ignore[valid-type]
        self._records = msgspec.json.Decoder(TypedDict("RecordsOnly", {"Records": list[msgspec.Raw]}, total=False))  # type: ignore[misc]

    def loads(self, data: bytes) -> Any:
        try:
            return self._decoder.decode(data)
        except msgspec.DecodeError as error:  # ValidationError is a DecodeError
            raise ValueError(str(error)) from None

    def split_records(self, data: bytes) -> list[bytes] | None:
        try:
            records = self._records.decode(data).get("Records")
        except msgspec.DecodeError:
            return None
        return None if records is None else [bytes(raw) for raw in records]


def _insert(trie: dict[str, Any], path: tuple[str, ...]) -> None:
    node = trie
    for position, key in enumerate(path):
        last = position == len(path) - 1
        current = node.get(key)
        if current is _WHOLE:
            return
        if last:
            node[key] = _WHOLE
            return
        if current is None:
            current = node[key] = {}
        node = current


def _typed_dict(name: str, trie: dict[str, Any]) -> Any:
    fields = {key: _field_type(f"{name}_{key}", sub) for key, sub in trie.items()}
    return TypedDict(name, fields, total=False)  # type: ignore[misc]


def _field_type(name: str, sub: Any) -> Any:
    # a member named by the patterns may still be null in real events: Optional keeps it decodable
    return Any if sub is _WHOLE else Optional[_typed_dict(name, sub)]


def decoder_for(patterns: Iterable[CompiledPattern]) -> PartialDecoder | None:
    """A partial decoder for compiled patterns (keeping each one's `key_paths`), or None when one
    of them may read any key (a `$.*` wildcard, or a text pattern that reads the whole message) or
    msgspec is missing."""
    if msgspec is None:
        return None
    paths: list[tuple[str, ...]] = []
    for compiled in patterns:
        if compiled.key_paths is None:
            return None
        paths.extend(compiled.key_paths)
    return PartialDecoder(paths)
