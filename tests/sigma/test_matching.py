"""Engine-level sanity: converted patterns count the events the Sigma rule describes, and not the
ones it excludes, judged by the engine's own matcher (the event-level proof against a Sigma
backend is separate). Events are small CloudTrail-shaped dicts written from each rule's meaning."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.sigma.rules import EDGE, SIGMAHQ
from trailguard.patterns import compile_pattern
from trailguard.sigma.convert import convert_paths


def _pattern(path: Path) -> str:
    (conversion,) = convert_paths([path])
    assert conversion.pattern is not None, conversion.refusal
    return conversion.pattern


def _event(**fields) -> dict:
    event = {"eventVersion": "1.08", "eventTime": "2026-12-04T00:00:00Z", "awsRegion": "eu-west-1",
             "sourceIPAddress": "203.0.113.9", "userAgent": "aws-cli/2.15.0", "eventType": "AwsApiCall",
             "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/alice"},
             "eventSource": "iam.amazonaws.com", "eventName": "GetUser"}
    for dotted, value in fields.items():
        *parents, last = dotted.split("__")
        node = event
        for parent in parents:
            node = node.setdefault(parent, {})
        if value is _DROP:
            node.pop(last, None)
        else:
            node[last] = value
    return event


_DROP = object()

CASES = [
    (SIGMAHQ / "aws_root_account_usage.yml", [
        (_event(userIdentity__type="Root", eventName="ConsoleLogin"), True),
        (_event(userIdentity__type="Root", eventType="AwsServiceEvent"), False),
        (_event(userIdentity__type="IAMUser"), False),
    ]),
    (SIGMAHQ / "aws_cloudtrail_bucket_deleted.yml", [
        (_event(eventName="DeleteBucket"), True),  # no errorCode: null in Sigma
        (_event(eventName="DeleteBucket", errorCode=None), True),
        (_event(eventName="DeleteBucket", errorCode="Success"), True),
        (_event(eventName="DeleteBucket", errorCode="AccessDenied"), False),
        (_event(eventName="CreateBucket"), False),
    ]),
    (SIGMAHQ / "aws_susp_saml_activity.yml", [
        (_event(eventSource="sts.amazonaws.com", eventName="AssumeRoleWithSAML"), True),
        (_event(eventSource="iam.amazonaws.com", eventName="UpdateSAMLProvider"), True),
        (_event(eventSource="iam.amazonaws.com", eventName="AssumeRoleWithSAML"), False),
    ]),
    (SIGMAHQ / "aws_console_getsignintoken.yml", [
        (_event(eventSource="signin.amazonaws.com", eventName="GetSigninToken", userAgent="Mozilla/5.0"), True),
        (_event(eventSource="signin.amazonaws.com", eventName="GetSigninToken",
                userAgent="x Jersey/${project.version} y"), False),
    ]),
    (SIGMAHQ / "aws_iam_backdoor_users_keys.yml", [
        (_event(eventName="CreateAccessKey"), True),
        (_event(eventName="CreateAccessKey", userIdentity__arn=_DROP), True),  # not excluded without the field
        (_event(eventName="CreateAccessKey", userIdentity__arn="x responseElements.accessKey.userName"), False),
    ]),
    (EDGE / "cond_not_and.yml", [
        (_event(eventName="ConsoleLogin"), True),
        (_event(eventName="ConsoleLogin", sourceIPAddress="198.51.100.10"), True),
        (_event(eventName="ConsoleLogin", sourceIPAddress="198.51.100.10", userIdentity__userName="breakglass"), False),
        (_event(eventName="ConsoleLogin", userIdentity__userName="breakglass"), True),
    ]),
    (EDGE / "mod_cidr.yml", [
        (_event(sourceIPAddress="10.1.2.3"), True),
        (_event(sourceIPAddress="172.19.255.1"), True),
        (_event(sourceIPAddress="172.20.0.1"), False),
        (_event(sourceIPAddress="192.168.10.1"), False),
        (_event(sourceIPAddress="203.0.113.7"), True),
        (_event(sourceIPAddress="203.0.113.70"), False),
        (_event(sourceIPAddress="AWS Internal"), False),
    ]),
    (EDGE / "wildcard_single.yml", [
        (_event(eventName="DeleteBucket"), True),
        (_event(eventName="DeleteXucket"), True),
        (_event(eventName="Deleteucket"), False),
        (_event(eventName="DeleteBBucket"), False),
    ]),
    (EDGE / "wildcard_inner.yml", [
        (_event(userAgent="aws-cli/2.15.0 Python/3.11.6 Linux"), True),
        (_event(userAgent="AWS-CLI/2 PYTHON/3"), True),  # Sigma is case-insensitive, so is the folded regex
        (_event(userAgent="aws-cli/2 Python/2.7"), False),
        (_event(userAgent="boto3 aws-cli/2 Python/3"), False),  # anchored at the start
    ]),
    (EDGE / "wildcard_escaped.yml", [
        (_event(requestParameters__policyName="*admin?"), True),
        (_event(requestParameters__policyName="*ADMIN?"), True),
        (_event(requestParameters__policyName="xadmin?"), False),
        (_event(requestParameters__policyName="*admins"), False),
    ]),
    (EDGE / "mod_re.yml", [
        (_event(eventName="DeleteUserPolicy", errorMessage="access denied (explicit) by SCP"), True),
        (_event(eventName="DeleteUserPolicy", errorMessage="User is not authorized"), True),
        (_event(eventName="DeleteUserPolicy", errorMessage="denied explicit"), False),
        (_event(eventName="deleteUserPolicy", errorMessage="not authorized"), False),
    ]),
    (EDGE / "null_values.yml", [
        (_event(eventName="AssumeRole", userIdentity__invokedBy="ec2.amazonaws.com"), True),
        (_event(eventName="AssumeRole"), False),  # invokedBy absent: null, excluded
        (_event(eventName="AssumeRole", errorCode="AccessDenied", userIdentity__invokedBy="x"), False),
    ]),
    (EDGE / "mod_exists.yml", [
        (_event(eventName="CreateUser", errorCode="AccessDenied"), True),
        (_event(eventName="CreateUser", errorCode="AccessDenied", userIdentity__invokedBy=None), True),
        (_event(eventName="CreateUser", errorCode="AccessDenied", userIdentity__invokedBy="x.amazonaws.com"), False),
        (_event(eventName="CreateUser"), False),
    ]),
    (EDGE / "boolean_values.yml", [
        (_event(readOnly=False, managementEvent=True), True),
        (_event(readOnly="false", managementEvent=True), False),
        (_event(readOnly=False, managementEvent=True, eventName="ConsoleLogin"), False),
    ]),
    (EDGE / "array_items.yml", [
        (_event(eventName="AuthorizeSecurityGroupIngress",
                requestParameters__ipPermissions={"items": [{"ipProtocol": "tcp"}, {"ipProtocol": "-1"}]}), True),
        (_event(eventName="AuthorizeSecurityGroupIngress",
                requestParameters__ipPermissions={"items": [{"ipProtocol": "tcp"}]}), False),
    ]),
]


@pytest.mark.parametrize(("path", "events"), CASES, ids=[path.name for path, _ in CASES])
def test_the_pattern_counts_what_the_rule_means(path: Path, events: list[tuple[dict, bool]]):
    compiled = compile_pattern(_pattern(path))
    for event, expected in events:
        assert compiled.matches(event) is expected, event
