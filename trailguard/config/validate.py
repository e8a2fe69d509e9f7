"""Raw `trailguard:` stack config -> `StackConfig`, or one `ConfigError` listing every problem.

Pure code: it runs in `trailguard check` with no Pulumi at all, and in the program before the
first resource is registered, so a rejected config never deploys half a stack. Two steps: the
input's shape (keys and JSON types, `trailguard.config.shape`) is decoded with msgspec, then the
domain rules run as small functions over the typed values. Every independent problem is
collected, each with its dotted key (`trailguard:overrides.root-usage.period`) and what is
allowed; AWS's limits come from `trailguard.aws_limits`, which cites them.
"""

from __future__ import annotations

import math
import re
from contextlib import contextmanager
from typing import Any, Callable, Iterable, Iterator, Mapping, Union
from urllib.parse import urlsplit

from msgspec import UNSET

from trailguard.alarms import COMPARISONS, MISSING_DATA, STATISTICS, AlarmSettings
from trailguard.aws_limits import (
    EMAIL_RE,
    LAMBDA_FUNCTION_ARN_RE,
    ORGANIZATION_ID_RE,
    SNS_TOPIC_ARN_RE,
    SQS_QUEUE_ARN_RE,
    TOPIC_NAME_RE,
    MAX_ALARM_DESCRIPTION,
    MAX_METRIC_FILTERS_PER_LOG_GROUP,
    MAX_TAG_KEY,
    MAX_TAG_VALUE,
    MAX_TAGS_PER_RESOURCE,
    RESERVED_TAG_PREFIX,
    RETENTION_DAYS,
    alarm_period_problem,
    evaluation_window_limit,
    log_group_name_problem,
    metric_name_problem,
    namespace_problem,
    region_problem,
    tag_text_problem,
)
from trailguard.catalog.build import CUSTOM_RULES, Layout, detection_from_mapping
from trailguard.catalog.errors import CatalogError
from trailguard.catalog.model import PROFILES, Detection, Severity
from trailguard.config.model import (
    BUCKET_ENCRYPTIONS,
    MIN_RETENTION_DAYS,
    NAMESPACE,
    SECRET_PLACEHOLDER,
    SUBSCRIPTION_PROTOCOLS,
    ConfigError,
    EnabledDetection,
    RealtimeConfig,
    RealtimeRule,
    StackConfig,
    Subscription,
    TopicConfig,
    TrailConfig,
)
from trailguard.config.engine import KEY_KINDS  # noqa: F401  (re-exported: the kinds sit with the decoding)
from trailguard.config.names import derived_name_problems
from trailguard.patterns import compile_pattern
from trailguard.exclusions import Exclusion, ExclusionError, merge_exclusions, parse_exclusions
from trailguard import heartbeat as heartbeat_core
from trailguard.heartbeat import HeartbeatConfig
from trailguard.config.shape import (
    CustomDetectionInput,
    HeartbeatInput,
    NotificationsInput,
    OverrideInput,
    RealtimeInput,
    RealtimeOverrideInput,
    StackInput,
    TopicInput,
    TrailInput,
    decode,
    field_names,
    given,
)
from trailguard.suggest import kind_of as _kind, unknown_name
from trailguard.realtime import EVENTS_PRINCIPAL, GLOBAL_SERVICES_REGION, realtime_verdict

DEFAULT_TOPIC = "security-alerts"

DEFAULTS: Mapping[str, Any] = {
    "detections": ["seed", "cis"],  # the pack's default required set (seed) and the CIS controls
    "profile": "default",
    "namespace": "CISBenchmark",
    "protect": True,
    "overrides": {},
    "customDetections": [],
    "notifications": {"topics": {DEFAULT_TOPIC: {}}, "defaultTopic": DEFAULT_TOPIC},
    "trail": {},
    "tags": {},
    "heartbeat": {},
    "realtime": {},
}
"""Defaults for every key; `Pulumi.yaml` declares the same values for the typed scalar keys."""


DETECTION_TAGS = 1
"""Tags trailguard adds to a resource itself (the detection tag), out of AWS's per-resource quota."""

MAX_TOPIC_KEY = 64
"""A topic's key in the config: SNS's characters (aws_limits.TOPIC_NAME_RE), at most 64 so the
stack-prefixed physical name stays well inside SNS's 256 (trailguard.config.names checks it)."""

_ENDPOINT_ARNS = {"sqs": SQS_QUEUE_ARN_RE, "lambda": LAMBDA_FUNCTION_ARN_RE}

CUSTOM_LAYOUT = Layout(
    keys={"patterns": "pattern", "why": "description", "positives": "samples.positives",
          "negatives": "samples.negatives"},
    pattern=lambda profile: "pattern",
    samples="samples.{}".format,
    sample=lambda kind, index, name: f"samples.{kind}[{index}]",
    event_suffix="",
)
"""Where a custom detection's parts sit in the stack config: one `pattern`, bare sample events
under `samples.positives` / `samples.negatives`, the alarm text in `description`."""


class Problems:
    """Collects `ConfigError`s from independent checks, so one run reports all of them."""

    def __init__(self) -> None:
        self.errors: list[tuple[str, str]] = []
        self.warnings: list[tuple[str, str]] = []

    @contextmanager
    def check(self) -> Iterator[None]:
        """Run a block; a `ConfigError` it raises is recorded and the block is abandoned."""
        try:
            yield
        except ConfigError as err:
            self.errors.extend(err.errors)

    def raise_any(self) -> None:
        if self.errors:
            raise ConfigError.of(self.errors)


def load_stack_config(raw: Mapping[str, Any], catalog: Any = None, stack: str | None = None,
                      region: str | None = None) -> StackConfig:
    """Validate the `trailguard:` keys (names without the namespace) against the catalogue; with
    `stack`, also every AWS name the program derives from the stack name and the config. `region`
    is the stack's `aws:region`: the home of real-time rules, needed only when they are on."""
    if not isinstance(raw, Mapping):
        raise ConfigError(NAMESPACE, f"stack config must be a mapping of keys, got {_kind(raw)}")
    if catalog is None:
        from trailguard.catalog import load_catalog

        catalog = load_catalog()
    problems = Problems()
    allowed_keys = field_names(StackInput)
    for key in raw:
        if key not in allowed_keys:
            problems.errors.append((f"{NAMESPACE}:{key}", unknown_name("key", key, allowed_keys)))
    values = {**DEFAULTS, **{key: value for key, value in raw.items() if value is not None}}

    profile, namespace, protect, tags, trail = "default", "", True, {}, TrailConfig()
    customs: dict[str, Detection] = {}
    attributions: dict[str, str] = {}
    with problems.check():
        profile = _choice(decode(values["profile"], str, _key("profile")), PROFILES, _key("profile"))
    with problems.check():
        namespace = _metric_namespace(decode(values["namespace"], str, _key("namespace")), _key("namespace"))
    with problems.check():
        protect = decode(values["protect"], bool, _key("protect"))
    with problems.check():
        tags = _tags(decode(values["tags"], dict[str, Any], _key("tags")), _key("tags"), problems)
    with problems.check():
        trail = _trail(decode(values["trail"], TrailInput, _key("trail")), _key("trail"))
    with problems.check():
        customs = _custom_detections(decode(values["customDetections"], list[Any], _key("customDetections")),
                                     catalog, _key("customDetections"), problems, attributions)
    known_ids = [*catalog.detections, *customs]
    notifications, raw_notifications = None, None
    with problems.check():
        raw_notifications = decode(values["notifications"], NotificationsInput, _key("notifications"))
        notifications = _notifications(raw_notifications, known_ids, problems)
    topic_names = list(raw_notifications.topics) if raw_notifications is not None else None
    overrides: dict[str, dict[str, Any]] = {}
    with problems.check():
        overrides = _overrides(decode(values["overrides"], dict[str, Any], _key("overrides")), known_ids,
                               topic_names, lambda i: (customs.get(i) or catalog.get(i)).pattern_for(profile),
                               _key("overrides"), problems)
    catalog_ids: tuple[str, ...] = ()
    with problems.check():
        catalog_ids = _resolve_detections(decode(values["detections"], list[str], _key("detections")),
                                          catalog, _key("detections"))
    problems.raise_any()
    topics, default_topic, routing = notifications
    heartbeat = HeartbeatConfig(enabled=False)
    with problems.check():
        heartbeat = _heartbeat(decode(values["heartbeat"], HeartbeatInput, _key("heartbeat")), topic_names or [],
                               default_topic, list(customs), _key("heartbeat"))
    problems.raise_any()
    _check_effect(overrides, routing, {*catalog_ids, *customs}, problems)

    enabled_ids = [*catalog_ids]
    enabled_ids += [i for i in overrides if i in catalog.detections and i not in enabled_ids
                    and overrides[i].get("enabled") is True]
    enabled_ids += list(customs)
    detections = []
    for detection_id in enabled_ids:
        override = overrides.get(detection_id, {})
        if override.get("enabled") is False:
            continue
        custom = customs.get(detection_id)
        source = custom if custom is not None else catalog.get(detection_id)
        with problems.check():
            detections.append(_enable(source, custom is not None, profile, namespace, override,
                                      _topic_for(detection_id, source.severity, override, routing,
                                                 default_topic), attributions.get(detection_id, "")))
    problems.raise_any()
    with problems.check():
        _check_unique_metrics(detections, overrides, customs)
    if len(detections) > MAX_METRIC_FILTERS_PER_LOG_GROUP:
        problems.errors.append((
            _key("detections"),
            f"{len(detections)} detections enabled, but CloudWatch Logs allows at most "
            f"{MAX_METRIC_FILTERS_PER_LOG_GROUP} metric filters on one log group (a fixed quota); "
            "disable some with overrides.<id>.enabled: false",
        ))
    problems.raise_any()
    realtime = RealtimeConfig()
    with problems.check():
        realtime = _realtime(decode(values["realtime"], Union[bool, RealtimeInput], _key("realtime")), overrides,
                             detections, catalog, topics, region, problems)
    problems.raise_any()
    config = StackConfig(profile=profile, namespace=namespace, detections=tuple(detections),
                         topics=topics, trail=trail, protect=protect, tags=tags, heartbeat=heartbeat,
                         realtime=realtime, warnings=tuple(problems.warnings))
    if stack is not None:
        problems.errors.extend(derived_name_problems(config, stack))
        problems.raise_any()
    return config


def _key(path: str) -> str:
    return f"{NAMESPACE}:{path}"


def _enable(source: Detection, custom: bool, profile: str, namespace: str,
            override: Mapping[str, Any], topic: str, attribution: str = "") -> EnabledDetection:
    reference = source.pattern_for(profile)
    exclusions: tuple[Exclusion, ...] = override.get("exclude", ())
    try:
        pattern = merge_exclusions(reference, exclusions)
    except ExclusionError as err:
        raise _exclusion_error(err, _key(f"overrides.{source.id}.exclude")) from None
    alarm_defaults = AlarmSettings()
    alarm = AlarmSettings(
        statistic=override.get("statistic", alarm_defaults.statistic),
        period=override.get("period", alarm_defaults.period),
        evaluation_periods=override.get("evaluationPeriods", alarm_defaults.evaluation_periods),
        datapoints_to_alarm=override.get("datapointsToAlarm", alarm_defaults.datapoints_to_alarm),
        threshold=float(override.get("threshold", alarm_defaults.threshold)),
        comparison=override.get("comparison", alarm_defaults.comparison),
        treat_missing_data=override.get("treatMissingData", alarm_defaults.treat_missing_data),
        actions_enabled=override.get("actionsEnabled", alarm_defaults.actions_enabled),
    )
    return EnabledDetection(
        id=source.id,
        title=source.title,
        severity=source.severity,
        metric=override.get("metric", source.metric),
        namespace=override.get("namespace", namespace),
        pattern=pattern,
        alarm=alarm,
        topic=topic,
        custom=custom,
        detection=None if custom else source,
        positives=source.positives_for(profile),
        negatives=source.negatives_for(profile),
        description=with_attribution(describe_exclusions(
            override.get("description") or (source.why if custom and source.why else _default_description(source)),
            exclusions), attribution),
        ok_actions=override.get("okActions", False),
        reference_pattern=reference,
        exclusions=exclusions,
        runbook=source.runbook,
        attribution=attribution,
    )


def describe_exclusions(description: str, exclusions: tuple[Exclusion, ...]) -> str:
    """The alarm description with the exclusions named, so whoever is paged knows what this alarm
    cannot see; within AlarmDescription's limit (a count, then a cut description, when the list
    does not fit)."""
    if not exclusions:
        return description
    listed = f" Excludes: {'; '.join(e.describe() for e in exclusions)}."
    counted = f" Excludes {len(exclusions)} declared exclusion(s); trailguard check lists them."
    for suffix in (listed, counted):
        if len(description) + len(suffix) <= MAX_ALARM_DESCRIPTION:
            return description + suffix
    return description[:MAX_ALARM_DESCRIPTION - len(counted)] + counted


MAX_ATTRIBUTION = 512
"""Longest attribution sentence accepted, so it always fits whole in an alarm description
(AWS's 1024 characters) with room left for what the alarm is about."""

SIGMA_ID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\Z")
"""A Sigma rule's `id`: a UUID, as the Sigma specification requires."""


def attribution_text(sigma_id: str, author: str, link: str) -> str:
    """The sentence an alarm based on a Sigma rule's matches carries (Detection Rule License 1.1)."""
    return f"Based on Sigma {sigma_id} by {author}, {link} (Detection Rule License 1.1)."


def with_attribution(description: str, attribution: str) -> str:
    """`description` followed by `attribution`, within AlarmDescription's limit: the description
    is cut, never the attribution."""
    if not attribution:
        return description
    room = MAX_ALARM_DESCRIPTION - len(attribution) - 1
    if len(description) > room:
        description = description[:max(room - 3, 0)].rstrip() + "..."
    return f"{description} {attribution}" if description else attribution


def _source(source: Any, path: str) -> str:
    """A custom detection's `source` (the Sigma rule it came from) checked; its attribution sentence."""
    errors: list[tuple[str, str]] = []
    if not SIGMA_ID_RE.match(source.sigma):
        errors.append((f"{path}.sigma", f"{source.sigma!r} is not a Sigma rule id (a UUID such as "
                                        "'8ad1600d-e9dc-4251-b0ee-a65268f29add', the rule's id field)"))
    if not source.author.strip() or any(c in source.author for c in "\r\n"):
        errors.append((f"{path}.author", "must name the rule's author on one line (its author field); the "
                                         "Detection Rule License requires it in every alarm based on the rule"))
    parts = urlsplit(source.link)
    if parts.scheme != "https" or not parts.hostname or any(c.isspace() for c in source.link):
        errors.append((f"{path}.link", f"{source.link!r} is not an https:// URL of the rule"))
    for key, items in (("references", source.references), ("falsePositives", source.false_positives)):
        for index, item in enumerate(items):
            if not item.strip():
                errors.append((f"{path}.{key}[{index}]", "must be a non-empty string"))
    if errors:
        raise ConfigError.of(errors)
    text = attribution_text(source.sigma, source.author.strip(), source.link)
    if len(text) > MAX_ATTRIBUTION:
        raise ConfigError(f"{path}.author", f"the attribution {text!r} is {len(text)} characters; at most "
                                            f"{MAX_ATTRIBUTION} fit in an alarm description beside its text")
    return text


def _exclusion_error(err: ExclusionError, path: str) -> ConfigError:
    """An `ExclusionError` (paths relative to the list) at the config key of the list."""
    return ConfigError.of([(f"{path}{where}", message) for where, message in err.errors])


def _default_description(source: Detection) -> str:
    refs = ", ".join(
        f"{r.framework} {r.version + ' ' if r.version else ''}{r.control}" for r in source.references
    )
    text = source.title + (f" ({refs})" if refs else "")
    if source.runbook:
        text += f". Runbook: {source.runbook}"
    return text[:MAX_ALARM_DESCRIPTION]


def _topic_for(detection_id: str, severity: Severity, override: Mapping[str, Any],
               routing: Mapping[str, Mapping[str, str]], default_topic: str) -> str:
    """Most specific wins: the override, routing by detection, routing by severity, the default."""
    return (override.get("topic") or routing["byDetection"].get(detection_id)
            or routing["bySeverity"].get(severity.value) or default_topic)


# --- detections -----------------------------------------------------------------------------


def _resolve_detections(names: list[str], catalog: Any, path: str) -> tuple[str, ...]:
    try:
        return tuple(catalog.resolve(names))
    except CatalogError as err:
        raise ConfigError(path, str(err)) from None


def _check_effect(overrides: Mapping[str, Mapping[str, Any]], routing: Mapping[str, Mapping[str, str]],
                  selected: set[str], problems: Problems) -> None:
    """Warnings for overrides and routes that would silently do nothing: settings for a detection
    that is not enabled (whoever wrote them believes they tune a deployed alarm), an `enabled: false`
    that changes nothing, settings beside `enabled: false`, a route for a detection that is not
    enabled. Warnings, not errors: narrowing `detections` for a while must not force deleting the
    tuning kept for later."""
    for detection_id, override in overrides.items():
        path = _key(f"overrides.{detection_id}")
        settings = [key for key in override if key != "enabled"]
        enabled = override.get("enabled")
        if detection_id not in selected and enabled is not True:
            if settings:
                problems.warnings.append((path, f"has no effect: {detection_id!r} is not enabled; enable it in "
                                              f"{_key('detections')} or with overrides.{detection_id}.enabled: true, "
                                              "or remove this override"))
            else:
                problems.warnings.append((f"{path}.enabled", f"has no effect: {detection_id!r} is not enabled "
                                                              f"by {_key('detections')} anyway"))
        elif enabled is False and settings:
            problems.warnings.append((path, f"{', '.join(settings)} ha{'s' if len(settings) == 1 else 've'} no "
                                            f"effect: the override disables {detection_id!r} (enabled: false)"))
    for detection_id in routing["byDetection"]:
        enabled = overrides.get(detection_id, {}).get("enabled")
        if (detection_id not in selected and enabled is not True) or enabled is False:
            problems.warnings.append((_key(f"notifications.routing.byDetection.{detection_id}"),
                                      f"has no effect: {detection_id!r} is not enabled"))


def _overrides(raw: Mapping[str, Any], known_ids: list[str], topics: list[str] | None,
               pattern_of: Callable[[str], str], path: str, problems: Problems) -> dict[str, dict[str, Any]]:
    """Each override decoded and checked on its own; `topics` (the defined topic names) is None
    when notifications could not be read (references are then not checked, rather than reported
    as unknown). `pattern_of(id)` is the detection's pattern for the stack's profile, which
    declared exclusions are merged into (and checked against AWS's quotas) here."""
    result = {}
    for detection_id, raw_override in raw.items():
        item_path = f"{path}.{detection_id}"
        override: dict[str, Any] | None = None
        with problems.check():
            if detection_id not in known_ids:
                raise ConfigError(item_path, unknown_name("detection id", detection_id, known_ids))
            override = given(decode(raw_override, OverrideInput, item_path))
        if override is None:
            continue
        with problems.check():
            if "exclude" in override:
                try:
                    override["exclude"] = parse_exclusions(override["exclude"])
                    merge_exclusions(pattern_of(detection_id), override["exclude"])
                except ExclusionError as err:
                    raise _exclusion_error(err, f"{item_path}.exclude") from None
        with problems.check():
            _check_override(override, topics, item_path)
            result[detection_id] = override
    return result


def _check_override(override: Mapping[str, Any], topics: list[str] | None, path: str) -> None:
    if "threshold" in override:
        _threshold(override["threshold"], f"{path}.threshold")
    if "period" in override:
        _period(override["period"], f"{path}.period")
    for key in ("evaluationPeriods", "datapointsToAlarm"):
        if key in override:
            _positive_int(override[key], f"{path}.{key}")
    for key, allowed in (("treatMissingData", MISSING_DATA), ("statistic", STATISTICS),
                         ("comparison", COMPARISONS)):
        if key in override:
            _choice(override[key], allowed, f"{path}.{key}")
    if "topic" in override and topics is not None:
        _topic_ref(override["topic"], topics, f"{path}.topic")
    if "description" in override:
        _description(override["description"], f"{path}.description")
    if "metric" in override:
        _metric(override["metric"], f"{path}.metric")
    if "namespace" in override:
        _metric_namespace(override["namespace"], f"{path}.namespace")
    if isinstance(override.get("realtime"), RealtimeOverrideInput) and "regions" in given(override["realtime"]):
        _regions(override["realtime"].regions, f"{path}.realtime.regions")
    _check_alarm_window(override, path)


def _check_alarm_window(override: Mapping[str, Any], path: str) -> None:
    defaults = AlarmSettings()
    period = override.get("period", defaults.period)
    evaluations = override.get("evaluationPeriods", defaults.evaluation_periods)
    datapoints = override.get("datapointsToAlarm", defaults.datapoints_to_alarm)
    if datapoints > evaluations:
        raise ConfigError(
            f"{path}.datapointsToAlarm",
            f"{datapoints} datapoints to alarm is more than the {evaluations} evaluation "
            "period(s); allowed: 1 to evaluationPeriods",
        )
    limit = evaluation_window_limit(period)
    if period * evaluations > limit:
        span = "one day, for a period under an hour" if limit == 86_400 else "seven days"
        raise ConfigError(
            f"{path}.evaluationPeriods",
            f"period {period} s x {evaluations} evaluation periods = {period * evaluations} s, "
            f"over CloudWatch's limit of {limit} s ({span})",
        )


def _custom_detections(raw: list[Any], catalog: Any, path: str, problems: Problems,
                       attributions: dict[str, str] | None = None) -> dict[str, Detection]:
    """Each custom detection through the catalogue's rule book (`detection_from_mapping`);
    `attributions` gets the attribution sentence of each one converted from a Sigma rule."""
    result: dict[str, Detection] = {}
    for index, item in enumerate(raw):
        item_path = f"{path}[{index}]"
        with problems.check():
            custom = decode(item, CustomDetectionInput, item_path)
            if custom.description is not None and "description" in given(custom):
                _description(custom.description, f"{item_path}.description")
            attribution = _source(custom.source, f"{item_path}.source") if "source" in given(custom) else ""
            detection = _custom_detection(custom, item_path)
            for finding in compile_pattern(custom.pattern).warnings:
                problems.warnings.append((f"{item_path}.pattern", f"{finding.code}: {finding.format(custom.pattern)}"))
            if detection.id in catalog.detections or detection.id in result:
                where = "the catalogue" if detection.id in catalog.detections else "customDetections"
                raise ConfigError(f"{item_path}.id", f"duplicate id {detection.id!r}: already in {where}")
            result[detection.id] = detection
            if attribution and attributions is not None:
                attributions[detection.id] = attribution
    return result


def _custom_detection(custom: CustomDetectionInput, path: str) -> Detection:
    """The stack config's shape (`pattern`, `samples: {positives, negatives}` of bare events,
    `description`) adapted to the catalogue's, then built by the shared constructor."""
    data: dict[str, Any] = {
        "id": custom.id, "title": custom.title, "severity": custom.severity, "metric": custom.metric,
        "patterns": {"default": custom.pattern}, "runbook": custom.runbook,
        "why": given(custom).get("description", ""),
        "positives": [{"name": f"positives-{i}", "event": e} for i, e in enumerate(custom.samples.positives)],
        "negatives": [{"name": f"negatives-{i}", "event": e} for i, e in enumerate(custom.samples.negatives)],
    }
    try:
        return detection_from_mapping(data, source="stack config", rules=CUSTOM_RULES, layout=CUSTOM_LAYOUT)
    except CatalogError as err:
        raise ConfigError(f"{path}.{err.field}" if err.field else path, err.problem) from None


def _check_unique_metrics(detections: list[EnabledDetection], overrides: Mapping[str, Any],
                          customs: Mapping[str, Detection]) -> None:
    seen: dict[tuple[str, str], str] = {}
    for detection in detections:
        key = (detection.namespace, detection.metric)
        if key in seen:
            if detection.id in overrides and "metric" in overrides[detection.id]:
                path = _key(f"overrides.{detection.id}.metric")
            elif detection.id in customs:
                path = _key(f"customDetections[{list(customs).index(detection.id)}].metric")
            else:
                path = _key(f"overrides.{seen[key]}.metric")
            raise ConfigError(
                path,
                f"duplicate metric {detection.namespace}/{detection.metric}: used by both "
                f"{seen[key]!r} and {detection.id!r}; each detection needs its own metric",
            )
        seen[key] = detection.id


# --- real-time rules ----------------------------------------------------------------------------


def _realtime(raw: bool | RealtimeInput, overrides: Mapping[str, Mapping[str, Any]],
              detections: list[EnabledDetection], catalog: Any, topics: Mapping[str, TopicConfig],
              region: str | None, problems: Problems) -> RealtimeConfig:
    """Which enabled detections get a real-time rule, in which regions. Chosen by `realtime`
    (`enabled`, then `detections` or every enabled one) and by `overrides.<id>.realtime` (adds or
    removes one). A detection named on its own (an id in `realtime.detections`, an override) must be
    able to have a rule, or the config is refused with why; one chosen by default or by a preset
    without being able to is left out, and `not_realtime` says why (`trailguard check` shows it)."""
    path = _key("realtime")
    errors: list[tuple[str, str]] = []
    if isinstance(raw, bool):
        raw = RealtimeInput(enabled=raw)
    enabled = {d.id: d for d in detections}
    chosen: dict[str, None] = {}
    named: dict[str, str] = {}  # id -> the key that names it on its own
    if raw.enabled:
        if "detections" in given(raw):
            for index, name in enumerate(raw.detections):
                item = f"{path}.detections[{index}]"
                if name in catalog.presets:
                    chosen.update(dict.fromkeys(i for i in catalog.presets[name] if i in enabled))
                elif name in enabled:
                    chosen[name] = None
                    named.setdefault(name, item)
                elif name in catalog.detections:
                    errors.append((item, f"{name!r} is not enabled, so it has no alarm to mirror; enable it "
                                         f"in {_key('detections')} first"))
                else:
                    errors.append((item, unknown_name("detection id or preset", name, [*catalog.presets, *enabled])))
        else:
            chosen.update(dict.fromkeys(enabled))
    per_detection: dict[str, tuple[str, ...]] = {}
    for detection_id, override in overrides.items():
        setting = override.get("realtime")
        if setting is None or detection_id not in enabled:
            continue
        on = setting if isinstance(setting, bool) else setting.enabled
        if not on:
            chosen.pop(detection_id, None)
            continue
        chosen[detection_id] = None
        named[detection_id] = _key(f"overrides.{detection_id}.realtime")
        if isinstance(setting, RealtimeOverrideInput) and "regions" in given(setting):
            per_detection[detection_id] = tuple(setting.regions)
    if not raw.enabled:
        unused = [key for key in ("detections", "regions") if key in given(raw)
                  and (key == "detections" or not chosen)]
        if unused:
            problems.warnings.append((f"{path}.enabled", (
                f"is false, so {' and '.join(unused)} ha{'s' if len(unused) == 1 else 've'} no effect"
                + ("" if chosen else "; set enabled: true to deploy the rules"))))
    default_regions: tuple[str, ...] = ()
    if "regions" in given(raw):
        try:
            default_regions = tuple(_regions(raw.regions, f"{path}.regions"))
        except ConfigError as err:
            errors.extend(err.errors)
    if errors:
        raise ConfigError.of(errors)
    if not chosen:
        return RealtimeConfig()
    if region is None:
        raise ConfigError("aws:region", "real-time rules (trailguard:realtime, overrides.<id>.realtime) need the "
                                        "stack's region, where the alert topics live: pulumi config set aws:region <region>")
    problem = region_problem(region)
    if problem:
        raise ConfigError("aws:region", f"{problem}; real-time rules are homed in the stack's region")
    default_regions = default_regions or (region, GLOBAL_SERVICES_REGION)
    rules, not_realtime = [], {}
    for detection_id in chosen:
        detection = enabled[detection_id]
        verdict = realtime_verdict(detection.pattern, detection.alarm)
        if verdict.pattern is None:
            if detection_id in named:
                errors.append((named[detection_id], f"{detection_id!r} cannot have a real-time rule: "
                                                    f"{verdict.refusal}"))
            else:
                not_realtime[detection_id] = verdict.refusal
            continue
        try:
            _check_realtime_topic(topics[detection.topic], region, detection_id)
        except ConfigError as err:
            errors.extend(e for e in err.errors if e[0] not in {key for key, _ in errors})
            continue
        regions = tuple(dict.fromkeys((region, *per_detection.get(detection_id, default_regions))))
        rules.append(RealtimeRule(id=detection_id, title=detection.title, severity=detection.severity,
                                  topic=detection.topic, regions=regions, event_pattern=verdict.pattern.text,
                                  state=verdict.pattern.rule_state, runbook=detection.runbook,
                                  attribution=detection.attribution))
    if errors:
        raise ConfigError.of(errors)
    for name in sorted({rule.topic for rule in rules}):
        topic = topics[name]
        if not topic.created:
            problems.warnings.append((_key(f"notifications.topics.{name}.arn"), (
                f"real-time rules publish to this existing topic: its policy must let {EVENTS_PRINCIPAL} "
                "sns:Publish (and its KMS key, if encrypted, kms:GenerateDataKey* and kms:Decrypt); trailguard "
                "grants that only on topics it creates")))
    return RealtimeConfig(home_region=region, rules=tuple(rules), not_realtime=not_realtime)



def _check_realtime_topic(topic: TopicConfig, region: str, detection_id: str) -> None:
    """An existing topic a real-time rule notifies must be in the home region: a rule's targets
    are in its own region (event buses apart), and the rule that notifies is the home region's."""
    if topic.created or topic.existing_arn is None:
        return
    topic_region = topic.existing_arn.split(":")[3]
    if topic_region != region:
        raise ConfigError(_key(f"notifications.topics.{topic.name}.arn"), (
            f"is in {topic_region}, but the real-time rule of {detection_id!r} notifies from the stack's region "
            f"{region} and EventBridge rule targets must be in the rule's region; use a topic in {region}, or "
            f"route {detection_id!r} to one (notifications.routing.byDetection)"))


def _regions(raw: Any, path: str) -> list[str]:
    """A non-empty list of distinct AWS Region codes."""
    if not raw:
        raise ConfigError(path, "must list at least one AWS Region code (like us-east-1)")
    seen: list[str] = []
    for index, value in enumerate(raw):
        problem = region_problem(value)
        if problem:
            raise ConfigError(f"{path}[{index}]", problem)
        if value in seen:
            raise ConfigError(f"{path}[{index}]", f"{value!r} is listed twice")
        seen.append(value)
    return seen


# --- notifications --------------------------------------------------------------------------


def _notifications(raw: NotificationsInput, known_ids: list[str], problems: Problems
                   ) -> tuple[dict[str, TopicConfig], str, dict[str, dict[str, str]]]:
    path = _key("notifications")
    if not raw.topics:
        raise ConfigError(f"{path}.topics", "define at least one topic for the alarms to notify")
    topics = {}
    for name, spec in raw.topics.items():
        with problems.check():
            topics[name] = _topic(name, spec, f"{path}.topics.{name}")
    default_topic = ""
    with problems.check():
        if "defaultTopic" in given(raw):
            default_topic = _topic_ref(raw.default_topic, raw.topics, f"{path}.defaultTopic")
        elif len(raw.topics) == 1:
            default_topic = next(iter(raw.topics))
        else:
            raise ConfigError(f"{path}.defaultTopic",
                              f"is required with several topics; one of: {', '.join(raw.topics)}")
    routes = (("bySeverity", "severity", raw.routing.by_severity, [s.value for s in Severity]),
              ("byDetection", "detection id", raw.routing.by_detection, known_ids))
    for key, kind, routing, allowed in routes:
        for name, topic in routing.items():
            with problems.check():
                if name not in allowed:
                    raise ConfigError(f"{path}.routing.{key}.{name}", unknown_name(kind, name, allowed))
                _topic_ref(topic, raw.topics, f"{path}.routing.{key}.{name}")
    return {name: topics[name] for name in raw.topics if name in topics}, default_topic, {"bySeverity": dict(raw.routing.by_severity),
                                   "byDetection": dict(raw.routing.by_detection)}


def _topic(name: str, raw: Any, path: str) -> TopicConfig:
    if not TOPIC_NAME_RE.match(str(name)) or len(str(name)) > MAX_TOPIC_KEY:
        raise ConfigError(path, f"topic name {name!r} must be 1-{MAX_TOPIC_KEY} of A-Z a-z 0-9 - _")
    spec = decode(raw, TopicInput, path)
    if "arn" in given(spec):
        arn = _string(spec.arn, f"{path}.arn")
        if not SNS_TOPIC_ARN_RE.match(arn):
            raise ConfigError(f"{path}.arn", f"{arn!r} is not an SNS topic ARN "
                              "(arn:aws:sns:<region>:<account>:<name>)")
        if spec.subscriptions:
            raise ConfigError(f"{path}.subscriptions", "an existing topic (arn) is managed "
                              "elsewhere; subscribe to it there, or drop arn to create the topic here")
        return TopicConfig(name=name, existing_arn=arn)
    subscriptions: list[Subscription] = []
    for index, item in enumerate(spec.subscriptions):
        item_path = f"{path}.subscriptions[{index}]"
        protocol = _choice(item.protocol, SUBSCRIPTION_PROTOCOLS, f"{item_path}.protocol")
        endpoint = _string(item.endpoint, f"{item_path}.endpoint")
        if endpoint != SECRET_PLACEHOLDER:
            _check_endpoint(protocol, endpoint, f"{item_path}.endpoint")
        subscription = Subscription(protocol=protocol, endpoint=endpoint)
        if subscription in subscriptions:
            raise ConfigError(item_path, f"duplicate subscription {protocol} {endpoint}")
        subscriptions.append(subscription)
    return TopicConfig(name=name, subscriptions=tuple(subscriptions))


def _check_endpoint(protocol: str, endpoint: str, path: str) -> None:
    if protocol == "email":
        if not EMAIL_RE.match(endpoint):
            raise ConfigError(path, f"{endpoint!r} is not an email address (name@example.com)")
    elif protocol == "https":
        parts = urlsplit(endpoint)
        if parts.scheme != "https" or not parts.hostname or any(c.isspace() for c in endpoint):
            raise ConfigError(path, f"{endpoint!r} is not an https:// URL with a host "
                              "(plain http is refused: alerts travel over TLS only)")
    elif not _ENDPOINT_ARNS[protocol].match(endpoint):
        example = {"sqs": "arn:aws:sqs:<region>:<account>:<queue>",
                   "lambda": "arn:aws:lambda:<region>:<account>:function:<name>"}[protocol]
        raise ConfigError(path, f"{endpoint!r} is not an {protocol} ARN ({example})")


def _topic_ref(name: Any, topics: Iterable[str], path: str) -> str:
    """`name`, if it is one of the topics defined under notifications.topics."""
    topics = list(topics)
    name = _string(name, path)
    if name not in topics:
        raise ConfigError(path, unknown_name("topic", name, list(topics)) +
                          "; define it under notifications.topics")
    return name


# --- heartbeat -----------------------------------------------------------------------------------


def _heartbeat(raw: HeartbeatInput, topics: list[str], default_topic: str, custom_ids: list[str],
               path: str) -> HeartbeatConfig:
    """The dead man's switch: every key checked, each error naming its key (`heartbeat.window`)."""
    errors: list[tuple[str, str]] = []
    if not 1 <= raw.interval <= heartbeat_core.MAX_INTERVAL_MINUTES:
        errors.append((f"{path}.interval", f"must be a whole number of minutes from 1 to "
                                           f"{heartbeat_core.MAX_INTERVAL_MINUTES} (the schedule's rate), got {raw.interval}"))
    earliest = raw.interval + heartbeat_core.DELIVERY_ALLOWANCE_MINUTES
    if not earliest <= raw.window <= heartbeat_core.MAX_WINDOW_MINUTES:
        errors.append((f"{path}.window", f"must be a whole number of minutes from interval + "
                                         f"{heartbeat_core.DELIVERY_ALLOWANCE_MINUTES} ({earliest}: one heartbeat plus "
                                         f"CloudTrail's delivery delay) to {heartbeat_core.MAX_WINDOW_MINUTES} "
                                         f"(an alarm period of at most a day), got {raw.window}"))
    topic = default_topic
    if raw.topic is not UNSET:
        try:
            topic = _topic_ref(raw.topic, topics, f"{path}.topic")
        except ConfigError as err:
            errors.extend(err.errors)
    if raw.enabled and heartbeat_core.HEARTBEAT_ID in custom_ids:
        index = custom_ids.index(heartbeat_core.HEARTBEAT_ID)
        errors.append((f"{NAMESPACE}:customDetections[{index}].id",
                       f"{heartbeat_core.HEARTBEAT_ID!r} names the heartbeat's filter and alarm; choose another id "
                       "(or set heartbeat.enabled: false)"))
    if errors:
        raise ConfigError.of(errors)
    return HeartbeatConfig(enabled=raw.enabled, interval_minutes=raw.interval, window_minutes=raw.window,
                           topic=topic)


# --- trail ----------------------------------------------------------------------------------


def _trail(raw: TrailInput, path: str) -> TrailConfig:
    existing = raw.existing_log_group_name
    if raw.create:
        if existing is not None:
            raise ConfigError(f"{path}.existingLogGroupName",
                              "is only used with create: false (an existing trail's log group)")
    else:
        if existing is None:
            raise ConfigError(f"{path}.existingLogGroupName",
                              "is required with create: false: the log group the existing trail delivers to")
        existing = _string(existing, f"{path}.existingLogGroupName")
        problem = log_group_name_problem(existing)
        if problem:
            raise ConfigError(f"{path}.existingLogGroupName", problem)
        if raw.organization:
            raise ConfigError(f"{path}.organization", "applies only when this stack creates the "
                              "trail (create: true)")
    organization_id = raw.organization_id
    if raw.organization:
        if organization_id is None:
            raise ConfigError(f"{path}.organizationId", "is required for an organization trail "
                              "(o-xxxxxxxxxx): the delivery role is scoped to its log streams")
        if not ORGANIZATION_ID_RE.match(organization_id):
            raise ConfigError(f"{path}.organizationId",
                              f"{organization_id!r} is not an organization id (o- then 10-32 of a-z 0-9)")
    elif organization_id is not None:
        raise ConfigError(f"{path}.organizationId", "is only used with organization: true")
    retention = raw.retention_days
    if retention not in RETENTION_DAYS:
        raise ConfigError(f"{path}.retentionDays", f"{retention!r} is not a CloudWatch Logs "
                          f"retention; allowed: {', '.join(map(str, RETENTION_DAYS))}")
    if retention < MIN_RETENTION_DAYS:
        raise ConfigError(f"{path}.retentionDays", f"{retention} days is under the {MIN_RETENTION_DAYS} "
                          "days CIS and Security Hub (CloudWatch.16) require for audit logs")
    return TrailConfig(
        create=raw.create,
        existing_log_group_name=existing,
        organization=raw.organization,
        organization_id=organization_id,
        retention_days=retention,
        bucket_encryption=_choice(raw.bucket_encryption, BUCKET_ENCRYPTIONS, f"{path}.bucketEncryption"),
        log_group_kms=raw.log_group_kms,
    )


# --- scalars --------------------------------------------------------------------------------


def _tags(raw: Mapping[str, Any], path: str, problems: Problems) -> dict[str, str]:
    allowed = MAX_TAGS_PER_RESOURCE - DETECTION_TAGS
    if len(raw) > allowed:
        raise ConfigError(path, f"{len(raw)} tags; AWS allows {MAX_TAGS_PER_RESOURCE} per resource and "
                          f"trailguard adds {DETECTION_TAGS}, so at most {allowed}")
    tags = {}
    for key, value in raw.items():
        with problems.check():
            tags[str(key)] = _tag(str(key), value, f"{path}.{key}")
    return tags


def _tag(key: str, value: Any, path: str) -> str:
    if not 1 <= len(key) <= MAX_TAG_KEY or key.lower().startswith(RESERVED_TAG_PREFIX):
        raise ConfigError(path, f"tag keys are 1-{MAX_TAG_KEY} characters and may not start with "
                          f"{RESERVED_TAG_PREFIX!r}")
    if not isinstance(value, (str, int, float)) or isinstance(value, bool) or len(str(value)) > MAX_TAG_VALUE:
        raise ConfigError(path, f"tag values are strings of up to {MAX_TAG_VALUE} characters, got {_kind(value)}")
    for what, text in (("tag key", key), ("tag value", str(value))):
        problem = tag_text_problem(text)
        if problem:
            raise ConfigError(path, f"{what} {text!r} {problem}")
    return str(value)


def _threshold(value: float, path: str) -> float:
    if not math.isfinite(value):
        raise ConfigError(path, f"must be a finite number >= 0 (a count of matching events), got {value!r}; "
                          "CloudWatch refuses NaN and infinity")
    if value < 0:
        raise ConfigError(path, f"{value:g} is negative; a count of matching events is never "
                          "below 0, so use a threshold >= 0")
    return float(value)


def _period(value: int, path: str) -> int:
    if value <= 0:
        raise ConfigError(path, f"must be a whole number of seconds, got {value!r}")
    problem = alarm_period_problem(value)
    if problem:
        raise ConfigError(path, problem)
    return value


def _positive_int(value: int, path: str) -> int:
    if value < 1:
        raise ConfigError(path, f"must be a whole number >= 1, got {value!r}")
    return value


def _description(value: Any, path: str) -> str:
    value = _string(value, path)
    if len(value) > MAX_ALARM_DESCRIPTION:
        raise ConfigError(path, f"{len(value)} characters; CloudWatch allows {MAX_ALARM_DESCRIPTION}")
    return value


def _metric(value: Any, path: str) -> str:
    value = _string(value, path)
    problem = metric_name_problem(value)
    if problem:
        raise ConfigError(path, problem)
    return value


def _metric_namespace(value: Any, path: str) -> str:
    value = _string(value, path)
    problem = namespace_problem(value)
    if problem:
        raise ConfigError(path, problem)
    return value


def _choice(value: Any, allowed: Iterable[str], path: str) -> str:
    allowed = list(allowed)
    if value not in allowed:
        raise ConfigError(path, unknown_name("value", value, allowed))
    return value


def _string(value: Any, path: str) -> str:
    if not isinstance(value, str) or not value:
        raise ConfigError(path, f"must be a non-empty string, got {value!r}")
    return value
