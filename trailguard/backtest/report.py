"""Turn a run's tally into the report: a plain JSON-ready dict that the table, `--json` and the
HTML page all render from.

The alarm replay happens here, per detection, over the span of every event evaluated (the
first to the last eventTime), so quiet stretches count as quiet.
"""

from __future__ import annotations

import bisect
from itertools import accumulate
from typing import Any

from trailguard.alarms import AlarmSettings

from .replay import Episode, replay_totals
from .runner import RunResult
from .selection import Target
from .scan import DetectionTally, epoch_seconds, iso, sample_dict, sample_order

SAMPLES_PER_EPISODE = 3
SAMPLES_PER_DETECTION = 5


def build_report(result: RunResult) -> dict[str, Any]:
    """The whole report as data: `detections` (one entry per target, in order) and `summary`."""
    tally = result.tally
    span = _span(tally.first_time, tally.last_time)
    detections = [
        _detection(target, found, span) for target, found in zip(result.targets, tally.detections)
    ]
    summary = {
        "files": tally.files,
        "bytes": tally.bytes,
        "eventsRead": tally.read,
        "eventsEvaluated": tally.evaluated,
        "eventsRejected": tally.rejected,
        "rejectedByReason": dict(sorted(tally.rejected_by_kind.items())),
        "rejections": [{"source": s, "reason": r, "count": c} for s, r, c in tally.rejections],
        "firstEvent": tally.first_time,
        "lastEvent": tally.last_time,
        "seconds": round(result.seconds, 3),
        "eventsPerSecond": round(tally.read / result.seconds) if result.seconds > 0 else None,
        "workers": result.workers,
    }
    return {"detections": detections, "summary": summary}


def _span(first: str | None, last: str | None) -> tuple[int, int] | None:
    start, end = epoch_seconds(first), epoch_seconds(last)
    if start is None or end is None:
        return None
    return start, end


def _detection(target: Target, found: DetectionTally, span: tuple[int, int] | None) -> dict[str, Any]:
    alarm: AlarmSettings = target.alarm
    totals = found.period_counts(alarm.period)
    if span is None and totals:  # only untimed... or no timed event at all: the periods with matches
        span = (min(totals) * alarm.period, max(totals) * alarm.period)
    episodes = replay_totals(totals, alarm, *span) if span else []
    periods = list(totals)  # in time order
    cumulative = [0, *accumulate(totals.values())]
    buckets = found.sampled_periods()
    return {
        "id": target.id,
        "title": target.title,
        "severity": target.severity or None,
        "custom": target.custom,
        "pattern": target.pattern,
        "alarm": {
            "statistic": alarm.statistic,
            "period": alarm.period,
            "evaluationPeriods": alarm.evaluation_periods,
            "datapointsToAlarm": alarm.datapoints_to_alarm,
            "threshold": alarm.threshold,
            "comparison": alarm.comparison,
            "treatMissingData": alarm.treat_missing_data,
        },
        "matches": found.matches,
        "untimedMatches": found.untimed,
        "first": found.first,
        "last": found.last,
        "episodes": [
            _episode(episode, periods, cumulative, found, buckets, alarm.period) for episode in episodes
        ],
        "samples": _samples_between(found, buckets, None, None, SAMPLES_PER_DETECTION, alarm.period),
        "hourly": [[iso(hour), count] for hour, count in found.hour_counts().items()],
    }


def _episode(episode: Episode, periods: list[int], cumulative: list[int], found: DetectionTally,
             buckets: list[int], period: int) -> dict[str, Any]:
    # windows are whole periods: the matches behind an episode are those of its periods
    low = bisect.bisect_left(periods, episode.window_start // period)
    high = bisect.bisect_left(periods, episode.window_end // period)
    return {
        "start": iso(episode.start),
        "end": iso(episode.end),
        "open": episode.open,
        "evaluationsInAlarm": episode.evaluations,
        "windowStart": iso(episode.window_start),
        "windowEnd": iso(episode.window_end),
        "matches": cumulative[high] - cumulative[low],
        "samples": _samples_between(found, buckets, episode.window_start, episode.window_end, SAMPLES_PER_EPISODE, period),
    }


def _samples_between(found: DetectionTally, buckets: list[int], start: int | None, end: int | None,
                     limit: int, period: int) -> list[dict[str, Any]]:
    """The earliest samples kept in alarm periods overlapping [start, end)."""
    low = 0 if start is None else bisect.bisect_left(buckets, start // period)
    high = len(buckets) if end is None else bisect.bisect_left(buckets, -(-end // period))
    chosen: list[Any] = []
    for bucket in buckets[low:high]:
        chosen.extend(found.period_samples(bucket))
        if len(chosen) >= limit:
            break  # buckets are in time order: later ones only hold later samples
    chosen.sort(key=sample_order)
    return [sample_dict(sample) for sample in chosen[:limit]]
