"""The program with real-time rules on, under mocks: rules per region through that region's
provider, forwarding from the other regions, the alert message, and the grants on topic and key."""

from __future__ import annotations

import json

import pytest

from tests.components.program_runs import (
    ALARM,
    ALERT_TOPIC,
    FILTER,
    KEY,
    PROJECT,
    ROLE,
    ROLE_POLICY,
    TOPIC,
    TOPIC_POLICY,
    one,
    policy,
    statement,
)
from trailguard.catalog import load_catalog
from trailguard.check.harness import MOCK_ACCOUNT, UNKNOWN, ProgramRun, run_program
from trailguard.check.layout import ProjectLayout
from trailguard.config import load_engine_config
from trailguard.config.engine import encode_for_engine
from trailguard.config.files import read_project_settings
from trailguard.eventbridge import event_for
from trailguard.realtime import first_step, render_input_transformer

LAYOUT = ProjectLayout.for_repository(PROJECT)
RULE = "aws:cloudwatch/eventRule:EventRule"
TARGET = "aws:cloudwatch/eventTarget:EventTarget"
PROVIDER = "pulumi:providers:aws"
REALTIME = "trailguard:realtime:RealtimeRules"
HOME = "us-east-1"  # aws:region in Pulumi.prod.yaml
OTHER = "eu-central-1"
ON = {"realtime": {"enabled": True, "regions": [HOME, OTHER]}}


def prod_config(overrides: dict):
    settings = read_project_settings(PROJECT, "prod")
    settings.update({f"trailguard:{key}": value for key, value in overrides.items()})
    return load_engine_config(encode_for_engine(settings), "prod")


@pytest.fixture(scope="module", params=[False, True], ids=["update", "preview"])
def prod(request) -> ProgramRun:
    return run_program(LAYOUT, "prod", preview=request.param, config_overrides=ON)


@pytest.fixture(scope="module")
def config():
    return prod_config(ON)


def provider_region(run: ProgramRun, resource) -> str:
    """The region of the explicit provider a resource was registered with."""
    assert resource.provider, f"{resource.name} has no explicit provider"
    return run.get(resource.provider.rsplit("::", 1)[0]).inputs["region"]


def rules_by(run: ProgramRun) -> dict[tuple[str, str], object]:
    """(physical rule name, region) -> the rule."""
    return {(r.inputs["name"], provider_region(run, r)): r for r in run.of_type(RULE)}


def target_of(run: ProgramRun, rule) -> object:
    (target,) = [t for t in run.of_type(TARGET) if t.name == f"{rule.name}-target"]
    return target


def test_each_real_time_detection_has_its_rule_in_every_region_through_that_region_s_provider(prod, config):
    assert config.realtime.rules, "prod with realtime on has rules"
    rules = rules_by(prod)
    assert len(rules) == len(prod.of_type(RULE)) == 2 * len(config.realtime.rules)
    providers = {p.inputs["region"]: p for p in prod.of_type(PROVIDER)}
    assert set(providers) == {HOME, OTHER}
    component = one(prod, REALTIME)
    assert all(p.parent == component.urn for p in providers.values())
    for rule in config.realtime.rules:
        name = f"trailguard-prod-{rule.id}"
        for region in (HOME, OTHER):
            registered = rules[(name, region)]
            assert registered.parent == component.urn
            assert registered.inputs["eventBusName"] == "default"
            assert registered.inputs["eventPattern"] == rule.event_pattern
            assert registered.inputs["state"] == rule.state
            assert registered.inputs["tags"]["trailguard:detection"] == rule.id


def test_rule_states_follow_what_the_pattern_can_match(prod, config):
    states = {rule.id: rule.state for rule in config.realtime.rules}
    assert states["root-usage"] == "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS"
    assert states["iam-policy-changes"] == "ENABLED"
    assert {r.inputs["state"] for r in prod.of_type(RULE)} == set(states.values())


def test_thresholded_prod_detections_keep_their_alarm_and_get_no_rule(prod, config):
    assert set(config.realtime.not_realtime) == {"unauthorized-api-calls", "console-auth-failures"}
    names = {r.inputs["name"] for r in prod.of_type(RULE)}
    assert "trailguard-prod-unauthorized-api-calls" not in names
    alarms = {a.inputs["name"] for a in prod.of_type(ALARM)}
    assert "trailguard-prod-unauthorized-api-calls" in alarms


def test_home_rules_notify_the_detection_s_topic_and_others_forward_to_the_home_bus(prod, config):
    rules = rules_by(prod)
    topic_urns = {prod.get(t.parent).name.removeprefix("trailguard-prod-"): t.urn for t in prod.of_type(TOPIC)}
    role = one(prod, ROLE, REALTIME)
    home_bus = f"arn:aws:events:{HOME}:{MOCK_ACCOUNT}:event-bus/default"
    for rule in config.realtime.rules:
        home = target_of(prod, rules[(f"trailguard-prod-{rule.id}", HOME)])
        assert home.inputs["targetId"] == "trailguard-alert" and "roleArn" not in home.inputs
        assert home.property_dependencies["arn"] == [topic_urns[rule.topic]]
        assert provider_region(prod, home) == HOME
        away = target_of(prod, rules[(f"trailguard-prod-{rule.id}", OTHER)])
        assert away.inputs["targetId"] == "trailguard-forward" and "inputTransformer" not in away.inputs
        assert away.inputs["arn"] == home_bus  # known at preview: built from the account, not an output
        assert away.property_dependencies["roleArn"] == [role.urn]
        assert provider_region(prod, away) == OTHER


def test_the_forwarding_role_is_events_only_and_may_put_events_on_the_home_bus_only(prod):
    role = one(prod, ROLE, REALTIME)
    assert role.inputs["name"] == "trailguard-prod-realtime-forward"
    trust = policy(role, "assumeRolePolicy")
    assert trust["Statement"] == [{"Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
                                   "Action": "sts:AssumeRole",
                                   "Condition": {"StringEquals": {"aws:SourceAccount": MOCK_ACCOUNT}}}]
    permissions = policy(one(prod, ROLE_POLICY, REALTIME))
    assert permissions["Statement"] == [{"Sid": "ForwardToHomeBus", "Effect": "Allow", "Action": "events:PutEvents",
                                         "Resource": f"arn:aws:events:{HOME}:{MOCK_ACCOUNT}:event-bus/default"}]


def test_the_alert_rendered_on_a_catalogue_sample_says_what_happened_and_what_to_do(prod):
    detection = load_catalog().get("root-usage")
    record = dict(detection.positives_for("securityhub")[0])
    (rule,) = [r for r in prod.of_type(RULE) if r.inputs["name"] == "trailguard-prod-root-usage"
               and provider_region(prod, r) == HOME]
    transformer = target_of(prod, rule).inputs["inputTransformer"]
    text = json.loads(render_input_transformer(transformer["inputPaths"], transformer["inputTemplate"],
                                               event_for(record)))
    identity = record["userIdentity"]
    assert text == (
        f"trailguard real-time alert: {detection.title} [critical] (root-usage). {record['eventName']} "
        f"({record['eventSource']}) by {identity['type']} {identity['arn']} from {record['sourceIPAddress']} "
        f"(user agent {record['userAgent']}), account {record['recipientAccountId']}, region {record['awsRegion']}, "
        f"at {record['eventTime']}; error code (empty when the call succeeded): {record.get('errorCode', '')}. "
        f"Runbook: {first_step(detection.runbook)}")


def rule_arns(config, topic: str) -> list[str]:
    return sorted(f"arn:aws:events:{HOME}:{MOCK_ACCOUNT}:rule/trailguard-prod-{rule.id}"
                  for rule in config.realtime.rules_for_topic(topic))


def topic_child(run: ProgramRun, type_token: str, topic: str):
    (found,) = [r for r in run.of_type(type_token) if run.get(r.parent).name == f"trailguard-prod-{topic}"]
    return found


@pytest.mark.parametrize("topic", ["security", "oncall"])
def test_the_topic_policy_lets_exactly_its_rules_publish(prod, config, topic):
    document = policy(topic_child(prod, TOPIC_POLICY, topic))
    grant = statement(document, "EventBridgeRulesPublish")
    assert grant["Principal"] == {"Service": "events.amazonaws.com"} and grant["Action"] == "sns:Publish"
    assert grant["Resource"] == statement(document, "CloudWatchAlarmsPublish")["Resource"]
    assert grant["Condition"] == {"StringEquals": {"aws:SourceAccount": MOCK_ACCOUNT},
                                  "ArnEquals": {"aws:SourceArn": rule_arns(config, topic)}}
    assert statement(document, "DenyInsecureTransport")["Effect"] == "Deny"


@pytest.mark.parametrize("topic", ["security", "oncall"])
def test_the_topic_key_lets_exactly_its_rules_encrypt(prod, config, topic):
    document = policy(topic_child(prod, KEY, topic))
    grant = statement(document, "EventBridgeRulesPublishEncrypted")
    assert grant["Principal"] == {"Service": "events.amazonaws.com"}
    assert sorted(grant["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey*"]
    assert grant["Condition"] == {"StringEquals": {"aws:SourceAccount": MOCK_ACCOUNT},
                                  "ArnEquals": {"aws:SourceArn": rule_arns(config, topic)}}


def test_realtime_is_exported_with_regions_and_states(prod, config):
    exported = prod.outputs["realtime"]
    assert exported["homeRegion"] == HOME
    assert exported["rules"]["root-usage"] == {
        "ruleName": "trailguard-prod-root-usage", "regions": [HOME, OTHER],
        "state": "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS", "topic": "oncall"}
    assert set(exported["rules"]) == {rule.id for rule in config.realtime.rules}


def comparable(run: ProgramRun, type_token: str) -> list[tuple[str, dict]]:
    return sorted((r.urn, r.inputs) for r in run.of_type(type_token))


def test_alarms_and_filters_are_exactly_the_same_with_real_time_on():
    off = run_program(LAYOUT, "prod")
    on = run_program(LAYOUT, "prod", config_overrides=ON)
    for type_token in (ALARM, FILTER):
        assert comparable(on, type_token) == comparable(off, type_token)
    assert not off.of_type(RULE) and not off.of_type(TARGET) and not off.of_type(REALTIME)
    assert not off.of_type(PROVIDER)
    off_policy = policy(topic_child(off, TOPIC_POLICY, "security"))
    assert "EventBridgeRulesPublish" not in [s.get("Sid") for s in off_policy["Statement"]]
    assert "EventBridgeRulesPublishEncrypted" not in [s.get("Sid") for s in policy(topic_child(off, KEY, "security"))["Statement"]]


def test_home_only_needs_no_forwarding_role():
    run = run_program(LAYOUT, "prod", config_overrides={"realtime": {"enabled": True, "regions": [HOME]}})
    assert one(run, REALTIME) and all(run.get(r.parent).type != REALTIME for r in run.of_type(ROLE))
    assert {provider_region(run, r) for r in run.of_type(RULE)} == {HOME}
    assert {t.inputs["targetId"] for t in run.of_type(TARGET)} == {"trailguard-alert"}


def test_an_override_places_one_detection_in_its_own_regions():
    run = run_program(LAYOUT, "dev", config_overrides={"overrides": {"root-usage": {"realtime": {
        "regions": ["ap-southeast-2"]}}}})
    assert sorted((r.inputs["name"], provider_region(run, r)) for r in run.of_type(RULE)) == [
        ("trailguard-dev-root-usage", "ap-southeast-2"), ("trailguard-dev-root-usage", "eu-west-1")]
    (away,) = [t for t in run.of_type(TARGET) if t.inputs["targetId"] == "trailguard-forward"]
    assert away.inputs["arn"] == f"arn:aws:events:eu-west-1:{MOCK_ACCOUNT}:event-bus/default"


def test_an_existing_topic_in_the_home_region_is_the_target_and_is_not_changed():
    arn = f"arn:aws:sns:eu-west-1:{MOCK_ACCOUNT}:security-pager"
    run = run_program(LAYOUT, "dev", config_overrides={
        "notifications": {"topics": {"pager": {"arn": arn}}}, "realtime": {"enabled": True, "regions": ["eu-west-1"]}})
    assert run.children(one(run, ALERT_TOPIC).urn) == []
    assert {t.inputs["arn"] for t in run.of_type(TARGET)} == {arn}


def test_a_rejected_real_time_config_registers_nothing():
    run = run_program(LAYOUT, "prod", raise_errors=False, config_overrides={
        "overrides": {"unauthorized-api-calls": {"threshold": 5, "realtime": True}}})
    assert run.error is not None and "cannot have a real-time rule" in str(run.error)
    assert run.resources == []


def test_preview_knows_every_rule_name_pattern_and_forward_target():
    preview = run_program(LAYOUT, "prod", preview=True, config_overrides=ON)
    assert preview.of_type(RULE)
    for rule in preview.of_type(RULE):
        assert UNKNOWN not in (rule.inputs["name"], rule.inputs["eventPattern"], rule.inputs["state"])
    forwards = [t for t in preview.of_type(TARGET) if t.inputs["targetId"] == "trailguard-forward"]
    assert forwards and all(t.inputs["arn"].startswith("arn:aws:events:") for t in forwards)


def test_names_ids_descriptions_and_templates_are_within_eventbridge_s_limits(prod):
    from trailguard.aws_limits import TARGET_ID_RE, rule_name_problem

    for rule in prod.of_type(RULE):
        assert rule_name_problem(rule.inputs["name"]) is None
        assert len(rule.inputs["description"]) <= 512
        assert json.loads(rule.inputs["eventPattern"])  # PutRule takes the pattern as JSON text
    for target in prod.of_type(TARGET):
        assert TARGET_ID_RE.match(target.inputs["targetId"])
        transformer = target.inputs.get("inputTransformer")
        if transformer:
            assert len(transformer["inputTemplate"]) <= 8192 and len(transformer["inputPaths"]) <= 100
