"""monitoring-tampering: every event name the issue lists, by its real event source, fires when it
succeeded and not when it was refused; the pipeline's read-only calls and the trail's own calls
(left to cloudtrail-config-changes) do not fire."""

from __future__ import annotations

import pytest

from trailguard.catalog import PROFILES, load_catalog
from trailguard.patterns import compile_pattern

CATALOG = load_catalog()
TAMPERING = CATALOG.get("monitoring-tampering")

CHANGES = {
    "logs.amazonaws.com": ("DeleteMetricFilter", "PutMetricFilter", "DeleteLogGroup", "PutRetentionPolicy",
                           "DeleteRetentionPolicy", "DisassociateKmsKey"),
    "monitoring.amazonaws.com": ("DeleteAlarms", "PutMetricAlarm", "DisableAlarmActions", "SetAlarmState"),
    "sns.amazonaws.com": ("DeleteTopic", "Unsubscribe", "SetTopicAttributes", "RemovePermission"),
    "scheduler.amazonaws.com": ("DeleteSchedule", "UpdateSchedule"),
}
NAMES = [(source, name) for source, names in CHANGES.items() for name in names]


def _event(source: str, name: str, **extra: object) -> dict:
    return {"eventSource": source, "eventName": name, "userIdentity": {"type": "IAMUser"}, **extra}


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize(("source", "name"), NAMES)
def test_each_change_has_a_positive_and_a_refused_negative_sample(profile: str, source: str, name: str) -> None:
    positives = list(TAMPERING.positives_for(profile))
    negatives = list(TAMPERING.negatives_for(profile))
    assert any(e["eventSource"] == source and e["eventName"] == name and "errorCode" not in e for e in positives)
    assert any(e["eventSource"] == source and e["eventName"] == name and e.get("errorCode") == "AccessDenied"
               for e in negatives)


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize(("source", "name"), NAMES)
def test_pattern_fires_on_success_only_and_only_from_its_source(profile: str, source: str, name: str) -> None:
    pattern = compile_pattern(TAMPERING.pattern_for(profile))
    assert pattern.matches(_event(source, name))
    assert not pattern.matches(_event(source, name, errorCode="AccessDenied"))
    others = [s for s in CHANGES if s != source]
    assert not any(pattern.matches(_event(other, name)) for other in others)


@pytest.mark.parametrize("name", ["CreateTrail", "UpdateTrail", "DeleteTrail", "StartLogging", "StopLogging",
                                  "PutEventSelectors"])
def test_trail_calls_stay_with_cloudtrail_config_changes(name: str) -> None:
    event = _event("cloudtrail.amazonaws.com", name)
    assert not compile_pattern(TAMPERING.pattern_for("default")).matches(event)
    assert compile_pattern(CATALOG.get("cloudtrail-config-changes").pattern_for("default")).matches(event)


def test_is_critical_and_in_the_assurance_and_all_presets() -> None:
    assert TAMPERING.severity.value == "critical"
    assert "monitoring-tampering" in CATALOG.presets["assurance"]
    assert "monitoring-tampering" in CATALOG.presets["all"]


def test_prod_excludes_only_the_deploying_role():
    from trailguard.config import load_stack_config, read_stack_config
    from tests.components.program_runs import PROJECT

    deployed = load_stack_config(read_stack_config(PROJECT, "prod")).detection("monitoring-tampering")
    pattern = compile_pattern(deployed.pattern)

    def by(role: str) -> dict:
        return _event("monitoring.amazonaws.com", "PutMetricAlarm", userIdentity={
            "type": "AssumedRole", "arn": f"arn:aws:sts::111122223333:assumed-role/{role}/session",
            "sessionContext": {"sessionIssuer": {"type": "Role", "arn": f"arn:aws:iam::111122223333:role/{role}"}}})

    assert not pattern.matches(by("trailguard-deployer"))
    assert pattern.matches(by("trailguard-deployer-copy"))
    assert pattern.matches(by("AWSReservedSSO_AdministratorAccess_1a2b3c4d5e6f7a8b"))
    assert pattern.matches(_event("monitoring.amazonaws.com", "PutMetricAlarm"))
    assert len(deployed.pattern) <= 1024
