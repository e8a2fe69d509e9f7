"""trailguard.timefmt: the one place times are parsed from eventTime and written as UTC."""

from __future__ import annotations

import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trailguard.timefmt import format_seconds, format_utc, format_utc_hour, to_epoch_seconds


@given(epoch=st.integers(0, 250_000_000_000))
def test_utc_round_trips_through_the_parser(epoch):
    text = format_utc(epoch)
    assert text == time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))
    assert to_epoch_seconds(text) == epoch


@given(epoch=st.integers(-2_000_000_000, 250_000_000_000))
def test_hour_label_is_the_hour_the_time_falls_in(epoch):
    assert format_utc_hour(epoch) == time.strftime("%Y-%m-%dT%H:00Z", time.gmtime(epoch))


@pytest.mark.parametrize(("text", "expected"), [
    ("2025-03-04T09:02:30+01:00", 1741075350),  # an offset is honoured
    ("2025-03-04T09:02:30", 1741078950),  # no offset: UTC
    ("2025-03-04T24:00:00Z", None),
    (None, None),
])
def test_event_times_other_than_cloudtrails_own(text, expected):
    assert to_epoch_seconds(text) == expected


@pytest.mark.parametrize(("seconds", "expected"), [(0, "0.00"), (0.5, "0.50"), (1234.567, "1234.57")])
def test_durations_have_two_decimals(seconds, expected):
    assert format_seconds(seconds) == expected
