"""Turn the rows of a run's query (`query.py`) into the native engine's tallies.

A SQL engine hands back per-minute counts and the candidate samples; from them this builds the
`DetectionTally` objects the native scan builds event by event (the same per-day minute counters,
first and last times, and the earliest samples per alarm period, in the same sample order), so
`report.build_report` replays the alarms and writes the report with the native engine's code.
"""

from __future__ import annotations

from array import array
from typing import Any, Iterable, Sequence

from trailguard.backtest.runner import RunResult
from trailguard.backtest.scan import (
    MINUTES_PER_DAY, SAMPLED_PERIODS, SAMPLES_PER_PERIOD, DetectionTally, Sample, Tally, minute_of, sample_order,
)
from trailguard.backtest.selection import Target
from trailguard.cloudtrail import who as actor_of

from .query import GROUP_COLUMNS, SAMPLE_COLUMNS, SPAN, BuiltQuery

_DETECTION, _MINUTE, _TIME, _COUNT, _FIRST, _LAST = range(len(GROUP_COLUMNS))
_SLOT = len(SAMPLE_COLUMNS)
_SLOT_INDEX = [name for name, _ in SAMPLE_COLUMNS].index("index")

UNCOUNTED = ("files, bytes and rejected records are not known here: the SQL engine read the files itself, so they "
             "show 0; events read and evaluated are the rows its query saw")
"""The summary's note when a run has only its query rows (Athena): a zero there is not a count."""


class ResultError(RuntimeError):
    """The query's rows disagree with what was loaded (a bug, not bad input): the report would lie."""


def run_result(query: BuiltQuery, rows: Iterable[Sequence[Any]], targets: Sequence[Target], seconds: float,
               scanned: Tally | None = None) -> RunResult:
    """The native engine's `RunResult` for a SQL run (see `tally_from_rows`), noting what the
    query alone cannot know when `scanned` is not given."""
    tally = tally_from_rows(query, rows, targets, scanned)
    return RunResult(tuple(targets), tally, seconds, 1, () if scanned is not None else (UNCOUNTED,))


def tally_from_rows(query: BuiltQuery, rows: Iterable[Sequence[Any]], targets: Sequence[Target],
                    scanned: Tally | None = None) -> Tally:
    """The tally of a run from the rows of `query`. `scanned` is what the reader counted while
    loading (files, bytes, rejections, the eventTime span: the DuckDB engine reads with the native
    reader); without it (Athena) the counts come from the query alone and what SQL cannot know
    (files, bytes, rejected records) stays zero."""
    if len(query.detection_columns) != len(targets):
        raise ResultError(f"the query is for {len(query.detection_columns)} detections, the run for {len(targets)}")
    width = len(query.columns)
    detections = [DetectionTally() for _ in targets]
    candidates: list[dict[int, list[Sample]]] = [{} for _ in targets]
    periods = [target.alarm.period for target in targets]
    span: Sequence[Any] | None = None
    for row in rows:
        if len(row) != width:
            raise ResultError(f"a query row has {len(row)} columns; the query returns {width}")
        row = _typed(row, query.sample_limit)
        detection = row[_DETECTION]
        if detection == SPAN:
            span = row
            continue
        if not 0 <= detection < len(targets):
            raise ResultError(f"a query row is for detection number {detection}; the run has {len(targets)}")
        _add_count(detections[detection], row)
        for start in range(len(GROUP_COLUMNS), width, _SLOT):
            if row[start] is not None:  # a sample's eventTime: never NULL in a filled slot
                _add_candidate(candidates[detection], periods[detection], row[_MINUTE], row[start:start + _SLOT])
    if span is None:
        raise ResultError("the query returned no span row (events evaluated, first and last eventTime)")
    for detection, found in zip(detections, candidates):
        detection.samples = _earliest(found)
    evaluated, first, last = span[_COUNT], span[_FIRST], span[_LAST]
    if scanned is None:
        return Tally(detections, read=evaluated, evaluated=evaluated, first_time=first, last_time=last)
    if scanned.evaluated != evaluated:  # the span stays the reader's: it sees times that are not text
        raise ResultError(f"the table holds {evaluated} events, but the reader evaluated {scanned.evaluated}")
    scanned.detections = detections
    return scanned


def _typed(row: Sequence[Any], slots: int) -> Sequence[Any]:
    """A row with its whole-number columns as int: Athena's GetQueryResults returns every value as
    text (DuckDB returns them typed, and passes through untouched)."""
    positions = [_DETECTION, _MINUTE, _COUNT, *(len(GROUP_COLUMNS) + slot * _SLOT + _SLOT_INDEX for slot in range(slots))]
    if all(row[position].__class__ is not str for position in positions):
        return row
    values = list(row)
    for position in positions:
        if values[position].__class__ is str:
            try:
                values[position] = int(values[position])
            except ValueError:
                raise ResultError(f"query column {position + 1} holds {values[position]!r}; expected a whole number") from None
    return values


def _add_count(detection: DetectionTally, row: Sequence[Any]) -> None:
    """Matches of one minute (or of one time text SQL could not place), as `scan._count` adds them."""
    count, minute = row[_COUNT], row[_MINUTE]
    first, last = row[_FIRST], row[_LAST]
    detection.matches += count
    if minute is None:
        minute = minute_of(row[_TIME])
        if minute < 0:
            detection.untimed += count
            return
    if detection.first is None or first < detection.first:
        detection.first = first
    if detection.last is None or last > detection.last:
        detection.last = last
    slot = minute // 60
    day = slot // MINUTES_PER_DAY
    counts = detection.days.get(day)
    if counts is None:
        counts = detection.days[day] = array("I", bytes(4 * MINUTES_PER_DAY))
    counts[slot - day * MINUTES_PER_DAY] += count


def _add_candidate(found: dict[int, list[Sample]], period: int, minute: int | None, fields: Sequence[Any]) -> None:
    """One candidate sample, under its alarm period (placed by Python when SQL could not)."""
    if minute is None:
        minute = minute_of(fields[0])
        if minute < 0:
            return  # untimed matches keep no sample, as in the native scan
    found.setdefault(minute // period, []).append(sample_from_fields(fields))


def sample_from_fields(fields: Sequence[Any]) -> Sample:
    """A sample slot as the native scan's sample (`scan.SAMPLE_FIELDS`): the actor is named by
    `cloudtrail.who`, as every command names it."""
    (time, event, service, arn, username, principal, kind, invoked_by, account, region, source_ip, error, file,
     index) = fields
    identity = {"arn": arn, "userName": username, "principalId": principal, "type": kind, "invokedBy": invoked_by}
    return (time, event, service, actor_of(identity), kind, account, region, source_ip, error, file, index)


def _order(sample: Sample) -> tuple[Any, ...]:
    """`scan.sample_order`, with a missing file or index (Athena knows no index in a file) sorting first."""
    time, file, index = sample_order(sample)
    return (time, file or "", -1 if index is None else index)


def _earliest(found: dict[int, list[Sample]]) -> dict[int, tuple[Any, ...]]:
    """The earliest SAMPLED_PERIODS periods, each with its earliest SAMPLES_PER_PERIOD samples,
    flat as `DetectionTally.samples` keeps them."""
    kept: dict[int, tuple[Any, ...]] = {}
    for bucket in sorted(found)[:SAMPLED_PERIODS]:
        samples = sorted(found[bucket], key=_order)[:SAMPLES_PER_PERIOD]
        kept[bucket] = tuple(value for sample in samples for value in sample)
    return kept
