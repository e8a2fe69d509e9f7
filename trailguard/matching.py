"""Run one filter pattern over log files: what `trailguard test` reports, as a library call.

`match_records(pattern, sources)` streams the matching records as the files are read (a large
archive or an endless stdin shows matches at once) and then summarises the run: how many events
were tested and matched, and what could not be read. Bad content never stops the run; only a
source that names no file at all raises, before anything is read.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Iterable, Iterator

from trailguard.patterns import CompiledPattern
from trailguard.records import STDIN, Record, RecordSourceError, Rejected, iter_paths, iter_records


@dataclass(frozen=True, slots=True)
class MatchSummary:
    """What a pattern run tested and what it could not."""

    matches: int
    events: int
    files: int  # files opened (stdin counts as one)
    rejected: tuple[Rejected, ...]  # one entry per (source, reason), sorted, with its record count
    unreadable: tuple[str, ...]  # why each source that could not be opened was not

    @property
    def records_rejected(self) -> int:
        return sum(rejection.count for rejection in self.rejected)

    @property
    def complete(self) -> bool:
        """Whether every record of every source was tested."""
        return not self.rejected and not self.unreadable


class MatchRun:
    """The records a pattern matches, in input order; `summary` once they have all been read."""

    def __init__(self, pattern: CompiledPattern, sources: Iterable[str]) -> None:
        self._pattern = pattern
        self._paths = list(iter_paths(sources))  # a source naming no file raises here
        self._summary: MatchSummary | None = None

    def __iter__(self) -> Iterator[Record]:
        pattern_matches = self._pattern.matches
        events = matched = files = 0
        rejected: Counter[tuple[str, str]] = Counter()
        unreadable: list[str] = []
        for path in self._paths:
            try:
                items = iter_records(STDIN if str(path) == STDIN else path, allow_text=True)
                files += 1
                for item in items:
                    if isinstance(item, Rejected):
                        rejected[(item.source, item.reason)] += item.count
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
            unreadable=tuple(unreadable),
        )

    @property
    def summary(self) -> MatchSummary:
        if self._summary is None:
            raise RuntimeError("the summary is known once every match has been read: iterate the run first")
        return self._summary


def match_records(pattern: CompiledPattern, sources: Iterable[str]) -> MatchRun:
    """Test `pattern` on every record of `sources` (files, directories, globs, `-` for stdin).

    Raises RecordSourceError at once if a source matches no file; a file that cannot be opened
    later is listed in the summary's `unreadable` and the others are still tested.
    """
    return MatchRun(pattern, sources)
