"""The `securityhub` profile is Security Hub's CloudWatch.1-14 text byte for byte: Security Hub fails
any other string, whitespace included."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from trailguard.catalog import load_catalog

FIXTURE = json.loads((Path(__file__).parents[1] / "fixtures" / "catalog" / "securityhub-cloudwatch.json")
                     .read_text(encoding="utf-8"))["patterns"]
REFERENCE = Path(__file__).parents[3] / "shared" / "reference" / "cis-monitoring.md"
CATALOG = load_catalog()


def _securityhub_control(detection) -> str | None:
    return next((r.control for r in detection.references if r.framework == "SecurityHub"), None)


def test_fixture_holds_the_fourteen_controls() -> None:
    assert sorted(FIXTURE, key=lambda c: int(c.split(".")[1])) == [f"CloudWatch.{n}" for n in range(1, 15)]


@pytest.mark.parametrize("control", sorted(FIXTURE))
def test_securityhub_pattern_is_byte_exact(control: str) -> None:
    owners = [d for d in CATALOG.detections.values() if _securityhub_control(d) == control]
    assert len(owners) == 1, f"{control} should be implemented by exactly one detection, got {owners}"
    assert owners[0].patterns.get("securityhub") == FIXTURE[control]


def test_securityhub_pattern_only_where_a_control_exists() -> None:
    for detection in CATALOG.detections.values():
        assert ("securityhub" in detection.patterns) == (_securityhub_control(detection) is not None), detection.id


def test_fixture_matches_the_shared_reference() -> None:
    if not REFERENCE.exists():
        pytest.skip(f"{REFERENCE} is absent; the fixture copy is checked above")
    text = REFERENCE.read_text(encoding="utf-8")
    heading_then_block = r"\*\*(CloudWatch\.\d+) — .*?Pattern \(byte-exact from doc\):\n```\n(.*?)\n```"
    found = dict(re.findall(heading_then_block, text, re.S))
    assert found == FIXTURE
