"""Raw `trailguard:` stack config -> `StackConfig`, or a `ConfigError` naming the key at fault.

Pure code: it runs in `trailguard check` with no Pulumi at all, and in the program before the
first resource is registered, so a rejected config never deploys half a stack. Checks raise on
the first problem with the dotted key (`trailguard:overrides.root-usage.period`) and what is
allowed; quotas and refusals are CloudWatch's, cited where they come from.
"""

from __future__ import annotations

import difflib
import re
from typing import Any, Iterable, Mapping
from urllib.parse import urlsplit

from trailguard.alarms import (
    COMPARISONS,
    MAX_EVALUATION_WINDOW_SECONDS,
    MISSING_DATA,
    STATISTICS,
    AlarmSettings,
)
from trailguard.catalog.build import CUSTOM_RULES, Layout, detection_from_mapping
from trailguard.catalog.errors import CatalogError
from trailguard.catalog.model import PROFILES, Detection, Severity
from trailguard.config.model import (
    BUCKET_ENCRYPTIONS,
    MAX_FILTERS_PER_LOG_GROUP,
    MIN_RETENTION_DAYS,
    NAMESPACE,
    RETENTION_DAYS,
    SECRET_PLACEHOLDER,
    SUBSCRIPTION_PROTOCOLS,
    ConfigError,
    EnabledDetection,
    StackConfig,
    Subscription,
    TopicConfig,
    TrailConfig,
)

DEFAULT_TOPIC = "security-alerts"

DEFAULTS: Mapping[str, Any] = {
    "detections": ["cis"],
    "profile": "default",
    "namespace": "CISBenchmark",
    "protect": True,
    "overrides": {},
    "customDetections": [],
    "notifications": {"topics": {DEFAULT_TOPIC: {}}, "defaultTopic": DEFAULT_TOPIC},
    "trail": {},
    "tags": {},
}
"""Defaults for every key; `Pulumi.yaml` declares the same values for the typed scalar keys."""

KEY_KINDS: Mapping[str, str] = {
    "detections": "array",
    "profile": "string",
    "namespace": "string",
    "protect": "boolean",
    "overrides": "object",
    "customDetections": "array",
    "notifications": "object",
    "trail": "object",
    "tags": "object",
}
"""The JSON kind of each top-level key: how the engine's string value is decoded."""

OVERRIDE_KEYS = (
    "enabled", "threshold", "period", "evaluationPeriods", "datapointsToAlarm", "treatMissingData",
    "statistic", "comparison", "actionsEnabled", "okActions", "topic", "description", "metric",
    "namespace",
)
CUSTOM_KEYS = ("id", "title", "pattern", "severity", "metric", "samples", "runbook", "description")
SAMPLE_KEYS = ("positives", "negatives")
NOTIFICATION_KEYS = ("topics", "defaultTopic", "routing")
TOPIC_KEYS = ("subscriptions", "arn")
SUBSCRIPTION_KEYS = ("protocol", "endpoint")
ROUTING_KEYS = ("bySeverity", "byDetection")
TRAIL_KEYS = (
    "create", "existingLogGroupName", "organization", "organizationId", "retentionDays",
    "bucketEncryption", "logGroupKms",
)

MAX_ALARM_DESCRIPTION = 1024  # CloudWatch PutMetricAlarm AlarmDescription length
MAX_TAGS = 50
_TOPIC_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_METRIC = re.compile(r"^[A-Za-z0-9_.\-]{1,255}$")
_NAMESPACE = re.compile(r"^[A-Za-z0-9_.\-/#:]{1,255}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
_ARN = {
    "sns": re.compile(r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$"),
    "sqs": re.compile(r"^arn:aws[a-z-]*:sqs:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,80}$"),
    "lambda": re.compile(
        r"^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]{1,64}(?::[A-Za-z0-9$_-]+)?$"
    ),
}
_LOG_GROUP_NAME = re.compile(r"^[A-Za-z0-9_.\-/#]{1,512}$")
_ORG_ID = re.compile(r"^o-[a-z0-9]{10,32}$")


def load_stack_config(raw: Mapping[str, Any], catalog: Any = None) -> StackConfig:
    """Validate the `trailguard:` keys (names without the namespace) against the catalogue."""
    if not isinstance(raw, Mapping):
        raise ConfigError(NAMESPACE, f"stack config must be a mapping of keys, got {_kind(raw)}")
    _reject_unknown_keys(raw, KEY_KINDS, NAMESPACE)
    values = {**DEFAULTS, **{key: value for key, value in raw.items() if value is not None}}
    if catalog is None:
        from trailguard.catalog import load_catalog

        catalog = load_catalog()

    profile = _choice(values["profile"], PROFILES, _key("profile"))
    namespace = _metric_namespace(values["namespace"], _key("namespace"))
    protect = _bool(values["protect"], _key("protect"))
    tags = _tags(values["tags"], _key("tags"))
    trail = _trail(values["trail"], _key("trail"))
    customs = _custom_detections(values["customDetections"], catalog, _key("customDetections"))
    known_ids = [*catalog.detections, *customs]
    topics, default_topic, routing = _notifications(values["notifications"], known_ids)
    overrides = _overrides(values["overrides"], known_ids, topics, _key("overrides"))
    catalog_ids = _resolve_detections(values["detections"], catalog, _key("detections"))

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
        detections.append(_enable(source, custom is not None, profile, namespace, override,
                                  _topic_for(detection_id, source.severity, override, routing,
                                             default_topic)))
    _check_unique_metrics(detections, overrides, customs)
    if len(detections) > MAX_FILTERS_PER_LOG_GROUP:
        raise ConfigError(
            _key("detections"),
            f"{len(detections)} detections enabled, but CloudWatch Logs allows at most "
            f"{MAX_FILTERS_PER_LOG_GROUP} metric filters on one log group (a fixed quota); "
            "disable some with overrides.<id>.enabled: false",
        )
    return StackConfig(profile=profile, namespace=namespace, detections=tuple(detections),
                       topics=topics, trail=trail, protect=protect, tags=tags)


def _key(path: str) -> str:
    return f"{NAMESPACE}:{path}"


def _enable(source: Detection, custom: bool, profile: str, namespace: str,
            override: Mapping[str, Any], topic: str) -> EnabledDetection:
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
        pattern=source.pattern_for(profile),
        alarm=alarm,
        topic=topic,
        custom=custom,
        detection=None if custom else source,
        positives=source.positives_for(profile),
        negatives=source.negatives_for(profile),
        description=override.get("description") or (source.why if custom and source.why
                                                     else _default_description(source)),
        ok_actions=override.get("okActions", False),
    )


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


def _resolve_detections(names: Any, catalog: Any, path: str) -> tuple[str, ...]:
    names = _str_list(names, path)
    from trailguard.catalog import CatalogError

    try:
        return tuple(catalog.resolve(names))
    except CatalogError as err:
        raise ConfigError(path, str(err)) from None


def _overrides(raw: Any, known_ids: list[str], topics: Mapping[str, TopicConfig],
               path: str) -> dict[str, dict[str, Any]]:
    raw = _mapping(raw, path)
    result = {}
    for detection_id, override in raw.items():
        item_path = f"{path}.{detection_id}"
        if detection_id not in known_ids:
            raise ConfigError(item_path, _unknown("detection id", detection_id, known_ids))
        override = _mapping(override, item_path)
        _reject_unknown_keys(override, OVERRIDE_KEYS, item_path)
        checked = dict(override)
        for key in ("enabled", "actionsEnabled", "okActions"):
            if key in override:
                _bool(override[key], f"{item_path}.{key}")
        if "threshold" in override:
            _threshold(override["threshold"], f"{item_path}.threshold")
        if "period" in override:
            _period(override["period"], f"{item_path}.period")
        for key in ("evaluationPeriods", "datapointsToAlarm"):
            if key in override:
                _positive_int(override[key], f"{item_path}.{key}")
        for key, allowed in (("treatMissingData", MISSING_DATA), ("statistic", STATISTICS),
                             ("comparison", COMPARISONS)):
            if key in override:
                _choice(override[key], allowed, f"{item_path}.{key}")
        if "topic" in override:
            _topic_ref(override["topic"], topics, f"{item_path}.topic")
        if "description" in override:
            _description(override["description"], f"{item_path}.description")
        if "metric" in override:
            _metric(override["metric"], f"{item_path}.metric")
        if "namespace" in override:
            _metric_namespace(override["namespace"], f"{item_path}.namespace")
        _check_alarm_window(override, item_path)
        result[detection_id] = checked
    return result


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
    if period * evaluations > MAX_EVALUATION_WINDOW_SECONDS:
        raise ConfigError(
            f"{path}.evaluationPeriods",
            f"period {period} s x {evaluations} evaluation periods = {period * evaluations} s, "
            f"over CloudWatch's limit of {MAX_EVALUATION_WINDOW_SECONDS} s (one day)",
        )


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


def _custom_detections(raw: Any, catalog: Any, path: str) -> dict[str, Detection]:
    """Each custom detection through the catalogue's rule book (`detection_from_mapping`)."""
    if not isinstance(raw, list):
        raise ConfigError(path, f"must be a list of detections, got {_kind(raw)}")
    result: dict[str, Detection] = {}
    for index, item in enumerate(raw):
        item_path = f"{path}[{index}]"
        item = _mapping(item, item_path)
        _reject_unknown_keys(item, CUSTOM_KEYS, item_path)
        for required in ("id", "title", "pattern", "severity", "metric", "samples"):
            if required not in item:
                raise ConfigError(f"{item_path}.{required}", "is required for a custom detection")
        if "description" in item:
            _description(item["description"], f"{item_path}.description")
        detection = _custom_detection(item, item_path)
        if detection.id in catalog.detections or detection.id in result:
            where = "the catalogue" if detection.id in catalog.detections else "customDetections"
            raise ConfigError(f"{item_path}.id", f"duplicate id {detection.id!r}: already in {where}")
        result[detection.id] = detection
    return result


def _custom_detection(item: Mapping[str, Any], path: str) -> Detection:
    """The stack config's shape (`pattern`, `samples: {positives, negatives}` of bare events,
    `description`) adapted to the catalogue's, then built by the shared constructor."""
    samples = _mapping(item["samples"], f"{path}.samples")
    _reject_unknown_keys(samples, SAMPLE_KEYS, f"{path}.samples")
    data: dict[str, Any] = {
        "id": item["id"], "title": item["title"], "severity": item["severity"], "metric": item["metric"],
        "patterns": {"default": item["pattern"]}, "runbook": item.get("runbook", ""),
        "why": item.get("description", ""),
    }
    for kind in SAMPLE_KEYS:
        events = samples.get(kind, [])
        data[kind] = ([{"name": f"{kind}-{index}", "event": event} for index, event in enumerate(events)]
                      if isinstance(events, list) else events)
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


# --- notifications --------------------------------------------------------------------------


def _notifications(raw: Any, known_ids: list[str]
                   ) -> tuple[dict[str, TopicConfig], str, dict[str, dict[str, str]]]:
    path = _key("notifications")
    raw = _mapping(raw, path)
    _reject_unknown_keys(raw, NOTIFICATION_KEYS, path)
    topics_raw = _mapping(raw.get("topics", {}), f"{path}.topics")
    if not topics_raw:
        raise ConfigError(f"{path}.topics", "define at least one topic for the alarms to notify")
    topics = {name: _topic(name, spec, f"{path}.topics.{name}") for name, spec in topics_raw.items()}
    if "defaultTopic" in raw:
        default_topic = _topic_ref(raw["defaultTopic"], topics, f"{path}.defaultTopic")
    elif len(topics) == 1:
        default_topic = next(iter(topics))
    else:
        raise ConfigError(f"{path}.defaultTopic",
                          f"is required with several topics; one of: {', '.join(topics)}")
    routing_raw = _mapping(raw.get("routing", {}), f"{path}.routing")
    _reject_unknown_keys(routing_raw, ROUTING_KEYS, f"{path}.routing")
    by_severity = _mapping(routing_raw.get("bySeverity", {}), f"{path}.routing.bySeverity")
    severities = [s.value for s in Severity]
    for severity, topic in by_severity.items():
        if severity not in severities:
            raise ConfigError(f"{path}.routing.bySeverity.{severity}",
                              _unknown("severity", severity, severities))
        _topic_ref(topic, topics, f"{path}.routing.bySeverity.{severity}")
    by_detection = _mapping(routing_raw.get("byDetection", {}), f"{path}.routing.byDetection")
    for detection_id, topic in by_detection.items():
        if detection_id not in known_ids:
            raise ConfigError(f"{path}.routing.byDetection.{detection_id}",
                              _unknown("detection id", detection_id, known_ids))
        _topic_ref(topic, topics, f"{path}.routing.byDetection.{detection_id}")
    return topics, default_topic, {"bySeverity": dict(by_severity), "byDetection": dict(by_detection)}


def _topic(name: str, spec: Any, path: str) -> TopicConfig:
    if not _TOPIC_NAME.match(str(name)):
        raise ConfigError(path, f"topic name {name!r} must be 1-64 letters, digits, '-' or '_'")
    spec = _mapping(spec if spec is not None else {}, path)
    _reject_unknown_keys(spec, TOPIC_KEYS, path)
    subscriptions_raw = spec.get("subscriptions", [])
    if not isinstance(subscriptions_raw, list):
        raise ConfigError(f"{path}.subscriptions", f"must be a list, got {_kind(subscriptions_raw)}")
    if "arn" in spec:
        arn = _string(spec["arn"], f"{path}.arn")
        if not _ARN["sns"].match(arn):
            raise ConfigError(f"{path}.arn", f"{arn!r} is not an SNS topic ARN "
                              "(arn:aws:sns:<region>:<account>:<name>)")
        if subscriptions_raw:
            raise ConfigError(f"{path}.subscriptions", "an existing topic (arn) is managed "
                              "elsewhere; subscribe to it there, or drop arn to create the topic here")
        return TopicConfig(name=name, existing_arn=arn)
    subscriptions: list[Subscription] = []
    for index, item in enumerate(subscriptions_raw):
        subscription = _subscription(item, f"{path}.subscriptions[{index}]")
        if subscription in subscriptions:
            raise ConfigError(f"{path}.subscriptions[{index}]",
                              f"duplicate subscription {subscription.protocol} {subscription.endpoint}")
        subscriptions.append(subscription)
    return TopicConfig(name=name, subscriptions=tuple(subscriptions))


def _subscription(raw: Any, path: str) -> Subscription:
    raw = _mapping(raw, path)
    _reject_unknown_keys(raw, SUBSCRIPTION_KEYS, path)
    protocol = _choice(raw.get("protocol"), SUBSCRIPTION_PROTOCOLS, f"{path}.protocol")
    endpoint = _string(raw.get("endpoint"), f"{path}.endpoint")
    if endpoint != SECRET_PLACEHOLDER:
        _check_endpoint(protocol, endpoint, f"{path}.endpoint")
    return Subscription(protocol=protocol, endpoint=endpoint)


def _check_endpoint(protocol: str, endpoint: str, path: str) -> None:
    if protocol == "email":
        if not _EMAIL.match(endpoint):
            raise ConfigError(path, f"{endpoint!r} is not an email address (name@example.com)")
    elif protocol == "https":
        parts = urlsplit(endpoint)
        if parts.scheme != "https" or not parts.hostname or any(c.isspace() for c in endpoint):
            raise ConfigError(path, f"{endpoint!r} is not an https:// URL with a host "
                              "(plain http is refused: alerts travel over TLS only)")
    elif not _ARN[protocol].match(endpoint):
        example = {"sqs": "arn:aws:sqs:<region>:<account>:<queue>",
                   "lambda": "arn:aws:lambda:<region>:<account>:function:<name>"}[protocol]
        raise ConfigError(path, f"{endpoint!r} is not an {protocol} ARN ({example})")


def _topic_ref(name: Any, topics: Mapping[str, TopicConfig], path: str) -> str:
    name = _string(name, path)
    if name not in topics:
        raise ConfigError(path, _unknown("topic", name, list(topics)) +
                          "; define it under notifications.topics")
    return name


# --- trail ----------------------------------------------------------------------------------


def _trail(raw: Any, path: str) -> TrailConfig:
    raw = _mapping(raw, path)
    _reject_unknown_keys(raw, TRAIL_KEYS, path)
    defaults = TrailConfig()
    create = _bool(raw.get("create", defaults.create), f"{path}.create")
    organization = _bool(raw.get("organization", defaults.organization), f"{path}.organization")
    existing = raw.get("existingLogGroupName")
    if create:
        if existing is not None:
            raise ConfigError(f"{path}.existingLogGroupName",
                              "is only used with create: false (an existing trail's log group)")
    else:
        if existing is None:
            raise ConfigError(f"{path}.existingLogGroupName",
                              "is required with create: false: the log group the existing trail delivers to")
        existing = _string(existing, f"{path}.existingLogGroupName")
        if not _LOG_GROUP_NAME.match(existing):
            raise ConfigError(f"{path}.existingLogGroupName",
                              f"{existing!r} is not a log group name (1-512 of A-Z a-z 0-9 _ . - / #)")
        if organization:
            raise ConfigError(f"{path}.organization", "applies only when this stack creates the "
                              "trail (create: true)")
    organization_id = raw.get("organizationId")
    if organization:
        if organization_id is None:
            raise ConfigError(f"{path}.organizationId", "is required for an organization trail "
                              "(o-xxxxxxxxxx): the delivery role is scoped to its log streams")
        organization_id = _string(organization_id, f"{path}.organizationId")
        if not _ORG_ID.match(organization_id):
            raise ConfigError(f"{path}.organizationId",
                              f"{organization_id!r} is not an organization id (o- then 10-32 of a-z 0-9)")
    elif organization_id is not None:
        raise ConfigError(f"{path}.organizationId", "is only used with organization: true")
    retention = raw.get("retentionDays", defaults.retention_days)
    if isinstance(retention, bool) or not isinstance(retention, int) or retention not in RETENTION_DAYS:
        raise ConfigError(f"{path}.retentionDays", f"{retention!r} is not a CloudWatch Logs "
                          f"retention; allowed: {', '.join(map(str, RETENTION_DAYS))}")
    if retention < MIN_RETENTION_DAYS:
        raise ConfigError(f"{path}.retentionDays", f"{retention} days is under the {MIN_RETENTION_DAYS} "
                          "days CIS and Security Hub (CloudWatch.16) require for audit logs")
    return TrailConfig(
        create=create,
        existing_log_group_name=existing,
        organization=organization,
        organization_id=organization_id,
        retention_days=retention,
        bucket_encryption=_choice(raw.get("bucketEncryption", defaults.bucket_encryption),
                                  BUCKET_ENCRYPTIONS, f"{path}.bucketEncryption"),
        log_group_kms=_bool(raw.get("logGroupKms", defaults.log_group_kms), f"{path}.logGroupKms"),
    )


# --- scalars --------------------------------------------------------------------------------


def _tags(raw: Any, path: str) -> dict[str, str]:
    raw = _mapping(raw, path)
    if len(raw) > MAX_TAGS - 1:  # one slot is kept for the detection tag
        raise ConfigError(path, f"{len(raw)} tags; AWS allows {MAX_TAGS} per resource and "
                          f"trailguard adds one, so at most {MAX_TAGS - 1}")
    tags = {}
    for key, value in raw.items():
        key = str(key)
        if not 1 <= len(key) <= 128 or key.lower().startswith("aws:"):
            raise ConfigError(f"{path}.{key}", "tag keys are 1-128 characters and may not start with 'aws:'")
        if not isinstance(value, (str, int, float)) or isinstance(value, bool) or len(str(value)) > 256:
            raise ConfigError(f"{path}.{key}",
                              f"tag values are strings of up to 256 characters, got {_kind(value)}")
        tags[key] = str(value)
    return tags


def _threshold(value: Any, path: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(path, f"must be a number, got {_kind(value)}")
    if value < 0:
        raise ConfigError(path, f"{value} is negative; a count of matching events is never "
                          "below 0, so use a threshold >= 0")
    return float(value)


def _period(value: Any, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ConfigError(path, f"must be a whole number of seconds, got {value!r}")
    if value not in (10, 30) and value % 60:
        raise ConfigError(path, f"CloudWatch refuses a period of {value} s; allowed: 10, 30 "
                          "or a multiple of 60")
    return value


def _positive_int(value: Any, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(path, f"must be a whole number >= 1, got {value!r}")
    return value


def _description(value: Any, path: str) -> str:
    value = _string(value, path)
    if len(value) > MAX_ALARM_DESCRIPTION:
        raise ConfigError(path, f"{len(value)} characters; CloudWatch allows {MAX_ALARM_DESCRIPTION}")
    return value


def _metric(value: Any, path: str) -> str:
    value = _string(value, path)
    if not _METRIC.match(value):
        raise ConfigError(path, f"{value!r} is not a metric name (1-255 of A-Z a-z 0-9 _ . -)")
    return value


def _metric_namespace(value: Any, path: str) -> str:
    value = _string(value, path)
    if not _NAMESPACE.match(value) or value.startswith("AWS/"):
        raise ConfigError(path, f"{value!r} is not a custom metric namespace "
                          "(1-255 of A-Z a-z 0-9 . - _ / # :, not starting with 'AWS/')")
    return value


def _choice(value: Any, allowed: Iterable[str], path: str) -> str:
    allowed = list(allowed)
    if value not in allowed:
        raise ConfigError(path, _unknown("value", value, allowed))
    return value


def _bool(value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(path, f"must be true or false, got {value!r}")
    return value


def _string(value: Any, path: str, *, allow_empty: bool = False) -> str:
    if not isinstance(value, str) or (not value and not allow_empty):
        raise ConfigError(path, f"must be a non-empty string, got {value!r}")
    return value


def _str_list(value: Any, path: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(path, f"must be a list of detection ids or presets, got {value!r}")
    return value


def _mapping(value: Any, path: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        hint = " (an encrypted secure: value can't be read offline)" if value == SECRET_PLACEHOLDER else ""
        raise ConfigError(path, f"must be a mapping, got {_kind(value)}{hint}")
    return value


def _reject_unknown_keys(raw: Mapping[str, Any], allowed: Iterable[str], path: str) -> None:
    allowed = list(allowed)
    for key in raw:
        if key not in allowed:
            where = f"{path}:{key}" if path == NAMESPACE else f"{path}.{key}"
            raise ConfigError(where, _unknown("key", key, allowed))


def _unknown(what: str, value: Any, allowed: list[str]) -> str:
    message = f"unknown {what} {value!r}; allowed: {', '.join(map(str, allowed))}"
    nearest = difflib.get_close_matches(str(value), [str(a) for a in allowed], n=1)
    if nearest:
        message += f"; did you mean {nearest[0]!r}?"
    return message


def _kind(value: Any) -> str:
    return {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean",
            int: "a number", float: "a number", type(None): "nothing"}.get(type(value), type(value).__name__)
