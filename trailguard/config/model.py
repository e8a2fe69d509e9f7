"""Validated stack config as frozen records: what the program deploys, decided before it deploys.

`load_stack_config` (in `trailguard.config.validate`) builds these from the raw `trailguard:` keys;
the Pulumi components only read them, so every decision about names, topics and alarm settings
is made (and tested) in plain Python.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Mapping

from trailguard.alarms import AlarmSettings
from trailguard.catalog.model import Detection, Severity

NAMESPACE = "trailguard"
"""Pulumi config namespace (the project name in `Pulumi.yaml`)."""

SECRET_PLACEHOLDER = "<secret>"
"""What an encrypted `secure:` value reads as offline: `trailguard check` has no key to decrypt it."""

SUBSCRIPTION_PROTOCOLS: tuple[str, ...] = ("email", "https", "sqs", "lambda")
BUCKET_ENCRYPTIONS: tuple[str, ...] = ("kms", "s3")
MAX_FILTERS_PER_LOG_GROUP = 100  # CloudWatch Logs quota, "can't be changed"
MIN_RETENTION_DAYS = 365  # CIS 3.x / Security Hub CloudWatch.16: keep audit logs a year
RETENTION_DAYS: tuple[int, ...] = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
)  # the values CloudWatch Logs PutRetentionPolicy accepts


class ConfigError(ValueError):
    """Stack config the program refuses to deploy; `key` is the dotted config path at fault."""

    def __init__(self, key: str, message: str) -> None:
        self.key = key
        self.message = message
        super().__init__(f"{key}: {message}")


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
    """One detection as this stack deploys it: pattern for the profile, alarm settings, topic."""

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

    def __post_init__(self) -> None:
        object.__setattr__(self, "topics", MappingProxyType(dict(self.topics)))
        object.__setattr__(self, "tags", MappingProxyType(dict(self.tags)))

    def detection(self, detection_id: str) -> EnabledDetection:
        for enabled in self.detections:
            if enabled.id == detection_id:
                return enabled
        raise KeyError(detection_id)
