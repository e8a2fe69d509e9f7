"""monitoring-tampering: every event name the issue lists, by its real event source, fires when it
succeeded and not when it was refused; the pipeline's read-only calls and the trail's own calls
(left to cloudtrail-config-changes) do not fire. EventBridge calls fire only on trailguard's own
real-time rules (`trailguard-*`), read from the request key AWS's API gives each call."""

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
RULE_CHANGES = {"PutRule": "name", "DeleteRule": "name", "DisableRule": "name", "PutTargets": "rule",
                "RemoveTargets": "rule"}
"""The EventBridge calls that delete, disable, rewrite or retarget a rule, and the request key that
names the rule (the API's `Name` / `Rule` member, first letter lower-cased as CloudTrail records it)."""
RULE_READS = {"DescribeRule": "name", "ListTargetsByRule": "rule"}
TRAILGUARD_RULE = "trailguard-prod-root-usage"  # realtime_rule_name("trailguard-prod", "root-usage")


def _event(source: str, name: str, **extra: object) -> dict:
    return {"eventSource": source, "eventName": name, "userIdentity": {"type": "IAMUser"}, **extra}


def _rule_call(name: str, rule: str, *, source: str = "events.amazonaws.com", read_only: bool = False,
               **extra: object) -> dict:
    key = {**RULE_CHANGES, **RULE_READS}[name]
    return _event(source, name, readOnly=read_only, requestParameters={key: rule}, **extra)


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


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("name", RULE_CHANGES)
def test_a_rule_change_fires_on_a_trailguard_rule_only_and_only_when_it_succeeded(profile: str, name: str) -> None:
    pattern = compile_pattern(TAMPERING.pattern_for(profile))
    assert pattern.matches(_rule_call(name, TRAILGUARD_RULE))
    assert pattern.matches(_rule_call(name, "trailguard-dev-iam-policy-changes"))  # every stack's rules
    assert not pattern.matches(_rule_call(name, "orders-nightly-export"))
    assert not pattern.matches(_rule_call(name, "my-trailguard-rule"))  # the prefix, not a substring
    assert not pattern.matches(_rule_call(name, TRAILGUARD_RULE, errorCode="AccessDenied"))
    assert not pattern.matches(_rule_call(name, TRAILGUARD_RULE, source="waf.amazonaws.com"))
    other_key = "rule" if RULE_CHANGES[name] == "name" else "name"
    assert not pattern.matches(_event("events.amazonaws.com", name, readOnly=False,
                                      requestParameters={other_key: "orders-nightly-export",
                                                         "eventBusName": TRAILGUARD_RULE}))


@pytest.mark.parametrize("name", RULE_READS)
def test_reading_a_trailguard_rule_does_not_fire(name: str) -> None:
    pattern = compile_pattern(TAMPERING.pattern_for("default"))
    assert not pattern.matches(_rule_call(name, TRAILGUARD_RULE, read_only=True))


@pytest.mark.parametrize("profile", PROFILES)
def test_each_rule_change_has_samples_for_its_rule_and_others(profile: str) -> None:
    keys = {**RULE_CHANGES, **RULE_READS}

    def calls(samples) -> dict:
        """(call, rule it names, error code) -> event, for the EventBridge samples."""
        return {(e["eventName"], e["requestParameters"][keys[e["eventName"]]], e.get("errorCode")): e
                for e in samples if e["eventSource"] == "events.amazonaws.com"}

    positives = calls(TAMPERING.positives_for(profile))
    negatives = calls(TAMPERING.negatives_for(profile))
    assert {name for name, _, _ in positives} == set(RULE_CHANGES)
    assert all(rule.startswith("trailguard-prod-") and error is None for _, rule, error in positives)
    assert {(name, error) for name, rule, error in negatives if rule.startswith("trailguard-")} >= {
        ("DeleteRule", "AccessDenied"), ("PutTargets", "AccessDenied"), ("DescribeRule", None),
        ("ListTargetsByRule", None)}
    assert {name for name, rule, _ in negatives if not rule.startswith("trailguard-")} == {"PutRule", "RemoveTargets"}
    assert all(e["readOnly"] is False for e in positives.values())


def test_the_request_key_of_each_call_is_the_api_member_that_names_the_rule() -> None:
    """botocore's EventBridge model: PutRule/DeleteRule/DisableRule take `Name`, the target calls `Rule`."""
    import botocore.session

    model = botocore.session.get_session().get_service_model("events")
    for name, key in {**RULE_CHANGES, **RULE_READS}.items():
        members = set(model.operation_model(name).input_shape.members)
        assert key.capitalize() in members, name
        assert ({"Name", "Rule"} - {key.capitalize()}).isdisjoint(members), name


def test_retention_wildcard_is_exactly_the_two_retention_calls() -> None:
    """`"*RetentionPolicy"` stands for PutRetentionPolicy and DeleteRetentionPolicy: no other CloudWatch
    Logs operation ends that way in botocore's model, and the pattern matches both and no read."""
    import botocore.session

    operations = botocore.session.get_session().get_service_model("logs").operation_names
    assert {op for op in operations if op.endswith("RetentionPolicy")} == {"PutRetentionPolicy", "DeleteRetentionPolicy"}
    pattern = compile_pattern(TAMPERING.pattern_for("default"))
    matched = {op for op in operations if pattern.matches(_event("logs.amazonaws.com", op))}
    assert matched == {"DeleteMetricFilter", "PutMetricFilter", "DeleteLogGroup", "PutRetentionPolicy",
                       "DeleteRetentionPolicy", "DisassociateKmsKey"}


@pytest.mark.parametrize("name", ["DeleteEventBus", "PutPermission", "RemovePermission", "TagResource"])
def test_bus_and_tag_calls_are_left_out(name: str) -> None:
    """Bus calls name no rule: left out (see the detection's notes); a rule's tags do not route alerts."""
    event = _event("events.amazonaws.com", name, readOnly=False, requestParameters={"eventBusName": "default"})
    assert not compile_pattern(TAMPERING.pattern_for("default")).matches(event)


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
    deployer_delete = _rule_call("DeleteRule", TRAILGUARD_RULE, userIdentity=by("trailguard-deployer")["userIdentity"])
    assert not pattern.matches(deployer_delete)
    assert pattern.matches(_rule_call("DeleteRule", TRAILGUARD_RULE))
    assert len(deployed.pattern) <= 1024
