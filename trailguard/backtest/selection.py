"""Which detections a back-test replays, with which pattern and alarm settings.

`--stack` takes exactly what the stack deploys (same config validation as the program);
`--detections` takes catalogue entries with the catalogue's default alarm; `--pattern` replays one
ad-hoc pattern with the default alarm. Patterns are compiled here, so a bad one fails before any
file is read.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from trailguard.alarms import AlarmSettings
from trailguard.patterns import PatternSyntaxError, compile_pattern

ADHOC_ID = "pattern"


class SelectionError(ValueError):
    """Detections that cannot be replayed: unknown ids, a bad stack config, an invalid pattern."""


@dataclass(frozen=True, slots=True)
class Target:
    """One detection to replay."""

    id: str
    title: str
    pattern: str
    alarm: AlarmSettings
    severity: str = ""
    custom: bool = False
    profile: str = ""  # the pattern profile the pattern came from; "" for an ad-hoc pattern


def from_stack(project_dir: Path, stack: str) -> list[Target]:
    """The detections `Pulumi.<stack>.yaml` enables, as the program would deploy them."""
    from trailguard.config import ConfigError, load_stack_file_config

    try:
        config = load_stack_file_config(Path(project_dir), stack)
    except ConfigError as error:
        raise SelectionError(f"stack {stack!r}: {error}") from None
    targets = [
        Target(d.id, d.title, d.pattern, d.alarm, d.severity.value, d.custom, config.profile)
        for d in config.detections
    ]
    _compile_all(targets)
    return targets


def from_detection_ids(spec: Iterable[str], profile: str = "default") -> list[Target]:
    """Catalogue detections by id or preset (`cis`, `seed`, `all`), with default alarm settings."""
    from trailguard.catalog import CatalogError, load_catalog

    names = [name.strip() for item in spec for name in item.split(",") if name.strip()]
    if not names:
        raise SelectionError("--detections: no detection ids given; e.g. --detections cis or --detections root-usage,vpc-changes")
    catalog = load_catalog()
    try:
        ids = catalog.resolve(names)
    except CatalogError as error:
        raise SelectionError(f"--detections: {error}") from None
    targets = []
    for detection_id in ids:
        detection = catalog.get(detection_id)
        targets.append(Target(
            detection.id, detection.title, detection.pattern_for(profile), AlarmSettings(), detection.severity.value, False,
            profile,
        ))
    _compile_all(targets)
    return targets


def from_pattern(text: str, alarm: AlarmSettings | None = None) -> list[Target]:
    """One ad-hoc pattern, replayed with the default (CIS) alarm."""
    target = Target(ADHOC_ID, text, text, alarm or AlarmSettings(), "", True)
    _compile_all([target], option="--pattern")
    return [target]


def _compile_all(targets: list[Target], option: str = "") -> list[Any]:
    compiled = []
    for target in targets:
        if target.alarm.period % 60:
            raise SelectionError(
                f"detection {target.id!r}: period {target.alarm.period} s cannot be replayed; a metric-filter "
                "metric has one-minute resolution, so allowed: a multiple of 60"
            )
        try:
            compiled.append(compile_pattern(target.pattern))
        except PatternSyntaxError as error:
            where = option or f"detection {target.id!r}"
            raise SelectionError(f"{where}: invalid filter pattern:\n{error}") from None
    return compiled
