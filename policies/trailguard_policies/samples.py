"""Judging a deployed filter pattern by behaviour: does it match a detection's catalogue samples?

Scanners compare pattern text, so they pass a broken pattern and fail a correct one written
differently. The pack instead runs the pattern, with trailguard's engine, over the positive and
negative CloudTrail events the catalogue keeps for the detection: reformatting or reordering
clauses passes, dropping an event name or matching everything fails.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Mapping

from trailguard.catalog import CatalogError, load_catalog
from trailguard.catalog.model import Detection
from trailguard.exclusions import Exclusion, excluded_pattern
from trailguard.patterns import PatternSyntaxError, compile_pattern, contains, parse
from trailguard.patterns.ast import And, JsonPattern


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
def judge_pattern(pattern: str, detection_id: str, allowed: tuple[Exclusion, ...] = ()) -> SampleVerdict:
    """Run `pattern` over the profile-free samples of catalogue detection `detection_id`; a
    positive sample that an allowed exclusion removes need not match."""
    positives, negatives = profile_free_samples(load_catalog().get(detection_id))
    if allowed:
        removed = compile_pattern(excluded_pattern(allowed))
        positives = tuple(s for s in positives if not removed.matches(s.event))
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


@dataclass(frozen=True)
class ContainmentVerdict:
    """Whether a deployed pattern counts every event a detection's reference pattern counts.

    `verdict` is the engine's: "contained" (for some profile), "not-contained" (for every profile,
    `counterexample` an event the reference counts and the pattern does not), or "undecided"
    (a construct the decision procedure does not cover; the samples are the only judge then).
    """

    verdict: str
    profile: str
    counterexample: Mapping[str, Any] | None = None
    reason: str = ""


@lru_cache(maxsize=2048)
def prove_pattern(pattern: str, detection_id: str, allowed: tuple[Exclusion, ...] = ()) -> ContainmentVerdict:
    """Decide, exactly, whether `pattern` contains the reference pattern of either profile of
    catalogue detection `detection_id`, less the events the `allowed` exclusions remove. Samples
    cannot see a clause they do not vary (an `awsRegion`, an exempted principal); containment
    sees every one."""
    detection = load_catalog().get(detection_id)
    results = [(profile, contains(pattern, reference_tree(reference, allowed)))
               for profile, reference in detection.patterns.items()]
    for profile, result in results:
        if result.verdict == "contained":
            return ContainmentVerdict("contained", profile)
    for profile, result in results:
        if result.verdict == "undecided":
            return ContainmentVerdict("undecided", profile, reason=result.reason)
    profile, result = results[0]
    return ContainmentVerdict("not-contained", profile, result.counterexample, result.reason)


def reference_tree(reference: str, allowed: tuple[Exclusion, ...]) -> Any:
    """The reference pattern less what the allowed exclusions remove: `ref && kept1 && ...`, as a
    tree (a merged text could pass the 1024-character quota that binds deployed patterns only)."""
    tree = parse(reference)
    if not allowed:
        return tree
    return JsonPattern(And((tree.expr, *(e.kept for e in allowed))))


def describe_counterexample(event: Mapping[str, Any], *patterns: str) -> str:
    """The counterexample's fields that the patterns read, as compact JSON, then `...` for the
    CloudTrail envelope it also carries, and the fields they read that it lacks (a `!=` is false
    on a missing field, so an absent field is often what separates the patterns)."""
    shown: dict[str, Any] = {}
    absent: list[str] = []
    for text in patterns:
        try:
            paths = compile_pattern(text).key_paths or ()
        except PatternSyntaxError:
            continue
        for path in paths:
            value: Any = event
            for key in path:
                value = value.get(key, _ABSENT) if isinstance(value, Mapping) else _ABSENT
            if value is _ABSENT:
                name = "$." + ".".join(path)
                if name not in absent:
                    absent.append(name)
                continue
            target = shown
            for key in path[:-1]:
                target = target.setdefault(key, {})
            if isinstance(target, dict):
                target[path[-1]] = value
    text = json.dumps(shown, separators=(", ", ": "), sort_keys=False)
    text = text[:-1] + ", ...}" if shown else "{...}"
    return text + (f" without {', '.join(absent)}" if absent else "")


_ABSENT = object()
