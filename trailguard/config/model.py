"""Validated stack config as frozen records: what the program deploys, decided before it deploys.

`load_stack_config` (in `trailguard.config.validate`) builds these from the raw `trailguard:` keys;
the Pulumi components only read them, so every decision about names, topics and alarm settings
is made (and tested) in plain Python.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Mapping, Sequence

from trailguard.alarms import AlarmSettings
from trailguard.catalog.model import Detection, Severity
from trailguard.exclusions import Exclusion
from trailguard.heartbeat import HeartbeatConfig

NAMESPACE = "trailguard"
"""Pulumi config namespace (the project name in `Pulumi.yaml`)."""

SECRET_PLACEHOLDER = "<secret>"
"""What an encrypted `secure:` value reads as offline: `trailguard check` has no key to decrypt it."""

SUBSCRIPTION_PROTOCOLS: tuple[str, ...] = ("email", "https", "sqs", "lambda")
BUCKET_ENCRYPTIONS: tuple[str, ...] = ("kms", "s3")
MIN_RETENTION_DAYS = 365  # CIS 3.x / Security Hub CloudWatch.16: keep audit logs a year


class ConfigError(ValueError):
    """Stack config the program refuses to deploy.

    `errors` lists every problem found as (dotted config key, message); `key` and `message` are
    the first of them. One problem reads `key: message`; several are listed one per line.
    `locations` maps a key to where it is written (`Pulumi.dev.yaml line 12`), shown after its
    message; `trailguard check` fills it in from the stack file.
    """

    def __init__(self, key: str, message: str, errors: Sequence[tuple[str, str]] | None = None,
                 locations: Mapping[str, str] | None = None) -> None:
        self.errors: list[tuple[str, str]] = list(errors) if errors else [(key, message)]
        self.key, self.message = self.errors[0]
        self.locations: dict[str, str] = dict(locations or {})
        lines = [f"{k}: {m}" + (f" ({self.locations[k]})" if k in self.locations else "") for k, m in self.errors]
        if len(lines) == 1:
            text = lines[0]
        else:
            text = f"{len(lines)} problems in the stack config:\n" + "\n".join(f"  {line}" for line in lines)
        super().__init__(text)

    @classmethod
    def of(cls, errors: Sequence[tuple[str, str]], locations: Mapping[str, str] | None = None) -> "ConfigError":
        """One error carrying every problem in `errors` (at least one)."""
        return cls(errors[0][0], errors[0][1], errors, locations)


@dataclass(frozen=True, slots=True)
class Subscription:
    """One SNS subscription: `endpoint` is an address, URL or ARN depending on `protocol`."""

    protocol: str
    endpoint: str


@dataclass(frozen=True, slots=True)
class TopicConfig:
    """A named alert destination: a topic this stack creates, or an existing one (`existing_arn`)."""

    name: str
    subscriptions: tuple[Subscription, ...] = ()
    existing_arn: str | None = None

    @property
    def created(self) -> bool:
        return self.existing_arn is None


@dataclass(frozen=True, slots=True)
class TrailConfig:
    """Where the CloudTrail events come from: a trail this stack creates, or an existing log group."""

    create: bool = True
    existing_log_group_name: str | None = None
    organization: bool = False
    organization_id: str | None = None
    retention_days: int = MIN_RETENTION_DAYS
    bucket_encryption: str = "kms"  # "kms": SSE-KMS with a customer key; "s3": SSE-S3
    log_group_kms: bool = True  # encrypt the CloudWatch log group with a customer key


@dataclass(frozen=True, slots=True)
class EnabledDetection:
    """One detection as this stack deploys it: pattern for the profile, alarm settings, topic.

    `pattern` is what the metric filter gets: `reference_pattern` (the catalogue's or custom
    pattern for the profile) narrowed by `exclusions` (`overrides.<id>.exclude`); without
    exclusions the two are the same text.
    """

    id: str
    title: str
    severity: Severity
    metric: str
    namespace: str
    pattern: str
    alarm: AlarmSettings
    topic: str
    custom: bool
    detection: Detection | None
    positives: tuple[Mapping[str, Any], ...]
    negatives: tuple[Mapping[str, Any], ...]
    description: str = ""
    ok_actions: bool = False
    reference_pattern: str = ""
    exclusions: tuple[Exclusion, ...] = ()
    runbook: str = ""
    """The detection's runbook (the first line goes into real-time alert messages)."""
    attribution: str = ""
    """For a custom detection converted from a Sigma rule: `Based on Sigma <id> by <author>, <link>
    ...`, which `description` (the alarm's) always ends with."""

    def __post_init__(self) -> None:
        if not self.reference_pattern:
            object.__setattr__(self, "reference_pattern", self.pattern)


@dataclass(frozen=True, slots=True)
class RealtimeRule:
    """One detection delivered in real time: the same rule (`event_pattern`, compiled from the
    detection's deployed pattern, exclusions included) on the default event bus of every region in
    `regions` (the home region first). In the home region it notifies `topic`; elsewhere it forwards
    the event to the home region's default bus."""

    id: str
    title: str
    severity: Severity
    topic: str
    regions: tuple[str, ...]
    event_pattern: str
    state: str
    """`ENABLED`, or `ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS` when read-only events can match."""
    runbook: str = ""
    attribution: str = ""
    """A Sigma-derived detection's attribution (Detection Rule License 1.1: messages based on the
    rule's matches keep its author), carried into the alert message."""


@dataclass(frozen=True, slots=True)
class RealtimeConfig:
    """`trailguard:realtime` and `overrides.<id>.realtime`, resolved against the enabled detections.

    `home_region` is the stack's region (`aws:region`), where the alert topics live; `rules` are the
    detections with a real-time rule; `not_realtime` says, per enabled detection without one that was
    considered (selected by default or by a preset), why not. Off (no rules) unless asked for."""

    home_region: str | None = None
    rules: tuple[RealtimeRule, ...] = ()
    not_realtime: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "not_realtime", MappingProxyType(dict(self.not_realtime)))

    @property
    def enabled(self) -> bool:
        return bool(self.rules)

    @property
    def regions(self) -> tuple[str, ...]:
        """Every region with at least one rule, the home region first."""
        seen: dict[str, None] = {}
        for rule in self.rules:
            seen.update(dict.fromkeys(rule.regions))
        return tuple(seen)

    def rules_for_topic(self, topic: str) -> tuple[RealtimeRule, ...]:
        return tuple(rule for rule in self.rules if rule.topic == topic)


@dataclass(frozen=True, slots=True)
class StackConfig:
    """Everything the program needs, validated; building resources from it cannot fail on config."""

    profile: str
    namespace: str
    detections: tuple[EnabledDetection, ...]
    topics: Mapping[str, TopicConfig]
    trail: TrailConfig
    protect: bool
    tags: Mapping[str, str] = field(default_factory=dict)
    heartbeat: HeartbeatConfig = HeartbeatConfig(enabled=False)
    """The dead man's switch; `load_stack_config` turns it on unless `heartbeat.enabled` is false."""
    realtime: RealtimeConfig = RealtimeConfig()
    """Real-time EventBridge rules beside the alarms (`trailguard:realtime`); off by default."""
    warnings: tuple[tuple[str, str], ...] = ()
    """(config key, message) for config that is valid but probably not what was meant: settings
    with no effect, lint findings on a custom pattern. Shown by `check`, logged by the program;
    they never stop a deployment."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "topics", MappingProxyType(dict(self.topics)))
        object.__setattr__(self, "tags", MappingProxyType(dict(self.tags)))

    def detection(self, detection_id: str) -> EnabledDetection:
        for enabled in self.detections:
            if enabled.id == detection_id:
                return enabled
        raise KeyError(detection_id)
