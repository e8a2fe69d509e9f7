"""The GitHub Actions workflows: valid YAML, known actions and inputs, expressions that resolve,
a preview of prod with the policy pack and its config on every PR and push, and `up` only after
that gating preview, with OIDC credentials and one update of the stack at a time."""

from __future__ import annotations

import copy
import re
import tomllib

import pytest

from tests.delivery.iam_eval import ROOT
from tests.delivery.workflow_rules import (
    ACTIONS,
    check_checkout_credentials,
    check_pins,
    check_pulumi_job,
    check_workflow,
    load,
    pulumi_steps,
    steps_using,
    uses_references,
    workflow_files,
    written_remote_uses,
)

FILES = {path.name: load(path) for path in workflow_files()}
VERIFY, PULL_REQUEST, DEPLOY = FILES["verify.yml"], FILES["pull-request.yml"], FILES["deploy.yml"]


def test_workflow_files_exist_and_parse():
    assert set(FILES) == {"verify.yml", "pull-request.yml", "deploy.yml"}


@pytest.mark.parametrize("name", sorted(FILES))
def test_workflow_structure_inputs_and_expressions(name):
    assert check_workflow(FILES[name], name) == []


def test_gating_preview_runs_after_tests_with_the_pack_and_its_config():
    preview = VERIFY["jobs"]["preview"]
    assert preview["needs"] == "test"
    assert check_pulumi_job(preview, "verify.yml preview", "preview") == []
    assert (ROOT / "policies" / "PulumiPolicy.yaml").is_file()
    assert (ROOT / "policies" / "config" / "prod.json").is_file()
    runs = [step.get("run", "") for step in VERIFY["jobs"]["test"]["steps"]]
    assert "python -m pytest -q" in runs
    assert any(r.startswith("trailguard check --stack prod") for r in runs)


def test_pull_requests_run_the_gate_and_comment_the_preview():
    assert list(PULL_REQUEST["on"]) == ["pull_request"]
    job = PULL_REQUEST["jobs"]["verify"]
    assert job["uses"] == "./.github/workflows/verify.yml"
    assert job["with"] == {"comment-on-pr": True}
    assert job["permissions"]["pull-requests"] == "write"
    assert job["permissions"]["id-token"] == "write"
    [preview_step] = pulumi_steps(VERIFY["jobs"]["preview"])
    assert preview_step["with"]["comment-on-pr"] == "${{ inputs.comment-on-pr }}"


def test_up_runs_only_after_the_gating_preview_of_the_same_commit():
    assert DEPLOY["on"] == {"push": {"branches": ["main"]}}
    gate = DEPLOY["jobs"]["verify"]
    assert gate["uses"] == "./.github/workflows/verify.yml"
    up = DEPLOY["jobs"]["up"]
    assert up["needs"] == "verify"
    # The called workflow's preview job is part of `verify`, so `up` waits for it to pass.
    assert "preview" in VERIFY["jobs"]
    assert check_pulumi_job(up, "deploy.yml up", "up") == []
    assert up["environment"] == "production"


def test_one_update_of_the_prod_stack_at_a_time():
    assert DEPLOY["concurrency"] == {"group": "pulumi-stack-prod", "cancel-in-progress": False}
    assert PULL_REQUEST["concurrency"]["cancel-in-progress"] is True
    assert "pulumi-stack-prod" not in str(PULL_REQUEST["concurrency"]), (
        "a PR in the deploy group would replace a queued `up`")


def test_versions_are_pinned_and_match_the_project():
    requirements = (ROOT / "requirements.txt").read_text()
    pinned = re.search(r"^pulumi==([\d.]+)$", requirements, re.M).group(1)
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    for name in ("verify.yml", "deploy.yml"):
        assert FILES[name]["env"]["PULUMI_VERSION"] == pinned, name
        minimum = tuple(int(part) for part in requires.removeprefix(">=").split("."))
        python = FILES[name]["env"]["PYTHON_VERSION"]
        assert re.fullmatch(r"3\.\d+", python), name
        assert tuple(map(int, python.split("."))) >= minimum, name
        for job in FILES[name]["jobs"].values():
            assert job.get("runs-on", "ubuntu-24.04") == "ubuntu-24.04"


@pytest.mark.parametrize("path", workflow_files(), ids=lambda path: path.name)
def test_every_action_is_pinned_to_a_commit_with_its_release_in_a_comment(path):
    text = path.read_text()
    assert check_pins(text, path.name) == []
    # Every `uses:` the runner sees was on a line check_pins read (none in a flow mapping).
    remote = [r for r in uses_references(FILES[path.name]) if not r.startswith("./")]
    assert sorted(remote) == sorted(written_remote_uses(text))
    pinned = {f"{name}@{spec['commit']}" for name, spec in ACTIONS.items()}
    assert set(remote) <= pinned


def test_docs_list_every_pin():
    docs = (ROOT / "docs" / "ci.md").read_text()
    for name, spec in ACTIONS.items():
        assert f"| `{name}` | `{spec['release']}` | `{spec['commit']}` |" in docs, name


def test_checkouts_leave_no_token_in_the_workspace():
    checkouts = [step for workflow in FILES.values() for job in workflow["jobs"].values()
                 for step in steps_using(job, "actions/checkout")]
    assert len(checkouts) == 3
    for name, workflow in FILES.items():
        assert check_checkout_credentials(workflow, name) == []


def test_no_long_lived_credentials_anywhere():
    for name, path in ((p.name, p) for p in workflow_files()):
        text = path.read_text()
        assert "secrets.AWS_" not in text and "PULUMI_ACCESS_TOKEN" not in text, name


# --- the checks catch what they are meant to catch ----------------------------------------


def _preview_problems(mutate):
    preview = copy.deepcopy(VERIFY["jobs"]["preview"])
    mutate(preview)
    return check_pulumi_job(preview, "preview", "preview")


def _pulumi_inputs(job):
    return pulumi_steps(job)[0]["with"]


def test_a_preview_without_the_pack_config_is_caught():
    problems = _preview_problems(lambda job: _pulumi_inputs(job).pop("policyPackConfigs"))
    assert problems == ["preview: policyPackConfigs must be policies/config/prod.json"]


def test_a_preview_without_oidc_or_with_an_unpinned_cli_is_caught():
    def mutate(job):
        job["permissions"].pop("id-token")
        _pulumi_inputs(job)["pulumi-version"] = "^3"
    assert _preview_problems(mutate) == [
        "preview: pulumi-version must pin an exact CLI version",
        "preview: needs permissions id-token: write for GitHub OIDC",
    ]


def test_an_uncached_pack_venv_is_caught():
    def mutate(job):
        job["steps"] = [s for s in job["steps"]
                        if (s.get("with") or {}).get("path") != "policies/venv"]
    assert _preview_problems(mutate) == [
        "preview: the policy pack's virtualenv (policies/venv) is not cached by its requirements"]


def test_a_misspelt_input_an_unknown_step_and_static_keys_are_caught():
    workflow = copy.deepcopy(VERIFY)
    steps = workflow["jobs"]["preview"]["steps"]
    _pulumi_inputs(workflow["jobs"]["preview"])["policyPack"] = "policies"
    steps.insert(0, {"run": "echo ${{ steps.later.outputs.x }} ${{ env.NOPE }}"})
    creds = next(s for s in steps if s.get("uses", "").startswith("aws-actions/"))
    creds["with"]["aws-secret-access-key"] = "${{ vars.KEY }}"
    problems = check_workflow(workflow, "verify.yml")
    assert any("has no input 'policyPack'" in p for p in problems)
    assert any("steps.later is not an earlier step id" in p for p in problems)
    assert any("env.NOPE is not defined" in p for p in problems)
    assert any("long-lived AWS keys" in p for p in problems)


def test_an_action_by_tag_or_without_its_release_comment_is_caught():
    checkout = ACTIONS["actions/checkout"]
    text = "\n".join([
        "      - uses: actions/checkout@v4",
        f"      - uses: actions/checkout@{checkout['commit']}",
        f"        uses: actions/checkout@{checkout['commit']} # v4.2.2",
        f"      - uses: actions/checkout@{checkout['commit'][:12]} # {checkout['release']}",
        f"      - uses: actions/checkout@{checkout['commit']} # {checkout['release']}",
        "    uses: ./.github/workflows/verify.yml",
    ])
    assert check_pins(text, "w.yml") == [
        "w.yml:1: actions/checkout@v4 is not pinned to a full 40-hex commit",
        "w.yml:1: actions/checkout@v4 needs its release as the comment (`# vX.Y.Z`), found 'none'",
        f"w.yml:2: actions/checkout@{checkout['commit']} needs its release as the comment "
        "(`# vX.Y.Z`), found 'none'",
        f"w.yml:3: comment v4.2.2 but actions/checkout is pinned to {checkout['release']}",
        f"w.yml:4: actions/checkout@{checkout['commit'][:12]} is not pinned to a full 40-hex "
        "commit",
    ]


def test_an_action_pinned_to_another_commit_is_caught():
    workflow = copy.deepcopy(VERIFY)
    [step] = steps_using(workflow["jobs"]["test"], "actions/setup-python")
    step["uses"] = "actions/setup-python@v5"
    assert check_workflow(workflow, "verify.yml") == [
        "verify.yml: job test step actions/setup-python@v5: actions/setup-python@v5 is not "
        f"pinned to {ACTIONS['actions/setup-python']['commit']} (actions/setup-python "
        f"{ACTIONS['actions/setup-python']['release']}, the release whose inputs are checked)"]


def test_a_checkout_that_keeps_its_token_is_caught_unless_a_later_step_pushes():
    workflow = copy.deepcopy(VERIFY)
    steps = workflow["jobs"]["test"]["steps"]
    [checkout] = steps_using(workflow["jobs"]["test"], "actions/checkout")
    del checkout["with"]
    assert check_checkout_credentials(workflow, "verify.yml") == [
        "verify.yml: job test step 0: actions/checkout without persist-credentials: false, "
        "and no later step pushes with git"]
    steps.append({"run": "git tag v1 && git push origin v1"})
    assert check_checkout_credentials(workflow, "verify.yml") == []


def test_up_without_the_gate_is_caught():
    workflow = copy.deepcopy(DEPLOY)
    workflow["jobs"]["up"]["needs"] = "verfy"
    problems = check_workflow(workflow, "deploy.yml")
    assert problems == ["deploy.yml: job up needs unknown job 'verfy'"]


def test_the_trailguard_commands_ci_and_deployments_run_pass_on_this_repository(monkeypatch,
                                                                             deploy_config):
    """The exact `trailguard ...` lines of the workflows and of deploy/'s pre-run commands."""
    import shlex

    from click.testing import CliRunner

    from tests.delivery.deploy_harness import load_delivery_settings
    from trailguard.cli import main

    delivery = load_delivery_settings()
    settings = delivery.read_delivery_settings(deploy_config)
    commands = {step["run"] for workflow in FILES.values() for job in workflow["jobs"].values()
                for step in job.get("steps", []) if step.get("run", "").startswith("trailguard ")}
    commands |= {c for c in delivery.pre_run_commands(settings) if c.startswith("trailguard ")}
    assert len(commands) == 1, commands  # CI and Deployments gate with the same command
    monkeypatch.chdir(ROOT)
    for command in commands:
        result = CliRunner().invoke(main, shlex.split(command)[1:])
        assert result.exit_code == 0, f"`{command}` exited {result.exit_code}:\n{result.output}"
        assert "0 mandatory" in result.output


def test_previews_assume_the_read_only_role_and_only_up_the_deploying_one():
    def role(job):
        [step] = steps_using(job, "aws-actions/configure-aws-credentials")
        return step["with"]["role-to-assume"]

    assert role(VERIFY["jobs"]["preview"]) == "${{ vars.AWS_PREVIEW_ROLE_ARN }}"
    assert role(DEPLOY["jobs"]["up"]) == "${{ vars.AWS_DEPLOY_ROLE_ARN }}"
    docs = (ROOT / "docs" / "ci.md").read_text()
    for variable in ("PULUMI_ORG", "AWS_REGION", "AWS_PREVIEW_ROLE_ARN", "AWS_DEPLOY_ROLE_ARN",
                     "TRAILGUARD_DELIVERY"):
        assert f"`{variable}`" in docs, f"docs/ci.md does not document {variable}"
        assert any(f"vars.{variable}" in path.read_text() for path in workflow_files()), variable
