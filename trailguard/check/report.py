"""What `trailguard check` shows: the resource tree and the detections table, as text or JSON data.

`format_*` return strings and `*_data` return JSON-ready dicts; the command only writes them.
"""

from __future__ import annotations

from typing import Any

from trailguard.check.harness import MockedResource, ProgramRun
from trailguard.check.stack import StackCheck
from trailguard.config import EnabledDetection


def detection_rows(check: StackCheck) -> list[dict[str, Any]]:
    """One row per enabled detection: what it matches with, where it counts, when it alarms, who hears."""
    exported = check.run.outputs.get("detections", {}) if isinstance(check.run.outputs, dict) else {}
    rows = []
    for detection in check.config.detections:
        alarm_name = exported.get(detection.id, {}).get("alarmName")
        rows.append({
            "id": detection.id,
            "severity": detection.severity.value,
            "profile": _profile(detection, check.config.profile),
            "namespace": detection.namespace,
            "metric": detection.metric,
            "alarm": alarm_name,
            "condition": condition(detection),
            "topic": detection.topic,
            "custom": detection.custom,
        })
    return rows


def condition(detection: EnabledDetection) -> str:
    """The alarm rule in one line, e.g. `Sum >= 1 in 1 of 1 x 300s`."""
    alarm = detection.alarm
    operator = {"GreaterThanOrEqualToThreshold": ">=", "GreaterThanThreshold": ">",
                "LessThanThreshold": "<", "LessThanOrEqualToThreshold": "<="}[alarm.comparison]
    return (f"{alarm.statistic} {operator} {alarm.threshold:g} in {alarm.datapoints_to_alarm} "
            f"of {alarm.evaluation_periods} x {alarm.period}s")


def _profile(detection: EnabledDetection, profile: str) -> str:
    if detection.detection is None:
        return "custom"
    return detection.detection.pattern_profile(profile)


def resource_tree(run: ProgramRun) -> list[tuple[int, MockedResource]]:
    """Resources depth-first from the stack's top-level ones, siblings by name."""
    ordered: list[tuple[int, MockedResource]] = []

    def visit(parent: str | None, depth: int) -> None:
        for child in sorted(run.children(parent), key=lambda resource: (resource.name, resource.type)):
            ordered.append((depth, child))
            visit(child.urn, depth + 1)

    visit(run.stack_urn, 0)
    return ordered


def format_tree(run: ProgramRun) -> str:
    root = run.stack_urn.split("::")[-1] if run.stack_urn else run.stack
    lines = [f"{root}  pulumi:pulumi:Stack"]
    entries = resource_tree(run)
    for index, (depth, resource) in enumerate(entries):
        last = all(d != depth for d, _ in _until_parent_level(entries[index + 1:], depth))
        prefix = "".join("    " if _closed(entries, index, level) else "│   " for level in range(depth))
        flags = "  [protected]" if resource.protect else ""
        lines.append(f"{prefix}{'└── ' if last else '├── '}{resource.name}  {resource.type}{flags}")
    return "\n".join(lines)


def _until_parent_level(rest: list[tuple[int, MockedResource]], depth: int):
    for entry in rest:
        if entry[0] < depth:
            return
        yield entry


def _closed(entries: list[tuple[int, MockedResource]], index: int, level: int) -> bool:
    """Whether the ancestor branch at `level` of entry `index` has no more siblings below."""
    for depth, _ in entries[index + 1:]:
        if depth < level:
            return True
        if depth == level:
            return False
    return True


def format_detections(rows: list[dict[str, Any]]) -> str:
    columns = ("id", "profile", "metric", "alarm", "condition", "topic")
    cells = [[_cell(row, column) for column in columns] for row in rows]
    widths = [max(len(column), *(len(line[i]) for line in cells)) for i, column in enumerate(columns)]
    header = "  ".join(column.ljust(width) for column, width in zip(columns, widths)).rstrip()
    body = ["  ".join(value.ljust(width) for value, width in zip(line, widths)).rstrip() for line in cells]
    return "\n".join([header, *body])


def _cell(row: dict[str, Any], column: str) -> str:
    if column == "metric":
        return f"{row['namespace']}/{row['metric']}"
    value = row[column]
    return "-" if value is None else str(value)


def format_check(check: StackCheck) -> str:
    run = check.run
    mode = "preview" if run.preview else "update"
    custom = [r for r in run.resources if r.custom]
    summary = (f"Stack {check.stack}: config valid; program ran under mocks ({mode}), "
               f"{len(custom)} resources in {len(run.resources) - len(custom)} components, "
               f"{len(check.config.detections)} detections")
    return "\n\n".join([summary, "Resources", format_tree(run),
                        "Detections", format_detections(detection_rows(check))]) + "\n"


def check_data(check: StackCheck) -> dict[str, Any]:
    run = check.run
    return {
        "stack": check.stack,
        "valid": True,
        "mode": "preview" if run.preview else "update",
        "profile": check.config.profile,
        "resources": [
            {"urn": r.urn, "type": r.type, "name": r.name, "parent": r.parent, "protect": r.protect}
            for _, r in resource_tree(run)
        ],
        "detections": detection_rows(check),
        "outputs": run.outputs,
    }
