"""Decode only the parts of each CloudTrail event that the enabled patterns read.

A delivery file is mostly `requestParameters`, `responseElements`, `tlsDetails` and friends,
which no CIS pattern looks at. msgspec decodes into a TypedDict that declares only the keys we
need and skips the rest without building Python objects for it; the result is still a plain
dict, so the compiled patterns run on it unchanged. The selected keys are the patterns' top-level
keys (`CompiledPattern.top_level_fields`), the keys that tell a CloudTrail event from other JSON,
and the who/what/where keys that samples show.

When a document does not fit the declared shape (a `Records` item that is not an object), the
decoder raises and the record reader falls back to orjson for that document: same answer, slower.
"""

from __future__ import annotations

from typing import Any, Iterable, TypedDict, Union

import msgspec

from trailguard.records import CLOUDTRAIL_KEYS

SAMPLE_KEYS: tuple[str, ...] = (
    "eventTime", "eventName", "eventSource", "awsRegion", "recipientAccountId", "sourceIPAddress",
    "userIdentity", "errorCode", "eventID", "userAgent",
)
"""What a sample event shows: when, what, where, who, from where, and how it went."""


class _RecordsOnly(TypedDict, total=False):
    Records: list[msgspec.Raw]


class PartialDecoder:
    """A `RecordDecoder` keeping only `keys` of every event (and envelope `Records`)."""

    def __init__(self, keys: Iterable[str]) -> None:
        self.keys: frozenset[str] = frozenset(keys) | CLOUDTRAIL_KEYS | frozenset(SAMPLE_KEYS)
        fields = {key: Any for key in sorted(self.keys) if key != "Records"}
        event = TypedDict("PartialEvent", fields, total=False)  # type: ignore[misc]
        envelope = TypedDict("PartialEnvelope", {**fields, "Records": list[event]}, total=False)  # type: ignore[misc,valid-type]
        self._decoder = msgspec.json.Decoder(Union[envelope, list[event]])  # type: ignore[valid-type]
        self._records = msgspec.json.Decoder(_RecordsOnly)

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


def decoder_for(patterns: Iterable[Any]) -> PartialDecoder | None:
    """A partial decoder for compiled patterns, or None when one of them may read any key
    (a `$.*` wildcard, or a text pattern that reads the whole message)."""
    keys: set[str] = set()
    for compiled in patterns:
        if compiled.top_level_fields is None:
            return None
        keys |= compiled.top_level_fields
    return PartialDecoder(keys)
