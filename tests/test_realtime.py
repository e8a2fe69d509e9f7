"""trailguard.realtime: which alarms a per-event rule can stand for, and the alert message as
EventBridge would fill it in on a catalogue sample."""

from __future__ import annotations

import json

import pytest

from trailguard.alarms import AlarmSettings
from trailguard.catalog import load_catalog
from trailguard.eventbridge import event_for
from trailguard.realtime import (
    ALERT_PATHS,
    TransformerError,
    alert_transformer,
    first_step,
    realtime_verdict,
    render_input_transformer,
    single_event_problem,
)


@pytest.mark.parametrize("settings", [
    AlarmSettings(),
    AlarmSettings(threshold=1, statistic="SampleCount", period=60),
    AlarmSettings(threshold=0.5, comparison="GreaterThanThreshold"),
    AlarmSettings(threshold=1, statistic="Average"),
])
def test_alarms_firing_on_one_event_have_a_real_time_twin(settings):
    assert single_event_problem(settings) is None


@pytest.mark.parametrize("settings, why", [
    (AlarmSettings(threshold=2), "its alarm needs a count >= 2 in 300s; EventBridge fires per event and cannot count"),
    (AlarmSettings(threshold=1, comparison="GreaterThanThreshold"),
     "its alarm needs a count > 1 in 300s; EventBridge fires per event and cannot count"),
    (AlarmSettings(evaluation_periods=3, datapoints_to_alarm=3),
     "its alarm needs 3 of 3 periods of 300s; EventBridge fires per event and cannot count periods"),
    (AlarmSettings(evaluation_periods=2, datapoints_to_alarm=1),
     "its alarm needs 1 of 2 periods of 300s; EventBridge fires per event and cannot count periods"),
    (AlarmSettings(treat_missing_data="breaching"),
     "its alarm also fires when no event arrives (treatMissingData: breaching); EventBridge fires per event that "
     "happens and cannot see absence"),
    (AlarmSettings(comparison="LessThanThreshold"),
     "its alarm fires when events are missing (LessThanThreshold 1); EventBridge fires per event that happens "
     "and cannot see absence"),
])
def test_counting_alarms_are_refused_with_why(settings, why):
    assert single_event_problem(settings) == why
    verdict = realtime_verdict('{ $.eventName = "CreateVpc" }', settings)
    assert verdict.pattern is None and verdict.refusal == why


def test_a_pattern_without_exact_form_is_refused_with_the_compiler_s_reason():
    verdict = realtime_verdict("{ $.eventName = %Create.*% }", AlarmSettings())
    assert verdict.pattern is None and verdict.refusal.startswith(
        "its pattern has no exact EventBridge form: cannot compile to EventBridge (regex)")
    verdict = realtime_verdict('{ $.eventName = "CreateVpc" }', AlarmSettings())
    assert verdict.refusal is None and verdict.pattern.rule_state == "ENABLED"


def test_first_step_is_the_first_item_with_its_wrapped_lines():
    assert first_step("1. Ask who\n   and why.\n2. Then this.") == "1. Ask who and why."
    assert first_step("\n\nOne paragraph\nwrapped.\n\nAnother.") == "One paragraph wrapped."
    assert first_step("") == ""


def root_sample() -> dict:
    detection = load_catalog().get("root-usage")
    return dict(detection.positives_for("default")[0])


def message(paths: dict, template: str, record: dict) -> str:
    """The text SNS delivers: the rendered string template, read as the JSON string it is."""
    return json.loads(render_input_transformer(paths, template, event_for(record)))


def test_the_alert_says_what_who_where_and_what_to_do_on_a_catalogue_sample():
    detection = load_catalog().get("root-usage")
    record = root_sample()
    identity = record["userIdentity"]
    paths, template = alert_transformer(detection.id, detection.title, detection.severity.value, detection.runbook)
    text = message(paths, template, record)
    assert text.startswith(f"trailguard real-time alert: {detection.title} [critical] (root-usage). ")
    assert f"{record['eventName']} ({record['eventSource']}) by {identity['type']} {identity['arn']} " in text
    assert f"from {record['sourceIPAddress']} (user agent {record['userAgent']})" in text
    assert f"account {record['recipientAccountId']}, region {record['awsRegion']}, at {record['eventTime']};" in text
    assert text.endswith(f"Runbook: {first_step(detection.runbook)}")
    error = record.get("errorCode", "")
    assert f"error code (empty when the call succeeded): {error}." in text


def test_a_denied_call_carries_its_error_code_and_a_missing_field_leaves_a_gap():
    record = {**root_sample(), "errorCode": "AccessDenied"}
    record["userIdentity"] = {k: v for k, v in record["userIdentity"].items() if k != "arn"}
    paths, template = alert_transformer("root-usage", "Root used", "critical", "1. Look.")
    text = message(paths, template, record)
    assert "error code (empty when the call succeeded): AccessDenied." in text
    assert f"by {record['userIdentity']['type']}  from " in text  # no arn: nothing, as EventBridge does


def test_fixed_text_cannot_open_a_placeholder_or_close_the_string():
    paths, template = alert_transformer("x", 'Say "<hi>" \\ bye', "low", "1. Run `a <b>`\n")
    assert template.count('"') == 2 and "<hi>" not in template and "<b>" not in template
    text = message(paths, template, root_sample())
    assert "Say '(hi)' / bye [low] (x)." in text and text.endswith("Runbook: 1. Run `a (b)`")


def test_the_alert_paths_are_dot_notation_and_within_eventbridge_s_limits():
    assert len(ALERT_PATHS) <= 100 and not any(name.startswith("aws.") for name in ALERT_PATHS)
    assert all(path.startswith("$.") and "[" not in path for path in ALERT_PATHS.values())


# --- the renderer itself, on EventBridge's documented examples ----------------------------------

EC2_EVENT = {"detail": {"instance-id": "i-0123456789", "state": "RUNNING", "count": 2}}
EC2_PATHS = {"instance": "$.detail.instance-id", "state": "$.detail.state", "count": "$.detail.count"}


def test_a_string_template_puts_values_in_as_text():
    assert render_input_transformer(EC2_PATHS, '"instance <instance> is in <state>"', EC2_EVENT) == \
        '"instance i-0123456789 is in RUNNING"'


def test_a_json_template_puts_values_in_as_json_outside_quotes_and_as_text_inside():
    out = render_input_transformer(EC2_PATHS, '{"instance": <instance>, "n": <count>, "s": "is \\"<state>\\""}',
                                   EC2_EVENT)
    assert json.loads(out) == {"instance": "i-0123456789", "n": 2, "s": 'is "RUNNING"'}


def test_placeholders_without_a_path_are_refused():
    with pytest.raises(TransformerError, match="<nope> has no input path"):
        render_input_transformer(EC2_PATHS, '"<nope>"', EC2_EVENT)
    with pytest.raises(TransformerError, match="filled by EventBridge at delivery"):
        render_input_transformer(EC2_PATHS, '"<aws.events.rule-name>"', EC2_EVENT)
    with pytest.raises(TransformerError, match="dot-notation"):
        render_input_transformer({"x": "$.detail[0]"}, '"<x>"', EC2_EVENT)
    with pytest.raises(TransformerError, match="may not start with 'aws.'"):
        render_input_transformer({"aws.x": "$.detail"}, '"<aws.x>"', EC2_EVENT)


def test_long_fixed_text_is_clipped_inside_eventbridge_s_template_limit():
    from trailguard.realtime import MAX_INPUT_TEMPLATE

    paths, template = alert_transformer("x", "T" * 5000, "low", "1. " + "r" * 20000)
    assert len(template) < MAX_INPUT_TEMPLATE
    text = message(paths, template, root_sample())
    assert "T" * 253 + "..." in text and text.endswith("r...")
