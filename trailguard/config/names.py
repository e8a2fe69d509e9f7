"""Every AWS name the program derives from the stack name and the config, in one place.

The components call these functions to name what they create, and `derived_name_problems` checks
the same names against AWS's rules (`trailguard.aws_limits`) before anything is deployed, so a stack
name or a custom detection id that would make CloudTrail, S3, IAM, SNS or CloudWatch refuse a
name mid-`pulumi up` is reported by `trailguard check` and by the program first, naming the key
(or the stack name) to change.

Resources the program names itself (trail, log group, metric filter, alarm) get exactly the name
built here. The bucket, the delivery role and the topics are auto-named by Pulumi: the logical name
plus `-` and 7 random hex characters, refused by the provider when that exceeds the service's
length; the S3 autonamer also lower-cases the name (pulumi-aws `AutoName`/`AutoNameTransform`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from trailguard import aws_limits
from trailguard.config.model import NAMESPACE, StackConfig
from trailguard.heartbeat import HEARTBEAT_ID

PROJECT_PREFIX = "trailguard"
AUTONAME_SUFFIX = "-0000000"
"""What Pulumi's autonamer appends (`-` and 7 random hex characters), as a stand-in of that length."""


def monitoring_name(stack: str) -> str:
    """The SecurityMonitoring component: every other name starts with it."""
    return f"{PROJECT_PREFIX}-{stack}"


def audit_name(monitoring: str) -> str:
    """The AuditTrail component, and the physical name of the trail it creates."""
    return f"{monitoring}-audit"


def trail_log_group_name(trail: str) -> str:
    return f"/aws/cloudtrail/{trail}"


def topic_component_name(monitoring: str, topic: str) -> str:
    return f"{monitoring}-{topic}"


def detection_name(monitoring: str, detection_id: str) -> str:
    """The Detection component, and the physical name of its metric filter and of its alarm."""
    return f"{monitoring}-{detection_id}"


HEARTBEAT = HEARTBEAT_ID


def heartbeat_name(monitoring: str) -> str:
    """The Heartbeat component, and the physical name of its schedule, role, metric filter and alarm.
    The role's name is fixed (not auto-named) because the heartbeat's filter pattern names it."""
    return f"{monitoring}-{HEARTBEAT}"


def realtime_name(monitoring: str) -> str:
    """The RealtimeRules component (`trailguard:realtime`)."""
    return f"{monitoring}-realtime"


def realtime_rule_name(monitoring: str, detection_id: str) -> str:
    """The physical name of a detection's EventBridge rule, the same in every region it covers
    (rule names are per region and bus): the detection's own name."""
    return detection_name(monitoring, detection_id)


def realtime_role_name(monitoring: str) -> str:
    """The IAM role the forwarding rules of the non-home regions use to put events on the home
    region's default bus; fixed (not auto-named) so the check below covers it."""
    return f"{monitoring}-realtime-forward"


def child_name(component: str, role: str) -> str:
    """A child resource's logical name: `<component>-<role>` (`-bucket`, `-delivery-role`, `-topic`)."""
    return f"{component}-{role}"


BUCKET = "bucket"
DELIVERY_ROLE = "delivery-role"
TOPIC = "topic"


def subscription_name(topic_component: str, protocol: str, index: int) -> str:
    return f"{topic_component}-{protocol}-{index}"


def invoke_permission_name(subscription: str) -> str:
    return f"{subscription}-invoke"


@dataclass(frozen=True, slots=True)
class DerivedName:
    """One physical name the program will use, what it names, and the config key that decides it."""

    resource: str
    name: str
    key: str
    problem: Callable[[str], str | None]

    def check(self) -> str | None:
        return self.problem(self.name)


def derived_names(config: StackConfig, stack: str) -> list[DerivedName]:
    """Every physical name the stack's resources get (auto-named ones with a suffix of the autonamer's
    length), each with the key to change: the stack name, or a custom detection id."""
    stack_key = stack_name_key(stack)
    monitoring = monitoring_name(stack)
    names: list[DerivedName] = []
    if config.trail.create:
        trail = audit_name(monitoring)
        names += [
            DerivedName("CloudTrail trail", trail, stack_key, aws_limits.trail_name_problem),
            DerivedName("log group", trail_log_group_name(trail), stack_key, aws_limits.log_group_name_problem),
            DerivedName("S3 bucket", (child_name(trail, BUCKET) + AUTONAME_SUFFIX).lower(), stack_key,
                        aws_limits.bucket_name_problem),
            DerivedName("IAM role", child_name(trail, DELIVERY_ROLE) + AUTONAME_SUFFIX, stack_key,
                        aws_limits.role_name_problem),
        ]
    for topic in config.topics.values():
        if not topic.created:
            continue
        component = topic_component_name(monitoring, topic.name)
        names.append(DerivedName("SNS topic", child_name(component, TOPIC) + AUTONAME_SUFFIX, stack_key,
                                 aws_limits.topic_name_problem))
        for index, subscription in enumerate(topic.subscriptions):
            if subscription.protocol == "lambda":
                permission = invoke_permission_name(subscription_name(component, subscription.protocol, index))
                names.append(DerivedName("Lambda permission statement id", permission + AUTONAME_SUFFIX,
                                         stack_key, _statement_id_problem))
    if config.heartbeat.enabled:
        heartbeat = heartbeat_name(monitoring)
        names += [DerivedName("EventBridge Scheduler schedule", heartbeat, stack_key, aws_limits.schedule_name_problem),
                  DerivedName("heartbeat IAM role", heartbeat, stack_key, aws_limits.role_name_problem),
                  DerivedName("metric filter", heartbeat, stack_key, aws_limits.filter_name_problem),
                  DerivedName("CloudWatch alarm", heartbeat, stack_key, aws_limits.alarm_name_problem)]
    customs = [d.id for d in config.detections if d.custom]
    for detection in config.detections:
        key = stack_key
        if detection.custom:
            key = f"{NAMESPACE}:customDetections[{customs.index(detection.id)}].id"
        name = detection_name(monitoring, detection.id)
        names += [DerivedName("metric filter", name, key, aws_limits.filter_name_problem),
                  DerivedName("CloudWatch alarm", name, key, aws_limits.alarm_name_problem)]
    realtime = config.realtime
    for rule in realtime.rules:
        key = stack_key
        if rule.id in customs:
            key = f"{NAMESPACE}:customDetections[{customs.index(rule.id)}].id"
        names.append(DerivedName(RULE, realtime_rule_name(monitoring, rule.id), key, aws_limits.rule_name_problem))
    if any(len(rule.regions) > 1 for rule in realtime.rules):
        names.append(DerivedName("real-time forwarding IAM role", realtime_role_name(monitoring), stack_key,
                                 aws_limits.role_name_problem))
    return names


RULE = "EventBridge rule"


MAX_STATEMENT_ID = 100
"""Lambda AddPermission StatementId: 1-100 of ASCII letters, digits, `-` and `_`."""


def _statement_id_problem(value: str) -> str | None:
    if 1 <= len(value) <= MAX_STATEMENT_ID and all(c.isascii() and (c.isalnum() or c in "-_") for c in value):
        return None
    return f"{value!r} is not a Lambda permission statement id (1-{MAX_STATEMENT_ID} of A-Z a-z 0-9 - _)"


def longest_stack_name(config: StackConfig) -> int:
    """The longest plain stack name (letters only) every derived name of `config` still fits with."""
    for length in range(MAX_STACK_NAME, 0, -1):
        if all(d.check() is None for d in derived_names(config, "s" * length)):
            return length
    return 0


MAX_STACK_NAME = 100
"""Pulumi stack names: at most 100 characters of letters, digits, `-`, `_` and `.`."""


def stack_name_key(stack: str) -> str:
    """How an error names the stack as the thing to change."""
    return f"stack name {stack!r}"


def derived_name_problems(config: StackConfig, stack: str) -> list[tuple[str, str]]:
    """(key, message) for each derived name AWS would refuse, saying what to change; one message per
    key and kind of resource (a stack name too long for one alarm is too long for all of them)."""
    problems: list[tuple[str, str]] = []
    seen: set[tuple[str, str]] = set()
    for derived in derived_names(config, stack):
        problem = derived.check()
        if problem is None or (derived.key, derived.resource) in seen:
            continue
        seen.add((derived.key, derived.resource))
        autonamed = derived.name.endswith(AUTONAME_SUFFIX)
        shown = derived.name[:-len(AUTONAME_SUFFIX)] + "-<7 random>" if autonamed else derived.name
        if derived.key.startswith("stack name"):
            fix = (f"use a stack name of letters, digits and single '-' between them, at most "
                   f"{longest_stack_name(config)} characters for this config (pulumi stack rename)")
        else:
            limit = aws_limits.MAX_RULE_NAME if derived.resource == RULE else aws_limits.MAX_ALARM_NAME
            longest = limit - len(detection_name(monitoring_name(stack), ""))
            fix = f"shorten the id to at most {longest} characters (with stack {stack!r})"
        rule = problem.split(" is not ", 1)[-1]
        problems.append((derived.key, f"makes the {derived.resource} name {shown!r} ({len(derived.name)} "
                                      f"characters), which AWS refuses; allowed: {rule}; {fix}"))
    return problems
