"""Stack configs the program must refuse, as data: (config keys to set, key named, message parts).

Shared by the pure validation tests (tests/config) and the program tests (tests/components),
which assert that the same input also registers no resource. Detection ids used here exist in
both the packaged catalogue and `small_catalog()`.
"""

from __future__ import annotations

import pytest


def event(name: str, source: str = "s3.amazonaws.com", **extra) -> dict:
    """A CloudTrail management event with the fields every real one has (custom samples must)."""
    return {"eventVersion": "1.09", "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/alice"},
            "eventTime": "2026-03-14T09:21:07Z", "eventSource": source, "eventName": name,
            "awsRegion": "us-east-1", "eventType": "AwsApiCall", **extra}


def custom(detection_id: str = "s3-public-grant", **fields) -> dict:
    """A valid custom detection, with `fields` replaced."""
    return {
        "id": detection_id,
        "title": "S3 bucket ACL made public",
        "pattern": '{ $.eventName = "PutBucketAcl" }',
        "severity": "high",
        "metric": "S3PublicGrant",
        "samples": {"positives": [event("PutBucketAcl")],
                    "negatives": [event("GetBucketAcl")]},
        **fields,
    }


def many_customs(count: int) -> list[dict]:
    return [custom(f"custom-{i}", metric=f"Custom{i}", pattern=f'{{ $.eventName = "Custom{i}" }}',
                   samples={"positives": [event(f"Custom{i}")]}) for i in range(count)]


TOPICS = {"defaultTopic": "security", "topics": {"security": {"subscriptions": [
    {"protocol": "email", "endpoint": "secops@example.com"}]}}}


def topics_with(subscription: dict) -> dict:
    return {"defaultTopic": "security", "topics": {"security": {"subscriptions": [subscription]}}}


BAD_INPUTS = [
    pytest.param({"detections": ["root-usage", "rot-usage"]}, "trailguard:detections",
                 ["'rot-usage'", "root-usage", "iam-policy-changes", "did you mean 'root-usage'"],
                 id="unknown-detection-id"),
    pytest.param({"customDetections": [custom(pattern='{ $.eventName = "PutBucketAcl" ')]},
                 "trailguard:customDetections[0].pattern",
                 ["invalid filter pattern", '{ $.eventName = "PutBucketAcl" ', "^"],
                 id="invalid-custom-pattern"),
    pytest.param({"customDetections": [custom(samples={"positives": [event("GetBucketAcl")]})]},
                 "trailguard:customDetections[0].samples.positives[0]",
                 ["does not match the pattern"], id="custom-positive-does-not-match"),
    pytest.param({"overrides": {"root-usage": {"threshold": -1}}}, "trailguard:overrides.root-usage.threshold",
                 ["-1 is negative", "threshold >= 0"], id="negative-threshold"),
    pytest.param({"overrides": {"root-usage": {"period": 45}}}, "trailguard:overrides.root-usage.period",
                 ["refuses a period of 45 s", "10, 20, 30 or a multiple of 60"], id="period-refused"),
    pytest.param({"overrides": {"root-usage": {"period": 300, "evaluationPeriods": 300}}},
                 "trailguard:overrides.root-usage.evaluationPeriods",
                 ["90000 s", "86400 s (one day, for a period under an hour)"], id="evaluation-window-over-a-day"),
    pytest.param({"overrides": {"root-usage": {"period": 3600, "evaluationPeriods": 169}}},
                 "trailguard:overrides.root-usage.evaluationPeriods",
                 ["608400 s", "604800 s (seven days)"], id="evaluation-window-over-a-week"),
    pytest.param({"overrides": {"root-usage": {"evaluationPeriods": 2, "datapointsToAlarm": 3}}},
                 "trailguard:overrides.root-usage.datapointsToAlarm",
                 ["3 datapoints to alarm", "2 evaluation", "1 to evaluationPeriods"],
                 id="datapoints-over-evaluation-periods"),
    pytest.param({"notifications": topics_with({"protocol": "email", "endpoint": "secops.example.com"})},
                 "trailguard:notifications.topics.security.subscriptions[0].endpoint",
                 ["'secops.example.com' is not an email address"], id="invalid-email"),
    pytest.param({"notifications": topics_with({"protocol": "https", "endpoint": "http://hooks.example.com/x"})},
                 "trailguard:notifications.topics.security.subscriptions[0].endpoint",
                 ["is not an https:// URL", "plain http is refused"], id="invalid-url"),
    pytest.param({"notifications": TOPICS, "overrides": {"root-usage": {"topic": "pager"}}},
                 "trailguard:overrides.root-usage.topic",
                 ["unknown topic 'pager'", "allowed: security", "notifications.topics"],
                 id="undefined-topic"),
    pytest.param({"customDetections": [custom("root-usage")]}, "trailguard:customDetections[0].id",
                 ["duplicate id 'root-usage'", "catalogue"], id="duplicate-id"),
    pytest.param({"customDetections": [custom(metric="RootAccountUsage")],
                  "detections": ["root-usage"]},
                 "trailguard:customDetections[0].metric",
                 ["duplicate metric CISBenchmark/RootAccountUsage", "'root-usage'", "'s3-public-grant'"],
                 id="duplicate-metric"),
    pytest.param({"customDetections": many_customs(101)}, "trailguard:detections",
                 ["detections enabled", "at most 100 metric filters on one log group"],
                 id="over-100-filters"),
    pytest.param({"overrides": {"iam-policy-changes": {"exclude": [
        {"principal": "arn:aws:iam::111122223333:role/deploy*er"}]}}},
                 "trailguard:overrides.iam-policy-changes.exclude[0].principal",
                 ["'*' inside", "only a leading and/or trailing '*' is a wildcard"], id="exclude-inner-star"),
    pytest.param({"overrides": {"iam-policy-changes": {"exclude": [{"sourceIp": "203.0.113.300"}]}}},
                 "trailguard:overrides.iam-policy-changes.exclude[0].sourceIp",
                 ["not an IPv4 or IPv6 address", "/8, /16 or /24"], id="exclude-bad-ip"),
    pytest.param({"overrides": {"iam-policy-changes": {"exclude": [{"sourceIp": "10.16.0.0/20"}]}}},
                 "trailguard:overrides.iam-policy-changes.exclude[0].sourceIp",
                 ["/20 network cannot be written", "/24 -> 10.1.2.*"], id="exclude-cidr-20"),
    pytest.param({"overrides": {"root-usage": {"exclude": [{"pattern": '$.userAgent = "x" ||'}]}}},
                 "trailguard:overrides.root-usage.exclude[0].pattern",
                 ["is not a JSON-pattern condition", "allowed: a JSON-pattern condition"], id="exclude-invalid-fragment"),
    pytest.param({"overrides": {"root-usage": {"exclude": [{"pattern": '"ERROR" -"Exiting"'}]}}},
                 "trailguard:overrides.root-usage.exclude[0].pattern",
                 ["is not a JSON-pattern condition"], id="exclude-non-json-fragment"),
    pytest.param({"overrides": {"root-usage": {"exclude": [{"userAgent": f"agent-{n}-" + "x" * 230}
                                                           for n in range(4)]}}},
                 "trailguard:overrides.root-usage.exclude",
                 ["over the 1024 CloudWatch Logs allows", "the 4 exclusion(s)"], id="exclude-too-long-after-merge"),
    pytest.param({"overrides": {"root-usage": {"exclude": [{"sourceIP": "203.0.113.7"}]}}},
                 "trailguard:overrides.root-usage.exclude[0].sourceIP",
                 ["unknown exclusion key", "did you mean 'sourceIp'", "principal, sourceIp, userAgent, pattern"],
                 id="exclude-unknown-key"),
    pytest.param({"overrides": {"root-usage": {"exclude": [{"sourceIp": "203.0.113.7", "userAgent": "x"}]}}},
                 "trailguard:overrides.root-usage.exclude[0]",
                 ["exactly one key", "found sourceIp, userAgent"], id="exclude-two-keys"),
    pytest.param({"overrides": {"root-usage": {"exclude": {"sourceIp": "203.0.113.7"}}}},
                 "trailguard:overrides.root-usage.exclude",
                 ["must be a list of exclusions"], id="exclude-not-a-list"),
    pytest.param({"overrides": {"root-usage": {"threshold": float("nan")}}},
                 "trailguard:overrides.root-usage.threshold",
                 ["must be a finite number >= 0", "got nan"], id="nan-threshold"),
    pytest.param({"overrides": {"root-usage": {"threshold": float("inf")}}},
                 "trailguard:overrides.root-usage.threshold",
                 ["must be a finite number >= 0", "got inf"], id="inf-threshold"),
    pytest.param({"notifications": topics_with({"protocol": "email", "endpoint": "secops@example.com\n"})},
                 "trailguard:notifications.topics.security.subscriptions[0].endpoint",
                 ["'secops@example.com\\n' is not an email address"], id="email-trailing-newline"),
    pytest.param({"notifications": topics_with({"protocol": "sqs",
                                                "endpoint": "arn:aws:sqs:us-east-1:\u0661\u0661\u0661\u0661"
                                                            "\u0662\u0662\u0662\u0662\u0663\u0663\u0663\u0663:q"})},
                 "trailguard:notifications.topics.security.subscriptions[0].endpoint",
                 ["is not an sqs ARN", "arn:aws:sqs:<region>:<account>:<queue>"], id="arn-non-ascii-digits"),
    pytest.param({"notifications": {"topics": {"pager": {"arn": "arn:aws:sns:us-east-1:111122223333:pager\n"}}}},
                 "trailguard:notifications.topics.pager.arn",
                 ["is not an SNS topic ARN"], id="topic-arn-trailing-newline"),
    pytest.param({"trail": {"organization": True, "organizationId": "o-abcdef1234\n"}},
                 "trailguard:trail.organizationId",
                 ["is not an organization id"], id="organization-id-trailing-newline"),
    pytest.param({"trail": {"create": False, "existingLogGroupName": "aws-controltower/CloudTrailLogs\n"}},
                 "trailguard:trail.existingLogGroupName",
                 ["is not a log group name"], id="log-group-trailing-newline"),
]
