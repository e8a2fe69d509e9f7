"""Helpers for tests that run the real program under mocks and inspect what it registered."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from trailguard.check.harness import MockedResource, ProgramRun

PROJECT = Path(__file__).resolve().parents[2]
PROJECT_FILES = ("Pulumi.yaml", "Pulumi.prod.yaml", "Pulumi.dev.yaml", "__main__.py")

TRAIL = "aws:cloudtrail/trail:Trail"
BUCKET = "aws:s3/bucket:Bucket"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
KEY = "aws:kms/key:Key"
TOPIC = "aws:sns/topic:Topic"
TOPIC_POLICY = "aws:sns/topicPolicy:TopicPolicy"
SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription"
FILTER = "aws:cloudwatch/logMetricFilter:LogMetricFilter"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
AUDIT_TRAIL = "trailguard:trail:AuditTrail"
ALERT_TOPIC = "trailguard:alerts:AlertTopic"
DETECTION = "trailguard:detection:Detection"
MONITORING = "trailguard:monitoring:SecurityMonitoring"


def copy_project(destination: Path) -> Path:
    """The program's files (not the library) in `destination`, to edit without touching the repo."""
    for name in PROJECT_FILES:
        shutil.copy(PROJECT / name, destination / name)
    shutil.copytree(PROJECT / "components", destination / "components",
                    ignore=shutil.ignore_patterns("__pycache__"))
    return destination


def with_realtime(destination: Path) -> Path:
    """A copy of the project whose dev stack turns real-time rules on (home eu-west-1, plus
    us-east-1 forwarding to it): the shipped stacks leave them off."""
    import yaml

    project = copy_project(destination)
    stack_file = project / "Pulumi.dev.yaml"
    settings = yaml.safe_load(stack_file.read_text())
    settings["config"]["trailguard:realtime"] = True
    stack_file.write_text(yaml.safe_dump(settings))
    return project


def one(run: ProgramRun, type_token: str, parent_type: str | None = None) -> MockedResource:
    found = [r for r in run.of_type(type_token)
             if parent_type is None or run.get(r.parent).type == parent_type]
    assert len(found) == 1, f"expected one {type_token}, found {[r.name for r in found]}"
    return found[0]


def policy(resource: MockedResource, key: str = "policy") -> dict[str, Any]:
    text = resource.inputs[key]
    assert isinstance(text, str) and text.startswith("{"), f"{resource.name}.{key} is not known: {text!r}"
    return json.loads(text)


def statement(document: dict[str, Any], sid: str) -> dict[str, Any]:
    matches = [s for s in document["Statement"] if s.get("Sid") == sid]
    assert len(matches) == 1, f"statement {sid} in {[s.get('Sid') for s in document['Statement']]}"
    return matches[0]
