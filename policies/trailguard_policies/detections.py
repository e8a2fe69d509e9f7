"""The required detections: each must exist in the stack as a whole chain that fires.

`required-detections` is a stack policy because a deleted resource produces no resource-policy
call: only the stack view shows that an alarm is gone. For each required catalogue detection it
looks for a metric filter whose pattern behaves like the detection (matches every positive
sample, no negative), then follows the chain from that filter: its log group is fed by a
multi-region, logging trail of the stack (or is listed as fed from outside), an alarm watches
exactly the filter's metric and namespace and fires on one matching event, and the alarm notifies
an SNS topic of the stack (or a listed ARN). Of several candidate filters the one with the fewest
broken links is reported, one violation per broken link; a link that cannot be decided at
preview is reported last, as the advisory "can't run during preview" diagnostic.

`detections-protected` (advisory by default) asks for `protect` on the filters and alarms of
required detections: `pulumi up --skip-preview` (Automation API, pulumi/actions) runs stack
policies only after the deletions, and `protect` is what stops the deletion itself.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, UnknownValueError

from trailguard.alarms import AlarmSettings
from trailguard.catalog import load_catalog
from trailguard.exclusions import Exclusion, ExclusionError, parse_exclusions
from trailguard.suggest import unknown_name
from trailguard.catalog.model import DETECTION_TAG, Detection
from trailguard.patterns import compile_pattern, constraints

from .delivery import LinkProblem, delivery_problems, notification_problems
from .links import (
    Link,
    StackView,
    alarm_notifies,
    display_name,
    filter_on,
    is_read_only,
    region_of,
    notified_topics,
    topic_subscribed,
    trail_records,
    trail_feeds,
    trail_qualifies,
)
from .props import METRIC_ALARM, METRIC_FILTER, UNKNOWN, read, read_items, read_mapping
from .samples import (
    ContainmentVerdict,
    SampleVerdict,
    describe_counterexample,
    describe_verdict,
    judge_pattern,
    profile_free_samples,
    prove_pattern,
    required_detections,
)
from .settings import integer, number, read_config, required_detections_property, string_list

REQUIRED_SCHEMA = PolicyConfigSchema(
    properties={
        "requiredDetections": required_detections_property(),
        "maxThreshold": number(
            "Highest alarm threshold allowed; the alarm must fire when this many matching events land in one "
            "period. With the default 1, a Sum alarm fires on a single matching event.",
            1,
        ),
        "maxDatapointsToAlarm": integer(
            "Most breaching datapoints an alarm may need before it fires (default 1: the first one).", 1, minimum=1
        ),
        "maxEvaluationWindowSeconds": integer(
            "Longest evaluation window (period x evaluationPeriods) an alarm of a required detection may use.",
            3600,
            minimum=10,
        ),
        "perDetection": {
            "type": "object",
            "default": {},
            "description": (
                "Looser limits for named detections tuned to fire on bursts, e.g. "
                '{"unauthorized-api-calls": {"maxThreshold": 5, "maxDatapointsToAlarm": 2}}.'
            ),
            "additionalProperties": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "maxThreshold": {"type": "number", "minimum": 0, "description": "Replaces maxThreshold."},
                    "maxDatapointsToAlarm": {"type": "integer", "minimum": 1,
                                             "description": "Replaces maxDatapointsToAlarm."},
                    "maxEvaluationWindowSeconds": {"type": "integer", "minimum": 10,
                                                   "description": "Replaces maxEvaluationWindowSeconds."},
                },
            },
        },
        "externalLogGroups": string_list(
            "Names of log groups fed by a multi-region, logging trail outside this stack (e.g. an "
            "organization trail managed elsewhere); filters on them count as fed."
        ),
        "externalTopicArns": string_list(
            "ARNs of SNS topics outside this stack that count as a notifying alarm action."
        ),
        "allowedExclusions": {
            "type": "object",
            "default": {},
            "description": (
                "What each required detection may exclude, owned by the security team: detection id -> list of "
                "exclusions in the stack config's form ({principal: ARN glob}, {sourceIp: address or /8 /16 /24 "
                "network}, {userAgent: glob}, {pattern: JSON condition}). A deployed pattern may leave out exactly "
                "these events; any other narrowing is a violation."
            ),
            "additionalProperties": {"type": "array", "items": {"type": "object"}},
        },
        "requireHeartbeat": {
            "type": "boolean",
            "default": False,
            "description": (
                "Require the heartbeat (stack config `heartbeat`): a schedule calling kms:generateRandom as its "
                "role, a metric filter matching exactly that event on a log group fed by the trail, and an alarm "
                "LessThanThreshold 1 with missing data breaching that notifies a subscribed topic."
            ),
        },
        "subscribedElsewhere": string_list(
            "Names or ARNs of SNS topics of this stack whose subscriptions are managed outside it (e.g. by a "
            "paging tool); other topics an alarm notifies need a subscription in the stack."
        ),
    }
)

PROTECTED_SCHEMA = PolicyConfigSchema(properties={"requiredDetections": required_detections_property()})


@dataclass(frozen=True)
class Problem:
    """One broken (or, at preview, undecidable) link in a detection's chain."""

    text: str  # names the resource and the link; the detection is prefixed when reported
    urn: str | None = None
    decided: bool = True
    at_preview: bool = True  # undecided only until the update sends known values


def required_detections_validator(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    """Report every required detection whose chain is missing or broken."""
    config = read_config(args.get_config(), REQUIRED_SCHEMA)
    detections, config_error = required_detections(config["requiredDetections"])
    if config_error:
        report_violation(f"policy config requiredDetections: {config_error}")
    allowed, exclusion_errors = allowed_exclusions(config["allowedExclusions"], detections)
    for error in exclusion_errors:
        report_violation(f"policy config allowedExclusions{error}")
    stack = StackView.of(args.resources)
    by_problem: dict[tuple[str, str | None], list[Detection | str]] = {}
    undecided: list[Problem] = []
    for detection in detections:
        problems = detection_problems(detection, stack, config, allowed.get(detection.id, ()))
        decided = [p for p in problems if p.decided]
        for problem in decided:
            by_problem.setdefault((problem.text, problem.urn), []).append(detection)
        if problems and not decided:
            undecided.extend(Problem(f"required detection '{detection.id}': {p.text}", p.urn, False, p.at_preview)
                             for p in problems)
    if config["requireHeartbeat"]:
        from .heartbeat import heartbeat_problems  # imported here: it reuses this module's chain checks

        problems = heartbeat_problems(args.resources, stack, config)
        decided = [p for p in problems if p.decided]
        for problem in decided:  # a link it shares with detections is one violation naming all of them
            by_problem.setdefault((problem.text, problem.urn), []).append(HEARTBEAT)
        if problems and not decided:
            undecided.extend(Problem(f"required heartbeat: {p.text}", p.urn, False, p.at_preview) for p in problems)
    for (text, urn), affected in by_problem.items():
        report_violation(f"{_name_detections(affected)}: {text}", urn)
    if undecided:
        later = " (decided on update)" if any(p.at_preview for p in undecided) else ""
        raise _undecidable("; ".join(p.text for p in undecided) + later)


def allowed_exclusions(raw: Any, detections: Sequence[Detection]) -> tuple[dict[str, tuple[Exclusion, ...]], list[str]]:
    """The pack config's `allowedExclusions`, read like the stack config's `exclude`, and the
    problems with it (each naming its key and what is allowed)."""
    allowed: dict[str, tuple[Exclusion, ...]] = {}
    errors: list[str] = []
    ids = [d.id for d in load_catalog().detections.values()]
    for detection_id, items in (raw or {}).items():
        if detection_id not in ids:
            errors.append(f".{detection_id}: {unknown_name('detection id', detection_id, ids)}")
            continue
        try:
            allowed[detection_id] = parse_exclusions(items)
        except ExclusionError as error:
            errors.extend(f".{detection_id}{where}: {message}" for where, message in error.errors)
    return allowed, errors


def detection_problems(detection: Detection, stack: StackView, config: dict[str, Any],
                       allowed: tuple[Exclusion, ...] = ()) -> list[Problem]:
    """The broken links of the best chain implementing `detection`, less the `allowed`
    exclusions; [] when one chain is whole."""
    config = {**config, **(config["perDetection"].get(detection.id) or {})}
    candidates: list[PolicyResource] = []
    unproven: dict[str, ContainmentVerdict] = {}  # candidates whose containment is undecided, by URN
    narrowed: list[tuple[PolicyResource, ContainmentVerdict]] = []
    unknown_patterns: list[PolicyResource] = []
    closest: tuple[tuple[int, int], PolicyResource, SampleVerdict] | None = None
    for metric_filter in stack.filters:
        pattern = read(metric_filter.props, "pattern", default="")
        if pattern is UNKNOWN:
            unknown_patterns.append(metric_filter)
            continue
        verdict = judge_pattern(str(pattern), detection.id, allowed)
        if verdict.implements:  # the samples are the quick first check; containment decides
            proof = prove_pattern(str(pattern), detection.id, allowed)
            if proof.verdict == "not-contained":
                narrowed.append((metric_filter, proof))
                continue
            if proof.verdict == "undecided":
                unproven[metric_filter.urn] = proof
            candidates.append(metric_filter)
            continue
        metric = read(metric_filter.props, "metricTransformation", "name")
        same_metric = metric == detection.metric
        # only a filter plausibly meant for it: same metric, or a subset of it (matches some positives, no
        # negative) that is not another catalogue detection's own filter
        weakened = (verdict.syntax_error is None and not verdict.matched_negatives
                    and len(verdict.missed_positives) < verdict.positives
                    and not _implements_another(str(pattern), metric, detection))
        rank = (0 if same_metric else 1, verdict.failures)
        if (same_metric or weakened) and (closest is None or rank < closest[0]):
            closest = (rank, metric_filter, verdict)
    if not candidates and narrowed:
        metric_filter, proof = min(narrowed, key=lambda item: read(item[0].props, "metricTransformation", "name") != detection.metric)
        pattern = str(read(metric_filter.props, "pattern", default=""))
        reference = detection.patterns[proof.profile]
        return [Problem(
            f"metric filter '{metric_filter.name}' matches the catalogue samples but its pattern is narrower than the "
            f"detection's {proof.profile} pattern: it would not count "
            f"{describe_counterexample(proof.counterexample or {}, pattern, reference)} ({proof.reason}). An "
            f"exclusion must be allowed in the pack config's allowedExclusions.{detection.id}",
            metric_filter.urn,
        )]
    if not candidates:
        if unknown_patterns:
            names = ", ".join(f"'{f.name}'" for f in unknown_patterns)
            return [Problem(f"the pattern of metric filter(s) {names} is unknown at preview", decided=False)]
        text = "no metric filter in the stack matches all its positive and none of its negative catalogue samples"
        if closest is not None:
            _, metric_filter, verdict = closest
            text += f"; closest is metric filter '{metric_filter.name}', which {describe_verdict(verdict)}"
            return [Problem(text, metric_filter.urn)]
        return [Problem(text + "; add it to the stack's trailguard:detections")]
    return _fewest_problems(
        [*chain_problems(metric_filter, stack, config, detection), *_unproven_problems(metric_filter, unproven)]
        for metric_filter in candidates)


def _implements_another(pattern: str, metric: Any, detection: Detection) -> bool:
    """Whether the filter is another catalogue detection's, whole: its metric is that detection's
    and its pattern passes that detection's samples (console sign-in failures share root's
    ConsoleLogin events, so without this a missing root-usage is blamed on their filter)."""
    other = next((d for d in load_catalog().detections.values() if d.metric == metric), None)
    return other is not None and other.id != detection.id and judge_pattern(pattern, other.id).implements


def _unproven_problems(metric_filter: PolicyResource, unproven: dict[str, ContainmentVerdict]) -> list[Problem]:
    """An advisory for a pattern judged by the samples alone: containment could not decide it."""
    proof = unproven.get(metric_filter.urn)
    if proof is None:
        return []
    return [Problem(
        f"metric filter '{metric_filter.name}' passes the catalogue samples, but whether its pattern counts every "
        f"event the detection's patterns count is undecided ({proof.reason}); judged by the samples only",
        metric_filter.urn, decided=False, at_preview=False)]


def chain_problems(metric_filter: PolicyResource, stack: StackView, config: dict[str, Any],
                   detection: Detection | None = None) -> list[Problem]:
    """The broken links from the trail to the topic through `metric_filter`; with `detection`,
    the trail must also record the events the detection matches."""
    return [
        *_transformation_problems(metric_filter),
        *_log_group_problems(metric_filter, stack, config, detection),
        *_alarm_problems(metric_filter, stack, config),
    ]


def _transformation_problems(metric_filter: PolicyResource) -> list[Problem]:
    problems = []
    value = read(metric_filter.props, "metricTransformation", "value")
    if value is not UNKNOWN and _as_number(value) is None:
        problems.append(Problem(
            f"metric filter '{metric_filter.name}' publishes '{value}' per matching event; publish a constant "
            "such as '1' so that a single event reaches the alarm threshold",
            metric_filter.urn,
        ))
    dimensions = read_mapping(metric_filter.props, "metricTransformation", "dimensions")
    if dimensions is not UNKNOWN and dimensions:
        problems.append(Problem(
            f"metric filter '{metric_filter.name}' publishes its metric with dimensions "
            f"({', '.join(sorted(dimensions))}); an alarm without those exact dimension values sees no data",
            metric_filter.urn,
        ))
    return problems


def _log_group_problems(metric_filter: PolicyResource, stack: StackView, config: dict[str, Any],
                        detection: Detection | None) -> list[Problem]:
    group_name = read(metric_filter.props, "logGroupName")
    if isinstance(group_name, str) and group_name in config["externalLogGroups"]:
        return []
    linked = [(group, filter_on(metric_filter, group)) for group in stack.log_groups]
    linked = [(group, link) for group, link in linked if link is not Link.NO]
    if not linked:
        if group_name is UNKNOWN and config["externalLogGroups"]:
            return [Problem(
                f"whether metric filter '{metric_filter.name}' reads one of externalLogGroups is unknown at preview",
                metric_filter.urn,
                decided=False,
            )]
        shown = f"log group '{group_name}'" if isinstance(group_name, str) else "a log group computed outside this stack"
        return [Problem(
            f"metric filter '{metric_filter.name}' is on {shown}, which is neither a log group of "
            "this stack nor listed in externalLogGroups",
            metric_filter.urn,
        )]
    reasons: list[str] = []
    undecided = False
    broken_group = linked[0][0]
    for group, on_group in linked:
        fed = _fed_by_trail(group, stack, detection)
        if on_group is Link.YES and fed[0] is Link.YES:
            return _problems(delivery_problems(group, stack))
        undecided = undecided or Link.UNDECIDED in (on_group, fed[0])
        if fed[0] is not Link.YES:
            reasons.append(fed[1])
    if undecided:
        return [Problem(
            f"whether metric filter '{metric_filter.name}' reads a log group fed by a multi-region, logging "
            "trail is unknown at preview",
            metric_filter.urn,
            decided=False,
        )]
    return [Problem("; ".join(reasons), broken_group.urn)]  # one violation however many filters read it


def _fed_by_trail(group: PolicyResource, stack: StackView, detection: Detection | None) -> tuple[Link, str]:
    """Whether a multi-region, logging trail of the stack delivers to `group` every event
    `detection` needs, and why not."""
    name = display_name(group)
    not_qualified: list[str] = []
    undecided = False
    for trail in stack.trails:
        feeds = trail_feeds(trail, group)
        if feeds is Link.NO:
            continue
        qualifies, reason = trail_qualifies(trail)
        if qualifies is Link.YES and detection is not None:
            qualifies, reason = _records_needed_events(trail, detection)
        if feeds is Link.YES and qualifies is Link.YES:
            return Link.YES, ""
        if qualifies is Link.NO:
            not_qualified.append(reason)
        else:
            undecided = True
    if undecided:
        return Link.UNDECIDED, f"which trail feeds log group '{name}' is unknown at preview"
    if not_qualified:
        return Link.NO, f"log group '{name}' is fed by no multi-region, logging trail: {'; '.join(not_qualified)}"
    return Link.NO, (
        f"no trail of this stack delivers to log group '{name}'; point a multi-region trail's "
        "cloudWatchLogsGroupArn at it or list it in externalLogGroups"
    )


def needed_events(detection: Detection) -> list[tuple[str, dict[str, Any]]]:
    """(label, event) for every event the detection must see: its positive samples, and one event
    per event source and name a pattern of any profile pins (`$.eventName = X || ...`), so a
    selector dropping a name no sample carries is still caught."""
    positives, _ = profile_free_samples(detection)
    events = [(f"sample '{sample.label}'", dict(sample.event)) for sample in positives]
    seen = {(e.get("eventSource"), e.get("eventName")) for _, e in events}
    sources_of: dict[str, set[Any]] = {}
    for sample in detection.samples:
        sources_of.setdefault(sample.event.get("eventName"), set()).add(sample.event.get("eventSource"))
    for profile in detection.patterns:
        pinned = constraints(compile_pattern(detection.pattern_for(profile)).tree)
        names, sources = pinned.get(("eventName",)), pinned.get(("eventSource",))
        for name in sorted(names) if isinstance(names, frozenset) else ():
            for source in sorted(sources) if isinstance(sources, frozenset) else sorted(sources_of.get(name, ())):
                if (source, name) not in seen:
                    seen.add((source, name))
                    events.append((f"named by its {profile} pattern", {"eventSource": source, "eventName": name}))
    return events


def _records_needed_events(trail: PolicyResource, detection: Detection) -> tuple[Link, str]:
    """Whether `trail` keeps every event the detection needs (`needed_events`)."""
    undecided = ""
    for label, event in needed_events(detection):
        kept, why = trail_records(trail, event)
        if kept is Link.NO:
            kind = "read-only" if is_read_only(event) else "write"
            return Link.NO, (
                f"trail '{display_name(trail)}' does not record the {kind} management event "
                f"{event.get('eventSource')} {event.get('eventName')} that detection '{detection.id}' matches "
                f"({label}): {why}"
            )
        if kept is Link.UNDECIDED:
            undecided = why
    if undecided:
        return Link.UNDECIDED, undecided
    return Link.YES, ""


def _alarm_problems(metric_filter: PolicyResource, stack: StackView, config: dict[str, Any]) -> list[Problem]:
    metric = read(metric_filter.props, "metricTransformation", "name")
    namespace = read(metric_filter.props, "metricTransformation", "namespace")
    if metric is UNKNOWN or namespace is UNKNOWN:
        return [Problem(f"the metric of metric filter '{metric_filter.name}' is unknown at preview", decided=False)]
    watching: list[PolicyResource] = []
    unknown_metric: list[PolicyResource] = []
    for alarm in stack.alarms:
        alarm_metric = read(alarm.props, "metricName")
        alarm_namespace = read(alarm.props, "namespace")
        if alarm_metric is UNKNOWN or alarm_namespace is UNKNOWN:
            unknown_metric.append(alarm)
        elif alarm_metric == metric and alarm_namespace == namespace:
            watching.append(alarm)
    if not watching:
        if unknown_metric:
            return [Problem(f"the metric of alarm(s) {', '.join(a.name for a in unknown_metric)} is unknown at preview", decided=False)]
        return [Problem(
            f"no alarm watches metric '{namespace}/{metric}' of metric filter '{metric_filter.name}'"
            + _near_alarms_hint(metric_filter, metric, namespace, stack),
            metric_filter.urn,
        )]
    value = _as_number(read(metric_filter.props, "metricTransformation", "value"))
    default_value = _as_number(read(metric_filter.props, "metricTransformation", "defaultValue"))

    def alarm_problems(alarm: PolicyResource) -> list[Problem]:
        problems = _alarm_settings_problems(alarm, value, default_value, config)
        problems += _silencing_problems(alarm, metric_filter, default_value)
        notifies, reason = alarm_notifies(alarm, stack.topics, config["externalTopicArns"])
        if notifies is not Link.YES:
            problems.append(Problem(f"alarm '{alarm.name}' notifies nobody: {reason}", alarm.urn, notifies is Link.NO))
        else:
            problems.extend(_subscription_problems(alarm, stack, config))
            problems.extend(_problems(notification_problems(alarm, stack, config["externalTopicArns"])))
        return problems

    return _fewest_problems(alarm_problems(alarm) for alarm in watching)


def _alarm_settings_problems(
    alarm: PolicyResource, value: float | None, default_value: float | None, config: dict[str, Any]
) -> list[Problem]:
    """Whether the alarm goes to ALARM, and acts, on one matching event (or the allowed burst) in time."""
    props = alarm.props
    problems: list[Problem] = []
    if read(props, "actionsEnabled", default=True) is False:
        problems.append(Problem(f"alarm '{alarm.name}' has actions disabled (actionsEnabled is false)", alarm.urn))
    dimensions = read_mapping(props, "dimensions")
    if dimensions is not UNKNOWN and dimensions:
        problems.append(Problem(
            f"alarm '{alarm.name}' watches the metric with dimensions ({', '.join(sorted(dimensions))}), "
            "which the metric filter does not publish",
            alarm.urn,
        ))
    fields = {
        key: read(props, key)
        for key in ("statistic", "extendedStatistic", "threshold", "comparisonOperator", "period", "evaluationPeriods", "datapointsToAlarm")
    }
    if any(v is UNKNOWN for v in fields.values()):
        problems.append(Problem(f"the statistic or threshold of alarm '{alarm.name}' is unknown at preview", alarm.urn, decided=False))
        return problems
    issues: list[str] = []
    threshold = _as_number(fields["threshold"])
    max_threshold = float(config["maxThreshold"])
    if threshold is None:
        issues.append("it has no static threshold")
    elif threshold > max_threshold:
        issues.append(f"its threshold {threshold:g} is above the allowed maximum {max_threshold:g}")
    burst = max(1, math.ceil(max_threshold))  # matching events in one period the alarm must fire on
    datapoint = _burst_value(fields["statistic"], fields["extendedStatistic"], burst, value, default_value)
    comparison = str(fields["comparisonOperator"] or "")
    if threshold is not None and datapoint is not None and not _breaches(comparison, threshold, datapoint):
        events = "one matching event gives" if burst == 1 else f"{burst} matching events in one period give"
        issues.append(
            f"{events} {fields['statistic'] or fields['extendedStatistic']} {datapoint:g}, "
            f"which is not {comparison} {threshold:g}"
        )
    evaluation_periods = int(_as_number(fields["evaluationPeriods"]) or 1)
    datapoints = int(_as_number(fields["datapointsToAlarm"]) or evaluation_periods)
    max_datapoints = int(config["maxDatapointsToAlarm"])
    if datapoints > max_datapoints:
        issues.append(f"it needs {datapoints} breaching datapoints, more than the allowed {max_datapoints}")
    period = int(_as_number(fields["period"]) or 0)
    window = period * evaluation_periods
    max_window = int(config["maxEvaluationWindowSeconds"])
    if window > max_window:
        issues.append(f"its evaluation window {window}s ({period}s x {evaluation_periods}) exceeds the allowed {max_window}s")
    if issues:
        wanted = "a single matching event" if burst == 1 else f"{burst} matching events in one period"
        problems.append(Problem(f"alarm '{alarm.name}' does not fire on {wanted}: {'; '.join(issues)}", alarm.urn))
    return problems


def _subscription_problems(alarm: PolicyResource, stack: StackView, config: dict[str, Any]) -> list[Problem]:
    """An alarm whose only stack topics have no subscription tells nobody; external ARNs and
    topics listed in subscribedElsewhere count as told."""
    topics = notified_topics(alarm, stack.topics)
    actions = read_items(alarm.props, "alarmActions")
    external = set(config["externalTopicArns"])
    if actions is not UNKNOWN and any(isinstance(a, str) and a in external for a in actions):
        return []
    elsewhere = set(config["subscribedElsewhere"])
    undecided = False
    for topic in topics:
        arn = read(topic.props, "arn")
        if display_name(topic) in elsewhere or (isinstance(arn, str) and arn in elsewhere):
            return []
        subscribed = topic_subscribed(topic, stack.subscriptions)
        if subscribed is Link.YES:
            return []
        undecided = undecided or subscribed is Link.UNDECIDED
    if not topics:
        return []  # decided by alarm_notifies: an undecided action is reported there
    names = ", ".join(f"'{display_name(t)}'" for t in topics)
    if undecided:
        return [Problem(f"whether SNS topic(s) {names} of alarm '{alarm.name}' have a subscription is unknown at preview",
                        alarm.urn, decided=False)]
    return [Problem(
        f"alarm '{alarm.name}' notifies SNS topic(s) {names}, which no subscription of this stack reads: nobody is "
        "told. Add a subscription (stack config notifications.topics.<name>.subscriptions) or list the topic in "
        "subscribedElsewhere if its subscriptions are managed outside this stack",
        topics[0].urn,
    )]


def _silencing_problems(alarm: PolicyResource, metric_filter: PolicyResource, default_value: float | None) -> list[Problem]:
    """Settings with which the alarm fires once and then never again, or never sees the data.

    An alarm notifies on a transition into ALARM. If the periods without a matching event breach
    too (a published default value, or missing data treated as breaching) or keep the last state
    (missing data ignored), the alarm stays in ALARM after its first event, or from the start, and
    every later event is silent. An alarm `unit` other than the one the filter publishes, or an
    alarm in another region than the filter, reads a metric that never receives a datapoint.
    """
    props, name, filter_name = alarm.props, alarm.name, metric_filter.name
    problems: list[Problem] = []
    fields = {key: read(props, key) for key in ("statistic", "extendedStatistic", "threshold", "comparisonOperator")}
    threshold = _as_number(fields["threshold"])
    comparison = str(fields["comparisonOperator"] or "")
    known = UNKNOWN not in fields.values() and threshold is not None
    if default_value is not None and known:
        quiet = _quiet_values(fields["statistic"], fields["extendedStatistic"], default_value)
        breaching = [v for v in quiet if _breaches(comparison, threshold, v)]  # type: ignore[arg-type]
        if breaching:
            problems.append(Problem(
                f"metric filter '{filter_name}' publishes defaultValue {default_value:g} for every log event it does "
                f"not match, so periods without a matching event give {fields['statistic'] or fields['extendedStatistic']} "
                f"{breaching[0]:g}, which is {comparison} {threshold:g}: alarm '{name}' stays in ALARM once CloudTrail "
                "delivers anything and never notifies again. Remove defaultValue (or set it to 0 with a Sum alarm)",
                metric_filter.urn,
            ))
    treat = read(props, "treatMissingData", default="missing")
    if treat is UNKNOWN:
        problems.append(Problem(f"treatMissingData of alarm '{name}' is unknown at preview", alarm.urn, decided=False))
    elif default_value is None and isinstance(treat, str) and treat in _STUCK_MISSING_DATA:
        problems.append(Problem(
            f"alarm '{name}' treats missing data as {treat}: metric filter '{filter_name}' publishes nothing in periods "
            f"without a matching event, so the alarm {_STUCK_MISSING_DATA[treat]} and never notifies again. Use "
            "notBreaching (or missing)",
            alarm.urn,
        ))
    alarm_unit = read(props, "unit")
    filter_unit = read(metric_filter.props, "metricTransformation", "unit", default="None")
    if alarm_unit is UNKNOWN or filter_unit is UNKNOWN:
        problems.append(Problem(f"the unit of alarm '{name}' or metric filter '{filter_name}' is unknown at preview",
                                alarm.urn, decided=False))
    elif alarm_unit is not None and alarm_unit != filter_unit:
        problems.append(Problem(
            f"alarm '{name}' watches unit {alarm_unit} but metric filter '{filter_name}' publishes unit {filter_unit}: "
            "an alarm with a unit only sees datapoints of that unit, so it never receives one. Drop the alarm's unit "
            "or make it match",
            alarm.urn,
        ))
    alarm_region, filter_region = region_of(alarm), region_of(metric_filter)
    if alarm_region is UNKNOWN or filter_region is UNKNOWN:
        problems.append(Problem(f"the region of alarm '{name}' or metric filter '{filter_name}' is unknown at preview",
                                alarm.urn, decided=False))
    elif alarm_region and filter_region and alarm_region != filter_region:
        problems.append(Problem(
            f"alarm '{name}' is in {alarm_region} but metric filter '{filter_name}' publishes its metric in "
            f"{filter_region}: CloudWatch metrics are regional, so the alarm never sees a datapoint. Create the alarm "
            "with the log group's provider",
            alarm.urn,
        ))
    return problems


_STUCK_MISSING_DATA = {
    "ignore": "keeps its last state through every quiet period: after the first event it stays in ALARM",
    "breaching": "counts every quiet period as breaching: it goes to ALARM without any event and stays there",
}
"""treatMissingData values that leave an alarm in ALARM, and what they do (CloudWatch's
"Configuring how CloudWatch alarms treat missing data")."""


def _quiet_values(statistic: Any, extended: Any, default_value: float) -> tuple[float, ...]:
    """Datapoints of a period with only non-matching log events (one, or very many), when the
    filter publishes `default_value` for each of them."""
    if statistic == "Sum":
        return (default_value, default_value * 1_000_000)
    if statistic == "SampleCount":
        return (1.0, 1_000_000.0)
    return (default_value,)  # Average, Minimum, Maximum and percentiles of identical values


def _burst_value(statistic: Any, extended: Any, events: int, value: float | None, default_value: float | None) -> float | None:
    """The datapoint `events` matching events in one period produce; the worst case when
    non-matching log events emit a default value that dilutes Average and Minimum."""
    if value is None:
        return None
    if statistic == "SampleCount":
        return float(events)
    if statistic == "Sum":
        return events * value
    if statistic == "Maximum":
        return value
    if statistic in ("Minimum", "Average") or extended:
        return min(value, default_value) if default_value is not None else value
    return None


def _breaches(comparison: str, threshold: float, datapoint: float) -> bool:
    try:
        return AlarmSettings(comparison=comparison, threshold=threshold).breaches(datapoint)
    except ValueError:
        return False  # anomaly-detection bands and unknown operators do not fire on a count


def _near_alarms_hint(metric_filter: PolicyResource, metric: str, namespace: str, stack: StackView) -> str:
    """Name alarms that look meant for this filter: same component, depending on it, or same metric name."""
    near = []
    for alarm in stack.alarms:
        alarm_metric, alarm_namespace = read(alarm.props, "metricName"), read(alarm.props, "namespace")
        same_parent = metric_filter.parent is not None and alarm.parent is not None and alarm.parent.urn == metric_filter.parent.urn
        depends = any(dependency.urn == metric_filter.urn for dependency in alarm.dependencies)
        if same_parent or depends or alarm_metric == metric:
            near.append(f"alarm '{alarm.name}' watches '{alarm_namespace}/{alarm_metric}'")
    return f" ({'; '.join(near)})" if near else ""


def _problems(found: Sequence[LinkProblem]) -> list[Problem]:
    return [Problem(p.text, p.urn, p.decided, p.at_preview) for p in found]


def _rank(problems: Sequence[Problem]) -> tuple[int, int]:
    return (sum(p.decided for p in problems), len(problems))


def _fewest_problems(candidates: Iterable[list[Problem]]) -> list[Problem]:
    """The least broken of several candidate chains (fewest decided problems, then fewest problems);
    [] as soon as one candidate is whole."""
    best: list[Problem] | None = None
    for problems in candidates:
        if not problems:
            return []
        if best is None or _rank(problems) < _rank(best):
            best = problems
    assert best is not None, "no candidate to judge"
    return best


def _as_number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None or value is UNKNOWN:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


HEARTBEAT = "heartbeat"
"""Stands for the heartbeat among the detections a broken link affects."""


def _name_detections(affected: Sequence[Detection | str]) -> str:
    detections = [d for d in affected if d != HEARTBEAT]
    heartbeat = " and the heartbeat" if HEARTBEAT in affected else ""
    if not detections:
        return "required heartbeat"
    if len(detections) == 1:
        return f"required detection '{detections[0].id}' ({detections[0].title}){heartbeat}"
    return "required detections " + ", ".join(f"'{d.id}'" for d in detections) + heartbeat


def _undecidable(message: str) -> UnknownValueError:
    """The servicer turns an UnknownValueError into an advisory "can't run during preview" diagnostic."""
    error = UnknownValueError(UNKNOWN_STRING_VALUE, [])
    error.message = message
    return error


def detections_protected_validator(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """Filters whose pattern implements a required detection, and alarms on its catalogue metric or
    tagged with its id, are protected."""
    if args.resource_type not in (METRIC_FILTER, METRIC_ALARM) or args.opts.protect:
        return
    config = read_config(args.get_config(), PROTECTED_SCHEMA)
    detections, _ = required_detections(config["requiredDetections"])
    if args.resource_type == METRIC_FILTER:
        pattern = read(args.props, "pattern", default="")
        metric = read(args.props, "metricTransformation", "name")
        implemented = [
            d for d in detections
            if metric == d.metric or (pattern is not UNKNOWN and judge_pattern(str(pattern), d.id).implements)
        ]
        kind = "metric filter"
    else:
        metric = read(args.props, "metricName")
        tagged = read(args.props, "tags", DETECTION_TAG)  # set by the program's Detection component
        implemented = [d for d in detections if metric == d.metric or tagged == d.id]
        kind = "alarm"
    if implemented:
        report_violation(
            f"{kind} '{args.name}' of {_name_detections(implemented)} is not protected: `pulumi up --skip-preview` "
            "(the Automation API and pulumi/actions) runs stack policies only after deleting it. "
            "Set protect (stack config trailguard:protect: true)."
        )


# Imported here, beside the constructors that use it, to keep this edit apart from the imports above.
from .metadata import metadata_arguments  # noqa: E402

required_detections_policy = StackValidationPolicy(
    name="required-detections",
    description=(
        "Every required detection has a metric filter matching its catalogue samples, on a log group fed by a "
        "multi-region logging trail, with an alarm on exactly its metric that fires on one event and notifies SNS."
    ),
    validate=required_detections_validator,
    enforcement_level=EnforcementLevel.MANDATORY,
    config_schema=REQUIRED_SCHEMA,
    **metadata_arguments("required-detections"),
)

detections_protected = ResourceValidationPolicy(
    name="detections-protected",
    description="Metric filters and alarms of required detections have `protect` set, so no update can delete them.",
    validate=detections_protected_validator,
    enforcement_level=EnforcementLevel.ADVISORY,
    config_schema=PROTECTED_SCHEMA,
    **metadata_arguments("detections-protected"),
)
