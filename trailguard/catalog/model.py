"""The catalogue's typed records: what one detection is, independent of how it is stored.

Contract shared by the program (`components/`), the policy pack, `trailguard check` and the
back-test; the loader (`trailguard.catalog.loader`) builds these from the data files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from types import MappingProxyType
from typing import Any, Iterable, Mapping


class Severity(str, Enum):
    """How urgently a firing detection needs a human; drives topic routing by severity."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


PROFILES: tuple[str, ...] = ("default", "securityhub")
"""Pattern profiles. `default` is required for every detection; `securityhub` holds the
byte-exact Security Hub CloudWatch.x strings where such a control exists."""

DETECTION_TAG = "trailguard:detection"
"""Tag key whose value is the detection id, on the resources a detection deploys: the program
sets it (components/detection.py) and the policy pack reads it (policies/.../detections.py)."""

SEED_PRESET = "seed"
"""The preset holding the seed article's five alarms: the policy pack's default required set."""


@dataclass(frozen=True, slots=True)
class Reference:
    """One external control this detection implements, e.g. CIS 1.4.0 4.3 or Security Hub CloudWatch.1."""

    framework: str  # "CIS" or "SecurityHub"
    control: str  # "4.3", "CloudWatch.1"
    version: str | None = None  # CIS benchmark version, "1.4.0"; None for Security Hub


@dataclass(frozen=True, slots=True)
class Sample:
    """One CloudTrail event that proves a pattern: a positive must match it, a negative must not.

    `profiles` names the pattern profiles the expectation holds for. Most samples hold for every
    profile; a near miss that only the `default` pattern excludes (a failed call, which Security
    Hub's exact string still counts) is a negative for `default` alone. `event` is a plain dict, as
    the pattern engine takes it: treat it as read-only.
    """

    name: str  # short kebab-case label, unique within the detection; used in test ids
    event: Mapping[str, Any]
    positive: bool
    profiles: tuple[str, ...] = PROFILES
    note: str = ""


@dataclass(frozen=True, slots=True)
class Detection:
    """One alarm-worthy CloudTrail behaviour: its patterns per profile and the events that prove them."""

    id: str
    title: str
    why: str
    runbook: str
    severity: Severity
    metric: str
    references: tuple[Reference, ...]
    patterns: Mapping[str, str]
    positives: tuple[Mapping[str, Any], ...]
    negatives: tuple[Mapping[str, Any], ...]
    notes: str = ""
    samples: tuple[Sample, ...] = ()
    """Every sample with its profiles. `positives`/`negatives` hold the events of the samples that
    hold under every profile, so they are safe to test whichever profile a stack deploys;
    `positives_for(profile)`/`negatives_for(profile)` add the profile-specific ones."""
    source: str = field(default="", compare=False)  # file the detection was loaded from

    def pattern_for(self, profile: str) -> str:
        """The pattern deployed under `profile`, falling back to `default` where the profile has none."""
        return self.patterns[self.pattern_profile(profile)]

    def pattern_profile(self, profile: str) -> str:
        """Which of this detection's own patterns `profile` deploys: itself, or `default` as fallback."""
        if profile not in PROFILES:
            raise ValueError(f"unknown profile {profile!r}; allowed: {', '.join(PROFILES)}")
        return profile if profile in self.patterns else "default"

    def samples_for(self, profile: str) -> tuple[Sample, ...]:
        """The samples whose expectation holds for the pattern `profile` deploys."""
        own = self.pattern_profile(profile)
        return tuple(s for s in self.samples if own in s.profiles)

    def positives_for(self, profile: str) -> tuple[Mapping[str, Any], ...]:
        """Events the pattern deployed under `profile` must match (`positives` for a record built
        without `samples`)."""
        if not self.samples:
            self.pattern_profile(profile)  # still reject an unknown profile
            return self.positives
        return tuple(s.event for s in self.samples_for(profile) if s.positive)

    def negatives_for(self, profile: str) -> tuple[Mapping[str, Any], ...]:
        """Events the pattern deployed under `profile` must not match (`negatives` without `samples`)."""
        if not self.samples:
            self.pattern_profile(profile)
            return self.negatives
        return tuple(s.event for s in self.samples_for(profile) if not s.positive)

    def profile_free_samples(self) -> tuple[Sample, ...]:
        """The samples that hold under every profile this detection has a pattern for: the ones
        that judge a deployed pattern fairly whichever profile the stack chose. A record built
        without `samples` offers its `positives`/`negatives`, labelled `#1`, `#2`, ..."""
        if not self.samples:
            return (*(Sample(f"#{i}", e, True) for i, e in enumerate(self.positives, 1)),
                    *(Sample(f"#{i}", e, False) for i, e in enumerate(self.negatives, 1)))
        return samples_for_every_profile(self.samples, self.patterns)

    def __post_init__(self) -> None:
        object.__setattr__(self, "patterns", MappingProxyType(dict(self.patterns)))


def samples_for_every_profile(samples: tuple[Sample, ...], profiles: Iterable[str]) -> tuple[Sample, ...]:
    """The samples whose expectation holds under each of `profiles`."""
    profiles = tuple(profiles)
    return tuple(s for s in samples if all(p in s.profiles for p in profiles))
