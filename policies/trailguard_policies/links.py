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
from typing import Any, Iterable, Mapping, Sequence

from pulumi_policy import PolicyResource

from .props import (
    KMS_ALIAS,
    KMS_KEY,
    KMS_KEY_POLICY,
    LOG_GROUP,
    MANAGED_POLICY,
    METRIC_ALARM,
    METRIC_FILTER,
    ROLE,
    ROLE_POLICY,
    ROLE_POLICY_ATTACHMENT,
    SUBSCRIPTION,
    TOPIC,
    TOPIC_POLICY,
    TRAIL,
    UNKNOWN,
    read,
    read_items,
)


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
    subscriptions: tuple[PolicyResource, ...] = ()
    # the delivery links: the trail's CloudWatch Logs role, KMS keys, topic policies
    roles: tuple[PolicyResource, ...] = ()
    role_policies: tuple[PolicyResource, ...] = ()
    managed_policies: tuple[PolicyResource, ...] = ()
    attachments: tuple[PolicyResource, ...] = ()
    keys: tuple[PolicyResource, ...] = ()
    key_policies: tuple[PolicyResource, ...] = ()
    aliases: tuple[PolicyResource, ...] = ()
    topic_policies: tuple[PolicyResource, ...] = ()

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
            subscriptions=tuple(by_type.get(SUBSCRIPTION, ())),
            roles=tuple(by_type.get(ROLE, ())),
            role_policies=tuple(by_type.get(ROLE_POLICY, ())),
            managed_policies=tuple(by_type.get(MANAGED_POLICY, ())),
            attachments=tuple(by_type.get(ROLE_POLICY_ATTACHMENT, ())),
            keys=tuple(by_type.get(KMS_KEY, ())),
            key_policies=tuple(by_type.get(KMS_KEY_POLICY, ())),
            aliases=tuple(by_type.get(KMS_ALIAS, ())),
            topic_policies=tuple(by_type.get(TOPIC_POLICY, ())),
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
    same_name: list[str] = []  # a literal ARN with the name of a topic not created yet: any account's
    for action in known:
        if action in allowed:
            return Link.YES, ""
        if action.startswith("arn:aws:sns:") and action.rsplit(":", 1)[-1] in names_of_unknown_arns:
            same_name.append(action)
    by_dependency = derived_from(alarm, "alarmActions", topics) if topics else Link.NO
    if by_dependency is Link.YES:
        return Link.YES, ""
    if same_name:
        return Link.UNDECIDED, (
            f"its alarm action {same_name[0]} has the name of a topic of this stack whose ARN is unknown at preview, "
            "but is not computed from it: a same-named topic in another account or region would pass by name alone")
    all_known = actions is not UNKNOWN and all(a is not UNKNOWN for a in actions)
    if all_known or by_dependency is Link.NO:
        shown = ", ".join(known) if known else "values computed from other resources"
        return Link.NO, f"its alarm actions ({shown}) are neither SNS topics of this stack nor listed in externalTopicArns"
    return Link.UNDECIDED, "its alarm actions are unknown at preview"


def _strip_stream_suffix(arn: str) -> str:
    return arn[:-2] if arn.endswith(":*") else arn


def region_of(resource: PolicyResource) -> Any:
    """The AWS region `resource` lives in: its provider's `region`, else its ARN's; None when
    neither says (a resource without a provider in the request, not created yet)."""
    provider = resource.provider
    if provider is not None:
        region = read(provider.props, "region")
        if region is UNKNOWN or (isinstance(region, str) and region):
            return region
    arn = read(resource.props, "arn")
    if isinstance(arn, str) and arn.startswith("arn:"):
        parts = arn.split(":")
        if len(parts) > 3 and parts[3]:
            return parts[3]
    return None


READ_ONLY_PREFIXES = ("Get", "List", "Describe", "Head", "Lookup", "BatchGet", "Search", "Scan", "Query")
"""Name prefixes of read-only API calls, for a sample event that does not carry `readOnly`."""


def is_read_only(event: Mapping[str, Any]) -> bool:
    """Whether CloudTrail marks the event read-only: its `readOnly` field, else the call's name."""
    flag = event.get("readOnly")
    if isinstance(flag, bool):
        return flag
    name = event.get("eventName")
    return isinstance(name, str) and name.startswith(READ_ONLY_PREFIXES)


def trail_records(trail: PolicyResource, event: Mapping[str, Any]) -> tuple[Link, str]:
    """Whether `trail`'s event selectors keep the management event `event`, and what drops it.

    No selectors: every management event is kept. Basic selectors keep it when one of them
    includes management events of its read/write kind and does not exclude its source; advanced
    selectors when every field selector of one of them matches (values of one operator are
    alternatives, operators of one field selector all apply), as CloudTrail documents them.
    """
    advanced = read_items(trail.props, "advancedEventSelectors")
    if advanced is UNKNOWN or UNKNOWN in advanced:
        return Link.UNDECIDED, f"the advanced event selectors of trail '{display_name(trail)}' are unknown"
    if advanced:
        return _advanced_keeps(trail, advanced, event)
    selectors = read_items(trail.props, "eventSelectors")
    if selectors is UNKNOWN or UNKNOWN in selectors:
        return Link.UNDECIDED, f"the event selectors of trail '{display_name(trail)}' are unknown"
    if not selectors:
        return Link.YES, ""
    source, read_only = event.get("eventSource"), is_read_only(event)
    reasons = []
    for selector in selectors:
        includes = read(selector, "includeManagementEvents", default=True)
        kind = read(selector, "readWriteType", default="All")
        excluded = read_items(selector, "excludeManagementEventSources")
        if UNKNOWN in (includes, kind, excluded) or (isinstance(excluded, list) and UNKNOWN in excluded):
            return Link.UNDECIDED, f"the event selectors of trail '{display_name(trail)}' are unknown"
        if includes is not True:
            reasons.append("includeManagementEvents is false")
        elif kind not in ("All", "ReadOnly" if read_only else "WriteOnly"):
            reasons.append(f"readWriteType is {kind}")
        elif isinstance(source, str) and source in excluded:
            reasons.append(f"excludeManagementEventSources lists {source}")
        else:
            return Link.YES, ""
    return Link.NO, "; ".join(dict.fromkeys(reasons))


_FIELD_OPERATORS = ("equals", "notEquals", "startsWith", "notStartsWith", "endsWith", "notEndsWith")


def _advanced_keeps(trail: PolicyResource, selectors: list[Any], event: Mapping[str, Any]) -> tuple[Link, str]:
    values = {
        "eventCategory": "Management",
        "readOnly": "true" if is_read_only(event) else "false",
        "eventSource": event.get("eventSource"),
        "eventName": event.get("eventName"),
        "eventType": event.get("eventType"),
    }
    reasons = []
    for selector in selectors:
        fields = read_items(selector, "fieldSelectors")
        if fields is UNKNOWN or UNKNOWN in fields:
            return Link.UNDECIDED, f"the advanced event selectors of trail '{display_name(trail)}' are unknown"
        failed = None
        for field in fields:
            name = read(field, "field")
            operators = {op: read_items(field, op) for op in _FIELD_OPERATORS}
            if name is UNKNOWN or any(v is UNKNOWN or UNKNOWN in v for v in operators.values()):
                return Link.UNDECIDED, f"the advanced event selectors of trail '{display_name(trail)}' are unknown"
            if not isinstance(name, str) or name not in values:
                failed = f"it filters on {name}, which a management event does not carry"
                break
            value = values[name]
            if not _field_matches(value, operators):
                failed = f"its {name} filter does not keep {value}"
                break
        if failed is None:
            return Link.YES, ""
        reasons.append(failed)
    return Link.NO, "no advanced event selector keeps it (" + "; ".join(dict.fromkeys(reasons)) + ")"


def _field_matches(value: Any, operators: Mapping[str, list[Any]]) -> bool:
    text = value if isinstance(value, str) else ""
    tests = {
        "equals": lambda v: text == v, "startsWith": lambda v: text.startswith(v), "endsWith": lambda v: text.endswith(v),
    }
    for op, candidates in operators.items():
        if not candidates:
            continue
        positive = op in tests
        test = tests[op] if positive else tests[op[3].lower() + op[4:]]
        hit = any(isinstance(v, str) and test(v) for v in candidates)
        if hit is not positive:
            return False
    return True


def notified_topics(alarm: PolicyResource, topics: Sequence[PolicyResource]) -> list[PolicyResource]:
    """The stack topics among `alarm`'s actions: by known ARN, or by the dependency of `alarmActions`."""
    actions = read_items(alarm.props, "alarmActions")
    known = set() if actions is UNKNOWN else {a for a in actions if isinstance(a, str)}
    found = [t for t in topics if isinstance(read(t.props, "arn"), str) and read(t.props, "arn") in known]
    deps = alarm.property_dependencies.get("alarmActions") or []
    found += [t for t in topics if t not in found and any(d.urn == t.urn for d in deps)]
    return found


def topic_subscribed(topic: PolicyResource, subscriptions: Sequence[PolicyResource]) -> Link:
    """Whether a subscription of the stack delivers `topic`'s messages to someone (its `topic` is
    the topic's ARN, or computed from the topic)."""
    arn = read(topic.props, "arn")
    undecided = False
    for subscription in subscriptions:
        target = read(subscription.props, "topic")
        if isinstance(target, str) and isinstance(arn, str) and arn:
            if target == arn:
                return Link.YES
            continue
        link = derived_from(subscription, "topic", [topic])
        if link is Link.YES:
            return Link.YES
        undecided = undecided or link is Link.UNDECIDED
    return Link.UNDECIDED if undecided else Link.NO
