"""The catalogue's typed records: what one detection is, independent of how it is stored.

Contract shared by the program (`components/`), the policy pack, `trailguard check` and the
back-test; the loader (`trailguard.catalog.loader`) builds these from the data files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from types import MappingProxyType
from typing import Any, Mapping


class Severity(str, Enum):
    """How urgently a firing detection needs a human; drives topic routing by severity."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


PROFILES: tuple[str, ...] = ("default", "securityhub")
"""Pattern profiles. `default` is required for every detection; `securityhub` holds the
byte-exact Security Hub CloudWatch.x strings where such a control exists."""


@dataclass(frozen=True, slots=True)
class Reference:
    """One external control this detection implements, e.g. CIS 1.4.0 4.3 or Security Hub CloudWatch.1."""

    framework: str  # "CIS" or "SecurityHub"
    control: str  # "4.3", "CloudWatch.1"
    version: str | None = None  # CIS benchmark version, "1.4.0"; None for Security Hub


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
    source: str = field(default="", compare=False)  # file the detection was loaded from

    def pattern_for(self, profile: str) -> str:
        """The pattern deployed under `profile`, falling back to `default` where the profile has none."""
        if profile not in PROFILES:
            raise ValueError(f"unknown profile {profile!r}; allowed: {', '.join(PROFILES)}")
        return self.patterns.get(profile, self.patterns["default"])

    def __post_init__(self) -> None:
        object.__setattr__(self, "patterns", MappingProxyType(dict(self.patterns)))
