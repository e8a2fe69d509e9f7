"""Shared helpers for the back-test tests: fixture events, delivery files, a brute-force oracle."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Iterable

import orjson
import pytest

FIXTURES = Path(__file__).parents[1] / "fixtures" / "backtest"
REPO = Path(__file__).parents[2]
SHARED_EVENTS = REPO / ".." / "shared" / "data" / "cloudtrail" / "stratus-red-team"


def fixture_events() -> list[dict]:
    return json.loads((FIXTURES / "events.json").read_text())


def write_delivery(path: Path, events: Iterable[dict]) -> Path:
    """An S3 delivery file: one gzipped line `{"Records": [...]}`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(orjson.dumps({"Records": list(events)}), mtime=0))
    return path


def shared_events() -> list[dict]:
    if not SHARED_EVENTS.is_dir():
        pytest.skip(f"shared data not present at {SHARED_EVENTS}")
    events: list[dict] = []
    for path in sorted(SHARED_EVENTS.glob("*.json")):
        events.extend(json.loads(path.read_text()))
    return events


@pytest.fixture
def events() -> list[dict]:
    return fixture_events()
