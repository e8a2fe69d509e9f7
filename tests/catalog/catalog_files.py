"""Build small catalogues on disk for loader tests: one valid detection, then one defect at a time."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml


def cloudtrail_event(name: str = "CreatePolicy", source: str = "iam.amazonaws.com", **extra: Any) -> dict[str, Any]:
    """A minimal but complete-looking CloudTrail management event."""
    return {
        "eventVersion": "1.09",
        "userIdentity": {"type": "IAMUser", "principalId": "AIDAEXAMPLE", "accountId": "111122223333",
                         "arn": "arn:aws:iam::111122223333:user/alice", "userName": "alice"},
        "eventTime": "2026-03-14T09:21:07Z", "eventSource": source, "eventName": name, "awsRegion": "us-east-1",
        "sourceIPAddress": "203.0.113.24", "userAgent": "aws-cli/2.15.30", "requestParameters": None,
        "responseElements": None, "eventType": "AwsApiCall", "recipientAccountId": "111122223333", **extra,
    }


def valid_detection(detection_id: str = "policy-watch", metric: str = "PolicyWatch") -> dict[str, Any]:
    return {
        "id": detection_id,
        "title": "Policy watch",
        "severity": "high",
        "metric": metric,
        "why": "Policies decide who can do what.",
        "runbook": "1. Read requestParameters.policyDocument.",
        "references": [{"framework": "CIS", "version": "1.4.0", "control": "4.4"},
                       {"framework": "SecurityHub", "control": "CloudWatch.4"}],
        "patterns": {"default": "{ ($.eventSource = iam.amazonaws.com) && ($.eventName = CreatePolicy) }",
                     "securityhub": "{($.eventName=CreatePolicy)}"},
        "notes": "",
        "positives": [{"name": "create-policy", "event": cloudtrail_event()}],
        "negatives": [{"name": "get-policy", "event": cloudtrail_event("GetPolicy")},
                      {"name": "organizations-create-policy", "profiles": ["default"],
                       "event": cloudtrail_event("CreatePolicy", "organizations.amazonaws.com")}],
    }


def write_detection(directory: Path, data: Any, stem: str | None = None) -> Path:
    """Write `data` as detections/<stem>.yaml (stem defaults to the id); strings are written verbatim."""
    folder = directory / "detections"
    folder.mkdir(parents=True, exist_ok=True)
    stem = stem or data["id"]
    path = folder / f"{stem}.yaml"
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def write_presets(directory: Path, presets: Any) -> Path:
    path = directory / "presets.yaml"
    path.write_text(presets if isinstance(presets, str) else yaml.safe_dump(presets, sort_keys=False), encoding="utf-8")
    return path


def mutated(change) -> dict[str, Any]:
    """A deep copy of the valid detection after `change(data)` edits it in place."""
    data = copy.deepcopy(valid_detection())
    change(data)
    return data
