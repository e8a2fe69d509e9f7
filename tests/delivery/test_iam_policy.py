"""The deploying role's policy covers what `pulumi up` of the program needs, and nothing more.

The resource types come from the real program run under mocks with Pulumi.prod.yaml (and
Pulumi.dev.yaml; not from a hand-kept list); each is mapped through iam/resource-actions.yaml to the calls the provider makes,
and the shipped iam/deployer-policy.json must allow every one of them on the ARN of every mocked
resource of that type.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.delivery.iam_eval import ROOT, actions, allows, load_renderer, resource_arn, statements

render = load_renderer()
DEPLOYER = json.loads((ROOT / "iam" / "deployer-policy.json").read_text())
PREVIEWER = json.loads((ROOT / "iam" / "previewer-policy.json").read_text())
TABLE = render.load_table()
SAR = render.load_service_authorization()
MANAGED_POLICY_MAX_CHARS = 6144  # IAM quota for a customer managed policy, whitespace excluded


@pytest.fixture(scope="module", params=["prod", "dev", "dev-realtime"])
def stack_run(request, tmp_path_factory):
    """The program under mocks for a stack (prod is the one the policy is for; dev must fit too,
    and dev with real-time rules on, which adds EventBridge rules, targets and a forwarding role)."""
    from tests.components.program_runs import with_realtime
    from trailguard.check.harness import MOCK_ACCOUNT, run_program
    from trailguard.check.layout import ProjectLayout

    assert MOCK_ACCOUNT == TABLE["account"], "the table's placeholder account is the mocks' account"
    if request.param == "dev-realtime":
        project = with_realtime(tmp_path_factory.mktemp("realtime"))
        run = run_program(ProjectLayout.for_repository(project), "dev")
        assert run.of_type("aws:cloudwatch/eventRule:EventRule"), "the variant deploys real-time rules"
        return run
    return run_program(ProjectLayout.for_repository(ROOT), request.param)


def _region(run) -> str:
    """The region the mocked ARNs of a stack carry: its aws:region."""
    from trailguard.check.harness import DEFAULT_REGION

    config = yaml.safe_load((ROOT / f"Pulumi.{run.stack}.yaml").read_text())["config"]
    return config.get("aws:region", DEFAULT_REGION)


def _aws_resources(run):
    return [r for r in run.resources if r.custom and not r.type.startswith("pulumi:providers:")]


def _needed(type_token: str, phases=render.PHASES) -> list[str]:
    return [a for phase in phases for a in TABLE["types"][type_token][phase]]


def test_shipped_policies_are_valid_json_and_rendered_from_the_table():
    for policy in (DEPLOYER, PREVIEWER):
        assert policy["Version"] == "2012-10-17"
        assert all(s["Effect"] == "Allow" for s in statements(policy))
    assert render.main(["--check"]) == 0, "run `python iam/render_policies.py`"


def test_no_statement_names_a_wildcard_action():
    for policy in (DEPLOYER, PREVIEWER):
        for action in actions(policy):
            assert "*" not in action and "?" not in action, action


def test_star_resource_only_for_calls_iam_cannot_scope():
    for policy in (DEPLOYER, PREVIEWER):
        for statement in statements(policy):
            listed = statement["Action"]
            for action in listed if isinstance(listed, list) else [listed]:
                assert action in SAR, f"{action} is not a known IAM action"
                if statement["Resource"] == "*":
                    assert SAR[action]["resource_arns"] == [], (
                        f"{action} supports resource-level permissions; scope it")
                else:
                    assert SAR[action]["resource_arns"], f"{action} cannot be scoped to an ARN"


def test_every_resource_type_the_program_creates_is_in_the_table(stack_run):
    created = {r.type for r in _aws_resources(stack_run)}
    assert {"aws:cloudtrail/trail:Trail", "aws:cloudwatch/metricAlarm:MetricAlarm"} <= created
    missing = created - set(TABLE["types"])
    assert not missing, f"add these resource types to iam/resource-actions.yaml: {sorted(missing)}"


def test_deployer_allows_every_call_on_every_mocked_resource(stack_run):
    checked = 0
    for resource in _aws_resources(stack_run):
        spec = TABLE["types"][resource.type]
        arn = resource_arn(spec["arn"], resource, TABLE["account"], _region(stack_run))
        for action in _needed(resource.type):
            target = arn if SAR[action]["resource_arns"] else "*"
            assert allows(DEPLOYER, action, target), f"{resource.urn}: {action} on {target} denied"
            checked += 1
        for action in _needed(resource.type, ("read",)):
            target = arn if SAR[action]["resource_arns"] else "*"
            assert allows(PREVIEWER, action, target), f"preview {resource.urn}: {action} denied"
        if spec.get("passes_role_to"):
            for role in stack_run.of_type("aws:iam/role:Role"):
                assert allows(DEPLOYER, "iam:PassRole", role.outputs["arn"]), role.urn
    assert allows(DEPLOYER, "sts:GetCallerIdentity", "*")
    # every detection's filter and alarm is checked, not just one of each
    assert checked >= 3 * len(stack_run.of_type("aws:cloudwatch/metricAlarm:MetricAlarm"))


def test_audit_destroying_calls_are_withheld_on_the_programs_resources(stack_run):
    for resource in _aws_resources(stack_run):
        spec = TABLE["types"][resource.type]
        arn = resource_arn(spec["arn"], resource, TABLE["account"], _region(stack_run))
        for action in spec["withheld"]:
            assert not allows(DEPLOYER, action, arn), f"{action} must not be granted on {arn}"
    for action in ("s3:DeleteBucket", "cloudtrail:StopLogging", "logs:DeleteLogGroup",
                   "kms:ScheduleKeyDeletion", "s3:DeleteObject"):
        assert not allows(DEPLOYER, action, "*") and action not in actions(DEPLOYER), action


def test_scopes_do_not_reach_resources_outside_the_stack():
    outside = {
        "cloudtrail:UpdateTrail": "arn:aws:cloudtrail:us-east-1:123456789012:trail/org-trail",
        "s3:PutBucketPolicy": "arn:aws:s3:::company-data",
        "iam:PutRolePolicy": "arn:aws:iam::123456789012:role/Admin",
        "iam:PassRole": "arn:aws:iam::123456789012:role/Admin",
        "sns:SetTopicAttributes": "arn:aws:sns:us-east-1:123456789012:billing",
        "logs:PutRetentionPolicy": "arn:aws:logs:us-east-1:123456789012:log-group:/app/web",
        "cloudwatch:DeleteAlarms": "arn:aws:cloudwatch:us-east-1:123456789012:alarm:billing",
        "kms:PutKeyPolicy": "arn:aws:kms:us-east-1:999999999999:key/abcd",
    }
    for action, arn in outside.items():
        assert not allows(DEPLOYER, action, arn), f"{action} reaches {arn}"


def test_grants_exactly_what_the_table_needs():
    needed = set(TABLE["provider"]["read"]) | {"iam:PassRole"}
    for type_token in TABLE["types"]:
        needed |= set(_needed(type_token))
    assert actions(DEPLOYER) == needed


def test_previewer_can_only_read():
    assert actions(PREVIEWER), "the previewer policy grants the read calls of preview/refresh"
    for action in actions(PREVIEWER):
        assert SAR[action]["access_level"] in ("Read", "List"), (
            f"{action} is {SAR[action]['access_level']}, not Read/List")
    expected = set(TABLE["provider"]["read"])
    for type_token in TABLE["types"]:
        expected |= set(_needed(type_token, ("read",)))
    assert actions(PREVIEWER) == expected


def test_deployer_policy_fits_a_managed_policy():
    compact = json.dumps(DEPLOYER, separators=(",", ":"))
    assert len(compact) <= MANAGED_POLICY_MAX_CHARS, len(compact)


def test_render_with_an_account_id_pins_every_scoped_arn_to_it():
    policy = render.render_deployer_policy(TABLE, SAR, account="111122223333")
    for statement in statements(policy):
        if statement["Resource"] != "*" and not statement["Resource"].startswith("arn:aws:s3:::"):
            assert ":111122223333:" in statement["Resource"], statement["Sid"]


def test_render_rejects_an_account_that_is_not_an_account_id():
    with pytest.raises(render.PolicyTableError) as err:
        render.render_deployer_policy(TABLE, SAR, account="my-account")
    assert "'my-account'" in str(err.value) and "12-digit AWS account id" in str(err.value)


def test_render_rejects_an_action_missing_from_the_service_reference():
    table = json.loads(json.dumps(TABLE))
    table["types"]["aws:sns/topic:Topic"]["create"].append("sns:CreateTopics")
    with pytest.raises(render.PolicyTableError) as err:
        render.render_deployer_policy(table, SAR)
    message = str(err.value)
    assert "aws:sns/topic:Topic" in message and "sns:CreateTopics" in message
    assert "iam/service-authorization.json" in message


def test_check_mode_reports_a_stale_file(tmp_path: Path, capsys):
    (tmp_path / "deployer-policy.json").write_text("{}\n")
    assert render.main(["--check", "--out-dir", str(tmp_path)]) == 1
    assert "deployer-policy.json" in capsys.readouterr().err
