"""The links of the alarm chain between stack resources, decided from values or the dependency graph.

trail -> log group -> metric filter -> alarm -> topic. On update every value is known and a link
is decided by comparing names and ARNs. During preview the ARNs (and sometimes names) of resources
not yet created are unknown; then a link is decided from `propertyDependencies`: a property that
was computed from a resource's output lists that resource, so a filter whose `logGroupName`
depends on the log group is on it, and one that depends only on other resources is not. Without
either, a link is `UNDECIDED`, reported as advisory at preview and decided on update.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Iterable, Sequence

from pulumi_policy import PolicyResource

from .props import LOG_GROUP, METRIC_ALARM, METRIC_FILTER, TOPIC, TRAIL, UNKNOWN, read, read_items


class Link(Enum):
    """Whether two resources are linked: decided either way, or not decidable yet."""

    YES = "yes"
    NO = "no"
    UNDECIDED = "undecided"


@dataclass(frozen=True)
class StackView:
    """The stack's resources of the types the chain is made of, in registration order."""

    trails: tuple[PolicyResource, ...]
    log_groups: tuple[PolicyResource, ...]
    filters: tuple[PolicyResource, ...]
    alarms: tuple[PolicyResource, ...]
    topics: tuple[PolicyResource, ...]

    @classmethod
    def of(cls, resources: Iterable[PolicyResource]) -> "StackView":
        by_type: dict[str, list[PolicyResource]] = {}
        for resource in resources:
            by_type.setdefault(resource.resource_type, []).append(resource)
        return cls(
            trails=tuple(by_type.get(TRAIL, ())),
            log_groups=tuple(by_type.get(LOG_GROUP, ())),
            filters=tuple(by_type.get(METRIC_FILTER, ())),
            alarms=tuple(by_type.get(METRIC_ALARM, ())),
            topics=tuple(by_type.get(TOPIC, ())),
        )


def display_name(resource: PolicyResource, physical_key: str = "name") -> str:
    """The resource's physical name when known, else its Pulumi name, for messages."""
    physical = read(resource.props, physical_key)
    if isinstance(physical, str) and physical:
        return physical
    return resource.name


def log_group_name_from_arn(arn: str) -> str | None:
    """`NAME` from `arn:aws:logs:<region>:<account>:log-group:NAME[:*]`, or None for another ARN."""
    parts = arn.split(":")
    if len(parts) < 7 or parts[0] != "arn" or parts[2] != "logs" or parts[5] != "log-group":
        return None
    return parts[6]


def derived_from(resource: PolicyResource, prop: str, others: Sequence[PolicyResource]) -> Link:
    """Whether `prop` of `resource` was computed from an output of one of `others`.

    `UNDECIDED` when the engine sent no dependency information for that property.
    """
    deps = resource.property_dependencies.get(prop)
    if deps is None:
        return Link.UNDECIDED
    other_urns = {other.urn for other in others}
    return Link.YES if any(dep.urn in other_urns for dep in deps) else Link.NO


def trail_feeds(trail: PolicyResource, log_group: PolicyResource) -> Link:
    """Whether `trail` delivers its events to `log_group` (`cloudWatchLogsGroupArn`)."""
    arn = read(trail.props, "cloudWatchLogsGroupArn")
    if arn is None or arn == "":
        return Link.NO
    if not isinstance(arn, str) and arn is not UNKNOWN:
        return Link.NO
    if isinstance(arn, str):
        group_arn = read(log_group.props, "arn")
        if isinstance(group_arn, str) and group_arn:
            return Link.YES if _strip_stream_suffix(group_arn) == _strip_stream_suffix(arn) else Link.NO
        group_name = read(log_group.props, "name")
        if isinstance(group_name, str) and group_name:
            return Link.YES if log_group_name_from_arn(arn) == group_name else Link.NO
    return derived_from(trail, "cloudWatchLogsGroupArn", [log_group])


def filter_on(metric_filter: PolicyResource, log_group: PolicyResource) -> Link:
    """Whether `metric_filter` reads `log_group` (`logGroupName`)."""
    name = read(metric_filter.props, "logGroupName")
    group_name = read(log_group.props, "name")
    if isinstance(name, str) and isinstance(group_name, str) and group_name:
        return Link.YES if name == group_name else Link.NO
    return derived_from(metric_filter, "logGroupName", [log_group])


def trail_qualifies(trail: PolicyResource) -> tuple[Link, str]:
    """Whether `trail` is multi-region and logging, with the reason when it is not."""
    multi_region = read(trail.props, "isMultiRegionTrail", default=False)
    logging = read(trail.props, "enableLogging", default=True)
    if multi_region is False:
        return Link.NO, f"trail '{display_name(trail)}' is single-region (isMultiRegionTrail is false)"
    if logging is False:
        return Link.NO, f"trail '{display_name(trail)}' has logging off (enableLogging is false)"
    if multi_region is UNKNOWN or logging is UNKNOWN:
        return Link.UNDECIDED, f"whether trail '{display_name(trail)}' is multi-region and logging is unknown"
    return Link.YES, ""


def alarm_notifies(alarm: PolicyResource, topics: Sequence[PolicyResource], external_arns: Sequence[str]) -> tuple[Link, str]:
    """Whether one of `alarm`'s actions is an SNS topic of the stack or an allowed external ARN."""
    actions = read_items(alarm.props, "alarmActions")
    if actions == []:
        return Link.NO, "it has no alarm actions"
    allowed = set(external_arns)
    names_of_unknown_arns: set[str] = set()  # topics whose ARN is computed: match actions by name
    for topic in topics:
        arn = read(topic.props, "arn")
        name = read(topic.props, "name")
        if isinstance(arn, str) and arn:
            allowed.add(arn)
        elif isinstance(name, str) and name:
            names_of_unknown_arns.add(name)
    known = [] if actions is UNKNOWN else [a for a in actions if isinstance(a, str)]
    for action in known:
        if action in allowed:
            return Link.YES, ""
        if action.startswith("arn:aws:sns:") and action.rsplit(":", 1)[-1] in names_of_unknown_arns:
            return Link.YES, ""
    by_dependency = derived_from(alarm, "alarmActions", topics) if topics else Link.NO
    if by_dependency is Link.YES:
        return Link.YES, ""
    all_known = actions is not UNKNOWN and all(a is not UNKNOWN for a in actions)
    if all_known or by_dependency is Link.NO:
        shown = ", ".join(known) if known else "values computed from other resources"
        return Link.NO, f"its alarm actions ({shown}) are neither SNS topics of this stack nor listed in externalTopicArns"
    return Link.UNDECIDED, "its alarm actions are unknown at preview"


def _strip_stream_suffix(arn: str) -> str:
    return arn[:-2] if arn.endswith(":*") else arn
