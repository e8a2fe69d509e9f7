"""The catalogue passes its own lints: every pattern of every profile, and the facts the lints rely
on hold on the catalogue's samples and, beside ../shared, on real CloudTrail events."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from trailguard.catalog import load_catalog
from trailguard.patterns import compile_pattern, getter, MISSING
from trailguard.patterns.rules import ALWAYS_PRESENT_BY_EVENT_NAME

CATALOG = load_catalog()
REAL_EVENTS = Path(__file__).parents[3] / "shared" / "data" / "cloudtrail"
PATTERNS = [(d.id, profile, text) for d in CATALOG.detections.values() for profile, text in d.patterns.items()]


@pytest.mark.parametrize(("detection", "profile", "text"), PATTERNS, ids=[f"{d}-{p}" for d, p, _ in PATTERNS])
def test_every_catalogue_pattern_is_lint_clean(detection: str, profile: str, text: str) -> None:
    warnings = compile_pattern(text).warnings
    assert not warnings, f"{detection} ({profile}): " + "; ".join(f"{w.code}: {w.message}" for w in warnings)


def _present(event: dict, field: str) -> bool:
    return getter(tuple(field.removeprefix("$.").split(".")))(event) is not MISSING


def _check_always_present(events: list[dict]) -> int:
    checked = 0
    for event in events:
        for field in ALWAYS_PRESENT_BY_EVENT_NAME.get(event.get("eventName"), ()):
            assert _present(event, field), f"{event.get('eventID')}: {event['eventName']} without {field}"
            checked += 1
    return checked


def test_always_present_fields_are_on_every_catalogue_sample_of_that_event_name() -> None:
    events = [s.event for d in CATALOG.detections.values() for s in d.samples]
    assert _check_always_present(events) >= 2 * 8  # console-signin-without-mfa alone has 8 ConsoleLogin samples


def test_always_present_fields_are_on_every_real_event_of_that_event_name() -> None:
    if not REAL_EVENTS.is_dir():
        pytest.skip(f"{REAL_EVENTS} is absent: the real-event check runs only beside ../shared")
    events = [e for path in sorted(REAL_EVENTS.rglob("*.json")) for e in json.loads(path.read_text(encoding="utf-8"))]
    assert _check_always_present(events) >= 2  # the Stratus Red Team console-login-without-mfa sign-in
