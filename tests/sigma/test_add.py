"""`trailguard sigma add`: converted rules become customDetections of a stack file, with their
attribution, valid under `trailguard check`'s validation, and nothing else in the file changes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

pytest.importorskip("sigma.backends.sqlite", reason="the sigma extra is part of requirements-dev.txt")

from click.testing import CliRunner  # noqa: E402

from tests.components.program_runs import PROJECT, copy_project  # noqa: E402
from tests.sigma.rules import SIGMAHQ  # noqa: E402
from trailguard.aws_limits import MAX_ALARM_DESCRIPTION  # noqa: E402
from trailguard.cli import main  # noqa: E402
from trailguard.config import ConfigError, load_stack_config, load_stack_file_config  # noqa: E402
from trailguard.sigma.stackfile import (KEY, StackFileError, edited_stack_text, metric_name,  # noqa: E402
                                        slug)

ROOT_USAGE = SIGMAHQ / "aws_root_account_usage.yml"
TRUFFLEHOG = SIGMAHQ / "aws_sts_getcalleridentity_trufflehog.yml"
FIELDREF = SIGMAHQ / "aws_update_login_profile.yml"  # refused: |fieldref
ROOT_ATTRIBUTION = ("Based on Sigma 8ad1600d-e9dc-4251-b0ee-a65268f29add by vitaliy0x1, https://github.com/SigmaHQ/"
                    "sigma/blob/8eaafff1f2845a696050e05e72ba1140ee190698/rules/cloud/aws/cloudtrail/"
                    "aws_root_account_usage.yml (Detection Rule License 1.1).")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    for name in ("Pulumi.yaml", "Pulumi.prod.yaml", "Pulumi.dev.yaml"):
        shutil.copyfile(PROJECT / name, tmp_path / name)
    return tmp_path


def add(project: Path, *rules: Path, stack: str = "prod"):
    return CliRunner().invoke(main, ["sigma", "add", *map(str, rules), "--stack", stack, "--project-dir", str(project)])


def block_of(text: str) -> str:
    """The `trailguard:customDetections:` block of a stack file's text (key line to last item line)."""
    lines = text.splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if line.startswith(f"  {KEY}:"))
    end = start + 1
    while end < len(lines) and (lines[end].startswith("   ") or lines[end].startswith("  -")):
        end += 1
    return "".join(lines[start:end])


def test_adds_valid_attributed_detections_and_nothing_else_changes(project):
    before = (project / "Pulumi.prod.yaml").read_text()
    result = add(project, ROOT_USAGE, TRUFFLEHOG)
    assert result.exit_code == 0, result.output
    assert "Pulumi.prod.yaml: 2 added, 0 replaced, 0 unchanged" in result.output
    after = (project / "Pulumi.prod.yaml").read_text()
    block = block_of(after)
    assert after.replace(block, "") == before  # byte-identical outside the block
    config = load_stack_file_config(project, "prod")  # the validation `trailguard check` runs
    root = config.detection("aws-root-credentials")
    assert root.custom and root.severity.value == "medium" and root.metric == "SigmaAwsRootCredentials"
    assert root.attribution == ROOT_ATTRIBUTION and root.description.endswith(ROOT_ATTRIBUTION)
    assert len(root.description) <= MAX_ALARM_DESCRIPTION
    assert root.positives and root.negatives
    entry = next(e for e in yaml.safe_load(after)["config"][KEY] if e["id"] == "aws-root-credentials")
    assert entry["source"]["sigma"] == "8ad1600d-e9dc-4251-b0ee-a65268f29add"
    assert entry["source"]["author"] == "vitaliy0x1"
    assert entry["source"]["references"] == ["https://docs.aws.amazon.com/IAM/latest/UserGuide/id_root-user.html"]
    assert entry["source"]["falsePositives"][0].startswith("AWS Tasks That Require")
    assert "root account usage" in entry["runbook"] and "Known false positives" in entry["runbook"]


def test_adding_twice_changes_nothing_and_does_not_rewrite_the_file(project):
    assert add(project, ROOT_USAGE, TRUFFLEHOG).exit_code == 0
    path = project / "Pulumi.prod.yaml"
    once, stat = path.read_bytes(), path.stat()
    result = add(project, TRUFFLEHOG, ROOT_USAGE)
    assert result.exit_code == 0, result.output
    assert "0 added, 0 replaced, 2 unchanged (file not written)" in result.output
    assert path.read_bytes() == once and path.stat().st_ino == stat.st_ino and path.stat().st_mtime_ns == stat.st_mtime_ns


def test_a_changed_entry_for_the_same_rule_is_replaced_in_place(project):
    path = project / "Pulumi.prod.yaml"
    assert add(project, ROOT_USAGE, TRUFFLEHOG).exit_code == 0
    fresh = path.read_text()
    path.write_text(fresh.replace("      metric: SigmaAwsRootCredentials\n", "      metric: OldName\n"))
    result = add(project, ROOT_USAGE)
    assert result.exit_code == 0 and "replaced: aws-root-credentials" in result.output
    assert path.read_text() == fresh


def test_existing_entries_comments_and_order_are_kept_and_the_new_one_is_appended(project):
    path = project / "Pulumi.dev.yaml"
    own = ("  # our own detections\n  trailguard:customDetections:\n    # the first one\n"
           "    - id: s3-public-grant\n      title: S3 public grant\n"
           "      pattern: '{ $.eventName = \"PutBucketAcl\" }'\n      severity: high\n      metric: S3PublicGrant\n"
           "      samples:\n        positives:\n          - {eventVersion: '1.08', userIdentity: {type: IAMUser}, "
           "eventTime: '2026-01-01T00:00:00Z', eventSource: s3.amazonaws.com, eventName: PutBucketAcl, "
           "awsRegion: us-east-1, eventType: AwsApiCall}\n  # after the block\n")
    original = path.read_text()
    config_end = original.index("\n  trailguard:", original.index("config:")) + 1
    text = original[:config_end] + own + original[config_end:]
    path.write_text(text)
    assert add(project, ROOT_USAGE, stack="dev").exit_code == 0
    after = path.read_text()
    head = text[:text.index("  # after the block\n")]
    assert after.startswith(head) and after.endswith(text[len(head):])
    added = after[len(head):len(after) - len(text) + len(head)]
    assert added.startswith("    - id: aws-root-credentials\n")
    assert [d.id for d in load_stack_file_config(project, "dev").detections][-2:] == ["s3-public-grant",
                                                                                     "aws-root-credentials"]


def test_refused_rules_are_reported_not_written_and_exit_1(project):
    path = project / "Pulumi.prod.yaml"
    before = path.read_bytes()
    result = add(project, FIELDREF)
    assert result.exit_code == 1
    assert "not added" in result.output and "field-reference" in result.output
    assert path.read_bytes() == before
    mixed = add(project, FIELDREF, ROOT_USAGE)
    assert mixed.exit_code == 1 and "1 added" in mixed.output
    assert [e["id"] for e in yaml.safe_load(path.read_text())["config"][KEY]] == ["aws-root-credentials"]


def test_bad_input_writes_nothing(project, tmp_path):
    path = project / "Pulumi.prod.yaml"
    before = path.read_bytes()
    not_a_rule = tmp_path / "not-a-rule.yml"
    not_a_rule.write_text("just: text\n")
    assert add(project, not_a_rule).exit_code == 2
    assert add(project, ROOT_USAGE, stack="nosuch").exit_code == 1
    path.write_bytes(before.replace(b"trailguard:profile: securityhub", b"trailguard:profile: fancy"))
    invalid = add(project, ROOT_USAGE)  # the file would not validate: nothing written
    assert invalid.exit_code == 1 and "trailguard:profile" in invalid.output
    assert path.read_bytes() == before.replace(b"trailguard:profile: securityhub", b"trailguard:profile: fancy")
    path.write_bytes(before + b"  trailguard:customDetections: [{id: x}]\n")
    flow = add(project, ROOT_USAGE)
    assert flow.exit_code == 1 and "flow style" in flow.output
    assert path.read_bytes() == before + b"  trailguard:customDetections: [{id: x}]\n"


def test_an_own_detection_with_the_same_id_is_not_overwritten(project):
    path = project / "Pulumi.prod.yaml"
    assert add(project, ROOT_USAGE).exit_code == 0
    text = path.read_text().replace("sigma: 8ad1600d-e9dc-4251-b0ee-a65268f29add",
                                    "sigma: 00000000-0000-4000-8000-000000000000")
    path.write_text(text)
    result = add(project, ROOT_USAGE)
    assert result.exit_code == 1 and "already has a detection with id 'aws-root-credentials'" in result.output
    assert path.read_text() == text


@pytest.mark.parametrize("value", ["[]", "", "[]  # none yet"])
def test_an_empty_block_is_filled_in_place(value):
    text = f"config:\n  aws:region: us-east-1\n  {KEY}: {value}\n  trailguard:protect: true\n".replace(": \n", ":\n")
    entry = {"id": "x-rule", "title": "X", "source": {"sigma": "00000000-0000-4000-8000-000000000001"}}
    edit = edited_stack_text(text, [entry])
    assert edit.added == ("x-rule",)
    assert yaml.safe_load(edit.text)["config"][KEY] == [entry]
    assert edit.text.startswith("config:\n  aws:region: us-east-1\n  trailguard:customDetections:")
    assert edit.text.endswith("  trailguard:protect: true\n")
    assert ("# none yet" in edit.text) == ("#" in value)


def test_a_file_without_a_block_mapping_under_config_is_refused():
    with pytest.raises(StackFileError, match="block mapping under config"):
        edited_stack_text("config: {aws:region: us-east-1}\n", [{"id": "x"}])


def test_ids_and_metrics_from_titles():
    assert slug("AWS STS GetCallerIdentity Enumeration Via TruffleHog") == \
        "aws-sts-getcalleridentity-enumeration-via-trufflehog"
    assert len(slug("word " * 40)) <= 64 and slug("!!!") == "sigma-rule"
    assert metric_name("AWS Root Credentials") == "SigmaAwsRootCredentials"


# --- the source fields in the stack config ----------------------------------------------------------


EVENT = {"eventVersion": "1.08", "userIdentity": {"type": "Root"}, "eventTime": "2026-01-01T00:00:00Z",
         "eventSource": "signin.amazonaws.com", "eventName": "ConsoleLogin", "awsRegion": "us-east-1",
         "eventType": "AwsConsoleSignIn"}


def custom(**changes):
    base = {"id": "sigma-root", "title": "Root", "pattern": '{ $.userIdentity.type = "Root" }', "severity": "medium",
            "metric": "SigmaRoot", "samples": {"positives": [EVENT]},
            "source": {"sigma": "8ad1600d-e9dc-4251-b0ee-a65268f29add", "author": "vitaliy0x1",
                       "link": "https://example.com/rule.yml"}}
    return {**base, **changes}


def test_source_is_checked_each_problem_at_its_key():
    bad = custom(source={"sigma": "not-a-uuid", "author": " ", "link": "http://example.com/r.yml",
                         "references": ["ok", ""]})
    with pytest.raises(ConfigError) as caught:
        load_stack_config({"customDetections": [bad]})
    keys = [key for key, _ in caught.value.errors]
    assert keys == [f"trailguard:customDetections[0].source.{k}" for k in
                    ("sigma", "author", "link", "references[1]")]
    with pytest.raises(ConfigError, match=r"source\.licence: unknown key"):
        load_stack_config({"customDetections": [custom(source={**custom()["source"], "licence": "DRL"})]})


def test_the_attribution_survives_a_long_description_and_an_override():
    config = load_stack_config({"customDetections": [custom(description="x" * 1024)],
                                "overrides": {"sigma-root": {"description": "Paged text"}}})
    detection = config.detection("sigma-root")
    assert detection.description == "Paged text " + detection.attribution
    long_one = load_stack_config({"customDetections": [custom(description="y" * 1024)]}).detection("sigma-root")
    assert len(long_one.description) == MAX_ALARM_DESCRIPTION
    assert long_one.description.endswith("... " + long_one.attribution)
    assert long_one.attribution.startswith("Based on Sigma 8ad1600d-e9dc-4251-b0ee-a65268f29add by vitaliy0x1")


def test_check_lists_the_attribution_and_the_alarm_carries_it(tmp_path):
    project = copy_project(tmp_path)
    assert add(project, ROOT_USAGE).exit_code == 0
    result = CliRunner().invoke(main, ["check", "--stack", "prod", "--project-dir", str(project), "--json"])
    data = json.loads(result.stdout)
    row = next(d for d in data["detections"] if d["id"] == "aws-root-credentials")
    assert row["attribution"] == ROOT_ATTRIBUTION and row["custom"] is True
    from trailguard.check.layout import ProjectLayout
    from trailguard.check.stack import check_stack

    run = check_stack(ProjectLayout.for_repository(project), "prod").run
    alarm = next(r for r in run.resources if r.type == "aws:cloudwatch/metricAlarm:MetricAlarm"
                 and r.name.endswith("aws-root-credentials-alarm"))
    assert alarm.inputs["alarmDescription"].endswith(ROOT_ATTRIBUTION)
    text = CliRunner().invoke(main, ["check", "--stack", "prod", "--project-dir", str(project)]).output
    assert "Sources (Sigma rules)" in text and "Sigma 8ad1600d-e9dc-4251-b0ee-a65268f29add by vitaliy0x1" in text


def test_rules_with_the_same_title_get_distinct_ids_and_a_rule_without_a_link_is_not_added(project, tmp_path):
    text = ROOT_USAGE.read_text()
    twin = tmp_path / "twin.yml"
    twin.write_text(text.replace("8ad1600d-e9dc-4251-b0ee-a65268f29add", "1b2c3d4e-0000-4000-8000-000000000001")
                    .replace("    - https://docs.aws.amazon.com/IAM/latest/UserGuide/id_root-user.html\n",
                             "    - https://example.com/twin\n"))
    unlinked = tmp_path / "unlinked.yml"
    unlinked.write_text(text.replace("8ad1600d-e9dc-4251-b0ee-a65268f29add", "1b2c3d4e-0000-4000-8000-000000000002")
                        .replace("    - https://docs.aws.amazon.com/IAM/latest/UserGuide/id_root-user.html\n", "")
                        .replace("references:\n", ""))
    result = add(project, ROOT_USAGE, twin, unlinked)
    assert result.exit_code == 1 and "has no https link" in result.output
    ids = [e["id"] for e in yaml.safe_load((project / "Pulumi.prod.yaml").read_text())["config"][KEY]]
    assert ids == ["aws-root-credentials", "aws-root-credentials-sigma"]
