"""AWS's naming rules as `trailguard.aws_limits` states them: each validator on both sides of its rule."""

from __future__ import annotations

import pytest

from trailguard import aws_limits as limits


@pytest.mark.parametrize(("name", "ok"), [
    ("abc", True), ("My.Trail_1-x", True), ("a" * 128, True),
    ("ab", False), ("a" * 129, False), ("-abc", False), ("abc.", False), ("my--trail", False),
    ("my-_trail", False), ("192.168.5.4", False), ("my trail", False), ("mytrail\n", False),
])
def test_trail_names(name: str, ok: bool) -> None:
    """CreateTrail Name: 3-128 of letters, digits . _ -; letter or digit at both ends; no adjacent
    . _ -; not IP-shaped."""
    assert (limits.trail_name_problem(name) is None) is ok


@pytest.mark.parametrize(("check", "good", "bad"), [
    (limits.metric_name_problem, "RootAccountUsage", "Root:Usage"),
    (limits.namespace_problem, "CIS/Benchmark#1", "AWS/Logs"),
    (limits.namespace_problem, "Security", "Security:Trail"),
    (limits.namespace_problem, "Security Alarms", "Security$Alarms"),
    (limits.namespace_problem, "Security", "Security\n"),  # a YAML `|` block's trailing newline
    (limits.metric_name_problem, "RootAccountUsage", "RootAccountUsage\n"),
    (limits.log_group_name_problem, "/aws/cloudtrail/prod", "/aws/cloudtrail/prod\n"),
    (limits.topic_name_problem, "security-alerts", "security-alerts\n"),
    (limits.log_group_name_problem, "/aws/cloudtrail/prod#1", "/aws/cloudtrail/prod:x"),
    (limits.topic_name_problem, "security-alerts_1", "security.alerts"),
    (limits.topic_name_problem, "t" * 256, "t" * 257),
    (limits.role_name_problem, "trailguard+cw=,.@-_", "role/with/slash"),
    (limits.kms_alias_problem, "alias/trailguard/prod", "alias/aws/s3"),
    (limits.kms_alias_problem, "alias/x", "trailguard"),
    (limits.bucket_name_problem, "trailguard-prod-audit-bucket-0a1b2c3", "trailguard-Prod-audit-bucket"),
    (limits.bucket_name_problem, "trail.guard-1", "trailguard_prod-bucket"),
    (limits.bucket_name_problem, "a" * 63, "a" * 64),
    (limits.bucket_name_problem, "a.b.c", "a..b"),
    (limits.bucket_name_problem, "abc", "192.168.5.4"),
    (limits.filter_name_problem, "trailguard-prod-root-usage", "trailguard:prod"),
    (limits.filter_name_problem, "f" * 512, "f" * 513),
    (limits.alarm_name_problem, "a" * 255, "a" * 256),
    (limits.alarm_name_problem, "trailguard-prod root usage", "trailguard-prod\n"),
])
def test_name_rules(check, good: str, bad: str) -> None:
    assert check(good) is None
    problem = check(bad)
    assert problem is not None and repr(bad) in problem


@pytest.mark.parametrize(("period", "ok"), [(10, True), (20, True), (30, True), (60, True), (86_400, True),
                                            (0, False), (45, False), (90, False)])
def test_alarm_periods(period: int, ok: bool) -> None:
    assert (limits.alarm_period_problem(period) is None) is ok


def test_evaluation_window_is_a_day_under_an_hour_and_a_week_from_an_hour() -> None:
    assert limits.evaluation_window_limit(3_599) == 86_400
    assert limits.evaluation_window_limit(3_600) == 604_800


def test_tag_text_allows_unicode_letters_digits_spaces_and_the_listed_symbols() -> None:
    assert limits.tag_text_problem("Équipe sécurité 1 _.:/=+-@") is None
    assert "'#'" in limits.tag_text_problem("team#1")


ARABIC_INDIC_ACCOUNT = "\u0661" * 12  # `\\d` matches these; AWS account ids are ASCII digits


@pytest.mark.parametrize(("pattern", "good", "bad"), [
    (limits.EMAIL_RE, "secops@example.com", "secops@example.com\n"),
    (limits.EMAIL_RE, "secops@example.com", "sec ops@example.com"),
    (limits.ACCOUNT_ID_RE, "111122223333", ARABIC_INDIC_ACCOUNT),
    (limits.ACCOUNT_ID_RE, "111122223333", "111122223333\n"),
    (limits.SNS_TOPIC_ARN_RE, "arn:aws:sns:us-east-1:111122223333:pager",
     "arn:aws:sns:us-east-1:111122223333:pager\n"),
    (limits.SNS_TOPIC_ARN_RE, "arn:aws-us-gov:sns:us-gov-west-1:111122223333:p",
     f"arn:aws:sns:us-east-1:{ARABIC_INDIC_ACCOUNT}:pager"),
    (limits.SQS_QUEUE_ARN_RE, "arn:aws:sqs:eu-west-1:111122223333:alerts",
     f"arn:aws:sqs:eu-west-1:{ARABIC_INDIC_ACCOUNT}:alerts"),
    (limits.SQS_QUEUE_ARN_RE, "arn:aws:sqs:eu-west-1:111122223333:" + "q" * 80,
     "arn:aws:sqs:eu-west-1:111122223333:" + "q" * 81),
    (limits.LAMBDA_FUNCTION_ARN_RE, "arn:aws:lambda:eu-west-1:111122223333:function:notify:$LATEST",
     "arn:aws:lambda:eu-west-1:111122223333:function:notify\n"),
    (limits.ORGANIZATION_ID_RE, "o-abcdef1234", "o-abcdef1234\n"),
    (limits.ORGANIZATION_ID_RE, "o-abcdef1234", "o-abcdef\u0661\u0662\u0663\u0664"),
])
def test_identifier_patterns_are_ascii_and_end_at_the_end(pattern, good: str, bad: str) -> None:
    """A trailing newline (a YAML `|` block) or non-ASCII digits are refused, as AWS refuses them."""
    assert pattern.match(good)
    assert not pattern.match(bad)
