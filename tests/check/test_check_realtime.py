"""`trailguard check` on a stack with real-time rules: which detections have a rule in which
regions (as the program registered them), and why the others considered have none."""

from __future__ import annotations

import json

import pytest
import yaml
from click.testing import CliRunner

from tests.check.rich_output import joined, table_rows
from tests.components.program_runs import PROJECT, copy_project
from trailguard.check.layout import ProjectLayout
from trailguard.check.report import realtime_line, realtime_rows
from trailguard.check.stack import check_stack
from trailguard.cli import main
from trailguard.cli.errors import EXIT_SUCCESS

TITLE = "Real-time rules (EventBridge, beside the alarms)"
REALTIME = {"enabled": True, "regions": ["us-east-1", "eu-west-1"]}


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """A copy of the project with stack `rt`: prod plus real-time in us-east-1 (home) and eu-west-1,
    and root-usage also in ap-southeast-2."""
    directory = copy_project(tmp_path_factory.mktemp("rt"))
    stack = yaml.safe_load((PROJECT / "Pulumi.prod.yaml").read_text())
    stack["config"]["trailguard:realtime"] = REALTIME
    stack["config"]["trailguard:overrides"]["root-usage"]["realtime"] = {"regions": ["eu-west-1", "ap-southeast-2"]}
    (directory / "Pulumi.rt.yaml").write_text(yaml.safe_dump(stack))
    return directory


def invoke(*args: str):
    return CliRunner().invoke(main, ["check", *args], catch_exceptions=False)


def test_the_table_lists_each_rule_s_regions_state_and_topic_then_who_has_none_and_why(project):
    check = check_stack(ProjectLayout.for_repository(project), "rt")
    result = invoke("--stack", "rt", "--project-dir", str(project))
    assert result.exit_code == EXIT_SUCCESS, result.output
    header, rows = table_rows(result.output, TITLE)
    assert header == ["id", "regions", "state", "topic / why not"]
    printed = {row[0][0]: [joined(cell) for cell in row[1:]] for row in rows}
    rules = {rule.id: rule for rule in check.config.realtime.rules}
    assert list(printed) == [*rules, "unauthorized-api-calls", "console-auth-failures"]
    assert printed["root-usage"] == ["us-east-1,eu-west-1,ap-southeast-2", "ENABLED+read-only", "oncall"]
    assert printed["iam-policy-changes"] == ["us-east-1,eu-west-1", "ENABLED", "security"]
    assert printed["unauthorized-api-calls"][:2] == ["-", "-"]
    assert printed["unauthorized-api-calls"][2] == (
        "not real-time: its alarm needs 2 of 3 periods of 300s; EventBridge fires per event and cannot count "
        "periods").replace(" ", "")
    assert printed["console-auth-failures"][2].startswith("notreal-time:itsalarmneedsacount>=3in300s")
    assert ("Real-time: 15 detection(s) as EventBridge rules beside their alarms; home us-east-1 notifies the "
            "topics; rules in eu-west-1, ap-southeast-2 forward to us-east-1's default bus") in \
        " ".join(result.output.split())


def test_regions_come_from_what_the_program_registered(project):
    check = check_stack(ProjectLayout.for_repository(project), "rt")
    rows = {row["id"]: row for row in realtime_rows(check)}
    assert rows["root-usage"]["regions"] == ["us-east-1", "eu-west-1", "ap-southeast-2"]
    assert rows["root-usage"]["rule"] == "trailguard-rt-root-usage"
    # The same config, a run that registered nothing: the table says so instead of echoing the config.
    empty = type(check)(stack=check.stack, project_dir=check.project_dir, config=check.config,
                        run=type(check.run)(stack="rt", preview=False))
    assert all(row["regions"] == [] for row in realtime_rows(empty) if row["notRealtime"] is None)


def test_json_carries_the_real_time_rows(project):
    data = json.loads(invoke("--stack", "rt", "--project-dir", str(project), "--json").output)
    realtime = data["realtime"]
    assert realtime["homeRegion"] == "us-east-1"
    root = next(row for row in realtime["rules"] if row["id"] == "root-usage")
    assert root == {"id": "root-usage", "rule": "trailguard-rt-root-usage",
                    "regions": ["us-east-1", "eu-west-1", "ap-southeast-2"],
                    "state": "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS", "topic": "oncall", "notRealtime": None}
    assert data["outputs"]["realtime"]["rules"]["root-usage"]["regions"] == root["regions"]


@pytest.mark.parametrize("stack", ["prod", "dev"])
def test_shipped_stacks_say_real_time_is_off_and_print_no_table(stack):
    result = invoke("--stack", stack, "--project-dir", str(PROJECT))
    assert "Real-time: off (trailguard:realtime)" in result.output and TITLE not in result.output
    data = json.loads(invoke("--stack", stack, "--project-dir", str(PROJECT), "--json").output)
    assert data["realtime"] is None
    check = check_stack(ProjectLayout.for_repository(PROJECT), stack)
    assert realtime_rows(check) == [] and realtime_line(check).startswith("Real-time: off")
