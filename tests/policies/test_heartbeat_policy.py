"""The pack with prod's config (`requireHeartbeat: true`) judges the heartbeat's chain: the real
program under mocks passes; removing its alarm, moving its filter to another log group, widening its
pattern, turning its alarm into an ordinary one or switching it off is a mandatory violation."""

from __future__ import annotations

import dataclasses

import pytest

from tests.policies.test_end_to_end import MODES, PREFIX, changed, judge, run_with_config, setter, summary
from trailguard.check.harness import ProgramRun, run_program

from tests.policies.test_end_to_end import LAYOUT, analyzer  # noqa: F401  (the fixture)

HEARTBEAT = f"{PREFIX}-heartbeat"
FILTER = f"aws:cloudwatch/logMetricFilter:LogMetricFilter::{HEARTBEAT}-filter"
ALARM = f"aws:cloudwatch/metricAlarm:MetricAlarm::{HEARTBEAT}-alarm"


@pytest.fixture(scope="module")
def runs() -> dict[str, ProgramRun]:
    return {mode: run_program(LAYOUT, "prod", preview=mode == "preview") for mode in MODES}


def without(run: ProgramRun, name: str) -> ProgramRun:
    kept = [r for r in run.resources if r.name != name]
    assert len(kept) == len(run.resources) - 1
    return dataclasses.replace(run, resources=kept)


@pytest.mark.parametrize("mode", MODES)
def test_prod_heartbeat_passes(mode, runs, analyzer):
    assert not [v for v in judge(runs[mode], analyzer) if "heartbeat" in v.message]


@pytest.mark.parametrize("mode", MODES)
def test_alarm_removed(mode, runs, analyzer):
    violations = judge(without(runs[mode], f"{HEARTBEAT}-alarm"), analyzer)
    assert summary(violations) == [("required-detections", "mandatory", FILTER)]
    assert violations[0].message == (
        f"required heartbeat: no alarm watches the heartbeat metric 'CISBenchmark/TrailguardHeartbeat' of metric "
        f"filter '{HEARTBEAT}-filter': nobody hears that the heartbeat stopped")


@pytest.mark.parametrize("mode", MODES)
def test_filter_on_another_log_group(mode, runs, analyzer):
    violations = judge(changed(runs[mode], f"{HEARTBEAT}-filter", setter(logGroupName="/somewhere/else"),
                               {"logGroupName": []}), analyzer)
    assert summary(violations) == [("required-detections", "mandatory", FILTER)]
    assert violations[0].message == (
        f"required heartbeat: metric filter '{HEARTBEAT}-filter' is on log group '/somewhere/else', which is "
        "neither a log group of this stack nor listed in externalLogGroups")


@pytest.mark.parametrize("mode", MODES)
def test_filter_widened_to_every_generate_random(mode, runs, analyzer):
    widened = '{ ($.eventSource = "kms.amazonaws.com") && ($.eventName = "GenerateRandom") }'
    violations = judge(changed(runs[mode], f"{HEARTBEAT}-filter", setter(pattern=widened)), analyzer)
    assert summary(violations) == [("required-detections", "mandatory", "stack")]
    assert violations[0].message.startswith(
        "required heartbeat: no metric filter in the stack matches exactly the heartbeat event { ($.eventSource")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("key", "value", "fragment"), [
    ("treatMissingData", "notBreaching", "has treatMissingData 'notBreaching'; it must be 'breaching'"),
    ("comparisonOperator", "GreaterThanOrEqualToThreshold", "it must be 'LessThanThreshold'"),
    ("threshold", 0, "has threshold 0.0; it must be 1"),
])
def test_alarm_that_would_not_fire_on_silence(mode, key, value, fragment, runs, analyzer):
    violations = judge(changed(runs[mode], f"{HEARTBEAT}-alarm", setter(**{key: value})), analyzer)
    assert summary(violations) == [("required-detections", "mandatory", ALARM)]
    assert fragment in violations[0].message


@pytest.mark.parametrize("mode", MODES)
def test_heartbeat_switched_off(mode, analyzer):
    violations = judge(run_with_config(mode, heartbeat={"enabled": False}), analyzer)
    assert summary(violations) == [("required-detections", "mandatory", "stack")]
    assert "no EventBridge Scheduler schedule of the stack calls kms:generateRandom" in violations[0].message


@pytest.mark.parametrize("mode", MODES)
def test_schedule_disabled(mode, runs, analyzer):
    violations = judge(changed(runs[mode], f"{HEARTBEAT}-schedule", setter(state="DISABLED")), analyzer)
    assert summary(violations) == [("required-detections", "mandatory",
                                    f"aws:scheduler/schedule:Schedule::{HEARTBEAT}-schedule")]
