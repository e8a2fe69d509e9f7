"""deploy/'s drift detection under Pulumi mocks: an hourly DriftSchedule for prod without
auto-remediation, a stack webhook sending drift events to the security channel with its URL
kept secret, and every bad drift config value refused before anything is registered."""

from __future__ import annotations

import pytest
import pulumi_pulumiservice as pulumiservice
import yaml

from tests.delivery.conftest import BASE_CONFIG
from tests.delivery.deploy_harness import DEPLOY_DIR, PROGRAM_MODULES, PROJECT, load_module, \
    run_deploy_program
from tests.delivery.iam_eval import ROOT
from trailguard.check.harness import run_project

WEBHOOK_URL = BASE_CONFIG["driftWebhookUrl"]
DRIFT_FILTERS = ["drift_detected", "drift_detection_failed", "drift_remediation_failed"]


@pytest.fixture(scope="module")
def registered(deploy_config):
    resources, _ = run_deploy_program(deploy_config)
    return resources


def _one(resources, type_token):
    found = [r for r in resources if r.type == type_token]
    assert len(found) == 1, f"expected one {type_token}, got {[r.name for r in found]}"
    return found[0]


def test_prod_is_checked_for_drift_hourly_without_auto_remediation(registered):
    schedule = _one(registered, "pulumiservice:index:DriftSchedule")
    project = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["name"]
    assert schedule.inputs == {"organization": "acme", "project": project, "stack": "prod",
                               "scheduleCron": "0 * * * *", "autoRemediate": False}
    # Drift runs are Deployments: the stack's Deployment settings must exist first.
    settings = _one(registered, "pulumiservice:index:DeploymentSettings")
    assert settings.urn in schedule.dependencies


def test_drift_events_go_to_the_security_channel_webhook_of_the_prod_stack(registered):
    webhook = _one(registered, "pulumiservice:index:Webhook").inputs
    assert (webhook["organizationName"], webhook["projectName"], webhook["stackName"]) == (
        "acme", "trailguard", "prod")
    assert webhook["filters"] == DRIFT_FILTERS
    assert webhook["format"] == "slack" and webhook["active"] is True
    assert "groups" not in webhook, "a group would add every stack event to the channel"
    assert webhook["payloadUrl"] == WEBHOOK_URL


def test_drift_filters_and_formats_are_values_the_installed_provider_defines():
    drift = load_module("drift_detection")
    assert set(drift.DRIFT_WEBHOOK_FILTERS) <= {f.value for f in pulumiservice.WebhookFilters}
    assert set(drift.WEBHOOK_FORMATS) <= {f.value for f in pulumiservice.WebhookFormat}
    assert "pulumi_deployments" not in drift.WEBHOOK_FORMATS  # that one starts deployments


def test_the_webhook_url_is_sent_as_a_secret_and_appears_nowhere_in_plain(deploy_config):
    run = run_project(DEPLOY_DIR, "ops",
                      {f"{PROJECT}:{key}": value for key, value in deploy_config.items()},
                      project=PROJECT, modules=PROGRAM_MODULES)
    webhook = _one(run.resources, "pulumiservice:index:Webhook")
    assert webhook.secret_inputs == ("payloadUrl",)
    others = [r for r in run.resources if r is not webhook]
    assert all(WEBHOOK_URL not in repr(r.inputs) + repr(r.outputs) for r in others)
    assert WEBHOOK_URL not in repr(run.outputs)
    assert run.outputs["driftSchedule"] == "0 * * * *"
    assert run.outputs["driftAutoRemediate"] is False
    settings = load_module("delivery_settings").read_delivery_settings(deploy_config)
    assert WEBHOOK_URL not in repr(settings), "the settings' repr must not print the secret"


def test_the_webhook_url_is_kept_secret_in_the_stored_state(monkeypatch, deploy_config):
    """The provider does not mark payloadUrl secret in its outputs; the program asks for it."""
    from trailguard.check import harness

    secret_outputs = {}
    register = harness._RecordingMonitor.RegisterResource

    def recording(monitor, request):
        secret_outputs[request.type] = list(request.additionalSecretOutputs)
        return register(monitor, request)

    monkeypatch.setattr(harness._RecordingMonitor, "RegisterResource", recording)
    run_deploy_program(deploy_config)
    assert "payloadUrl" in secret_outputs["pulumiservice:index:Webhook"]


def test_schedule_and_format_follow_the_config(deploy_config):
    resources, _ = run_deploy_program({**deploy_config, "driftSchedule": "*/30 6-18 * * 1-5",
                                       "driftWebhookFormat": "ms_teams"})
    assert _one(resources, "pulumiservice:index:DriftSchedule").inputs["scheduleCron"] == (
        "*/30 6-18 * * 1-5")
    assert _one(resources, "pulumiservice:index:Webhook").inputs["format"] == "ms_teams"


def test_auto_remediation_is_allowed_only_outside_prod():
    drift = load_module("drift_detection")
    staging = drift.read_drift_settings({"driftWebhookUrl": WEBHOOK_URL,
                                         "driftAutoRemediate": "true"}, "staging")
    assert staging.auto_remediate is True
    with pytest.raises(drift.DriftConfigError) as err:
        drift.read_drift_settings({"driftWebhookUrl": WEBHOOK_URL, "driftAutoRemediate": True},
                                  "prod")
    assert "trailguard-deploy:driftAutoRemediate" in str(err.value)
    assert "refused for production" in str(err.value) and "false (the default)" in str(err.value)


@pytest.mark.parametrize("override, key, allowed", [
    ({"driftSchedule": "0 * * *"}, "driftSchedule", "with 4 fields; expected a cron expression of 5"),
    ({"driftSchedule": "0 * * * * *"}, "driftSchedule", "with 6 fields"),
    ({"driftSchedule": "60 * * * *"}, "driftSchedule", "the minute field '60'"),
    ({"driftSchedule": "0 24 * * *"}, "driftSchedule", "numbers 0-23"),
    ({"driftSchedule": "0 * 0 * *"}, "driftSchedule", "numbers 1-31"),
    ({"driftSchedule": "0 18-6 * * *"}, "driftSchedule", "the hour field '18-6'"),
    ({"driftSchedule": "*/0 * * * *"}, "driftSchedule", "steps /n"),
    ({"driftSchedule": "@hourly"}, "driftSchedule", "5 fields"),
    ({"driftAutoRemediate": "true"}, "driftAutoRemediate", "refused for production"),
    ({"driftAutoRemediate": "sometimes"}, "driftAutoRemediate", "true or false"),
    ({"driftWebhookUrl": None}, "driftWebhookUrl", "is required; set it with `pulumi config set "
                                                   "--secret"),
    ({"driftWebhookUrl": "http://hooks.example.com/s3cr3t"}, "driftWebhookUrl",
     "has http:// (value not shown, it is a secret); expected an https:// URL"),
    ({"driftWebhookUrl": "hooks.example.com/s3cr3t"}, "driftWebhookUrl", "has no scheme"),
    ({"driftWebhookUrl": "https:///s3cr3t"}, "driftWebhookUrl", "with a host"),
    ({"driftWebhookFormat": "teams"}, "driftWebhookFormat", "one of slack, ms_teams, raw"),
])
def test_bad_drift_config_names_the_key_and_what_is_allowed_and_registers_nothing(
        override, key, allowed, deploy_config):
    config = {k: v for k, v in {**deploy_config, **override}.items() if v is not None}
    resources, error = run_deploy_program(config, raise_errors=False)
    assert isinstance(error, ValueError), error
    assert f"trailguard-deploy:{key}" in str(error) and allowed in str(error), str(error)
    assert "s3cr3t" not in str(error), "the secret URL must not be echoed"
    assert resources == []


def test_project_and_example_stack_declare_the_drift_keys_with_the_code_defaults():
    drift = load_module("drift_detection")
    declared = yaml.safe_load((DEPLOY_DIR / "Pulumi.yaml").read_text())["config"]
    assert declared["driftSchedule"]["default"] == drift.DEFAULT_DRIFT_SCHEDULE == "0 * * * *"
    assert declared["driftAutoRemediate"]["default"] is False
    assert declared["driftWebhookFormat"]["default"] == drift.DEFAULT_WEBHOOK_FORMAT
    assert declared["driftWebhookUrl"]["secret"] is True and "default" not in declared[
        "driftWebhookUrl"]
    example = yaml.safe_load((DEPLOY_DIR / "Pulumi.ops.yaml").read_text())["config"]
    drift_keys = {k.split(":", 1)[1]: v for k, v in example.items() if ":drift" in k}
    assert "driftWebhookUrl" not in drift_keys, "the URL is set with --secret, not in plain"
    settings = drift.read_drift_settings({**drift_keys, "driftWebhookUrl": WEBHOOK_URL}, "prod")
    assert (settings.schedule_cron, settings.auto_remediate) == ("0 * * * *", False)
    assert "pulumi config set --secret trailguard-deploy:driftWebhookUrl" in (
        DEPLOY_DIR / "Pulumi.ops.yaml").read_text()


def test_docs_explain_the_three_runtime_assurance_mechanisms():
    docs = (ROOT / "docs" / "ci.md").read_text()
    heading = "## Runtime assurance: heartbeat, tamper detection, drift"
    assert heading in docs
    section = docs.split(heading, 1)[1].split("\n## ", 1)[0]
    for phrase in ("trailguard:heartbeat.window", "monitoring-tampering", "LessThanThreshold",
                   "0 * * * *", "driftAutoRemediate", "driftWebhookUrl", *DRIFT_FILTERS):
        assert phrase in section, f"the runtime assurance section does not mention {phrase}"
