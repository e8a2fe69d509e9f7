"""Builders for hand-written CloudTrail management events (shapes from AWS's CloudTrail record docs)."""

from __future__ import annotations

from typing import Any

ACCOUNT = "111122223333"


def event(name: str, source: str = "ec2.amazonaws.com", *, identity: str = "IAMUser", **extra: Any) -> dict:
    """A successful management event by an IAM user, with `extra` top-level fields merged in."""
    ev: dict[str, Any] = {
        "eventVersion": "1.09",
        "userIdentity": {
            "type": identity,
            "principalId": "AIDAEXAMPLEPRINCIPAL",
            "arn": f"arn:aws:iam::{ACCOUNT}:user/alice" if identity == "IAMUser" else f"arn:aws:iam::{ACCOUNT}:root",
            "accountId": ACCOUNT,
            "accessKeyId": "AKIAIOSFODNN7EXAMPLE",
        },
        "eventTime": "2026-11-02T10:15:00Z",
        "eventSource": source,
        "eventName": name,
        "awsRegion": "eu-west-1",
        "sourceIPAddress": "198.51.100.7",
        "userAgent": "aws-cli/2.17.0",
        "requestParameters": {},
        "responseElements": None,
        "requestID": "3e4f0b8c-0000-4000-8000-000000000001",
        "eventID": "9a1b2c3d-0000-4000-8000-000000000002",
        "readOnly": False,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": ACCOUNT,
        "eventCategory": "Management",
    }
    if identity == "IAMUser":
        ev["userIdentity"]["userName"] = "alice"
    ev.update(extra)
    return ev


def console_login(*, mfa: str = "No", success: bool = True, identity: str = "IAMUser") -> dict:
    ev = event("ConsoleLogin", "signin.amazonaws.com", identity=identity,
               additionalEventData={"LoginTo": "https://console.aws.amazon.com/", "MobileVersion": "No",
                                    "MFAUsed": mfa},
               responseElements={"ConsoleLogin": "Success" if success else "Failure"})
    ev["eventType"] = "AwsConsoleSignIn"
    if not success:
        ev["errorMessage"] = "Failed authentication"
    return ev
