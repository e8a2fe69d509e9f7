"""CloudWatch alarm evaluation replayed against hand-worked timelines.

Periods are written as indices from a fixed origin; `X` marks a period with a breaching
datapoint, `-` a period without data. Each expected episode was worked out by hand from the
rules in trailguard/backtest/replay.py's docstring.
"""

from __future__ import annotations

import datetime as dt

import pytest

from trailguard.alarms import AlarmSettings
from trailguard.backtest.replay import (
    ALARM,
    INSUFFICIENT_DATA,
    OK,
    Episode,
    add_value,
    evaluate_window,
    merge_minutes,
    period_datapoints,
    replay,
    replay_minutes,
)

ORIGIN = int(dt.datetime(2025, 3, 4, 9, 0, tzinfo=dt.timezone.utc).timestamp())  # a multiple of 300 and 3600


def at(text: str) -> int:
    return int(dt.datetime.fromisoformat(text).replace(tzinfo=dt.timezone.utc).timestamp())


def minutes_of(*times: str) -> dict:
    minutes: dict = {}
    for text in times:
        add_value(minutes, at(text))
    return minutes


def settings(**overrides) -> AlarmSettings:
    return AlarmSettings(**overrides)


def p(index: int, period: int = 300) -> int:
    """Period index `index` after ORIGIN."""
    return ORIGIN // period + index


def ep(opened: int, closed: int, *, still_open: bool = False, window: int = 1, last_alarm: int | None = None,
       evaluations: int | None = None, period: int = 300) -> Episode:
    """Expected episode from period indices (relative to ORIGIN): ALARM first evaluated after
    period `opened`, first evaluated out of it after `closed` (or the span's last period)."""
    last = (closed - 1 if not still_open else closed) if last_alarm is None else last_alarm
    return Episode(
        start=(p(opened, period) + 1) * period,
        end=(p(closed, period) + 1) * period,
        open=still_open,
        window_start=(p(opened, period) - window + 1) * period,
        window_end=(p(last, period) + 1) * period,
        evaluations=(last - opened + 1) if evaluations is None else evaluations,
    )


def test_cis_default_alarm_two_episodes_the_last_still_open():
    # matches at 09:00:10 and 09:02:30 (period 0), and 10:20 (period 16, the last of the span)
    minutes = minutes_of("2025-03-04T09:00:10", "2025-03-04T09:02:30", "2025-03-04T10:20:00")
    episodes = replay_minutes(minutes, settings(), at("2025-03-04T09:00:10"), at("2025-03-04T10:20:00"))
    assert episodes == [ep(0, 1), ep(16, 16, still_open=True)]
    # in wall-clock terms: ALARM 09:05-09:10, then ALARM from 10:25 to the end of the data
    assert episodes[0].start == at("2025-03-04T09:05:00") and episodes[0].end == at("2025-03-04T09:10:00")


def test_threshold_above_one_needs_that_many_matches_in_one_period():
    alarm = settings(threshold=3)
    two = minutes_of("2025-03-04T09:00:10", "2025-03-04T09:04:59")
    assert replay_minutes(two, alarm, ORIGIN, ORIGIN + 3600) == []
    three = minutes_of("2025-03-04T09:00:10", "2025-03-04T09:04:59", "2025-03-04T09:03:00")
    assert replay_minutes(three, alarm, ORIGIN, ORIGIN + 3600) == [ep(0, 1)]
    # three matches split over two periods (2 + 1) do not add up
    split = minutes_of("2025-03-04T09:03:00", "2025-03-04T09:04:00", "2025-03-04T09:05:00")
    assert replay_minutes(split, alarm, ORIGIN, ORIGIN + 3600) == []


def test_greater_than_versus_greater_or_equal():
    three = minutes_of("2025-03-04T09:01:00", "2025-03-04T09:02:00", "2025-03-04T09:03:00")
    assert replay_minutes(three, settings(threshold=3, comparison="GreaterThanThreshold"), ORIGIN, ORIGIN + 3600) == []
    assert replay_minutes(three, settings(threshold=2, comparison="GreaterThanThreshold"), ORIGIN, ORIGIN + 3600) == [ep(0, 1)]


def test_two_of_three_datapoints():
    alarm = settings(evaluation_periods=3, datapoints_to_alarm=2)
    # X - X - - - : the window ending at period 2 holds two breaching datapoints
    episodes = replay({p(0): 1.0, p(2): 1.0}, alarm, p(0), p(10))
    assert episodes == [ep(2, 3, window=3)]
    # X - - - X : never two within three consecutive periods
    assert replay({p(0): 1.0, p(4): 1.0}, alarm, p(0), p(10)) == []
    # X X X X : ALARM from period 1 through 4 (windows 1..4 each hold >= 2), OK again at 5? window 3..5 = X X -
    episodes = replay({p(i): 1.0 for i in range(4)}, alarm, p(0), p(10))
    assert episodes == [ep(1, 5, window=3)]  # window 3,4,5 = X - - -> OK after period 5


@pytest.mark.parametrize(
    ("treatment", "expected"),
    [
        # - - - - - X - - - - -  (periods 0..10), 3 of 3
        ("notBreaching", []),
        # every empty period breaches: ALARM from the first full window (period 2) to the end
        ("breaching", [ep(2, 10, still_open=True, window=3)]),
        # - - X alarms on its one real datapoint; all-empty windows go to INSUFFICIENT_DATA after period 8
        ("missing", [ep(5, 8, window=3)]),
        # the same, but all-empty windows keep the state: ALARM to the end
        ("ignore", [ep(5, 10, still_open=True, window=3, last_alarm=10, evaluations=6)]),
    ],
)
def test_each_missing_data_treatment(treatment, expected):
    alarm = settings(evaluation_periods=3, datapoints_to_alarm=3, treat_missing_data=treatment)
    assert replay({p(5): 1.0}, alarm, p(0), p(10)) == expected


def test_missing_episode_covers_the_windows_it_looked_at():
    alarm = settings(evaluation_periods=3, datapoints_to_alarm=3, treat_missing_data="missing")
    (episode,) = replay({p(5): 1.0}, alarm, p(0), p(10))
    assert episode.window_start == (p(3) * 300) and episode.window_end == (p(8) * 300)
    assert episode.evaluations == 3


def test_breaching_treatment_with_a_good_datapoint_splits_the_alarm():
    # threshold 2; one non-breaching datapoint (value 1) in period 5: OK there, ALARM elsewhere
    alarm = settings(threshold=2, treat_missing_data="breaching")
    assert replay({p(5): 1.0}, alarm, p(0), p(10)) == [ep(0, 5), ep(6, 10, still_open=True)]


def test_breaching_treatment_alarms_on_a_quiet_archive():
    alarm = settings(treat_missing_data="breaching")
    assert replay_minutes({}, alarm, ORIGIN, ORIGIN + 3 * 300) == [ep(0, 3, still_open=True)]
    assert replay_minutes({}, settings(), ORIGIN, ORIGIN + 3 * 300) == []


def test_ignore_keeps_ok_and_insufficient_data_alike():
    alarm = settings(treat_missing_data="ignore")
    # one breaching datapoint then silence: stays in ALARM; a later good datapoint ends it
    episodes = replay({p(1): 1.0, p(6): 0.0}, alarm, p(0), p(10))
    assert episodes == [ep(1, 6, last_alarm=5)]


def test_evaluate_window_rules():
    three_of_three = settings(evaluation_periods=3, datapoints_to_alarm=3)
    for treatment, window, expected in [
        ("missing", [None, None, None], INSUFFICIENT_DATA),
        ("ignore", [None, None, None], None),
        ("breaching", [None, None, None], ALARM),
        ("notBreaching", [None, None, None], OK),
        ("missing", [0.0, None, 1.0], OK),  # one of two real datapoints breaches: not all
        ("missing", [None, 1.0, 1.0], ALARM),
        ("breaching", [0.0, None, 1.0], OK),  # 2 breaching (1 real + 1 filled) < 3
        ("breaching", [None, None, 1.0], ALARM),
        ("notBreaching", [1.0, 1.0, None], OK),
        ("notBreaching", [1.0, 1.0, 1.0], ALARM),
    ]:
        alarm = AlarmSettings(**{**_fields(three_of_three), "treat_missing_data": treatment})
        assert evaluate_window(window, alarm) == expected, (treatment, window)


def _fields(alarm: AlarmSettings) -> dict:
    return {name: getattr(alarm, name) for name in AlarmSettings.__dataclass_fields__}


def test_statistics_over_published_values():
    minutes: dict = {}
    add_value(minutes, ORIGIN + 10, 5.0)
    add_value(minutes, ORIGIN + 20, 3.0)
    add_value(minutes, ORIGIN + 70, 4.0)  # next minute, same 5-minute period
    index = ORIGIN // 300
    assert period_datapoints(minutes, 300, "Sum") == {index: 12.0}
    assert period_datapoints(minutes, 300, "SampleCount") == {index: 3.0}
    assert period_datapoints(minutes, 300, "Average") == {index: 4.0}
    assert period_datapoints(minutes, 300, "Minimum") == {index: 3.0}
    assert period_datapoints(minutes, 300, "Maximum") == {index: 5.0}
    assert period_datapoints(minutes, 60, "Sum") == {ORIGIN // 60: 8.0, ORIGIN // 60 + 1: 4.0}


def test_merging_minutes_from_two_files_is_the_same_as_one():
    first = minutes_of("2025-03-04T09:01:00", "2025-03-04T09:03:30")
    second = minutes_of("2025-03-04T09:03:10", "2025-03-04T09:20:00")
    merged: dict = {}
    merge_minutes(merged, first)
    merge_minutes(merged, second)
    together = minutes_of("2025-03-04T09:01:00", "2025-03-04T09:03:30", "2025-03-04T09:03:10", "2025-03-04T09:20:00")
    assert merged == together
    # an episode that needs matches from both files (threshold 3 in the first period)
    alarm = settings(threshold=3)
    assert replay_minutes(first, alarm, ORIGIN, ORIGIN + 3600) == []
    assert replay_minutes(merged, alarm, ORIGIN, ORIGIN + 3600) == [ep(0, 1)]


def test_a_year_of_one_minute_periods_is_cheap_and_exact():
    alarm = settings(period=60)
    year = 365 * 24 * 60
    episodes = replay({p(10, 60): 1.0, p(year - 5, 60): 1.0}, alarm, p(0, 60), p(year, 60))
    assert episodes == [ep(10, 11, period=60), ep(year - 5, year - 4, period=60)]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: period_datapoints({}, 90, "Sum"), "period 90 s: a metric-filter metric has one-minute resolution; allowed: a multiple of 60"),
        (lambda: period_datapoints({ORIGIN: (1.0, 1, 1.0, 1.0)}, 60, "p99"), "unknown statistic 'p99'; allowed: Sum, SampleCount, Average, Minimum, Maximum"),
        (lambda: evaluate_window([None], settings(treat_missing_data="zero")), "unknown missing-data treatment 'zero'; allowed: missing, notBreaching, breaching, ignore"),
    ],
)
def test_bad_settings_name_what_is_allowed(call, message):
    with pytest.raises(ValueError) as caught:
        call()
    assert str(caught.value) == message


# --- the replay's shortcut (visiting only evaluations near data) against evaluating every period ---

from hypothesis import given, settings as hypothesis_settings, strategies as st  # noqa: E402

from trailguard.alarms import COMPARISONS, MISSING_DATA  # noqa: E402


def replay_every_period(datapoints, alarm, first, last):
    """Reference: evaluate after every single period, no skipping."""
    start = first
    if alarm.treat_missing_data == "breaching" and last - first + 1 >= alarm.evaluation_periods:
        start = first + alarm.evaluation_periods - 1
    window, period = alarm.evaluation_periods, alarm.period
    episodes, state, opened, last_alarm, count = [], INSUFFICIENT_DATA, None, 0, 0
    for index in range(start, last + 1):
        new = evaluate_window([datapoints.get(i) for i in range(index - window + 1, index + 1)], alarm)
        if new is not None:
            if new == ALARM and state != ALARM:
                opened, count = index, 0
            elif new != ALARM and state == ALARM:
                episodes.append(Episode((opened + 1) * period, (index + 1) * period, False,
                                        (opened - window + 1) * period, (last_alarm + 1) * period, count))
            state = new
        if state == ALARM:
            count += 1
            last_alarm = index
    if state == ALARM:
        episodes.append(Episode((opened + 1) * period, (last + 1) * period, True,
                                (opened - window + 1) * period, (last_alarm + 1) * period, count))
    return episodes


@hypothesis_settings(max_examples=300, deadline=None)
@given(
    points=st.dictionaries(st.integers(0, 60), st.sampled_from([0.0, 1.0, 2.0, 3.0, 5.0]), max_size=12),
    window=st.integers(1, 5),
    data=st.data(),
    threshold=st.sampled_from([0.0, 1.0, 2.0, 3.0]),
    comparison=st.sampled_from(COMPARISONS),
    treatment=st.sampled_from(MISSING_DATA),
    span=st.integers(0, 80),
)
def test_replay_equals_evaluating_every_period(points, window, data, threshold, comparison, treatment, span):
    needed = data.draw(st.integers(1, window))
    alarm = AlarmSettings(period=300, evaluation_periods=window, datapoints_to_alarm=needed, threshold=threshold,
                          comparison=comparison, treat_missing_data=treatment)
    base = ORIGIN // 300
    datapoints = {base + i: v for i, v in points.items() if i <= span}
    assert replay(datapoints, alarm, base, base + span) == replay_every_period(datapoints, alarm, base, base + span)


@hypothesis_settings(max_examples=200, deadline=None)
@given(
    counts=st.dictionaries(st.integers(0, 600).map(lambda m: ORIGIN + 60 * m), st.integers(1, 4), max_size=20),
    statistic=st.sampled_from(["Sum", "SampleCount", "Average", "Minimum", "Maximum"]),
    period=st.sampled_from([60, 300, 600, 3600]),
    threshold=st.sampled_from([1.0, 2.0, 3.0]),
    treatment=st.sampled_from(MISSING_DATA),
)
def test_replaying_counts_equals_replaying_minute_aggregates(counts, statistic, period, threshold, treatment):
    from trailguard.backtest.replay import count_datapoints, minute_stats, period_totals, replay_counts

    alarm = AlarmSettings(statistic=statistic, period=period, threshold=threshold, treat_missing_data=treatment)
    assert count_datapoints(period_totals(counts, period), statistic) == period_datapoints(minute_stats(counts), period, statistic)
    span = (ORIGIN, ORIGIN + 600 * 60)
    assert replay_counts(counts, alarm, *span) == replay_minutes(minute_stats(counts), alarm, *span)
