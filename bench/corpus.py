"""Build CloudTrail corpora for benchmarks from real event shapes.

Templates are the real (pseudonymised) Stratus Red Team events in `../shared/data/cloudtrail/` when
that folder is present, plus every sample event of the detection catalogue (realistic full records
written from AWS's documented shapes). Each generated event is a template with a fresh eventTime,
eventID, requestID and source IP, so files look like a real account's S3 archive:
`AWSLogs/<account>/CloudTrail/<region>/<yyyy>/<mm>/<dd>/<account>_CloudTrail_<region>_<stamp>_<n>.json.gz`,
each an S3 delivery document `{"Records": [...]}` of `records_per_file` events.
"""

from __future__ import annotations

import gzip
import random
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import orjson

SHARED_EVENTS = Path(__file__).resolve().parents[2] / "shared" / "data" / "cloudtrail"


def template_events() -> list[dict[str, Any]]:
    """Distinct real-shaped CloudTrail events to generate from."""
    templates: list[dict[str, Any]] = []
    if SHARED_EVENTS.is_dir():
        for path in sorted(SHARED_EVENTS.rglob("*.json")):
            data = orjson.loads(path.read_bytes())
            records = data.get("Records", data) if isinstance(data, dict) else data
            templates.extend(r for r in records if isinstance(r, dict) and "eventName" in r)
    from trailguard.catalog import load_catalog

    for detection in load_catalog().detections.values():
        templates.extend(dict(e) for e in (*detection.positives, *detection.negatives))
    if not templates:
        raise RuntimeError("no template events: neither ../shared nor the catalogue provided any")
    return templates


def write_corpus(directory: Path, events: int, *, records_per_file: int = 100, seed: int = 7,
                 account: str = "111122223333", region: str = "eu-west-1",
                 start: datetime = datetime(2026, 10, 1, tzinfo=timezone.utc), seconds_per_event: float = 20.0,
                 templates: list[dict[str, Any]] | None = None) -> list[Path]:
    """Write `events` events as gzipped delivery files under `directory`; returns the file paths.

    eventTime advances by `seconds_per_event` on average (a busy account logs ~1-10 events/s);
    `templates` defaults to `template_events()`."""
    rng = random.Random(seed)
    encoded = [orjson.dumps(t) for t in (templates if templates is not None else template_events())]
    files: list[Path] = []
    moment = start
    written = 0
    while written < events:
        batch = min(records_per_file, events - written)
        records = []
        for _ in range(batch):
            moment += timedelta(seconds=rng.random() * 2 * seconds_per_event)
            event = orjson.loads(rng.choice(encoded))
            event["eventTime"] = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
            event["eventID"] = f"{rng.getrandbits(128):032x}"
            event["requestID"] = f"{rng.getrandbits(64):016x}"
            event["sourceIPAddress"] = f"198.51.100.{rng.randint(1, 254)}"
            event["recipientAccountId"] = account
            records.append(event)
        day = moment.strftime("%Y/%m/%d")
        folder = directory / "AWSLogs" / account / "CloudTrail" / region / day
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{account}_CloudTrail_{region}_{moment.strftime('%Y%m%dT%H%MZ')}_{len(files):07d}.json.gz"
        path.write_bytes(gzip.compress(orjson.dumps({"Records": records}), compresslevel=6))
        files.append(path)
        written += batch
    return files
