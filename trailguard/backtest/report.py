"""Turn a run's tally into the report: frozen objects that the terminal table, the HTML page and
`--json` all read by attribute.

The alarm replay happens here, per detection, over the span of every event evaluated (the
first to the last eventTime), so quiet stretches count as quiet. Times stay epoch seconds in the
objects; `BacktestReport.as_json_dict()` is the one place that turns the report into the JSON
document (camelCase keys, UTC timestamps), so the renderings cannot drift apart.
"""

from __future__ import annotations

import bisect
from collections import Counter
from dataclasses import dataclass
from itertools import accumulate
from typing import Any

from trailguard.alarms import AlarmSettings
from trailguard.records import reason_kind
from trailguard.timefmt import format_utc, to_epoch_seconds

from .replay import Episode, replay_totals
from .runner import RunResult
from .scan import DetectionTally, Sample, sample_dict, sample_order
from .selection import ADHOC_ID, Target

SAMPLES_PER_EPISODE = 3
SAMPLES_PER_DETECTION = 5


@dataclass(frozen=True, slots=True)
class SampleEvent:
    """One matching event as a responder first reads it; a field the event lacked is None.
    The fields are scan's SAMPLE_FIELDS, in that order."""

    time: Any
    event: Any
    service: Any
    who: Any
    identity_type: Any
    account: Any
    region: Any
    source_ip: Any
    error_code: Any
    file: str
    index: int

    def as_sample(self) -> Sample:
        """The values in SAMPLE_FIELDS order, as the scan keeps them."""
        return (self.time, self.event, self.service, self.who, self.identity_type, self.account, self.region,
                self.source_ip, self.error_code, self.file, self.index)


@dataclass(frozen=True, slots=True)
class AlarmEpisode:
    """One stretch of ALARM state (times in epoch seconds, see `replay.Episode`) with the matches
    of the periods its evaluations looked at, and the earliest of them."""

    start: int
    end: int
    open: bool
    evaluations_in_alarm: int
    window_start: int
    window_end: int
    matches: int
    samples: tuple[SampleEvent, ...]


@dataclass(frozen=True, slots=True)
class DetectionReport:
    """What one replayed detection matched and when its alarm would have been in ALARM."""

    id: str
    title: str
    severity: str | None
    custom: bool
    pattern: str
    alarm: AlarmSettings
    matches: int
    untimed_matches: int  # counted, but without a usable eventTime to place them on the timeline
    first: str | None  # eventTime of the earliest and latest match, as the events wrote it
    last: str | None
    episodes: tuple[AlarmEpisode, ...]
    samples: tuple[SampleEvent, ...]  # the earliest matches
    hourly: tuple[tuple[int, int], ...]  # (epoch seconds of the hour, matches), hours with matches
    periods: tuple[tuple[int, int], ...] = ()  # (epoch seconds of the alarm period, matches), periods with matches

    @property
    def label(self) -> str:
        """How a table names it: the id, or the pattern itself for an ad-hoc `--pattern`."""
        return self.pattern if self.id == ADHOC_ID else self.id


@dataclass(frozen=True, slots=True)
class Rejection:
    """Input that could not be evaluated: where, why, and how many records."""

    source: str
    reason: str
    count: int


@dataclass(frozen=True, slots=True)
class RunSummary:
    """What was read, how much of it was evaluated, and how long it took."""

    files: int
    bytes: int
    events_read: int
    events_evaluated: int
    events_rejected: int
    rejected_by_reason: tuple[tuple[str, int], ...]  # (kind, records), by kind
    rejections: tuple[Rejection, ...]
    skipped: tuple[Rejection, ...]  # inputs holding no events on purpose (empty, digest, FIFO), count 0
    first_event: str | None  # the eventTime span of the evaluated events, as written
    last_event: str | None
    seconds: float  # wall-clock, to the millisecond
    events_per_second: int | None
    workers: int
    notes: tuple[str, ...] = ()  # what the engine could not know (RunResult.notes); in the JSON only when any


@dataclass(frozen=True, slots=True)
class RunContext:
    """What the run was asked to replay, as the command line said it: a reader of the HTML page
    needs it to know what the counts are counts of. Not part of the `--json` document, whose
    consumer wrote the command line."""

    sources: tuple[str, ...] = ()
    selection: str = ""  # how the detections were chosen: "--stack prod", "--detections cis", "--pattern"
    stack: str | None = None
    profiles: tuple[str, ...] = ()  # the pattern profiles of the replayed detections
    since: str | None = None  # the --since / --until UTC days (YYYY-MM-DD), None when not given
    until: str | None = None


@dataclass(frozen=True, slots=True)
class BacktestReport:
    """The whole back-test: one entry per replayed detection, in the order given, and the summary."""

    detections: tuple[DetectionReport, ...]
    summary: RunSummary
    context: RunContext = RunContext()

    def as_json_dict(self) -> dict[str, Any]:
        """The `--json` document: `{"detections": [...], "summary": {...}}` (see docs/backtest.md)."""
        return {"detections": [_detection_json(d) for d in self.detections], "summary": _summary_json(self.summary)}


def build_report(result: RunResult, context: RunContext = RunContext()) -> BacktestReport:
    """The report of a run: the alarm replay and the samples of each detection, and the summary;
    `context` is how the run was asked for (the HTML page's header)."""
    tally = result.tally
    span = _span(tally.first_time, tally.last_time)
    detections = tuple(_detection(target, found, span) for target, found in zip(result.targets, tally.detections))
    summary = RunSummary(
        files=tally.files,
        bytes=tally.bytes,
        events_read=tally.read,
        events_evaluated=tally.evaluated,
        events_rejected=tally.rejected,
        rejected_by_reason=tuple(sorted(tally.rejected_by_kind.items())),
        rejections=tuple(Rejection(source, reason, count) for source, reason, count in tally.rejections),
        skipped=tuple(Rejection(source, reason, 0) for source, reason in tally.skipped),
        first_event=tally.first_time,
        last_event=tally.last_time,
        seconds=round(result.seconds, 3),
        events_per_second=round(tally.read / result.seconds) if result.seconds > 0 else None,
        workers=result.workers,
        notes=result.notes,
    )
    return BacktestReport(detections, summary, context)


def _span(first: str | None, last: str | None) -> tuple[int, int] | None:
    start, end = to_epoch_seconds(first), to_epoch_seconds(last)
    if start is None or end is None:
        return None
    return start, end


def _detection(target: Target, found: DetectionTally, span: tuple[int, int] | None) -> DetectionReport:
    alarm = target.alarm
    totals = found.period_counts(alarm.period)
    if span is None and totals:  # only untimed... or no timed event at all: the periods with matches
        span = (min(totals) * alarm.period, max(totals) * alarm.period)
    episodes = replay_totals(totals, alarm, *span) if span else []
    periods = list(totals)  # in time order
    cumulative = [0, *accumulate(totals.values())]
    buckets = found.sampled_periods()
    return DetectionReport(
        id=target.id,
        title=target.title,
        severity=target.severity or None,
        custom=target.custom,
        pattern=target.pattern,
        alarm=alarm,
        matches=found.matches,
        untimed_matches=found.untimed,
        first=found.first,
        last=found.last,
        episodes=tuple(_episode(episode, periods, cumulative, found, buckets, alarm.period) for episode in episodes),
        samples=_samples_between(found, buckets, None, None, SAMPLES_PER_DETECTION, alarm.period),
        hourly=tuple(found.hour_counts().items()),
        periods=tuple((index * alarm.period, count) for index, count in totals.items()),
    )


def _episode(episode: Episode, periods: list[int], cumulative: list[int], found: DetectionTally,
             buckets: list[int], period: int) -> AlarmEpisode:
    # windows are whole periods: the matches behind an episode are those of its periods
    low = bisect.bisect_left(periods, episode.window_start // period)
    high = bisect.bisect_left(periods, episode.window_end // period)
    return AlarmEpisode(
        start=episode.start,
        end=episode.end,
        open=episode.open,
        evaluations_in_alarm=episode.evaluations,
        window_start=episode.window_start,
        window_end=episode.window_end,
        matches=cumulative[high] - cumulative[low],
        samples=_samples_between(found, buckets, episode.window_start, episode.window_end, SAMPLES_PER_EPISODE, period),
    )


def _samples_between(found: DetectionTally, buckets: list[int], start: int | None, end: int | None,
                     limit: int, period: int) -> tuple[SampleEvent, ...]:
    """The earliest samples kept in alarm periods overlapping [start, end)."""
    low = 0 if start is None else bisect.bisect_left(buckets, start // period)
    high = len(buckets) if end is None else bisect.bisect_left(buckets, -(-end // period))
    chosen: list[Sample] = []
    for bucket in buckets[low:high]:
        chosen.extend(found.period_samples(bucket))
        if len(chosen) >= limit:
            break  # buckets are in time order: later ones only hold later samples
    chosen.sort(key=sample_order)
    return tuple(SampleEvent(*sample) for sample in chosen[:limit])


# --- the JSON document (BacktestReport.as_json_dict) ------------------------------------------


def _detection_json(detection: DetectionReport) -> dict[str, Any]:
    alarm = detection.alarm
    return {
        "id": detection.id,
        "title": detection.title,
        "severity": detection.severity,
        "custom": detection.custom,
        "pattern": detection.pattern,
        "alarm": {
            "statistic": alarm.statistic,
            "period": alarm.period,
            "evaluationPeriods": alarm.evaluation_periods,
            "datapointsToAlarm": alarm.datapoints_to_alarm,
            "threshold": alarm.threshold,
            "comparison": alarm.comparison,
            "treatMissingData": alarm.treat_missing_data,
        },
        "matches": detection.matches,
        "untimedMatches": detection.untimed_matches,
        "first": detection.first,
        "last": detection.last,
        "episodes": [_episode_json(episode) for episode in detection.episodes],
        "samples": [sample_dict(sample.as_sample()) for sample in detection.samples],
        "hourly": [[format_utc(hour), count] for hour, count in detection.hourly],
    }


def _episode_json(episode: AlarmEpisode) -> dict[str, Any]:
    return {
        "start": format_utc(episode.start),
        "end": format_utc(episode.end),
        "open": episode.open,
        "evaluationsInAlarm": episode.evaluations_in_alarm,
        "windowStart": format_utc(episode.window_start),
        "windowEnd": format_utc(episode.window_end),
        "matches": episode.matches,
        "samples": [sample_dict(sample.as_sample()) for sample in episode.samples],
    }


def _summary_json(summary: RunSummary) -> dict[str, Any]:
    document = {
        "files": summary.files,
        "bytes": summary.bytes,
        "eventsRead": summary.events_read,
        "eventsEvaluated": summary.events_evaluated,
        "eventsRejected": summary.events_rejected,
        "rejectedByReason": dict(summary.rejected_by_reason),
        "rejections": [{"source": r.source, "reason": r.reason, "count": r.count} for r in summary.rejections],
        "inputsSkipped": len(summary.skipped),
        "skippedByReason": dict(sorted(Counter(reason_kind(s.reason) for s in summary.skipped).items())),
        "skipped": [{"source": s.source, "reason": s.reason} for s in summary.skipped],
        "firstEvent": summary.first_event,
        "lastEvent": summary.last_event,
        "seconds": summary.seconds,
        "eventsPerSecond": summary.events_per_second,
        "workers": summary.workers,
    }
    if summary.notes:
        document["notes"] = list(summary.notes)
    return document
