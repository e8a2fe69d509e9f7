"""The heartbeat's pattern matches the scheduled call as CloudTrail records it, and nothing else: no
sample of the catalogue, no shared real event, not the same call by another principal."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from trailguard import heartbeat
from trailguard.catalog import PROFILES, load_catalog
from trailguard.patterns import compile_pattern

FIXTURE = Path(__file__).parent / "fixtures" / "heartbeat" / "generate-random-by-scheduler.json"
REAL_EVENTS = Path(__file__).parents[2] / "shared" / "data" / "cloudtrail"
ROLE = "trailguard-prod-heartbeat"
PATTERN = compile_pattern(heartbeat.pattern(ROLE))


def scheduled_call() -> dict:
    """KMS GenerateRandom made by EventBridge Scheduler as the heartbeat role: the record's fields
    follow the KMS guide's GenerateRandom entry and the CloudTrail guide's AssumedRole identity."""
    return json.loads(FIXTURE.read_text(encoding="utf-8"))


def test_matches_the_scheduled_call_as_an_object_and_as_the_delivered_json_line():
    event = scheduled_call()
    assert PATTERN.matches(event)
    assert PATTERN.matches(json.dumps(event, separators=(",", ":")))


def test_the_heartbeat_call_is_a_management_event_scheduler_accepts():
    event = scheduled_call()
    assert (event["eventCategory"], event["managementEvent"], event["readOnly"]) == ("Management", True, True)
    assert not heartbeat.is_read_only_action(heartbeat.API_ACTION)
    assert heartbeat.target_arn() == "arn:aws:scheduler:::aws-sdk:kms:generateRandom"
    assert heartbeat.target_arn("aws-cn") == "arn:aws-cn:scheduler:::aws-sdk:kms:generateRandom"


@pytest.mark.parametrize("action", ["getRandomPassword", "describeKey", "listKeys", "batchGetSecretValue",
                                    "lookupEvents", "receiveMessage"])
def test_scheduler_refuses_read_only_prefixes(action):
    assert heartbeat.is_read_only_action(action)


@pytest.mark.parametrize(("path", "value"), [
    (("userIdentity", "sessionContext", "sessionIssuer", "arn"), "arn:aws:iam::111122223333:role/other-role"),
    (("userIdentity", "sessionContext", "sessionIssuer", "arn"),
     "arn:aws:iam::111122223333:role/trailguard-prod-heartbeat-copy"),
    (("userIdentity", "sessionContext", "sessionIssuer", "arn"),
     "arn:aws:iam::111122223333:role/team/trailguard-prod-heartbeat"),
    (("userIdentity", "type"), "IAMUser"),
    (("eventName",), "GenerateDataKey"),
    (("eventSource",), "secretsmanager.amazonaws.com"),
])
def test_does_not_match_the_same_call_by_another_principal_or_another_call(path, value):
    event = scheduled_call()
    target = event
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    assert not PATTERN.matches(event)


def test_another_stack_s_heartbeat_is_not_counted():
    assert not compile_pattern(heartbeat.pattern("trailguard-dev-heartbeat")).matches(scheduled_call())


def test_matches_no_catalogue_sample():
    catalog = load_catalog()
    for detection in catalog.detections.values():
        for profile in PROFILES:
            for event in (*detection.positives_for(profile), *detection.negatives_for(profile)):
                assert not PATTERN.matches(copy.deepcopy(event)), (detection.id, event.get("eventName"))


def test_matches_no_shared_real_event():
    if not REAL_EVENTS.is_dir():
        pytest.skip(f"{REAL_EVENTS} is absent: real events are checked only beside ../shared")
    events = [e for path in sorted(REAL_EVENTS.rglob("*.json")) for e in json.loads(path.read_text("utf-8"))]
    assert len(events) == 310
    assert not any(PATTERN.matches(e) for e in events)
    generate_random = [e for e in events if e.get("eventName") == heartbeat.EVENT_NAME]
    assert not any(PATTERN.matches(e) for e in generate_random)


def test_alarm_text_and_schedule_expression():
    assert heartbeat.alarm_description(30).startswith(
        "no CloudTrail events have reached the log group for 30 minutes: every detection is blind")
    assert heartbeat.schedule_expression(1) == "rate(1 minute)"
    assert heartbeat.schedule_expression(5) == "rate(5 minutes)"
