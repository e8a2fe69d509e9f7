"""The program and `trailguard check` read config the same way: what `pulumi config set` writes (a
string for every top-level key) decodes identically on both paths, a misspelled `trailguard`
namespace is refused on both, and config that has no effect is warned about on both."""

from __future__ import annotations

import json

import pulumi
import pytest
import yaml

from tests.components.program_runs import ALARM, PROJECT, TOPIC, copy_project
from tests.config.bad_inputs import custom, event
from trailguard.check.harness import run_program
from trailguard.check.layout import ProjectLayout
from trailguard.config import (
    ConfigError,
    decode_from_engine,
    load_stack_config,
    load_stack_file_config,
    read_stack_config,
)

LAYOUT = ProjectLayout.for_repository(PROJECT)


def stack_with(tmp_path, **config):
    """A copy of the project whose dev stack file sets `config` (full `ns:key` names) verbatim."""
    project = copy_project(tmp_path)
    path = project / "Pulumi.dev.yaml"
    document = yaml.safe_load(path.read_text())
    document["config"].update(config)
    path.write_text(yaml.safe_dump(document))
    return project


# What `pulumi config set trailguard:<key> <text>` (no --path) stores: the text, as a YAML string.
SET_STRINGS = [
    pytest.param("protect", "false", False, id="protect-false"),
    pytest.param("protect", "True", True, id="protect-True-as-get_bool-reads-it"),
    pytest.param("tags", '{"Team": "sec", "Env": "dev"}', {"Team": "sec", "Env": "dev"}, id="tags-json"),
    pytest.param("detections", '["seed"]', ["seed"], id="detections-json"),
    pytest.param("trail", '{"bucketEncryption": "s3", "logGroupKms": false}',
                 {"bucketEncryption": "s3", "logGroupKms": False}, id="trail-json"),
]


@pytest.mark.parametrize(("key", "text", "value"), SET_STRINGS)
def test_a_pulumi_config_set_string_reads_the_same_in_check_and_in_the_program(tmp_path, key, text, value):
    project = stack_with(tmp_path, **{f"trailguard:{key}": text})
    assert read_stack_config(project, "dev")[key] == value  # check's path, from the stack file
    checked = load_stack_file_config(project, "dev")
    run = run_program(ProjectLayout.for_repository(project), "dev")  # the program's path, engine strings
    assert run.error is None
    assert checked == load_stack_config(read_stack_config(project, "dev"), stack="dev", region="eu-west-1")
    if key == "protect":
        assert all(r.protect is value for r in run.of_type(ALARM))
    if key == "tags":
        assert all(r.inputs["tags"] == value for r in run.of_type(TOPIC))


@pytest.mark.parametrize(("key", "text", "fragment"), [
    ("protect", "no", "must be true or false, got 'no'"),
    ("tags", "{Team: sec", "must be a mapping (in the stack file, or as the JSON text `pulumi config set` stores)"),
])
def test_a_string_neither_path_can_read_is_refused_by_both_naming_the_key(tmp_path, key, text, fragment):
    project = stack_with(tmp_path, **{f"trailguard:{key}": text})
    with pytest.raises(ConfigError) as checked:
        load_stack_file_config(project, "dev")
    run = run_program(ProjectLayout.for_repository(project), "dev", raise_errors=False)
    assert isinstance(run.error, ConfigError) and run.resources == []
    for error in (checked.value, run.error):
        assert error.key == f"trailguard:{key}" and fragment in error.message


def test_the_engine_decoding_follows_the_sdk_getters():
    assert [decode_from_engine("protect", t) for t in ("true", "True", "false", "False")] == [True, True, False, False]
    assert decode_from_engine("namespace", "123") == "123"  # a string key keeps the engine's text
    with pytest.raises(ConfigError, match="must be true or false, got 'TRUE'"):
        decode_from_engine("protect", "TRUE")


@pytest.mark.parametrize("namespace", ["trailgaurd", "trailguards", "TrailGuard", "trail-guard"])
def test_a_misspelled_namespace_is_refused_with_did_you_mean_on_both_paths(tmp_path, namespace):
    project = stack_with(tmp_path, **{f"{namespace}:tags": {"Team": "sec"}})
    with pytest.raises(ConfigError) as checked:
        load_stack_file_config(project, "dev")
    run = run_program(ProjectLayout.for_repository(project), "dev", raise_errors=False)
    assert isinstance(run.error, ConfigError) and run.resources == []
    for error in (checked.value, run.error):
        assert error.key == f"{namespace}:tags"
        assert "did you mean 'trailguard:tags'" in error.message and "does nothing" in error.message


def test_other_providers_namespaces_are_left_alone(tmp_path):
    project = stack_with(tmp_path, **{"aws:defaultTags": {"tags": {"a": "b"}}, "pulumi:disable-default-providers": []})
    assert load_stack_file_config(project, "dev").detections


@pytest.mark.parametrize(("raw", "key", "fragments"), [
    pytest.param({"detections": ["seed"], "overrides": {"console-auth-failures": {"threshold": 3}}},
                 "trailguard:overrides.console-auth-failures",
                 ["has no effect: 'console-auth-failures' is not enabled", "enable it in trailguard:detections",
                  "overrides.console-auth-failures.enabled: true"], id="settings-for-a-detection-not-enabled"),
    pytest.param({"detections": ["seed"], "overrides": {"console-auth-failures": {"enabled": False}}},
                 "trailguard:overrides.console-auth-failures.enabled", ["has no effect", "not enabled"],
                 id="disabling-what-is-not-enabled"),
    pytest.param({"overrides": {"root-usage": {"enabled": False, "threshold": 3}}},
                 "trailguard:overrides.root-usage", ["threshold has no effect", "enabled: false"],
                 id="settings-beside-enabled-false"),
    pytest.param({"detections": ["seed"], "notifications": {
        "topics": {"a": {}}, "routing": {"byDetection": {"console-auth-failures": "a"}}}},
                 "trailguard:notifications.routing.byDetection.console-auth-failures", ["has no effect", "not enabled"],
                 id="route-for-a-detection-not-enabled"),
    pytest.param({"customDetections": [custom(pattern='{ $.eventName = "PutBucketAcl" && $.x = 1 || $.y = 2 }',
                                              samples={"positives": [event("PutBucketAcl", x=1)]})]},
                 "trailguard:customDetections[0].pattern",
                 ["W002", "'&&' and '||' are mixed without parentheses", "Add parentheses", "^"],
                 id="custom-pattern-mixing-and-or"),
])
def test_config_that_does_nothing_is_a_warning_naming_the_key(raw, key, fragments):
    config = load_stack_config(raw)
    warnings = dict(config.warnings)
    assert key in warnings, config.warnings
    for fragment in fragments:
        assert fragment in warnings[key]


def test_enabling_through_an_override_is_not_a_warning():
    config = load_stack_config({"detections": ["seed"],
                                "overrides": {"console-auth-failures": {"enabled": True, "threshold": 2}}})
    assert config.warnings == () and config.detection("console-auth-failures").alarm.threshold == 2


def test_the_program_logs_the_warnings_and_still_deploys(monkeypatch):
    logged = []
    monkeypatch.setattr(pulumi.log, "warn", lambda message, *args, **kwargs: logged.append(message))
    run = run_program(LAYOUT, "dev", config_overrides={"overrides": {"console-auth-failures": {"threshold": 3}}})
    assert run.error is None and run.of_type(ALARM)
    assert any(m.startswith("trailguard:overrides.console-auth-failures: has no effect") for m in logged), logged


def test_shipped_stacks_have_no_warnings():
    for stack in ("dev", "prod"):
        assert load_stack_file_config(PROJECT, stack).warnings == ()


def test_json_text_for_an_object_is_the_same_config_as_the_mapping(tmp_path):
    mapping = {"topics": {"ops": {"subscriptions": [{"protocol": "email", "endpoint": "ops@example.com"}]}}}
    project = stack_with(tmp_path, **{"trailguard:notifications": json.dumps(mapping)})
    as_text = load_stack_file_config(project, "dev")
    assert as_text.topics["ops"].subscriptions[0].endpoint == "ops@example.com"
