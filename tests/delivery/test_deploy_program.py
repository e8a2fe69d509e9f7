"""deploy/ under Pulumi mocks: one Deployment settings resource for prod with the pre-run
commands, ESC (AWS OIDC) import, PR previews and push-to-deploy docs/ci.md describes, plus the
ESC environment and the preventative policy group that enforces the pack in Pulumi Cloud."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from tests.delivery.deploy_harness import DEPLOY_DIR, load_delivery_settings, run_deploy_program
from tests.delivery.conftest import BASE_CONFIG
from tests.delivery.iam_eval import ROOT

DOCS = (ROOT / "docs" / "ci.md").read_text()


@pytest.fixture(scope="module")
def registered(deploy_config):
    resources, _ = run_deploy_program(deploy_config)
    return resources


def _of_type(resources, type_token):
    return [r for r in resources if r.type == type_token]


def _one(resources, type_token):
    found = _of_type(resources, type_token)
    assert len(found) == 1, f"expected one {type_token}, got {[r.name for r in found]}"
    return found[0]


def test_exactly_one_deployment_settings_for_the_prod_stack_of_this_project(registered):
    settings = _one(registered, "pulumiservice:index:DeploymentSettings").inputs
    project = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["name"]
    identity = (settings["organization"], settings["project"], settings["stack"])
    assert identity == ("acme", project, "prod")
    assert settings["sourceContext"] == {"git": {"branch": "refs/heads/main", "repoDir": "."}}
    assert settings["vcs"] == {"provider": "github", "repository": "acme/trailguard",
                               "deployCommits": True, "previewPullRequests": True}


def test_pre_run_commands_gate_like_ci_then_import_the_esc_environment(registered):
    commands = _one(registered, "pulumiservice:index:DeploymentSettings").inputs[
        "operationContext"]["preRunCommands"]
    assert commands == [
        "python -m pip install --quiet -r requirements-dev.txt",
        "python -m pytest -q",
        "trailguard check --stack prod --policy-config policies/config/prod.json",
        "pulumi config env add trailguard/aws-oidc --stack prod --yes",
    ]
    for command in commands:  # the docs describe exactly these
        assert command in DOCS, f"docs/ci.md does not show `{command}`"


def test_deployments_run_one_at_a_time_in_a_pinned_executor(registered):
    settings = _one(registered, "pulumiservice:index:DeploymentSettings").inputs
    assert settings["operationContext"]["options"] == {"skipIntermediateDeployments": True}
    assert settings["executorContext"] == {"executorImage": "pulumi/pulumi-python-3.11:3.272.0"}
    assert "oidc" not in settings["operationContext"], "AWS credentials come from ESC"
    assert "environmentVariables" not in settings["operationContext"], "no static credentials"


def test_esc_environment_logs_into_the_configured_role_through_oidc(registered, deploy_config):
    environment = _one(registered, "pulumiservice:index:Environment")
    assert (environment.inputs["organization"], environment.inputs["project"],
            environment.inputs["name"]) == ("acme", "trailguard", "aws-oidc")
    definition = yaml.safe_load(environment.inputs["yaml"].text)["values"]
    login = definition["aws"]["login"]["fn::open::aws-login"]
    assert login == {"oidc": {"roleArn": deploy_config["awsRoleArn"],
                              "sessionName": "trailguard-deploy", "duration": "1h",
                              "subjectAttributes": ["currentEnvironment.name"]}}
    assert definition["environmentVariables"] == {
        "AWS_ACCESS_KEY_ID": "${aws.login.accessKeyId}",
        "AWS_SECRET_ACCESS_KEY": "${aws.login.secretAccessKey}",
        "AWS_SESSION_TOKEN": "${aws.login.sessionToken}",
    }
    assert definition["pulumiConfig"] == {"aws:region": "us-east-1"}


def test_policy_group_enforces_the_published_pack_with_the_ci_config(registered, staged_pack):
    pack = _one(registered, "pulumiservice:index:PolicyPack").inputs
    group = _one(registered, "pulumiservice:index:PolicyGroup").inputs
    pack_yaml = yaml.safe_load((ROOT / "policies" / "PulumiPolicy.yaml").read_text())
    assert pack["versionTag"] == pack_yaml["version"]
    assert Path(pack["sourcePath"]) == staged_pack  # the publishable copy, not policies/ itself
    assert "-e .." not in (staged_pack / "requirements.txt").read_text()
    assert group["mode"] == "preventative" and group["entityType"] == "stacks"
    assert group["stacks"] == [{"name": "prod", "routingProject": "trailguard"}]
    [enabled] = group["policyPacks"]
    assert (enabled["name"], enabled["versionTag"]) == (pack["name"], pack["versionTag"])
    # The mock engine hands numbers over as floats, hence parse_int=float on the file side.
    ci_config = json.loads((ROOT / "policies" / "config" / "prod.json").read_text(),
                           parse_int=float)
    assert enabled["config"] == ci_config


def test_children_are_parented_and_settings_wait_for_environment_and_policy_group(registered):
    [component] = _of_type(registered, "trailguard:delivery:PulumiCloudDelivery")
    children = [r for r in registered if r is not component]
    assert len(children) == 6 and all(r.parent == component.urn for r in children)
    settings = _one(registered, "pulumiservice:index:DeploymentSettings")
    needed = {_one(registered, t).urn for t in ("pulumiservice:index:Environment",
                                                "pulumiservice:index:PolicyGroup")}
    assert needed <= set(settings.dependencies)


def test_config_switches_push_to_deploy_and_stack(deploy_config):
    resources, _ = run_deploy_program({**deploy_config, "pushToDeploy": "false", "stack": "prod",
                                       "branch": "release"})
    settings = _one(resources, "pulumiservice:index:DeploymentSettings").inputs
    assert settings["vcs"]["deployCommits"] is False
    assert settings["vcs"]["previewPullRequests"] is True
    assert settings["sourceContext"]["git"]["branch"] == "refs/heads/release"


def test_preview_mode_registers_the_same_resources(deploy_config):
    resources, _ = run_deploy_program(deploy_config, preview=True)
    assert sorted(r.type for r in resources) == sorted([
        "trailguard:delivery:PulumiCloudDelivery", "pulumiservice:index:Environment",
        "pulumiservice:index:PolicyPack", "pulumiservice:index:PolicyGroup",
        "pulumiservice:index:DeploymentSettings", "pulumiservice:index:DriftSchedule",
        "pulumiservice:index:Webhook"])


@pytest.mark.parametrize("override, key, allowed", [
    ({"organization": None}, "trailguard-deploy:organization", "is required"),
    ({"awsRoleArn": None}, "trailguard-deploy:awsRoleArn", "is required"),
    ({"repository": "trailguard"}, "trailguard-deploy:repository", 'as "owner/name"'),
    ({"awsRoleArn": "arn:aws:iam::1111:user/me"}, "trailguard-deploy:awsRoleArn",
     "an IAM role ARN"),
    ({"awsRegion": "useast1"}, "trailguard-deploy:awsRegion", "an AWS region"),
    ({"escEnvironment": "aws-oidc"}, "trailguard-deploy:escEnvironment", '"<project>/<name>"'),
    ({"branch": "refs/heads/main"}, "trailguard-deploy:branch", "without refs/heads/"),
    ({"pushToDeploy": "yes"}, "trailguard-deploy:pushToDeploy", "true or false"),
])
def test_bad_config_names_the_key_and_what_is_allowed_and_registers_nothing(
        override, key, allowed, deploy_config):
    config = {k: v for k, v in {**deploy_config, **override}.items() if v is not None}
    resources, error = run_deploy_program(config, raise_errors=False)
    assert isinstance(error, ValueError), error
    assert key in str(error) and allowed in str(error)
    assert resources == []


def test_repository_files_it_reads_are_checked(tmp_path: Path, deploy_config):
    module = load_delivery_settings()
    shutil.copy(ROOT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    (tmp_path / "policies" / "config").mkdir(parents=True)
    (tmp_path / "policies" / "PulumiPolicy.yaml").write_text("runtime: python\nversion: latest\n")
    (tmp_path / "policies" / "config" / "prod.json").write_text("{}")
    with pytest.raises(module.DeliveryConfigError) as err:
        module.read_delivery_settings(deploy_config, repo_root=tmp_path)
    assert "PulumiPolicy.yaml" in str(err.value) and "semantic version" in str(err.value)

    (tmp_path / "policies" / "PulumiPolicy.yaml").write_text("version: 1.2.3\n")
    (tmp_path / "policies" / "config" / "prod.json").write_text("{not json")
    with pytest.raises(module.DeliveryConfigError) as err:
        module.read_delivery_settings(deploy_config, repo_root=tmp_path)
    assert "prod.json is not valid JSON" in str(err.value)

    (tmp_path / "policies" / "config" / "prod.json").unlink()
    with pytest.raises(module.DeliveryConfigError) as err:
        module.read_delivery_settings(deploy_config, repo_root=tmp_path)
    assert "prod.json not found" in str(err.value)


def test_pulumi_yaml_declares_every_key_with_the_defaults_the_code_applies(deploy_config):
    project = yaml.safe_load((DEPLOY_DIR / "Pulumi.yaml").read_text())
    declared = project["config"]
    main_source = (DEPLOY_DIR / "__main__.py").read_text()
    for key in declared:
        assert f'"{key}"' in main_source, f"deploy/__main__.py does not read {key}"
    module = load_delivery_settings()
    defaults = module.read_delivery_settings(deploy_config)
    by_key = {"awsRegion": defaults.aws_region, "stack": defaults.stack, "branch": defaults.branch,
              "escEnvironment": defaults.esc_environment, "pushToDeploy": defaults.push_to_deploy,
              "previewPullRequests": defaults.preview_pull_requests,
              "policyGroup": defaults.policy_group, "policyPackName": defaults.policy_pack_name,
              "executorImage": defaults.executor_image}
    for key, value in by_key.items():
        assert declared[key]["default"] == value, key
    staged_default = (DEPLOY_DIR / declared["policyPackSource"]["default"]).resolve()
    assert staged_default == module.STAGED_POLICY_PACK
    assert {k for k, v in declared.items() if "default" not in v} == set(BASE_CONFIG)


def test_staging_vendors_the_library_wheel_and_leaves_local_state_out(tmp_path: Path):
    from tests.delivery.deploy_harness import load_module

    stage = load_module("stage_policy_pack")
    pack = tmp_path / "policies"
    (pack / "venv" / "bin").mkdir(parents=True)
    (pack / "rules" / "__pycache__").mkdir(parents=True)
    (pack / "PulumiPolicy.yaml").write_text("version: 0.1.0\n")
    (pack / "requirements.txt").write_text("pulumi-policy==1.21.0\n-e ..\n")
    wheel = tmp_path / "trailguard-0.1.0-py3-none-any.whl"
    wheel.write_bytes(b"wheel")
    staged = stage.stage_policy_pack(pack, tmp_path / "staged", wheel)
    assert (staged / "requirements.txt").read_text() == (
        "pulumi-policy==1.21.0\n./vendor/trailguard-0.1.0-py3-none-any.whl\n")
    assert (staged / "vendor" / wheel.name).read_bytes() == b"wheel"
    assert not (staged / "venv").exists() and not (staged / "rules" / "__pycache__").exists()

    (pack / "requirements.txt").write_text("pulumi-policy==1.21.0\ntrailguard==0.1.0\n")
    with pytest.raises(stage.StagingError) as err:
        stage.stage_policy_pack(pack, tmp_path / "staged", wheel)
    assert "requirements.txt has no `-e ..` line" in str(err.value)


def test_deploy_publishes_only_a_staged_pack_of_the_current_version(deploy_config, staged_pack,
                                                                   tmp_path: Path):
    key = "trailguard-deploy:policyPackSource"
    # The repository's own pack installs the library from `..`: not publishable as is.
    _, error = run_deploy_program({**deploy_config, "policyPackSource": str(ROOT / "policies")},
                                  raise_errors=False)
    assert key in str(error) and "`-e ..` from outside the folder" in str(error)
    assert "python deploy/stage_policy_pack.py" in str(error)

    version = yaml.safe_load((ROOT / "policies" / "PulumiPolicy.yaml").read_text())["version"]
    stale = tmp_path / "stale"
    shutil.copytree(staged_pack, stale)
    (stale / "PulumiPolicy.yaml").write_text("version: 0.0.9\n")
    _, error = run_deploy_program({**deploy_config, "policyPackSource": str(stale)},
                                  raise_errors=False)
    assert key in str(error) and "'0.0.9'" in str(error)
    assert f"policies/ is at '{version}'" in str(error)

    shutil.rmtree(stale / "vendor")
    (stale / "PulumiPolicy.yaml").write_text(f"version: {version}\n")
    _, error = run_deploy_program({**deploy_config, "policyPackSource": str(stale)},
                                  raise_errors=False)
    assert key in str(error) and "which is missing" in str(error)

    resources, error = run_deploy_program(
        {**deploy_config, "policyPackSource": str(tmp_path / "nothing")}, raise_errors=False)
    assert key in str(error) and "no PulumiPolicy.yaml" in str(error) and resources == []
