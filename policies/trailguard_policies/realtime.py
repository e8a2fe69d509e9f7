"""Required real-time detections: an EventBridge rule per detection and region that fires and tells someone.

`realtime-detections` is a stack policy, for the same reason as `required-detections`: a deleted
rule produces no resource-policy call. For each detection in `requireRealtime.detections` and each
region, it looks for an `aws:cloudwatch/eventRule:EventRule` in that region on the default event bus
(the only bus CloudTrail delivers to) and requires:

1. its `eventPattern`, read with `trailguard.eventbridge_semantics`, matches every event the
   detection's catalogue pattern (either profile, less `allowedExclusions`) matches: proved by
   containment, a counterexample confirmed by the EventBridge matcher, and where the reading cannot
   decide, judged by the catalogue's positive samples wrapped in their EventBridge envelope
   (advisory, as `required-detections` does for undecided filter patterns);
2. its `state` receives those events: ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS when the
   compiler says the pattern can match read-only management events, else ENABLED or that; never
   DISABLED;
3. an `aws:cloudwatch/eventTarget:EventTarget` of the rule delivers to an SNS topic of the stack:
   directly (the topic's ARN, same region), or by forwarding to another region's default event bus
   (with a `roleArn`) where a rule meeting 1-3 delivers directly.

A resource's region is its `region` input (pulumi-aws v7), else its explicit provider's `region`,
else the default provider's (the engine sends it as the resource's provider; the stack config's
`aws:region` when the engine passes config).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Iterable, Sequence

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    PolicyResource,
    ReportViolation,
    StackValidationArgs,
    StackValidationPolicy,
)

from trailguard.catalog import load_catalog
from trailguard.catalog.model import Detection
from trailguard.eventbridge import EventBridgeRefusal, compile_event_pattern, event_for
from trailguard.eventbridge_semantics import EventPatternError, covers, matches, reading_pattern
from trailguard.exclusions import Exclusion, excluded_pattern
from trailguard.patterns import compile_pattern, render_selector, selectors

from .detections import REQUIRED_SCHEMA, Problem, _name_detections, _undecidable, allowed_exclusions
from .links import Link, derived_from, display_name
from .props import EVENT_RULE, EVENT_TARGET, TOPIC, UNKNOWN, read
from .settings import read_config
from .samples import describe_counterexample, describe_event, profile_free_samples, reference_tree, required_detections

GLOBAL_REGION = "us-east-1"
"""Where AWS delivers the events of global services (IAM, STS's global endpoint, Organizations):
always among the default regions (docs/realtime.md, "Region")."""

ALL_MANAGEMENT_EVENTS = "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS"
STATES = ("ENABLED", ALL_MANAGEMENT_EVENTS, "DISABLED")
_REGION_RE = re.compile(r"[a-z]{2}(-[a-z]+)+-[0-9]+\Z")

REALTIME_SCHEMA = PolicyConfigSchema(
    properties={
        "requireRealtime": {
            "type": "object",
            "default": {"detections": []},
            "additionalProperties": False,
            "description": (
                "Detections that must also fire in real time through EventBridge, and where: {detections: [ids or "
                "presets], regions: [AWS regions]}. With no detections (the default) nothing is required. Without "
                f"regions: {GLOBAL_REGION} plus every region the stack has an EventBridge rule in."
            ),
            "properties": {
                "detections": {"type": "array", "items": {"type": "string"},
                               "description": "Detection ids or presets (seed, cis, assurance, all)."},
                "regions": {"type": "array", "items": {"type": "string"},
                            "description": "AWS regions each of them needs a rule in (e.g. us-east-1, eu-west-1)."},
            },
        },
        "allowedExclusions": {
            **REQUIRED_SCHEMA.properties["allowedExclusions"],
            "description": (
                "What each real-time detection may exclude, in required-detections' form (detection id -> list of "
                "exclusions). A policy reads only its own config: repeat required-detections' allowances here."
            ),
        },
    }
)


# ------------------------------------------------------------------ the stack

@dataclass(frozen=True)
class RealtimeView:
    """The stack's EventBridge rules and targets and its SNS topics, each with its region."""

    rules: tuple[PolicyResource, ...]
    targets: tuple[PolicyResource, ...]
    topics: tuple[PolicyResource, ...]
    regions: dict[str, Any] = field(default_factory=dict)  # URN -> region, UNKNOWN or None

    @classmethod
    def of(cls, resources: Iterable[PolicyResource]) -> "RealtimeView":
        resources = list(resources)
        fallback = _default_region(resources)
        by_type: dict[str, list[PolicyResource]] = {}
        for resource in resources:
            by_type.setdefault(resource.resource_type, []).append(resource)
        view = cls(tuple(by_type.get(EVENT_RULE, ())), tuple(by_type.get(EVENT_TARGET, ())),
                   tuple(by_type.get(TOPIC, ())))
        for resource in (*view.rules, *view.targets, *view.topics):
            view.regions[resource.urn] = resource_region(resource, fallback)
        return view

    def region(self, resource: PolicyResource) -> Any:
        return self.regions.get(resource.urn)


def resource_region(resource: PolicyResource, fallback: str | None = None) -> Any:
    """The region a resource lives in: its own `region` input, its provider's `region`, its ARN's,
    else `fallback` (the default provider's); UNKNOWN when one of those is unknown at preview."""
    own = read(resource.props, "region")
    if own is UNKNOWN or (isinstance(own, str) and own):
        return own
    if resource.provider is not None:
        region = read(resource.provider.props, "region")
        if region is UNKNOWN or (isinstance(region, str) and region):
            return region
    arn = read(resource.props, "arn")
    if isinstance(arn, str) and arn.startswith("arn:") and _arn_region(arn):
        return _arn_region(arn)
    return fallback


def _default_region(resources: Sequence[PolicyResource]) -> str | None:
    """The default provider's region: a default aws provider the engine sent with some resource,
    else the stack config's `aws:region` when the engine passed config to the pack."""
    for resource in resources:
        provider = resource.provider
        if provider is not None and provider.name.startswith("default") and provider.resource_type == "pulumi:providers:aws":
            region = read(provider.props, "region")
            if isinstance(region, str) and region:
                return region
    try:
        import pulumi

        region = pulumi.Config("aws").get("region")
    except Exception:  # noqa: BLE001 - no runtime settings: the region stays undecided
        return None
    return region or None


def default_regions(view: RealtimeView) -> list[str]:
    """us-east-1 and every region the stack has an EventBridge rule in."""
    found = {region for rule in view.rules if isinstance(region := view.region(rule), str)}
    return sorted(found | {GLOBAL_REGION})


# ------------------------------------------------------------------ the references

@dataclass(frozen=True)
class Reference:
    """A detection's catalogue pattern of one profile, less the allowed exclusions."""

    profile: str
    text: str
    tree: Any
    needs_all_management_events: bool


def references(detection: Detection, allowed: tuple[Exclusion, ...]) -> tuple[Reference, ...]:
    """The detection's references, each with the rule state its compiled pattern needs."""
    out = []
    for profile, text in detection.patterns.items():
        try:
            needs_all = compile_event_pattern(text).needs_all_management_events
        except EventBridgeRefusal:
            needs_all = True  # no exact EventBridge form: assume it can match read-only events
        out.append(Reference(profile, text, reference_tree(text, allowed), needs_all))
    return tuple(out)


def positive_events(detection: Detection, allowed: tuple[Exclusion, ...]) -> list[tuple[str, dict]]:
    """The profile-free positive samples the allowed exclusions keep, as EventBridge events."""
    positives, _ = profile_free_samples(detection)
    removed = compile_pattern(excluded_pattern(allowed)) if allowed else None
    return [(s.label, event_for(s.event)) for s in positives if removed is None or not removed.matches(s.event)]


# ------------------------------------------------------------------ one rule

@dataclass
class RuleJudgement:
    """What is wrong with one rule for one detection (problems), and how near it is."""

    rule: PolicyResource
    problems: list[Problem]
    samples_matched: int
    pattern_ok: bool


@dataclass(frozen=True)
class Requirement:
    """One required detection, with what its rules are judged against: its references (per
    profile, less the allowed exclusions) and its positive samples as EventBridge events."""

    detection: Detection
    refs: tuple[Reference, ...]
    positives: tuple[tuple[str, dict], ...]


def _on_default_bus(resource: PolicyResource) -> Any:
    bus = read(resource.props, "eventBusName")
    if bus is UNKNOWN:
        return UNKNOWN
    return bus in (None, "", "default") or (isinstance(bus, str) and bus.endswith(":event-bus/default"))


def _bus_name(resource: PolicyResource) -> Any:
    """The event bus a rule or target names, "default" for none; the name part of a bus ARN."""
    bus = read(resource.props, "eventBusName")
    if bus is UNKNOWN:
        return UNKNOWN
    if not isinstance(bus, str) or not bus:
        return "default"
    return bus.rsplit("event-bus/", 1)[-1] if bus.startswith("arn:") else bus


def _pattern_judgement(rule: PolicyResource, requirement: Requirement) -> tuple[list[Problem], int, bool, bool]:
    """(problems, positives matched, pattern proved or sampled fine, needs all management events)."""
    text = read(rule.props, "eventPattern")
    name = display_name(rule)
    needs_all = any(r.needs_all_management_events for r in requirement.refs)
    if text is UNKNOWN:
        return [Problem(f"the event pattern of EventBridge rule '{name}' is unknown at preview", rule.urn,
                        decided=False)], 0, False, needs_all
    if not isinstance(text, str) or not text.strip():
        return [Problem(f"EventBridge rule '{name}' has no event pattern (a scheduled rule never sees CloudTrail "
                        "events)", rule.urn)], 0, False, needs_all
    try:
        pattern = json.loads(text)
        matched = sum(matches(pattern, event) for _, event in requirement.positives)
        missed = [label for label, event in requirement.positives if not matches(pattern, event)]
        proofs = [(ref, _cached_covers(text, ref)) for ref in requirement.refs]
    except (ValueError, EventPatternError) as error:
        return [Problem(f"EventBridge rule '{name}' has an event pattern EventBridge rejects: {error}", rule.urn)], \
            0, False, needs_all
    for ref, proof in proofs:
        if proof.verdict == "contained":
            return [], matched, True, ref.needs_all_management_events
    if missed:
        label = missed[0]
        event = dict(requirement.positives)[label]["detail"]
        return [Problem(
            f"EventBridge rule '{name}' misses {len(missed)} of {len(requirement.positives)} positive catalogue samples "
            f"(first: '{label}', {describe_event(event)})", rule.urn)], matched, False, needs_all
    undecided = [(ref, proof) for ref, proof in proofs if proof.verdict == "undecided"]
    if undecided:
        ref, proof = undecided[0]
        return [Problem(
            f"EventBridge rule '{name}' matches the catalogue samples, but whether it matches every event the "
            f"detection's {ref.profile} pattern counts is undecided ({proof.reason}); judged by the samples only",
            rule.urn, decided=False, at_preview=False)], matched, True, needs_all
    ref, proof = proofs[0]
    shown = describe_counterexample(proof.counterexample or {}, *_texts(ref.text, proof.reading))
    return [Problem(
        f"EventBridge rule '{name}' matches the catalogue samples but not every event the detection's {ref.profile} "
        f"pattern counts: it would miss {shown} ({proof.reason}). An exclusion must be allowed in the pack config's "
        f"realtime-detections allowedExclusions.{requirement.detection.id}", rule.urn)], matched, False, needs_all


@lru_cache(maxsize=1024)
def _cached_covers(text: str, ref: Reference) -> Any:
    """`covers` for a rule's pattern text (policies run once per preview; tests judge one text often)."""
    return covers(json.loads(text), ref.tree)


def _texts(reference: str, reading: Any) -> list[str]:
    """The reference, and a pattern naming each field the rule's reading tests: the fields a
    counterexample is shown with (a rendered reading can pass the 1024-character pattern quota)."""
    texts = [reference]
    if reading is not None and reading.expr not in (True, False):
        fields = sorted({render_selector(s) for s in selectors(reading_pattern(reading))})
        texts.append("{ " + " || ".join(f"{field} NOT EXISTS" for field in fields) + " }")
    return texts


def _state_problems(rule: PolicyResource, needs_all: bool) -> list[Problem]:
    name = display_name(rule)
    state = read(rule.props, "state")
    if state is None:
        enabled = read(rule.props, "isEnabled")
        state = UNKNOWN if enabled is UNKNOWN else ("DISABLED" if enabled is False else "ENABLED")
    if state is UNKNOWN:
        return [Problem(f"the state of EventBridge rule '{name}' is unknown at preview", rule.urn, decided=False)]
    if state == "DISABLED":
        return [Problem(f"EventBridge rule '{name}' is DISABLED: it matches nothing", rule.urn)]
    if needs_all and state != ALL_MANAGEMENT_EVENTS:
        return [Problem(
            f"EventBridge rule '{name}' is in state {state}, which never receives read-only management events, and "
            f"the detection's pattern can match them (a Get*, List* or Describe* call): use {ALL_MANAGEMENT_EVENTS}",
            rule.urn)]
    if state not in STATES:
        return [Problem(f"EventBridge rule '{name}' has state {state!r}; allowed: {', '.join(STATES)}", rule.urn)]
    return []


def _targets_of(rule: PolicyResource, view: RealtimeView) -> list[tuple[PolicyResource, Link]]:
    """The targets attached to `rule`: by rule name in the same region and bus, or computed from it."""
    name = read(rule.props, "name")
    bus = _bus_name(rule)
    found = []
    for target in view.targets:
        target_bus = _bus_name(target)
        if isinstance(bus, str) and isinstance(target_bus, str) and bus != target_bus:
            continue
        target_region, rule_region = view.region(target), view.region(rule)
        if isinstance(target_region, str) and isinstance(rule_region, str) and target_region != rule_region:
            continue
        wanted = read(target.props, "rule")
        if isinstance(wanted, str) and isinstance(name, str) and name:
            if wanted == name:
                found.append((target, Link.YES))
            continue
        link = derived_from(target, "rule", [rule])
        if link is not Link.NO:
            found.append((target, link))
    return found


_BUS_ARN = re.compile(r"arn:aws[a-z-]*:events:([a-z0-9-]+):([0-9]{12}):event-bus/default\Z")


def _arn_region(arn: str) -> str | None:
    parts = arn.split(":")
    return parts[3] if len(parts) > 3 else None


def _topic_target(target: PolicyResource, region: Any, view: RealtimeView) -> Link:
    arn = read(target.props, "arn")
    for topic in view.topics:
        topic_arn = read(topic.props, "arn")
        if isinstance(arn, str) and isinstance(topic_arn, str) and topic_arn:
            if arn == topic_arn and (not isinstance(region, str) or _arn_region(topic_arn) == region):
                return Link.YES
            continue
        if derived_from(target, "arn", [topic]) is Link.YES:
            topic_region = view.region(topic)
            if isinstance(topic_region, str) and isinstance(region, str) and topic_region != region:
                continue
            return Link.YES
    if arn is UNKNOWN and derived_from(target, "arn", view.topics) is Link.UNDECIDED:
        return Link.UNDECIDED
    return Link.NO


def _delivery_problems(rule: PolicyResource, requirement: Requirement, view: RealtimeView,
                       forwarding: bool) -> list[Problem]:
    """The rule reaches a stack SNS topic: directly, or (when `forwarding`) via another region's
    default bus where a qualifying rule delivers directly."""
    name = display_name(rule)
    region = view.region(rule)
    targets = _targets_of(rule, view)
    if not targets:
        return [Problem(f"EventBridge rule '{name}' has no target: nobody is told", rule.urn)]
    undecided: list[str] = []
    forwards: list[str] = []
    for target, link in targets:
        direct = _topic_target(target, region, view)
        if direct is Link.YES and link is Link.YES:
            return []
        if Link.UNDECIDED in (direct, link):
            undecided.append(f"target '{target.name}'")
            continue
        arn = read(target.props, "arn")
        bus = _BUS_ARN.match(arn) if isinstance(arn, str) else None
        if bus is None or not forwarding:
            continue
        home = bus.group(1)
        role = read(target.props, "roleArn")
        if role is None or role == "":
            forwards.append(f"target '{target.name}' forwards to the default event bus in {home} without a roleArn "
                            "(EventBridge needs a role to put events on another region's bus)")
            continue
        if home == region:
            forwards.append(f"target '{target.name}' sends events back to the bus they came from")
            continue
        if not _account_of_topics(view, bus.group(2)):
            forwards.append(f"target '{target.name}' forwards to account {bus.group(2)}, which holds no SNS topic of this "
                            "stack")
            continue
        outcome = _best_in_region(requirement, home, view, forwarding=False)
        if outcome is not None and not outcome.problems:
            return []
        if outcome is not None and not [p for p in outcome.problems if p.decided]:
            undecided.append(f"the rules in {home}")
            continue
        forwards.append(f"target '{target.name}' forwards to the default event bus in {home}, where no EventBridge rule "
                        "matching the detection delivers to an SNS topic of this stack")
    if undecided:
        return [Problem(f"whether EventBridge rule '{name}' reaches an SNS topic of this stack is unknown at preview "
                        f"({', '.join(undecided)})", rule.urn, decided=False)]
    if forwards:
        return [Problem(f"EventBridge rule '{name}' reaches no SNS topic of this stack: {'; '.join(forwards)}", rule.urn)]
    arns = [read(t.props, "arn") for t, _ in targets]
    shown = ", ".join(a if isinstance(a, str) else "a computed value" for a in arns)
    where = f" in {region}" if isinstance(region, str) else ""
    return [Problem(
        f"EventBridge rule '{name}' delivers to no SNS topic of this stack: its targets ({shown}) are neither a stack "
        f"topic{where} nor another region's default event bus where a rule delivers to one", rule.urn)]


def _account_of_topics(view: RealtimeView, account: str) -> bool:
    accounts = {arn.split(":")[4] for t in view.topics if isinstance(arn := read(t.props, "arn"), str)
                and arn.count(":") >= 5}
    return not accounts or account in accounts  # unknown ARNs (preview): the account cannot be compared


def judge_rule(rule: PolicyResource, requirement: Requirement, view: RealtimeView, forwarding: bool) -> RuleJudgement:
    """Every problem of `rule` for the requirement: pattern, bus, state and delivery."""
    name = display_name(rule)
    on_default = _on_default_bus(rule)
    pattern_problems, matched, pattern_ok, needs_all = _pattern_judgement(rule, requirement)
    problems = list(pattern_problems)
    if on_default is UNKNOWN:
        problems.append(Problem(f"the event bus of EventBridge rule '{name}' is unknown at preview", rule.urn,
                                decided=False))
    elif on_default is False:
        problems.append(Problem(
            f"EventBridge rule '{name}' is on event bus '{read(rule.props, 'eventBusName')}', which CloudTrail does not "
            "deliver to: put it on the default bus", rule.urn))
    problems += _state_problems(rule, needs_all)
    problems += _delivery_problems(rule, requirement, view, forwarding)
    return RuleJudgement(rule, problems, matched, pattern_ok)


def _rank(judgement: RuleJudgement) -> tuple[int, int, int]:
    return (sum(p.decided for p in judgement.problems), -judgement.samples_matched, len(judgement.problems))


def _best_in_region(requirement: Requirement, region: str, view: RealtimeView, forwarding: bool) -> RuleJudgement | None:
    """The least broken rule in `region` meant for the detection (one that matches some positive sample
    or whose pattern is unknown); None when there is none."""
    best: RuleJudgement | None = None
    for rule in view.rules:
        rule_region = view.region(rule)
        if rule_region != region and rule_region not in (None, UNKNOWN):
            continue
        judgement = judge_rule(rule, requirement, view, forwarding)
        if rule_region != region:  # a rule whose region is not known cannot satisfy it, only leave it open
            judgement.problems.append(Problem(
                f"the region of EventBridge rule '{display_name(rule)}' is unknown (no region input, provider region "
                "or ARN)", rule.urn, decided=False, at_preview=rule_region is UNKNOWN))
        meant = judgement.pattern_ok or judgement.samples_matched > 0 or any(not p.decided for p in judgement.problems)
        if not meant or (not judgement.pattern_ok and _implements_another(rule, requirement.detection)):
            continue
        if not judgement.problems:
            return judgement
        if best is None or _rank(judgement) < _rank(best):
            best = judgement
    return best


def _implements_another(rule: PolicyResource, detection: Detection) -> bool:
    """Whether the rule is provably another catalogue detection's (console sign-in failures share
    root's ConsoleLogin samples: without this a missing root-usage rule is blamed on theirs)."""
    text = read(rule.props, "eventPattern")
    return isinstance(text, str) and _proved_detections(text) - {detection.id} != set()


@lru_cache(maxsize=256)
def _proved_detections(text: str) -> frozenset[str]:
    """The catalogue detections whose events the pattern text provably matches (either profile)."""
    try:
        pattern = json.loads(text)
        return frozenset(d.id for d in load_catalog().detections.values()
                         if any(covers(pattern, p).verdict == "contained" for p in d.patterns.values()))
    except (ValueError, EventPatternError):
        return frozenset()


def region_problems(requirement: Requirement, region: str, view: RealtimeView) -> list[Problem]:
    """The problems of the best rule for the requirement in `region`; [] when one rule is whole."""
    best = _best_in_region(requirement, region, view, forwarding=True)
    if best is None:
        return [Problem(
            f"no EventBridge rule in {region} matches its events: deploy a rule on the default event bus there "
            f"(`trailguard eventbridge {requirement.detection.id}` prints the pattern) with a target that reaches an "
            "SNS topic of this stack")]
    return best.problems


# ------------------------------------------------------------------ the policy

def realtime_detections_validator(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    """Report every required real-time detection without a rule that matches, receives and delivers
    its events in every required region."""
    config = read_config_realtime(args.get_config())
    wanted = config["requireRealtime"] or {}
    ids = list(wanted.get("detections") or [])
    if not ids:
        return
    detections, config_error = required_detections(ids)
    if config_error:
        report_violation(f"policy config requireRealtime.detections: {config_error}")
    allowed, exclusion_errors = allowed_exclusions(config["allowedExclusions"], detections)
    for error in exclusion_errors:
        report_violation(f"policy config allowedExclusions{error}")
    view = RealtimeView.of(args.resources)
    regions = wanted.get("regions")
    if regions is None:
        regions = default_regions(view)
    bad = [r for r in regions if not isinstance(r, str) or not _REGION_RE.match(r)]
    if bad:
        report_violation(f"policy config requireRealtime.regions: {bad[0]!r} is not an AWS region name "
                         "(like us-east-1 or eu-west-1)")
    regions = [r for r in dict.fromkeys(regions) if r not in bad]
    undecided: list[Problem] = []
    by_problem: dict[tuple[str, str | None], list[Detection]] = {}
    for detection in detections:
        kept = allowed.get(detection.id, ())
        requirement = Requirement(detection, references(detection, kept), tuple(positive_events(detection, kept)))
        for region in regions:
            problems = region_problems(requirement, region, view)
            decided = [p for p in problems if p.decided]
            for problem in decided:
                by_problem.setdefault((f"in {region}: {problem.text}", problem.urn), []).append(detection)
            if problems and not decided:
                undecided.extend(Problem(f"real-time detection '{detection.id}' in {region}: {p.text}", p.urn, False,
                                         p.at_preview) for p in problems)
    for (text, urn), affected in by_problem.items():
        report_violation(f"{_name_detections(affected).replace('required detection', 'required real-time detection')}"
                         f" {text}", urn)
    if undecided:
        later = " (decided on update)" if any(p.at_preview for p in undecided) else ""
        raise _undecidable("; ".join(p.text for p in undecided) + later)


def read_config_realtime(config: Any) -> dict[str, Any]:
    return read_config(config, REALTIME_SCHEMA)


from .metadata import metadata_arguments  # noqa: E402

realtime_detections = StackValidationPolicy(
    name="realtime-detections",
    description=(
        "Every detection listed in requireRealtime has, in every required region, an EventBridge rule on the default "
        "bus whose pattern matches all the detection's events, in a state that receives them, delivering to an SNS "
        "topic of the stack."
    ),
    validate=realtime_detections_validator,
    enforcement_level=EnforcementLevel.MANDATORY,
    config_schema=REALTIME_SCHEMA,
    **metadata_arguments("realtime-detections"),
)
