"""Which detections fire on real CloudTrail events: the Stratus Red Team detonation logs in
../shared/data/cloudtrail/ (310 events, see its SOURCES.md). The expected counts were established by
reading the events, not by running the patterns; each is explained below."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from trailguard.catalog import PROFILES, load_catalog
from trailguard.patterns import compile_pattern

DATA = Path(__file__).parents[3] / "shared" / "data" / "cloudtrail"

# default profile: detection id -> events that fire. Detections not listed fire on none of the 310.
EXPECTED_DEFAULT = {
    # ec2-user-data.json: StartInstances and StopInstances. The one RunInstances
    # (ec2-launch-unusual-instances.json) failed with Client.UnauthorizedOperation.
    "ec2-instance-changes": 2,
    # AttachUserPolicy (iam-create-admin-user), AttachRolePolicy (iam-create-backdoor-role), plus the
    # seed's CreateUser (iam-create-admin-user) and UpdateAssumeRolePolicy (iam-backdoor-role).
    "iam-policy-changes": 4,
    # ec2-security-group-open-port-22-ingress.json: AuthorizeSecurityGroupIngress.
    "security-group-changes": 1,
    # 46 Client.UnauthorizedOperation (GetPasswordData x30, DescribeInstanceAttribute x15, RunInstances)
    # and 5 AccessDenied (AssumeRole x4, LeaveOrganization); none from log delivery, none HeadBucket.
    "unauthorized-api-calls": 51,
    # console-login-without-mfa.json: an IAM user's successful sign-in with MFAUsed No.
    "console-signin-without-mfa": 1,
    # DeleteTrail, StopLogging, and PutEventSelectors (management events switched off).
    "cloudtrail-config-changes": 3,
    # organizations-leave.json: LeaveOrganization was denied (AccessDenied), so nothing changed.
    "organizations-changes": 0,
}
# securityhub profile: differs where the exact CIS strings have fewer event names.
EXPECTED_SECURITYHUB = {
    **EXPECTED_DEFAULT,
    "iam-policy-changes": 2,  # only the two Attach*Policy calls are in CloudWatch.4's list
    "cloudtrail-config-changes": 2,  # CloudWatch.5 has no PutEventSelectors
}
EXPECTED = {"default": EXPECTED_DEFAULT, "securityhub": EXPECTED_SECURITYHUB}


def _events() -> list[dict]:
    events = []
    for path in sorted(DATA.rglob("*.json")):
        events.extend(json.loads(path.read_text(encoding="utf-8")))
    return events


@pytest.fixture(scope="module")
def real_events() -> list[dict]:
    if not DATA.is_dir():
        pytest.skip(f"{DATA} is absent: real-event counts are checked only beside ../shared")
    events = _events()
    assert len(events) == 310, "the shared data set changed; re-establish the expected counts"
    return events


@pytest.mark.parametrize("profile", PROFILES)
def test_detections_on_real_events(real_events: list[dict], profile: str) -> None:
    catalog = load_catalog()
    fired = Counter()
    for detection in catalog.detections.values():
        pattern = compile_pattern(detection.pattern_for(profile))
        fired[detection.id] = sum(pattern.matches(event) for event in real_events)
    print(f"\n{profile}: " + ", ".join(f"{i}={n}" for i, n in fired.items() if n))
    expected = {i: EXPECTED[profile].get(i, 0) for i in catalog.detections}
    assert dict(fired) == expected
