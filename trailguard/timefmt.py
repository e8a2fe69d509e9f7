"""Times as trailguard reads and writes them: CloudTrail's ISO-8601 `eventTime` in, UTC `...Z`
timestamps and durations out.

One module so every report writes times the same way. Both directions are on the back-test's hot
paths (every event's time is parsed; every hour, episode and window of a report is formatted), so
each keeps a bounded per-day cache: a busy archive has thousands of events per day, a report
thousands of hours over a few days.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

_DAY_STARTS: dict[str, int] = {}  # "YYYY-MM-DD" -> epoch seconds of its midnight, UTC
_DAY_PREFIXES: dict[int, str] = {}  # day number since the epoch -> "YYYY-MM-DDT"
_CACHED_DAYS = 100_000


def to_epoch_seconds(event_time: Any) -> int | None:
    """Epoch seconds of an ISO-8601 eventTime (UTC when no offset is given), None if unusable.
    CloudTrail's own `YYYY-MM-DDTHH:MM:SSZ` takes a fast path (a cached day plus the clock)."""
    if event_time.__class__ is not str:
        return None
    if len(event_time) == 20 and event_time[10] == "T" and event_time[19] == "Z":
        day = event_time[:10]
        start = _DAY_STARTS.get(day)
        if start is None:
            start = _parse_iso(day + "T00:00:00Z")
            if start is None or len(_DAY_STARTS) > _CACHED_DAYS:
                return _parse_iso(event_time)
            _DAY_STARTS[day] = start
        clock = event_time[11:19]
        if clock[2] == ":" and clock[5] == ":" and clock[:2].isdigit() and clock[3:5].isdigit() and clock[6:].isdigit():
            hours, minutes, seconds = int(clock[:2]), int(clock[3:5]), int(clock[6:])
            if hours < 24 and minutes < 60 and seconds < 60:
                return start + hours * 3600 + minutes * 60 + seconds
    return _parse_iso(event_time)


def _parse_iso(event_time: str) -> int | None:
    try:
        parsed = dt.datetime.fromisoformat(event_time)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.timezone.utc)
    return int(parsed.timestamp())


def format_utc(epoch: int) -> str:
    """Epoch seconds as an eventTime-style UTC timestamp, `YYYY-MM-DDTHH:MM:SSZ`."""
    day, seconds = divmod(epoch, 86_400)
    date = _DAY_PREFIXES.get(day)
    if date is None:
        date = time.strftime("%Y-%m-%dT", time.gmtime(day * 86_400))
        if len(_DAY_PREFIXES) < _CACHED_DAYS:
            _DAY_PREFIXES[day] = date
    minutes, second = divmod(seconds, 60)
    hour, minute = divmod(minutes, 60)
    return f"{date}{hour:02d}:{minute:02d}:{second:02d}Z"


def format_utc_hour(epoch: int) -> str:
    """The UTC hour `epoch` falls in, `YYYY-MM-DDTHH:00Z` (a timeline's bar or axis label)."""
    return format_utc(epoch)[:13] + ":00Z"


def format_seconds(seconds: float) -> str:
    """A duration in seconds with two decimals, as run times are shown."""
    return f"{seconds:.2f}"
