"""What `trailguard check` shows: the resource tree, the detections and the policy violations, as
rich renderables for a terminal or as JSON-ready data.

`render_*` return rich objects (a Tree, Tables), as the back-test's terminal report does, and
`*_data` return dicts; the command only prints them.
"""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from trailguard.check.harness import STACK_TYPE, MockedResource, ProgramRun
from trailguard.check.policy_pack import PolicyReport
from trailguard.check.stack import StackCheck
from trailguard import heartbeat
from trailguard.config import EnabledDetection
from trailguard.config.names import heartbeat_name, monitoring_name, realtime_rule_name

EVENT_RULE_TYPE = "aws:cloudwatch/eventRule:EventRule"


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
            "pattern": detection.pattern,
            "exclusions": [{"kind": e.kind, "value": e.value, "note": e.note, "excludes": e.pattern}
                           for e in detection.exclusions],
            # a detection converted from a Sigma rule names the rule and its author (DRL 1.1)
            **({"attribution": detection.attribution} if detection.attribution else {}),
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


def render_tree(run: ProgramRun) -> Tree:
    """The stack and every resource under its parent, siblings by name; protected ones flagged."""
    root_name = run.stack_urn.split("::")[-1] if run.stack_urn else run.stack
    root = Tree(_resource_label(root_name, STACK_TYPE, False), guide_style="dim")
    branches: dict[str | None, Tree] = {run.stack_urn: root}
    for _, resource in resource_tree(run):  # depth-first, so a parent's branch exists before its children
        branches[resource.urn] = branches[resource.parent].add(
            _resource_label(resource.name, resource.type, resource.protect))
    return root


def _resource_label(name: str, type_token: str, protect: bool) -> Text:
    label = Text.assemble((name, "bold"), "  ", (type_token, "cyan"))
    if protect:
        label.append("  [protected]", style="yellow")
    return label


DETECTION_COLUMNS = ("id", "profile", "metric", "alarm", "condition", "topic")


def render_detections(rows: list[dict[str, Any]]) -> Table:
    """One row per enabled detection. Ids never wrap; the other cells fold rather than being cut."""
    table = Table(title="Detections", title_justify="left")
    for column in DETECTION_COLUMNS:
        table.add_column(column, no_wrap=column == "id", overflow="fold")
    for row in rows:
        table.add_row(*(Text(_cell(row, column)) for column in DETECTION_COLUMNS))
    return table


def render_exclusions(rows: list[dict[str, Any]]) -> Table | None:
    """Per detection with declared exclusions: what it no longer sees (one line each, with how the
    value was read) and the pattern it deploys with them merged in. None when nothing is excluded."""
    excluding = [row for row in rows if row["exclusions"]]
    if not excluding:
        return None
    table = Table(title="Exclusions (overrides.<id>.exclude: these events are not counted)", title_justify="left",
                  show_lines=True)
    table.add_column("id", no_wrap=True)
    table.add_column("excludes", overflow="fold")
    table.add_column("deployed pattern", overflow="fold")
    for row in excluding:
        listed = "\n".join(f"{e['kind']} {e['value']}" + (f" ({e['note']})" if e["note"] else "")
                           for e in row["exclusions"])
        table.add_row(Text(row["id"]), Text(listed), Text(row["pattern"]))
    return table


def render_attributions(rows: list[dict[str, Any]]) -> Group | None:
    """The Sigma rule and author behind each detection converted from one (customDetections[].source),
    as the Detection Rule License asks; None when there is none."""
    attributed = [row for row in rows if row.get("attribution")]
    if not attributed:
        return None
    lines = [Text("Sources (Sigma rules)", style="bold")]
    lines += [Text.assemble((row["id"], "bold"), f": {row['attribution']}") for row in attributed]
    return Group(*lines)


def _cell(row: dict[str, Any], column: str) -> str:
    if column == "metric":
        return f"{row['namespace']}/{row['metric']}"
    value = row[column]
    return "-" if value is None else str(value)


def check_summary(check: StackCheck) -> str:
    run = check.run
    mode = "preview" if run.preview else "update"
    custom = [r for r in run.resources if r.custom]
    warned = f" with {len(check.config.warnings)} warning(s)" if check.config.warnings else ""
    return (f"Stack {check.stack}: config valid{warned}; program ran under mocks ({mode}), "
            f"{len(custom)} resources in {len(run.resources) - len(custom)} components, "
            f"{len(check.config.detections)} detections")


def heartbeat_line(check: StackCheck) -> str:
    """What the heartbeat does for this stack, in one line, or that it is off."""
    beat = check.config.heartbeat
    if not beat.enabled:
        return "Heartbeat: off (heartbeat.enabled is false): nothing tells you when events stop arriving"
    name = heartbeat_name(monitoring_name(check.stack))
    return (f"Heartbeat: schedule {name} calls {heartbeat.ACTION} every {beat.interval_minutes} min as role {name}; "
            f"alarm {name} when < 1 arrives in {beat.window_minutes} min (missing data breaching) -> {beat.topic}")


def heartbeat_data(check: StackCheck) -> dict[str, Any] | None:
    beat = check.config.heartbeat
    if not beat.enabled:
        return None
    name = heartbeat_name(monitoring_name(check.stack))
    return {"schedule": name, "role": name, "action": heartbeat.ACTION, "intervalMinutes": beat.interval_minutes,
            "windowMinutes": beat.window_minutes, "topic": beat.topic, "pattern": heartbeat.pattern(name),
            "alarm": name}


def registered_rule_regions(run: ProgramRun) -> dict[str, list[str]]:
    """Physical rule name -> the regions the program registered it in (the region of the explicit
    provider each rule was created with), in registration order of the regions."""
    regions: dict[str, list[str]] = {}
    for resource in run.of_type(EVENT_RULE_TYPE):
        region = None
        if resource.provider:
            try:
                region = run.get(resource.provider.rsplit("::", 1)[0]).inputs.get("region")
            except KeyError:
                region = None
        regions.setdefault(resource.inputs.get("name", resource.name), []).append(region or "?")
    return regions


def realtime_rows(check: StackCheck) -> list[dict[str, Any]]:
    """One row per enabled detection real-time concerns: its rule, the regions the program put it
    in (read from the run, not the config), its state and topic; or, for one left out, why."""
    realtime = check.config.realtime
    registered = registered_rule_regions(check.run)
    monitoring = monitoring_name(check.stack)
    rows: list[dict[str, Any]] = []
    for rule in realtime.rules:
        name = realtime_rule_name(monitoring, rule.id)
        regions = registered.get(name, [])
        order = {region: index for index, region in enumerate(rule.regions)}
        rows.append({"id": rule.id, "rule": name, "regions": sorted(regions, key=lambda r: order.get(r, len(order))),
                     "state": rule.state, "topic": rule.topic, "notRealtime": None})
    for detection_id, why in realtime.not_realtime.items():
        rows.append({"id": detection_id, "rule": None, "regions": [], "state": None, "topic": None,
                     "notRealtime": why})
    return rows


def realtime_line(check: StackCheck) -> str:
    """Real-time delivery for this stack in one line."""
    realtime = check.config.realtime
    if not realtime.enabled:
        return ("Real-time: off (trailguard:realtime): alerts come from the alarms only, after their metric "
                "period; docs/realtime.md")
    away = [region for region in realtime.regions if region != realtime.home_region]
    forward = f"; rules in {', '.join(away)} forward to {realtime.home_region}'s default bus" if away else ""
    return (f"Real-time: {len(realtime.rules)} detection(s) as EventBridge rules beside their alarms; home "
            f"{realtime.home_region} notifies the topics{forward}")


STATE_SHORT = {"ENABLED": "ENABLED", "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS": "ENABLED + read-only"}


def render_realtime(rows: list[dict[str, Any]]) -> Table | None:
    """Which detections have a real-time rule in which regions, and why the others considered have
    none; None when real-time is off."""
    if not rows:
        return None
    table = Table(title="Real-time rules (EventBridge, beside the alarms)", title_justify="left")
    table.add_column("id", no_wrap=True)
    table.add_column("regions", overflow="fold")
    table.add_column("state", overflow="fold")
    table.add_column("topic / why not", overflow="fold")
    for row in rows:
        if row["notRealtime"] is None:
            table.add_row(Text(row["id"]), Text(", ".join(row["regions"]) or "none registered"),
                          Text(STATE_SHORT.get(row["state"], row["state"])), Text(row["topic"]))
        else:
            table.add_row(Text(row["id"]), Text("-"), Text("-"), Text(f"not real-time: {row['notRealtime']}",
                                                                      style="yellow"))
    return table


def render_warnings(warnings: tuple[tuple[str, str], ...]) -> Group | None:
    """Config that is valid but probably not what was meant, one `key: message` each; None if none.
    Warnings never change the exit status."""
    if not warnings:
        return None
    lines = [Text("Warnings (valid config that may not do what you mean)", style="bold yellow")]
    lines += [Text.assemble(("warning: ", "yellow"), (key, "bold"), f": {message}") for key, message in warnings]
    return Group(*lines)


def render_check(check: StackCheck) -> Group:
    """The summary line, any config warnings, the resource tree, the detections table, the heartbeat
    and real-time lines, and, if any, the real-time rules and the exclusions tables and the Sigma
    rules' attributions."""
    rows = detection_rows(check)
    parts: list[Any] = [Text(check_summary(check))]
    warnings = render_warnings(check.config.warnings)
    if warnings is not None:
        parts += [Text(), warnings]
    parts += [Text(), Text("Resources", style="bold"), render_tree(check.run), Text(), render_detections(rows),
              Text(), Text(heartbeat_line(check)), Text(realtime_line(check))]
    realtime = render_realtime(realtime_rows(check))
    if realtime is not None:
        parts += [Text(), realtime]
    exclusions = render_exclusions(rows)
    if exclusions is not None:
        parts += [Text(), exclusions]
    attributions = render_attributions(rows)
    if attributions is not None:
        parts += [Text(), attributions]
    return Group(*parts)


def policy_summary(report: PolicyReport) -> str:
    config = f"config {report.config_path}" if report.config_path else "schema defaults"
    mandatory = sum(v.level == "mandatory" for v in report.violations)
    advisory = len(report.violations) - mandatory
    return f"Policy pack {report.pack_dir} ({config}): {mandatory} mandatory, {advisory} advisory violation(s)"


def external_hint(config: Any, report: PolicyReport) -> str | None:
    """What the pack needs to hear about a stack that reads an existing log group or notifies an
    existing topic: the pack cannot see the trail feeding the one or the subscriptions of the other,
    so the security team lists them in the pack config. None when no violation is about them."""
    groups = [config.trail.existing_log_group_name] if not config.trail.create and config.trail.existing_log_group_name else []
    topics = [t.existing_arn for t in config.topics.values() if t.existing_arn]
    text = " ".join(v.message for v in report.violations if v.policy == "required-detections")
    wanted: dict[str, list[str]] = {}
    if groups and "externalLogGroups" in text:
        wanted["externalLogGroups"] = groups
    if topics and "externalTopicArns" in text:
        wanted["externalTopicArns"] = topics
    if not wanted:
        return None
    import json

    what = " and ".join(
        [*(["reads an existing log group, whose trail the pack cannot see"] if "externalLogGroups" in wanted else []),
         *(["notifies existing topics, whose subscriptions the pack cannot see"] if "externalTopicArns" in wanted else [])])
    snippet = json.dumps({"required-detections": wanted})
    return (f"hint: this stack {what}. If they are fed and subscribed outside this stack (an organization trail, "
            f"a shared alerts topic), say so in the pack config (--policy-config FILE): {snippet}")


def render_policy_report(report: PolicyReport, config: Any = None) -> Group:
    """The pack's verdict line, then one table row per violation, mandatory ones first: its level,
    policy, and the resource it is about above the message; then, for a stack on an existing log
    group or topic, what to tell the pack (`external_hint`)."""
    parts: list[Any] = [Text(policy_summary(report))]
    if report.violations:
        table = Table(title="Policy violations", title_justify="left", show_lines=True)
        table.add_column("level", no_wrap=True)
        table.add_column("policy", overflow="fold")
        table.add_column("resource / message", overflow="fold")
        for violation in sorted(report.violations, key=lambda v: (v.level != "mandatory", v.policy, v.urn)):
            style = "bold red" if violation.level == "mandatory" else "yellow"
            table.add_row(Text(violation.level, style=style), Text(violation.policy),
                          Text.assemble((violation.resource, "bold"), "\n", violation.message))
        parts.append(table)
    hint = external_hint(config, report) if config is not None else None
    if hint:
        parts.append(Text(hint))
    return Group(*parts)


def check_data(check: StackCheck) -> dict[str, Any]:
    run = check.run
    return {
        "stack": check.stack,
        "valid": True,
        "warnings": [{"key": key, "message": message} for key, message in check.config.warnings],
        "mode": "preview" if run.preview else "update",
        "profile": check.config.profile,
        "resources": [
            {"urn": r.urn, "type": r.type, "name": r.name, "parent": r.parent, "protect": r.protect}
            for _, r in resource_tree(run)
        ],
        "detections": detection_rows(check),
        "heartbeat": heartbeat_data(check),
        "realtime": ({"homeRegion": check.config.realtime.home_region, "rules": realtime_rows(check)}
                     if check.config.realtime.rules or check.config.realtime.not_realtime else None),
        "outputs": run.outputs,
    }
