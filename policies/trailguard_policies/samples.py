"""Judging a deployed filter pattern by behaviour: does it match a detection's catalogue samples?

Scanners compare pattern text, so they pass a broken pattern and fail a correct one written
differently. The pack instead runs the pattern, with trailguard's engine, over the positive and
negative CloudTrail events the catalogue keeps for the detection: reformatting or reordering
clauses passes, dropping an event name or matching everything fails.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Mapping

from trailguard.catalog import CatalogError, load_catalog
from trailguard.catalog.model import Detection
from trailguard.patterns import PatternSyntaxError, compile_pattern


@dataclass(frozen=True)
class LabelledEvent:
    """A catalogue sample event with the label messages refer to it by."""

    label: str
    event: Mapping[str, Any]


@dataclass(frozen=True)
class SampleVerdict:
    """How a pattern fares on one detection's samples."""

    positives: int = 0
    negatives: int = 0
    missed_positives: tuple[LabelledEvent, ...] = ()
    matched_negatives: tuple[LabelledEvent, ...] = ()
    syntax_error: str | None = None

    @property
    def implements(self) -> bool:
        """Matches every positive and no negative: the pattern implements the detection."""
        return not (self.missed_positives or self.matched_negatives or self.syntax_error)

    @property
    def failures(self) -> int:
        """How many samples the pattern gets wrong; a syntax error counts as more than all of them."""
        if self.syntax_error:
            return self.positives + self.negatives + 1
        return len(self.missed_positives) + len(self.matched_negatives)


def profile_free_samples(detection: Detection) -> tuple[tuple[LabelledEvent, ...], tuple[LabelledEvent, ...]]:
    """The positive and negative samples that hold under every profile of the detection
    (`Detection.profile_free_samples`), labelled for messages.

    A stack may deploy any profile's pattern (Security Hub's exact strings still count failed
    calls, which the default pattern excludes), so only these samples judge every pattern fairly.
    """
    everywhere = detection.profile_free_samples()
    return (
        tuple(LabelledEvent(s.name, s.event) for s in everywhere if s.positive),
        tuple(LabelledEvent(s.name, s.event) for s in everywhere if not s.positive),
    )


def required_detections(ids: list[str] | tuple[str, ...]) -> tuple[tuple[Detection, ...], str | None]:
    """The catalogue detections for ids and presets, and an error message for any unknown one."""
    catalog = load_catalog()
    detections: list[Detection] = []
    errors: list[str] = []
    for name in ids:
        try:
            resolved = catalog.resolve([name])
        except CatalogError as error:
            errors.append(str(error))
            continue
        for detection_id in resolved:
            detection = catalog.get(detection_id)
            if detection not in detections:
                detections.append(detection)
    return tuple(detections), ("; ".join(errors) or None)


@lru_cache(maxsize=2048)
def judge_pattern(pattern: str, detection_id: str) -> SampleVerdict:
    """Run `pattern` over the profile-free samples of catalogue detection `detection_id`."""
    positives, negatives = profile_free_samples(load_catalog().get(detection_id))
    try:
        compiled = compile_pattern(pattern)
    except PatternSyntaxError as error:
        return SampleVerdict(len(positives), len(negatives), syntax_error=error.message)
    return SampleVerdict(
        len(positives),
        len(negatives),
        missed_positives=tuple(s for s in positives if not compiled.matches(s.event)),
        matched_negatives=tuple(s for s in negatives if compiled.matches(s.event)),
    )


def describe_verdict(verdict: SampleVerdict) -> str:
    """What a pattern gets wrong on the samples, naming the first failing sample of each kind."""
    if verdict.syntax_error:
        return f"has a pattern that does not parse ({verdict.syntax_error})"
    parts = []
    if verdict.missed_positives:
        first = verdict.missed_positives[0]
        parts.append(
            f"misses {len(verdict.missed_positives)} of {verdict.positives} positive samples "
            f"(first: '{first.label}', {describe_event(first.event)})"
        )
    if verdict.matched_negatives:
        first = verdict.matched_negatives[0]
        parts.append(
            f"matches {len(verdict.matched_negatives)} of {verdict.negatives} negative samples "
            f"(first: '{first.label}', {describe_event(first.event)})"
        )
    return " and ".join(parts)


def describe_event(event: Mapping[str, Any]) -> str:
    """A short handle for a CloudTrail event in messages: its name, source and error, if any."""
    name = event.get("eventName", "?")
    source = event.get("eventSource")
    error = event.get("errorCode")
    text = f"{name} from {source}" if source else str(name)
    return f"{text}, errorCode {error}" if error else text
