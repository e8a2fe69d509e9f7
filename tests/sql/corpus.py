"""Events the SQL tests run on: always the catalogue's samples and the back-test fixtures, and the
shared real CloudTrail events when ../shared is present (the tests pass without it)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterable

from trailguard.catalog import load_catalog

REPO = Path(__file__).resolve().parents[2]
SHARED_EVENTS = REPO / ".." / "shared" / "data" / "cloudtrail"
FIXTURE_EVENTS = REPO / "tests" / "fixtures" / "backtest" / "events.json"


def project_events() -> list[dict[str, Any]]:
    """The catalogue's sample events (every detection, every profile) and the back-test fixtures."""
    catalog = load_catalog()
    events = [dict(sample.event) for detection_id in catalog.detections
              for sample in catalog.get(detection_id).samples]
    events.extend(json.loads(FIXTURE_EVENTS.read_text()))
    return events


def shared_events() -> list[dict[str, Any]]:
    """The real events under ../shared/data/cloudtrail, or [] when ../shared is absent."""
    if not SHARED_EVENTS.is_dir():
        return []
    events: list[dict[str, Any]] = []
    for path in sorted(SHARED_EVENTS.rglob("*.json")):
        document = json.loads(path.read_text())
        events.extend(document["Records"] if isinstance(document, dict) and "Records" in document else
                      document if isinstance(document, list) else [document])
    return events


def rows_matching(con: Any, where: str, table: str = "cloudtrail") -> set[int]:
    """The row numbers (insertion order, from 0) for which the SQL boolean `where` holds."""
    return {row[0] for row in con.execute(f'SELECT rowid FROM "{table}" WHERE {where}').fetchall()}


def events_matching(predicate: Any, events: Iterable[Any]) -> set[int]:
    return {number for number, event in enumerate(events) if predicate(event)}
