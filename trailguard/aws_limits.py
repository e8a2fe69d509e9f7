"""AWS's own rules for every name, quota and character set trailguard checks, in one place.

Each rule cites the API reference field (or quota page) it comes from, so a rule can be checked
against AWS's text and changed in one place. Validators here return a problem sentence (saying
what is allowed) or None; callers add the config key or catalogue field the value came from.
Rules that are trailguard's choices rather than AWS's (kebab-case ids, the 365-day audit floor)
live with the code that makes the choice.
"""

from __future__ import annotations

import re
import unicodedata

# --- CloudWatch alarms (PutMetricAlarm request parameters) ---------------------------------------

MAX_ALARM_NAME = 255
"""PutMetricAlarm AlarmName: length 1-255, UTF-8 without ASCII control characters."""

MAX_ALARM_DESCRIPTION = 1024
"""PutMetricAlarm AlarmDescription: length 0-1024."""

SUB_MINUTE_PERIODS: tuple[int, ...] = (10, 20, 30)
"""PutMetricAlarm Period: "Valid values are 10, 20, 30, and any multiple of 60"."""

MAX_EVALUATION_WINDOW_SECONDS = 604_800
"""PutMetricAlarm Period: Period x EvaluationPeriods can't be more than 604,800 s (seven days)..."""

MAX_SHORT_PERIOD_WINDOW_SECONDS = 86_400
"""...and for a period under one hour (3,600 s), not more than 86,400 s (one day)."""

LONG_PERIOD_SECONDS = 3_600
"""The period from which the seven-day evaluation window applies (PutMetricAlarm Period)."""

# --- CloudWatch metrics ----------------------------------------------------------------------------

MAX_METRIC_NAME = 255
"""PutMetricAlarm MetricName: length 1-255; PutMetricFilter MetricTransformation.metricName: at most
255, pattern `[^:*$]*`. trailguard keeps to letters, digits, `_`, `.` and `-`, a subset of both."""

METRIC_NAME_RE = re.compile(r"^[A-Za-z0-9_.\-]{1,%d}\Z" % MAX_METRIC_NAME)

MAX_NAMESPACE = 255
"""PutMetricAlarm Namespace: length 1-255, pattern `[^:].*`; PutMetricFilter
MetricTransformation.metricNamespace: at most 255, pattern `[^:*$]*` (no `:`, `*` or `$` anywhere);
CloudWatch concepts, Namespaces: ASCII letters, digits, `.`, `-`, `_`, `/`, `#`, `:` and space. The
set below is what all three allow (so `Security Alarms`, not `Security:Alarms`)."""

NAMESPACE_RE = re.compile(r"^[A-Za-z0-9_.\-/# ]{1,%d}\Z" % MAX_NAMESPACE)
"""Letters, digits and `. - _ / #`: within both patterns above (CloudWatch's namespace concepts
page also allows `:` and space; the metric filter refuses `:`, so trailguard does too)."""

RESERVED_NAMESPACE_PREFIX = "AWS/"
"""PutMetricData Namespace: "You cannot specify a namespace that begins with AWS/"."""

# --- CloudWatch Logs -------------------------------------------------------------------------------

MAX_LOG_GROUP_NAME = 512
"""CreateLogGroup logGroupName: length 1-512, pattern `[\\.\\-_/#A-Za-z0-9]+`."""

LOG_GROUP_NAME_RE = re.compile(r"^[.\-_/#A-Za-z0-9]{1,%d}\Z" % MAX_LOG_GROUP_NAME)

MAX_METRIC_FILTERS_PER_LOG_GROUP = 100
"""CloudWatch Logs quotas: "Metric filters: 100 per log group. This quota can't be changed"."""

RETENTION_DAYS: tuple[int, ...] = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
)
"""PutRetentionPolicy retentionInDays: the possible values, exactly these."""

# --- SNS ---------------------------------------------------------------------------------------------

MAX_TOPIC_NAME = 256
"""SNS CreateTopic Name: ASCII letters, digits, `_` and `-`, 1-256 characters."""

TOPIC_NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,%d}\Z" % MAX_TOPIC_NAME)

# --- ARNs, accounts and subscription endpoints -----------------------------------------------------

ACCOUNT_ID_RE = re.compile(r"^[0-9]{12}\Z")
"""An AWS account id: exactly 12 ASCII digits (IAM identifiers, "AWS account ID")."""

_ARN_HEAD = r"^arn:aws[a-z-]*:%s:[a-z0-9-]+:[0-9]{12}:"
"""ARN format (IAM identifiers, "ARN format"): `arn:<partition>:<service>:<region>:<account>:`, with
the partitions `aws`, `aws-cn`, `aws-us-gov`... and an ASCII 12-digit account."""

SNS_TOPIC_ARN_RE = re.compile(_ARN_HEAD % "sns" + r"[A-Za-z0-9_-]{1,%d}\Z" % MAX_TOPIC_NAME)
"""An SNS topic ARN: the head above, then a topic name (CreateTopic Name, as TOPIC_NAME_RE)."""

MAX_QUEUE_NAME = 80
"""SQS CreateQueue QueueName: up to 80 of ASCII letters, digits, `-` and `_` (standard queues; an
SNS standard topic cannot deliver to a `.fifo` queue)."""

SQS_QUEUE_ARN_RE = re.compile(_ARN_HEAD % "sqs" + r"[A-Za-z0-9_-]{1,%d}\Z" % MAX_QUEUE_NAME)

MAX_FUNCTION_NAME = 64
"""Lambda CreateFunction FunctionName: 1-64 of ASCII letters, digits, `-` and `_`; an ARN may end in
a `:qualifier` (a version or alias, `[a-zA-Z0-9-_$]+`)."""

LAMBDA_FUNCTION_ARN_RE = re.compile(
    _ARN_HEAD % "lambda" + r"function:[A-Za-z0-9_-]{1,%d}(?::[A-Za-z0-9$_-]+)?\Z" % MAX_FUNCTION_NAME)

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}\Z")
"""SNS Subscribe Endpoint for the `email` protocol is "an email address"; AWS publishes no pattern,
so this is the shape only: one `@`, no whitespace (a YAML `|` block's newline included), a dotted
domain ending in letters."""

ORGANIZATION_ID_RE = re.compile(r"^o-[a-z0-9]{10,32}\Z")
"""Organizations Organization Id: pattern `^o-[a-z0-9]{10,32}$`."""

# --- CloudTrail ------------------------------------------------------------------------------------

TRAIL_NAME_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9]|[._-](?=[A-Za-z0-9])){2,127}\Z")
"""CreateTrail Name: ASCII letters, digits, `.`, `_`, `-`; starts and ends with a letter or digit;
3-128 characters; no adjacent `.`, `_` or `-`; not in IP address format (see `trail_name_problem`)."""

_IP_SHAPED = re.compile(r"^[0-9]{1,3}(?:\.[0-9]{1,3}){3}\Z")

MAX_TRAIL_NAME = 128
"""CreateTrail Name: at most 128 characters (TRAIL_NAME_RE holds the rest)."""

# --- S3 --------------------------------------------------------------------------------------------

MAX_BUCKET_NAME = 63
"""S3 general purpose bucket naming rules: 3-63 characters of lower-case letters, digits, `.` and
`-`; beginning and ending with a letter or digit; no two adjacent periods; not IP-address shaped."""

BUCKET_NAME_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]|\.(?!\.)){1,%d}[a-z0-9]\Z" % (MAX_BUCKET_NAME - 2))

MAX_FILTER_NAME = 512
"""PutMetricFilter filterName: length 1-512, pattern `[^:*]*`."""

# --- IAM and KMS -------------------------------------------------------------------------------------

MAX_ROLE_NAME = 64
"""IAM CreateRole RoleName: length 1-64, pattern `[\\w+=,.@-]+`."""

ROLE_NAME_RE = re.compile(r"^[\w+=,.@-]{1,%d}\Z" % MAX_ROLE_NAME, re.ASCII)

MAX_KMS_ALIAS = 256
"""KMS CreateAlias AliasName: length 1-256, pattern `^[a-zA-Z0-9:/_-]+$`, begins with `alias/`,
and `alias/aws/` is reserved for AWS managed keys."""

KMS_ALIAS_RE = re.compile(r"^alias/[a-zA-Z0-9:/_-]{1,%d}\Z" % (MAX_KMS_ALIAS - len("alias/")))

# --- tags (CloudWatch TagResource, SNS TagResource, the common tagging rules) -------------------------

MAX_TAGS_PER_RESOURCE = 50
"""Tagging best practices, "Tag naming limits and requirements": 50 user tags per resource."""

MAX_TAG_KEY = 128
"""Tag Key: length 1-128, pattern `([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)`."""

MAX_TAG_VALUE = 256
"""Tag Value: length 0-256, same character pattern as the key."""

RESERVED_TAG_PREFIX = "aws:"
"""The `aws:` prefix (any case) is reserved for AWS on tag keys."""

TAG_SYMBOLS = frozenset("_.:/=+-@")
"""The symbols the tag pattern allows besides Unicode letters (L), separators (Z) and numbers (N)."""


# --- validators: None when the value is allowed, else what is wrong and what is allowed --------------


def metric_name_problem(value: str) -> str | None:
    if METRIC_NAME_RE.match(value):
        return None
    return f"{value!r} is not a metric name (1-{MAX_METRIC_NAME} of A-Z a-z 0-9 _ . -)"


def namespace_problem(value: str) -> str | None:
    if NAMESPACE_RE.match(value) and not value.startswith(RESERVED_NAMESPACE_PREFIX):
        return None
    return (f"{value!r} is not a custom metric namespace (1-{MAX_NAMESPACE} of A-Z a-z 0-9 . - _ / # and space, "
            f"not starting with {RESERVED_NAMESPACE_PREFIX!r})")


def log_group_name_problem(value: str) -> str | None:
    if LOG_GROUP_NAME_RE.match(value):
        return None
    return f"{value!r} is not a log group name (1-{MAX_LOG_GROUP_NAME} of A-Z a-z 0-9 _ . - / #)"


def topic_name_problem(value: str) -> str | None:
    if TOPIC_NAME_RE.match(value):
        return None
    return f"{value!r} is not an SNS topic name (1-{MAX_TOPIC_NAME} of A-Z a-z 0-9 _ -)"


def trail_name_problem(value: str) -> str | None:
    if TRAIL_NAME_RE.match(value) and not _IP_SHAPED.match(value):
        return None
    return (f"{value!r} is not a CloudTrail trail name (3-128 of A-Z a-z 0-9 . _ -, starting and ending "
            "with a letter or digit, no two of . _ - side by side, not an IP address)")


def bucket_name_problem(value: str) -> str | None:
    if BUCKET_NAME_RE.match(value) and not _IP_SHAPED.match(value):
        return None
    return (f"{value!r} is not an S3 bucket name (3-{MAX_BUCKET_NAME} of a-z 0-9 . -, starting and ending "
            "with a letter or digit, no '..', not an IP address)")


def filter_name_problem(value: str) -> str | None:
    if 1 <= len(value) <= MAX_FILTER_NAME and not any(c in ":*" for c in value):
        return None
    return f"{value!r} is not a metric filter name (1-{MAX_FILTER_NAME} characters, no ':' or '*')"


def alarm_name_problem(value: str) -> str | None:
    if 1 <= len(value) <= MAX_ALARM_NAME and not any(c < " " or c == "\x7f" for c in value):
        return None
    return f"{value!r} is not an alarm name (1-{MAX_ALARM_NAME} characters, no control characters)"


def role_name_problem(value: str) -> str | None:
    if ROLE_NAME_RE.match(value):
        return None
    return f"{value!r} is not an IAM role name (1-{MAX_ROLE_NAME} of A-Z a-z 0-9 + = , . @ _ -)"


MAX_SCHEDULE_NAME = 64
SCHEDULE_NAME_RE = re.compile(r"^[0-9a-zA-Z_.-]{1,%d}\Z" % MAX_SCHEDULE_NAME)
"""EventBridge Scheduler CreateSchedule `Name`: 1-64 of `[0-9a-zA-Z-_.]`
(https://docs.aws.amazon.com/scheduler/latest/APIReference/API_CreateSchedule.html)."""


def schedule_name_problem(value: str) -> str | None:
    if SCHEDULE_NAME_RE.match(value):
        return None
    return f"{value!r} is not a schedule name (1-{MAX_SCHEDULE_NAME} of A-Z a-z 0-9 - _ .)"


def kms_alias_problem(value: str) -> str | None:
    if KMS_ALIAS_RE.match(value) and not value.startswith("alias/aws/"):
        return None
    return (f"{value!r} is not a KMS alias ('alias/' then A-Z a-z 0-9 : / _ -, at most {MAX_KMS_ALIAS} "
            "characters, not under 'alias/aws/')")


def alarm_period_problem(period: int) -> str | None:
    if period > 0 and (period in SUB_MINUTE_PERIODS or period % 60 == 0):
        return None
    return (f"CloudWatch refuses a period of {period} s; allowed: "
            f"{', '.join(map(str, SUB_MINUTE_PERIODS))} or a multiple of 60")


def evaluation_window_limit(period: int) -> int:
    """The longest period x evaluation periods CloudWatch accepts for an alarm with this period."""
    return MAX_EVALUATION_WINDOW_SECONDS if period >= LONG_PERIOD_SECONDS else MAX_SHORT_PERIOD_WINDOW_SECONDS


def tag_text_problem(text: str) -> str | None:
    """Characters outside the tag pattern `[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*`, or None."""
    bad = sorted({c for c in text if c not in TAG_SYMBOLS and unicodedata.category(c)[0] not in "LZN"})
    if not bad:
        return None
    return (f"has {', '.join(repr(c) for c in bad)}: tags allow letters, digits, spaces and "
            f"{' '.join(sorted(TAG_SYMBOLS))}")


# --- EventBridge and regions (real-time rules, trailguard.realtime) ----------------------------------

MAX_RULE_NAME = 64
RULE_NAME_RE = re.compile(r"^[.\-_A-Za-z0-9]{1,%d}\Z" % MAX_RULE_NAME)
"""EventBridge PutRule `Name`: length 1-64, pattern `[\\.\\-_A-Za-z0-9]+`
(https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutRule.html)."""

MAX_TARGET_ID = 64
TARGET_ID_RE = re.compile(r"^[.\-_A-Za-z0-9]{1,%d}\Z" % MAX_TARGET_ID)
"""EventBridge PutTargets `Target.Id`: length 1-64, pattern `[\\.\\-_A-Za-z0-9]+`
(https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_Target.html)."""

REGION_RE = re.compile(r"^[a-z]{2}(?:-[a-z]+)+-[0-9]{1,2}\Z")
"""An AWS Region code: a two-letter area, one or more lower-case words, a number (`us-east-1`,
`eu-central-2`, `us-gov-west-1`, `ap-southeast-5`), as the Regions listed in the AWS General
Reference ("Service endpoints", Region column) are written. A shape check, not a list: Regions
AWS adds later pass, a typo such as `us-east1` or `US-EAST-1` does not."""


def rule_name_problem(value: str) -> str | None:
    if RULE_NAME_RE.match(value):
        return None
    return f"{value!r} is not an EventBridge rule name (1-{MAX_RULE_NAME} of A-Z a-z 0-9 . - _)"


def region_problem(value: str) -> str | None:
    if isinstance(value, str) and REGION_RE.match(value):
        return None
    return f"{value!r} is not an AWS Region code (like us-east-1, eu-west-2, ap-southeast-1: lower case)"
