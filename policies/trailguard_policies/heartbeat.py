"""The heartbeat as a required chain (`required-detections` with `requireHeartbeat: true`).

The heartbeat is checked apart from the catalogue's detections because its alarm is their opposite:
it fires when fewer than one event arrived (`LessThanThreshold` 1) and treats missing data as
breaching, the setting the detection check refuses. The rest of its chain is judged by the same
links: a schedule calling `kms:generateRandom` as the heartbeat role, a metric filter whose pattern is
equivalent (`trailguard.patterns.equivalent`) to the core's pattern for that role, on a log group fed
by a multi-region, logging trail of the stack (or listed in externalLogGroups), and an alarm on the
filter's metric that notifies a subscribed topic.
"""

from __future__ import annotations

from typing import Any, Sequence

from pulumi_policy import PolicyResource

from trailguard import heartbeat
from trailguard.patterns import equivalent
from trailguard.patterns.errors import FilterPatternError

from .detections import Problem, _fewest_problems, _log_group_problems, _problems, _subscription_problems
from .delivery import notification_problems
from .links import Link, StackView, alarm_notifies
from .props import UNKNOWN, read

SCHEDULE = "aws:scheduler/schedule:Schedule"
TARGET_SUFFIX = f":aws-sdk:kms:{heartbeat.API_ACTION}"


def heartbeat_problems(resources: Sequence[PolicyResource], stack: StackView, config: dict[str, Any]) -> list[Problem]:
    """The broken links of the heartbeat's chain; [] when it is whole."""
    schedules = [s for s in resources if s.resource_type == SCHEDULE and _calls_generate_random(s) is not Link.NO]
    if not schedules:
        return [Problem("no EventBridge Scheduler schedule of the stack calls kms:generateRandom (the heartbeat): "
                        "set the stack config's heartbeat.enabled to true")]
    problems: list[Problem] = []
    for schedule in schedules:
        if read(schedule.props, "state") == "DISABLED":
            problems.append(Problem(f"schedule '{schedule.name}' is DISABLED: the heartbeat never beats", schedule.urn))
    role_names = _role_names(schedules, resources)
    if role_names is UNKNOWN:
        return problems + [Problem("the heartbeat role's name is unknown at preview", decided=False)]
    filters, undecided = _heartbeat_filters(stack, role_names)
    if not filters:
        if undecided:
            return problems + [Problem("the pattern of metric filter(s) " + ", ".join(undecided)
                                       + " is unknown at preview", decided=False)]
        expected = heartbeat.pattern(role_names[0]) if role_names else "(no role name known)"
        return problems + [Problem(f"no metric filter in the stack matches exactly the heartbeat event {expected}")]
    return problems + _fewest_problems(_chain(f, stack, config) for f in filters)


def _calls_generate_random(schedule: PolicyResource) -> Link:
    arn = read(schedule.props, "target", "arn")
    if arn is UNKNOWN:
        return Link.UNDECIDED
    return Link.YES if isinstance(arn, str) and arn.endswith(TARGET_SUFFIX) else Link.NO


def _role_names(schedules: Sequence[PolicyResource], resources: Sequence[PolicyResource]) -> Any:
    """Names of the roles the heartbeat schedules run as: from their role ARNs, or, while those are
    unknown (preview), the names the stack gives its roles."""
    names = []
    for schedule in schedules:
        arn = read(schedule.props, "target", "roleArn")
        if isinstance(arn, str) and "/" in arn:
            names.append(arn.rsplit("/", 1)[-1])
    if names:
        return names
    names = [read(r.props, "name") for r in resources if r.resource_type == "aws:iam/role:Role"]
    known = [n for n in names if isinstance(n, str)]
    return known if known else (UNKNOWN if UNKNOWN in names else [])


def _heartbeat_filters(stack: StackView, role_names: list[str]) -> tuple[list[PolicyResource], list[str]]:
    references = [heartbeat.pattern(name) for name in role_names]
    found, undecided = [], []
    for metric_filter in stack.filters:
        pattern = read(metric_filter.props, "pattern", default="")
        if pattern is UNKNOWN:
            undecided.append(f"'{metric_filter.name}'")
            continue
        try:
            same = any(equivalent(pattern, reference).verdict == "contained" for reference in references)
        except FilterPatternError:  # a pattern the engine can't parse is no heartbeat filter
            same = False
        if same:
            found.append(metric_filter)
    return found, undecided


def _chain(metric_filter: PolicyResource, stack: StackView, config: dict[str, Any]) -> list[Problem]:
    return [*_log_group_problems(metric_filter, stack, config, None), *_alarm_problems(metric_filter, stack, config)]


def _alarm_problems(metric_filter: PolicyResource, stack: StackView, config: dict[str, Any]) -> list[Problem]:
    metric = read(metric_filter.props, "metricTransformation", "name")
    namespace = read(metric_filter.props, "metricTransformation", "namespace")
    if metric is UNKNOWN or namespace is UNKNOWN:
        return [Problem(f"the metric of metric filter '{metric_filter.name}' is unknown at preview", decided=False)]
    watching = [a for a in stack.alarms
                if (read(a.props, "metricName"), read(a.props, "namespace")) == (metric, namespace)]
    if not watching:
        return [Problem(f"no alarm watches the heartbeat metric '{namespace}/{metric}' of metric filter "
                        f"'{metric_filter.name}': nobody hears that the heartbeat stopped", metric_filter.urn)]

    def alarm_problems(alarm: PolicyResource) -> list[Problem]:
        problems = _settings_problems(alarm)
        notifies, reason = alarm_notifies(alarm, stack.topics, config["externalTopicArns"])
        if notifies is not Link.YES:
            problems.append(Problem(f"alarm '{alarm.name}' notifies nobody: {reason}", alarm.urn, notifies is Link.NO))
        else:
            problems.extend(_subscription_problems(alarm, stack, config))
            problems.extend(_problems(notification_problems(alarm, stack, config["externalTopicArns"])))
        return problems

    return _fewest_problems(alarm_problems(alarm) for alarm in watching)


_EXPECTED = {"comparisonOperator": "LessThanThreshold", "treatMissingData": "breaching"}


def _settings_problems(alarm: PolicyResource) -> list[Problem]:
    """The heartbeat alarm must fire when fewer than one heartbeat arrived, and when none was published."""
    problems = []
    for key, expected in _EXPECTED.items():
        value = read(alarm.props, key)
        if value is not UNKNOWN and value != expected:
            problems.append(Problem(f"heartbeat alarm '{alarm.name}' has {key} {value!r}; it must be {expected!r} "
                                    "so that a window without heartbeats fires", alarm.urn))
    threshold = read(alarm.props, "threshold")
    if threshold is not UNKNOWN and threshold != 1:
        problems.append(Problem(f"heartbeat alarm '{alarm.name}' has threshold {threshold!r}; it must be 1 "
                                "(fewer than one heartbeat in the window)", alarm.urn))
    if read(alarm.props, "actionsEnabled") is False:
        problems.append(Problem(f"heartbeat alarm '{alarm.name}' has its actions disabled", alarm.urn))
    return problems
