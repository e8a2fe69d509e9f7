"""Run one filter pattern over log files: what `trailguard test` reports, as a library call.

`match_records(pattern, sources)` streams the matching records as the files are read (a large
archive or an endless stdin shows matches at once) and then summarises the run: how many events
were tested and matched, what was skipped (empty files, CloudTrail digests, FIFOs in a directory)
and what could not be read. Nothing stops the run: a source that names no file, or a file that
cannot be opened, is listed as unreadable and the others are still tested. The files are read by
`trailguard.records`, the reader the back-test uses, with the same rejections and counts.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Iterable, Iterator

from trailguard.patterns import CompiledPattern
from trailguard.records import Record, RecordSourceError, Rejected, iter_records
from trailguard.sourcefiles import Skipped, list_sources


@dataclass(frozen=True, slots=True)
class MatchSummary:
    """What a pattern run tested and what it could not."""

    matches: int
    events: int
    files: int  # files opened (stdin counts as one)
    rejected: tuple[Rejected, ...]  # one entry per (source, reason), sorted, with its record count
    unreadable: tuple[str, ...]  # why each source that could not be opened was not
    skipped: tuple[Skipped, ...] = ()  # inputs holding no events on purpose, in input order

    @property
    def records_rejected(self) -> int:
        return sum(rejection.count for rejection in self.rejected)

    @property
    def complete(self) -> bool:
        """Whether every record of every source was tested (skipped inputs hold none)."""
        return not self.rejected and not self.unreadable


class MatchRun:
    """The records a pattern matches, in input order; `summary` once they have all been read."""

    def __init__(self, pattern: CompiledPattern, sources: Iterable[str]) -> None:
        self._pattern = pattern
        self._listing = list_sources(sources)
        self._summary: MatchSummary | None = None

    def __iter__(self) -> Iterator[Record]:
        pattern_matches = self._pattern.matches
        events = matched = files = 0
        rejected: Counter[tuple[str, str]] = Counter()
        unreadable: list[str] = list(self._listing.missing)
        skipped: list[Skipped] = list(self._listing.skipped)
        for path in self._listing.files:
            try:
                items = iter_records(path, allow_text=True)
                files += 1
                for item in items:
                    if item.__class__ is Rejected:
                        rejected[(item.source, item.reason)] += item.count
                        continue
                    if item.__class__ is Skipped:
                        skipped.append(item)
                        continue
                    events += 1
                    if pattern_matches(item.event if item.event is not None else item.text):
                        matched += 1
                        yield item
            except RecordSourceError as error:  # raised on opening; the records already read stand
                unreadable.append(str(error))
        self._summary = MatchSummary(
            matches=matched, events=events, files=files,
            rejected=tuple(Rejected(source, reason, count) for (source, reason), count in sorted(rejected.items())),
            unreadable=tuple(unreadable), skipped=tuple(skipped),
        )

    @property
    def summary(self) -> MatchSummary:
        if self._summary is None:
            raise RuntimeError("the summary is known once every match has been read: iterate the run first")
        return self._summary


def match_records(pattern: CompiledPattern, sources: Iterable[str]) -> MatchRun:
    """Test `pattern` on every record of `sources` (files, directories, globs, `-` for stdin).

    A source that matches no file, or a file that cannot be opened, is listed in the summary's
    `unreadable` and the others are still tested; never raises for input.
    """
    return MatchRun(pattern, sources)
