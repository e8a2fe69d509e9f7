"""Scan one unit (file or S3 object): decode each event once, run the candidate patterns, tally.

A `Tally` is everything the report needs from a stretch of input and nothing per event: counts,
per-minute metric aggregates per detection, the eventTime span, and a few samples per alarm
period. Tallies from different units (or worker processes) merge into the same result whatever
the split, so `--workers N` reports exactly what one worker does.
"""

from __future__ import annotations

from array import array
import gc
from collections import Counter
from dataclasses import dataclass, field
from itertools import chain, compress, repeat
from operator import is_not, itemgetter
from typing import Any, Sequence

from trailguard.cloudtrail import who as actor_of
from trailguard.patterns import MISSING, compile_pattern
from trailguard.records import Rejected, RecordDecoder, reason_kind
from trailguard.sourcefiles import Skipped
from trailguard.timefmt import to_epoch_seconds

from .decode import decoder_for
from .dispatch import Dispatcher
from .selection import Target
from .sources import SkippedInput, Unit, read_unit

MINUTES_PER_DAY = 1440
_EMPTY_DAY = bytes(4 * MINUTES_PER_DAY)
_SLOTS = range(MINUTES_PER_DAY)

SAMPLES_PER_PERIOD = 3
"""Samples kept per detection per alarm period: enough to show a few per episode."""

SAMPLED_PERIODS = 1_000
"""Alarm periods per detection that keep samples: the earliest ones with matches. Bounds memory
for a detection that matches all month long; later episodes then report counts without samples."""

REJECTIONS_PER_UNIT = 20
"""Rejection reasons listed per file; the rest are counted by kind only."""

Sample = tuple[Any, ...]  # SAMPLE_FIELDS, in order: compact while scanning, a dict in the report
SAMPLE_FIELDS = ("time", "event", "service", "who", "identityType", "account", "region", "sourceIp", "errorCode",
                 "file", "index")
sample_order = itemgetter(0, 9, 10)
"""(eventTime, file, index): a total order on samples that does not depend on how units were split."""


@dataclass
class DetectionTally:
    """What one detection matched in the scanned input. `days` counts matches per minute (each
    publishes the metric value 1), one array of 1,440 counters per UTC day with matches: memory
    follows the span of the archive, not how often the detection matches. `samples` maps alarm
    periods to their earliest samples, flat: one tuple holding the samples one after another in
    sample order (see `period_samples`). One object per period rather than a list and a tuple
    per sample: the cyclic garbage collector walks every container a run keeps, and samples are
    most of them."""

    matches: int = 0
    untimed: int = 0  # matches without a usable eventTime: counted, but not on the metric timeline
    first: str | None = None
    last: str | None = None
    days: dict[int, array] = field(default_factory=dict)
    current_day: int = -1  # the day of `current_counts`, the last array counted into
    current_counts: Any = field(default=None, repr=False, compare=False)
    samples: dict[int, tuple[Any, ...]] = field(default_factory=dict)
    sample_cutoff: float = float("inf")  # periods after this keep no samples (see _keep_earliest)

    def merge(self, other: DetectionTally) -> None:
        self.matches += other.matches
        self.untimed += other.untimed
        self.first = _min(self.first, other.first)
        self.last = _max(self.last, other.last)
        for day, counts in other.days.items():
            mine = self.days.get(day)
            if mine is None:
                self.days[day] = array("I", counts)
            else:
                for slot in compress(_SLOTS, counts):  # the minutes with matches, found in C
                    mine[slot] += counts[slot]
        self.sample_cutoff = min(self.sample_cutoff, other.sample_cutoff)
        for bucket, entries in other.samples.items():
            if bucket > self.sample_cutoff:
                continue
            kept = self.samples.get(bucket)
            if kept is None:  # the usual case: units are split into runs of consecutive files
                self.samples[bucket] = entries
                continue
            earliest = sorted(_split(kept) + _split(entries), key=sample_order)[:SAMPLES_PER_PERIOD]
            self.samples[bucket] = _join(earliest)
        _keep_earliest(self)

    def __getstate__(self) -> dict[str, Any]:
        """Pickled as is, day arrays dense (workers send tallies back): an array pickles as one
        block of bytes, cheaper to write and read than listing the minutes with matches."""
        state = dict(self.__dict__)
        state["current_day"], state["current_counts"] = -1, None
        return state

    def minute_counts(self) -> dict[int, int]:
        """Matches per minute (epoch seconds of the minute), minutes without matches left out."""
        found: dict[int, int] = {}
        for day, counts in sorted(self.days.items()):
            start = day * MINUTES_PER_DAY
            for slot in compress(_SLOTS, counts):  # the minutes with matches, found in C
                found[(start + slot) * 60] = counts[slot]
        return found

    def hour_counts(self) -> dict[int, int]:
        """Matches per hour (epoch seconds of the hour), hours without matches left out."""
        return {index * 3600: count for index, count in self.period_counts(3600).items()}

    def period_counts(self, period: int) -> dict[int, int]:
        """Matches per alarm period (period index: epoch seconds // period), in time order,
        periods without matches left out. `period` is a whole number of minutes."""
        if period < 60 or period % 60:
            raise ValueError(f"period {period} s: allowed a multiple of 60 (metric-filter metrics have one-minute resolution)")
        width = period // 60
        found: dict[int, int] = {}
        for day, counts in sorted(self.days.items()):
            start = day * MINUTES_PER_DAY
            if width == 1:
                for slot in compress(_SLOTS, counts):
                    found[start + slot] = counts[slot]
            elif MINUTES_PER_DAY % width == 0:  # periods tile the day: sum each one's slice in C
                first = start // width
                sums = [sum(counts[slot:slot + width]) for slot in range(0, MINUTES_PER_DAY, width)]
                for position in compress(range(len(sums)), sums):
                    found[first + position] = sums[position]
            else:  # periods straddle days
                for slot in compress(_SLOTS, counts):
                    index = (start + slot) // width
                    found[index] = found.get(index, 0) + counts[slot]
        return found

    def period_samples(self, bucket: int) -> list[Sample]:
        """The samples kept for one alarm period, in sample order."""
        return _split(self.samples.get(bucket, ()))

    def sampled_periods(self) -> list[int]:
        """Periods with samples, earliest first, at most SAMPLED_PERIODS (the same whatever the split)."""
        return sorted(self.samples)[:SAMPLED_PERIODS]


_WIDTH = len(SAMPLE_FIELDS)
_FULL = SAMPLES_PER_PERIOD * _WIDTH  # length of a period's flat samples once it keeps all it may


def _split(flat: tuple[Any, ...]) -> list[Sample]:
    return [flat[start:start + _WIDTH] for start in range(0, len(flat), _WIDTH)]


def _join(samples: list[Sample]) -> tuple[Any, ...]:
    return tuple(chain.from_iterable(samples))


def _keep_earliest(detection: DetectionTally) -> None:
    """Past 2 x SAMPLED_PERIODS sampled periods, drop all but the earliest SAMPLED_PERIODS and
    stop sampling later periods. Every tally so keeps every period that is among the earliest
    SAMPLED_PERIODS overall, so merged results do not depend on how units were split."""
    if len(detection.samples) >= 2 * SAMPLED_PERIODS:
        ordered = sorted(detection.samples)
        detection.sample_cutoff = ordered[SAMPLED_PERIODS - 1]
        for bucket in ordered[SAMPLED_PERIODS:]:
            del detection.samples[bucket]


@dataclass
class Tally:
    """Counts and per-detection tallies for any number of units."""

    detections: list[DetectionTally]
    files: int = 0
    bytes: int = 0
    read: int = 0
    evaluated: int = 0
    rejected: int = 0
    rejected_by_kind: Counter[str] = field(default_factory=Counter)
    rejections: list[tuple[str, str, int]] = field(default_factory=list)  # (source, reason, count)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (source, reason): inputs holding no events on purpose
    first_time: str | None = None
    last_time: str | None = None

    @classmethod
    def empty(cls, size: int) -> Tally:
        return cls([DetectionTally() for _ in range(size)])

    def merge(self, other: Tally) -> None:
        self.files += other.files
        self.bytes += other.bytes
        self.read += other.read
        self.evaluated += other.evaluated
        self.rejected += other.rejected
        self.rejected_by_kind.update(other.rejected_by_kind)
        self.rejections.extend(other.rejections)
        self.skipped.extend(other.skipped)
        self.first_time = _min(self.first_time, other.first_time)
        self.last_time = _max(self.last_time, other.last_time)
        for mine, theirs in zip(self.detections, other.detections):
            mine.merge(theirs)


class Scanner:
    """Compiled patterns, their dispatch index and decoder, built once per process."""

    def __init__(self, targets: Sequence[Target], s3: Any = None, decoder: RecordDecoder | None = None) -> None:
        self.targets = list(targets)
        self.periods = [target.alarm.period for target in self.targets]
        compiled = [compile_pattern(target.pattern) for target in self.targets]
        self.dispatcher = Dispatcher(compiled)
        self.decoder = decoder if decoder is not None else decoder_for(compiled)
        self.s3 = s3

    def scan(self, unit: Unit, into: Tally | None = None, body: bytes | BaseException | None = None) -> Tally:
        """Tally one unit, into `into` when given (no merge needed); `body` is the unit's S3
        object when it was fetched ahead. The cyclic garbage collector is paused meanwhile:
        decoded JSON holds no cycles, and collections triggered by millions of short-lived dicts
        cost a fifth of the run."""
        tally = into if into is not None else Tally.empty(len(self.targets))
        collecting = gc.isenabled()
        gc.disable()
        try:
            self._scan(unit, tally, body)
        finally:
            if collecting:
                gc.enable()
        return tally

    def _scan(self, unit: Unit, tally: Tally, body: bytes | BaseException | None) -> None:
        if unit.__class__ is SkippedInput:
            tally.skipped.append((unit.label, unit.reason))  # type: ignore[union-attr]
            return
        tally.files += 1
        tally.bytes += unit.size
        rejected_before = tally.rejected
        rejections_before = len(tally.rejections)
        low, high = ":", ""  # bounds for digit-first strings: an unset bound is never one
        evaluated = 0
        for batch in read_unit(unit, self.decoder, self.s3, body):
            if batch.__class__ is Rejected:
                tally.rejected += batch.count
                tally.rejected_by_kind[reason_kind(batch.reason)] += batch.count
                if len(tally.rejections) - rejections_before < REJECTIONS_PER_UNIT:
                    tally.rejections.append((batch.source, batch.reason, batch.count))
                continue
            if batch.__class__ is Skipped:
                tally.skipped.append((batch.source, batch.reason))
                continue
            times = list(map(dict.get, batch, repeat("eventTime")))
            first, last = _time_bounds(times)
            if first is not None:
                low, high = min(low, first), max(high, last)
            self._match_batch(batch, times, tally.detections, unit.label, evaluated)
            evaluated += len(batch)
        tally.evaluated += evaluated
        tally.read += evaluated + tally.rejected - rejected_before
        tally.first_time = _min(tally.first_time, low if low != ":" else None)
        tally.last_time = _max(tally.last_time, high or None)

    def _match_batch(self, batch: list[dict[str, Any]], times: list[Any], detections: list[DetectionTally],
                     source: str, base: int) -> None:
        """Run the candidate patterns of every event of a batch (`Dispatcher.candidates`, batch at a
        time): the look-ups that pick candidates run in C over the whole batch, so Python steps
        through only the events that have some."""
        dispatcher, periods = self.dispatcher, self.periods
        names = list(map(dict.get, batch, repeat("eventName")))
        if not set(map(type, names)) <= _STR:  # a numeric or missing name: event by event
            self._match_events(batch, names, times, detections, source, base)
            return
        size = len(batch)
        pinned = list(map(dispatcher.by_name.get, names))
        for position in compress(range(size), pinned):
            event = batch[position]
            for index, match in pinned[position]:
                if match(event):
                    _count(detections[index], periods[index], event, times[position], source, base + position)
        for first, second, allowed, behind in dispatcher.guards:
            for position in _passing(batch, first, second, allowed):
                event = batch[position]
                for index, match in behind:
                    if match(event):
                        _count(detections[index], periods[index], event, times[position], source, base + position)
        for index, match in dispatcher.always:
            for position, event in enumerate(batch):
                if match(event):
                    _count(detections[index], periods[index], event, times[position], source, base + position)

    def _match_events(self, batch: list[dict[str, Any]], names: list[Any], times: list[Any],
                      detections: list[DetectionTally], source: str, base: int) -> None:
        """`_match_batch` one event at a time, for a batch where some eventName is not a string."""
        periods = self.periods
        for position, (event, name) in enumerate(zip(batch, names)):
            candidates = self.dispatcher.candidates(event) if name.__class__ is str else self.dispatcher.everything
            for index, match in candidates:
                if match(event):
                    _count(detections[index], periods[index], event, times[position], source, base + position)


_STR = frozenset({str})


def _passing(batch: list[dict[str, Any]], first: str, second: str | None, allowed: frozenset[str] | None) -> Any:
    """Positions of the events that pass a guard (`dispatch.passes`, over a whole batch)."""
    if second is None and allowed is None:  # a top-level key must exist: all in C
        return compress(range(len(batch)), map(dict.__contains__, batch, repeat(first)))
    values: Any = map(dict.get, batch, repeat(first), repeat(MISSING))
    if second is not None:
        values = [value.get(second, MISSING) if value.__class__ is dict else MISSING for value in values]
    return [
        position for position, value in enumerate(values)
        if value is not MISSING and (allowed is None or value.__class__ is not str or value in allowed)
    ]


def _time_bounds(times: list[Any]) -> tuple[str | None, str | None]:
    """Earliest and latest eventTime among digit-first strings (ISO times sort as strings; ":"
    sorts after every digit), or (None, None)."""
    if times and set(map(type, times)) <= _STR:
        first, last = min(times), max(times)
        if "0" <= first and last < ":":
            return first, last
    usable = [t for t in times if t.__class__ is str and "0" <= t < ":"]
    return (min(usable), max(usable)) if usable else (None, None)


def _count(detection: DetectionTally, period: int, event: dict[str, Any], when: Any, source: str, index: int) -> None:
    """One match: the counter of its minute, first/last, and a sample if its alarm period keeps one."""
    detection.matches += 1
    minute = minute_of(when)
    if minute < 0:
        detection.untimed += 1
        return
    if detection.first is None or when < detection.first:
        detection.first = when
    if detection.last is None or when > detection.last:
        detection.last = when
    slot = minute // 60
    day = slot // MINUTES_PER_DAY
    if day != detection.current_day:  # most matches fall on the same day as the previous one
        counts = detection.days.get(day)
        if counts is None:
            counts = detection.days[day] = array("I", _EMPTY_DAY)
        detection.current_day, detection.current_counts = day, counts
    detection.current_counts[slot - day * MINUTES_PER_DAY] += 1
    bucket = minute // period  # periods are whole minutes
    if bucket > detection.sample_cutoff:
        return
    samples = detection.samples
    kept = samples.get(bucket)
    if kept is None:
        samples[bucket] = sample_of(event, source, index)
        if len(samples) >= 2 * SAMPLED_PERIODS:
            _keep_earliest(detection)
    elif len(kept) < _FULL:
        sample = sample_of(event, source, index)
        if (kept[-_WIDTH], kept[-2], kept[-1]) <= (when, source, index):  # usually in order: no sort needed
            samples[bucket] = kept + sample
        else:
            samples[bucket] = _join(sorted([*_split(kept), sample], key=sample_order))
    elif when <= kept[-_WIDTH] and (when, source, index) < (kept[-_WIDTH], kept[-2], kept[-1]):  # usually later: skip
        samples[bucket] = _join(sorted([*_split(kept)[:-1], sample_of(event, source, index)], key=sample_order))


def sample_of(event: dict[str, Any], source: str, index: int) -> Sample:
    """Who did what, where and from where: the fields a responder reads first (SAMPLE_FIELDS).
    Values that repeat across samples (names, accounts, regions, principals) are made one shared
    object each, so the tallies workers send back pickle each of them once."""
    identity = event.get("userIdentity")
    if identity.__class__ is not dict:
        identity = {}
    get = event.get  # the actor as every command shows it: cloudtrail.who
    fields = (get("eventName"), get("eventSource"),
              actor_of(identity), identity.get("type"),
              get("recipientAccountId"), get("awsRegion"), get("errorCode"))
    if len(_SHARED) > 100_000:
        _SHARED.clear()
    try:
        name, service, who, kind, account, region, error = map(_SHARED.setdefault, fields, fields)
    except TypeError:  # an unhashable value (an object where a string belongs): keep them as they are
        name, service, who, kind, account, region, error = fields
    return (get("eventTime"), name, service, who, kind, account, region, get("sourceIPAddress"), error, source, index)


_SHARED: dict[Any, Any] = {}
"""One object per distinct repeating sample value (what sys.intern does for strings, for any
hashable value and in one C call per field)."""


def sample_dict(sample: Sample) -> dict[str, Any]:
    """A sample as the report shows it: its fields by name, those without a value left out."""
    present = list(map(is_not, sample, _NONES))
    return dict(zip(compress(SAMPLE_FIELDS, present), compress(sample, present)))


_NONES = (None,) * len(SAMPLE_FIELDS)


_MINUTES: dict[str, int] = {}
_SECONDS_Z = frozenset(f":{second:02d}Z" for second in range(60))


def minute_of(event_time: Any) -> int:
    """Epoch seconds of the minute an eventTime falls in, or -1 if it has no usable time. Cached by
    `YYYY-MM-DDTHH:MM` (a busy archive has dozens of events per minute); a cached minute is used
    only for CloudTrail's own `YYYY-MM-DDTHH:MM:SSZ` with valid seconds."""
    if event_time.__class__ is str:
        minute = _MINUTES.get(event_time[:16])
        if minute is not None and event_time[16:] in _SECONDS_Z:
            return minute
    epoch = to_epoch_seconds(event_time)
    if epoch is None:
        return -1
    minute = epoch - epoch % 60
    if event_time.__class__ is str and len(event_time) == 20 and event_time[19] == "Z":
        if len(_MINUTES) > 200_000:
            _MINUTES.clear()
        _MINUTES[event_time[:16]] = minute
    return minute


def _min(a: str | None, b: str | None) -> str | None:
    return b if a is None else a if b is None else min(a, b)


def _max(a: str | None, b: str | None) -> str | None:
    return b if a is None else a if b is None else max(a, b)
