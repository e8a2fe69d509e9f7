"""CloudWatch's alarm evaluation, replayed over a metric-filter metric: pure functions, no I/O.

A metric filter publishes one value per matching event (1 for every trailguard detection),
aggregated per minute; minutes without a match have no datapoint at all (spec 2.7-2.8). The
alarm aggregates those into one datapoint per `period` with its statistic, and after each period
looks at the last `evaluation_periods` of them: ALARM when at least `datapoints_to_alarm` breach
the threshold. Missing datapoints are filled by the treatment:

* `notBreaching`: a missing period counts as within the threshold;
* `breaching`: a missing period counts as breaching;
* `missing` and `ignore`: with no datapoint in the window, `missing` goes to INSUFFICIENT_DATA and
  `ignore` keeps the current state; with some datapoints, only the real ones are evaluated and
  ALARM needs `min(datapoints_to_alarm, real datapoints)` of them breaching (our reading of AWS's
  "missing data" table, where a window `- - X` alarms under `missing`).

Named simplifications (documented in docs/backtest.md): periods are aligned to the epoch (as
CloudWatch aligns them to the clock), the evaluation range is exactly `evaluation_periods` (AWS
may look further back to fill gaps), and the alarm starts in INSUFFICIENT_DATA at the first
period of the replayed span.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping

from trailguard.alarms import AlarmSettings

ALARM = "ALARM"
OK = "OK"
INSUFFICIENT_DATA = "INSUFFICIENT_DATA"

MinuteStats = tuple[float, int, float, float]
"""Per minute of metric data: (sum, sample count, minimum, maximum) of the published values."""


@dataclass(frozen=True, slots=True)
class Episode:
    """One stretch of ALARM state. Times are epoch seconds.

    `start` is when the alarm entered ALARM (the end of the period that tipped it), `end` when it
    left (the end of the first period evaluated out of ALARM), or the end of the replayed span
    when `open`. `window_start`..`window_end` covers every period an ALARM evaluation looked at:
    the metric data, and so the matching events, behind the episode.
    """

    start: int
    end: int
    open: bool
    window_start: int
    window_end: int
    evaluations: int


def add_value(minutes: dict[int, MinuteStats], epoch_seconds: int, value: float = 1.0) -> None:
    """Publish one metric value at `epoch_seconds` into per-minute aggregates."""
    minute = epoch_seconds - epoch_seconds % 60
    current = minutes.get(minute)
    if current is None:
        minutes[minute] = (value, 1, value, value)
    else:
        total, count, low, high = current
        minutes[minute] = (total + value, count + 1, min(low, value), max(high, value))


def minute_stats(counts: Mapping[int, int], value: float = 1.0) -> dict[int, MinuteStats]:
    """Per-minute aggregates of `counts[minute]` events that each published `value`."""
    return {minute: (count * value, count, value, value) for minute, count in counts.items()}


def merge_minutes(into: dict[int, MinuteStats], other: Mapping[int, MinuteStats]) -> None:
    """Combine per-minute aggregates from two partial runs (worker results)."""
    for minute, (total, count, low, high) in other.items():
        current = into.get(minute)
        if current is None:
            into[minute] = (total, count, low, high)
        else:
            into[minute] = (current[0] + total, current[1] + count, min(current[2], low), max(current[3], high))


def period_datapoints(minutes: Mapping[int, MinuteStats], period: int, statistic: str) -> dict[int, float]:
    """One datapoint per period that has data, keyed by period index (epoch seconds // period)."""
    if period < 60 or period % 60:
        raise ValueError(f"period {period} s: a metric-filter metric has one-minute resolution; allowed: a multiple of 60")
    buckets: dict[int, list[float]] = {}
    for minute, (total, count, low, high) in minutes.items():
        bucket = buckets.get(minute // period)
        if bucket is None:
            buckets[minute // period] = [total, count, low, high]
        else:
            bucket[0] += total
            bucket[1] += count
            bucket[2] = min(bucket[2], low)
            bucket[3] = max(bucket[3], high)
    return {index: _statistic(statistic, *values) for index, values in buckets.items()}


def _statistic(statistic: str, total: float, count: float, low: float, high: float) -> float:
    if statistic == "Sum":
        return total
    if statistic == "SampleCount":
        return float(count)
    if statistic == "Average":
        return total / count
    if statistic == "Minimum":
        return low
    if statistic == "Maximum":
        return high
    raise ValueError(f"unknown statistic {statistic!r}; allowed: Sum, SampleCount, Average, Minimum, Maximum")


def evaluate_window(values: Iterable[float | None], settings: AlarmSettings) -> str | None:
    """The state one evaluation gives for a window of datapoints (None = missing), oldest first.

    Returns ALARM, OK or INSUFFICIENT_DATA, or None when the state is kept (`ignore`, no data).
    """
    window = settings.evaluation_periods
    if window == 1:  # the common case, without the list
        (value,) = values
        if value is not None:
            return ALARM if settings.breaches(value) and settings.datapoints_to_alarm <= 1 else OK
        values = [None]
    present = [value for value in values if value is not None]
    missing = window - len(present)
    breaching = sum(1 for value in present if settings.breaches(value))
    needed = settings.datapoints_to_alarm
    treatment = settings.treat_missing_data
    if missing == 0 or treatment == "notBreaching":
        return ALARM if breaching >= needed else OK
    if treatment == "breaching":
        return ALARM if breaching + missing >= needed else OK
    if treatment not in ("missing", "ignore"):
        raise ValueError(f"unknown missing-data treatment {treatment!r}; allowed: missing, notBreaching, breaching, ignore")
    if not present:
        return INSUFFICIENT_DATA if treatment == "missing" else None
    return ALARM if breaching >= min(needed, len(present)) else OK


def replay(datapoints: Mapping[int, float], settings: AlarmSettings, first_period: int, last_period: int) -> list[Episode]:
    """ALARM episodes of an alarm evaluated after every period from `first_period` to
    `last_period` (period indices) over `datapoints` (period index -> value).

    Only evaluations whose window holds data, and the first one after it empties, can change the
    state; between them every window is empty and the state stays, so the replay visits only
    those (a year of one-minute periods with a handful of matches costs a handful of steps).
    """
    window = settings.evaluation_periods
    start = first_period
    if settings.treat_missing_data == "breaching" and last_period - first_period + 1 >= window:
        start = first_period + window - 1  # do not count the time before the archive as breaching
    steps = {start, last_period}
    if window == 1:
        steps.update(datapoints)
        steps.update([index + 1 for index in datapoints])
    else:
        for index in datapoints:
            steps.update(range(index, index + window + 1))
    visited = [index for index in sorted(steps) if start <= index <= last_period]
    if window == 1:
        states = _single_period_states(datapoints, settings, visited)
    else:
        states = [
            evaluate_window([datapoints.get(i) for i in range(index - window + 1, index + 1)], settings)
            for index in visited
        ]
    return _episodes(visited, states, settings.period, window, last_period)


def _single_period_states(datapoints: Mapping[int, float], settings: AlarmSettings, visited: list[int]) -> list[str | None]:
    """`evaluate_window` at each visited period for a one-period window: the state of a missing
    datapoint, and of each distinct value, is worked out once."""
    by_value: dict[float | None, str | None] = {None: evaluate_window((None,), settings)}
    states: list[str | None] = []
    for value in map(datapoints.get, visited):
        state = by_value.get(value, "")
        if state == "":
            state = by_value[value] = evaluate_window((value,), settings)
        states.append(state)
    return states


def _episodes(visited: list[int], states: list[str | None], period: int, window: int, last_period: int) -> list[Episode]:
    """Walk the states of the visited evaluations (None keeps the state) into ALARM episodes."""
    episodes: list[Episode] = []
    state = INSUFFICIENT_DATA
    opened: int | None = None  # period index of the first ALARM evaluation of the current episode
    last_alarm = 0
    evaluations = 0
    previous = None
    for index, new_state in zip(visited, states):
        if state == ALARM and previous is not None:
            # the windows between two visited steps are empty and kept the state of `previous`
            evaluations += index - previous - 1
            last_alarm = index - 1
        if new_state is not None:
            state_before = state
            state = new_state
            if state == ALARM and state_before != ALARM:
                opened, evaluations = index, 0
            elif state != ALARM and state_before == ALARM and opened is not None:
                episodes.append(_episode(opened, last_alarm, index, False, evaluations, period, window))
                opened = None
        if state == ALARM:
            evaluations += 1
            last_alarm = index
        previous = index
    if state == ALARM and opened is not None:
        episodes.append(_episode(opened, last_alarm, last_period, True, evaluations, period, window))
    return episodes


def _episode(opened: int, last_alarm: int, closed: int, still_open: bool, evaluations: int, period: int, window: int) -> Episode:
    return Episode(
        start=(opened + 1) * period,
        end=(closed + 1) * period,
        open=still_open,
        window_start=(opened - window + 1) * period,
        window_end=(last_alarm + 1) * period,
        evaluations=evaluations,
    )


def period_totals(counts: Mapping[int, int], period: int) -> dict[int, int]:
    """Per-minute match counts (epoch seconds of the minute -> count) summed per period index."""
    if period < 60 or period % 60:
        raise ValueError(f"period {period} s: a metric-filter metric has one-minute resolution; allowed: a multiple of 60")
    totals: dict[int, int] = {}
    for minute, count in counts.items():
        index = minute // period
        totals[index] = totals.get(index, 0) + count
    return totals


def count_datapoints(totals: Mapping[int, int], statistic: str) -> dict[int, float]:
    """`period_datapoints` for periods where `totals[index]` events each published 1, without
    building per-minute aggregates (the back-test's case: every match publishes 1)."""
    if statistic in ("Sum", "SampleCount"):
        return {index: float(total) for index, total in totals.items()}
    _statistic(statistic, 1.0, 1, 1.0, 1.0)  # validates the name
    return {index: 1.0 for index in totals}  # Average, Minimum and Maximum of ones


def replay_totals(totals: Mapping[int, int], settings: AlarmSettings, span_start: int, span_end: int) -> list[Episode]:
    """Episodes for per-period match counts (period index -> count; each match publishes 1) over
    the span of the replayed events (epoch seconds)."""
    if not totals and settings.treat_missing_data != "breaching":
        return []
    datapoints = count_datapoints(totals, settings.statistic)
    return replay(datapoints, settings, span_start // settings.period, span_end // settings.period)


def replay_counts(counts: Mapping[int, int], settings: AlarmSettings, span_start: int, span_end: int) -> list[Episode]:
    """`replay_totals` for per-minute match counts (epoch seconds of the minute -> count)."""
    return replay_totals(period_totals(counts, settings.period), settings, span_start, span_end)


def replay_minutes(
    minutes: Mapping[int, MinuteStats], settings: AlarmSettings, span_start: int, span_end: int
) -> list[Episode]:
    """Episodes for per-minute metric data over the span of the replayed events (epoch seconds)."""
    if not minutes and settings.treat_missing_data != "breaching":
        return []
    datapoints = period_datapoints(minutes, settings.period, settings.statistic)
    return replay(datapoints, settings, span_start // settings.period, span_end // settings.period)
