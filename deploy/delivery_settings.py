"""What the Pulumi Cloud delivery settings are, as plain data (no Pulumi import).

`read_delivery_settings` validates the `trailguard-deploy:` stack config and reads the rest from
the repository (project name, policy pack version and production pack config), so the settings
cannot drift from what CI previews with. `pulumi_cloud.PulumiCloudDelivery` only turns the
result into resources, so every value here can be checked without Pulumi Cloud.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from drift_detection import DriftSettings, read_drift_settings

REPO_ROOT = Path(__file__).resolve().parent.parent
ESC_DEFINITION = Path(__file__).resolve().parent / "esc" / "aws-oidc.yaml"
STAGED_POLICY_PACK = REPO_ROOT / "build" / "policy-pack"  # deploy/stage_policy_pack.py writes it

# Pinned executor: Python 3.11 (the project's) with the Pulumi CLI the SDK pins (3.272.0).
DEFAULT_EXECUTOR_IMAGE = "pulumi/pulumi-python-3.11:3.272.0"

_REPOSITORY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]*/[A-Za-z0-9._-]+$")
_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$")
_ESC_NAME = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
_REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$")
_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")


class DeliveryConfigError(ValueError):
    """A `trailguard-deploy:` config value that cannot produce working settings."""


@dataclass(frozen=True, slots=True)
class DeliverySettings:
    """Everything the Pulumi Cloud resources are built from."""

    organization: str
    repository: str  # GitHub "owner/repo"
    aws_role_arn: str  # the role the ESC environment assumes (iam/deployer-policy.json)
    project: str  # Pulumi project of the delivered stack (the repository's Pulumi.yaml `name`)
    stack: str = "prod"
    branch: str = "main"
    aws_region: str = "us-east-1"
    esc_environment: str = "trailguard/aws-oidc"  # "<esc project>/<environment name>"
    session_name: str = "trailguard-deploy"
    push_to_deploy: bool = True
    preview_pull_requests: bool = True
    policy_group: str = "trailguard-prod"
    policy_pack_name: str = "trailguard"
    policy_pack_version: str = "0.0.0"
    policy_config: Mapping[str, Any] | None = None
    policy_pack_source: Path = STAGED_POLICY_PACK
    executor_image: str = DEFAULT_EXECUTOR_IMAGE
    drift: DriftSettings | None = None  # drift schedule and alert webhook (drift_detection.py)

    @property
    def esc_project(self) -> str:
        return self.esc_environment.split("/", 1)[0]

    @property
    def esc_name(self) -> str:
        return self.esc_environment.split("/", 1)[1]


def _require_match(key: str, value: str, pattern: re.Pattern[str], allowed: str) -> str:
    if not isinstance(value, str) or not pattern.match(value):
        raise DeliveryConfigError(
            f"trailguard-deploy:{key} is {value!r}; expected {allowed}")
    return value


def read_delivery_settings(config: Mapping[str, Any], *, repo_root: Path = REPO_ROOT
                           ) -> DeliverySettings:
    """Validate the `trailguard-deploy:` stack config (keys without the namespace).

    The delivered project's name, the pack's version and the pack's production config are read
    from the repository itself (`Pulumi.yaml`, `policies/PulumiPolicy.yaml`,
    `policies/config/prod.json`) so they cannot drift from what CI previews with. The drift
    keys are validated by `drift_detection.read_drift_settings`.
    """
    for key in ("organization", "repository", "awsRoleArn"):
        if not config.get(key):
            raise DeliveryConfigError(
                f"trailguard-deploy:{key} is required; set it with "
                f"`pulumi config set trailguard-deploy:{key} <value>` in deploy/")
    organization = _require_match("organization", config["organization"], _NAME,
                                  "a Pulumi organization name (letters, digits, '-', '_', '.')")
    repository = _require_match("repository", config["repository"], _REPOSITORY,
                                'a GitHub repository as "owner/name"')
    role_arn = _require_match("awsRoleArn", config["awsRoleArn"], _ROLE_ARN,
                              "an IAM role ARN such as "
                              "arn:aws:iam::123456789012:role/trailguard-deployer")
    region = _require_match("awsRegion", config.get("awsRegion", "us-east-1"), _REGION,
                            "an AWS region such as us-east-1")
    esc_environment = _require_match("escEnvironment",
                                     config.get("escEnvironment", "trailguard/aws-oidc"),
                                     _ESC_NAME, 'an ESC environment as "<project>/<name>"')
    stack = _require_match("stack", config.get("stack", "prod"), _NAME, "a stack name")
    branch = config.get("branch", "main")
    if not isinstance(branch, str) or not branch or branch.startswith("refs/"):
        raise DeliveryConfigError(
            f"trailguard-deploy:branch is {branch!r}; expected a branch name such as main "
            "(without refs/heads/)")
    flags = {key: _read_bool(config, key, True) for key in ("pushToDeploy", "previewPullRequests")}
    drift = read_drift_settings(config, stack)

    pack_dir = repo_root / "policies"
    pack_version = read_policy_pack_version(pack_dir / "PulumiPolicy.yaml")
    # A relative path is relative to deploy/, where `pulumi up` of this program runs.
    source = repo_root / "deploy" / config.get("policyPackSource", "../build/policy-pack")
    return DeliverySettings(
        organization=organization,
        repository=repository,
        aws_role_arn=role_arn,
        project=read_project_name(repo_root / "Pulumi.yaml"),
        stack=stack,
        branch=branch,
        aws_region=region,
        esc_environment=esc_environment,
        push_to_deploy=flags["pushToDeploy"],
        preview_pull_requests=flags["previewPullRequests"],
        policy_group=_require_match(
            "policyGroup", config.get("policyGroup", f"trailguard-{stack}"), _NAME,
            "a policy group name"),
        policy_pack_name=_require_match(
            "policyPackName", config.get("policyPackName", "trailguard"), _NAME,
            "the pack's name as its __main__.py gives it"),
        policy_pack_version=pack_version,
        policy_config=read_policy_config(pack_dir / "config" / f"{stack}.json"),
        policy_pack_source=check_staged_policy_pack(source.resolve(), pack_version),
        executor_image=config.get("executorImage", DEFAULT_EXECUTOR_IMAGE),
        drift=drift,
    )


def _read_bool(config: Mapping[str, Any], key: str, default: bool) -> bool:
    value = config.get(key, default)
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise DeliveryConfigError(f"trailguard-deploy:{key} is {value!r}; expected true or false")


def read_project_name(pulumi_yaml: Path) -> str:
    """The `name:` of the delivered Pulumi project."""
    try:
        name = (yaml.safe_load(pulumi_yaml.read_text()) or {}).get("name")
    except FileNotFoundError:
        raise DeliveryConfigError(f"{pulumi_yaml} not found: deploy/ must sit in the trailguard "
                                  "repository next to the program's Pulumi.yaml") from None
    if not isinstance(name, str) or not name:
        raise DeliveryConfigError(f"{pulumi_yaml} has no project `name:`")
    return name


def read_policy_pack_version(pulumi_policy_yaml: Path) -> str:
    """The pack version to publish: each version can be published once, so it comes from the
    pack's own `PulumiPolicy.yaml` and bumping it there is what publishes a new one."""
    try:
        version = (yaml.safe_load(pulumi_policy_yaml.read_text()) or {}).get("version")
    except FileNotFoundError:
        raise DeliveryConfigError(f"{pulumi_policy_yaml} not found: the policy pack is published "
                                  "from policies/") from None
    if not isinstance(version, str) or not re.match(r"^\d+\.\d+\.\d+", version):
        raise DeliveryConfigError(
            f"{pulumi_policy_yaml} `version:` is {version!r}; expected a semantic version "
            "such as 0.1.0")
    return version


def check_staged_policy_pack(staged: Path, version: str) -> Path:
    """The folder to publish: a staged copy of `policies/` of this version that installs
    everything from inside itself (Pulumi Cloud receives only the folder)."""
    remedy = "stage it with `python deploy/stage_policy_pack.py` (see docs/ci.md)"
    key = "trailguard-deploy:policyPackSource"
    try:
        staged_version = (yaml.safe_load((staged / "PulumiPolicy.yaml").read_text()) or {}).get(
            "version")
    except FileNotFoundError:
        raise DeliveryConfigError(f"{key}: {staged} holds no staged policy pack "
                                  f"(no PulumiPolicy.yaml); {remedy}") from None
    if staged_version != version:
        raise DeliveryConfigError(f"{key}: {staged} is the pack at version {staged_version!r} but "
                                  f"policies/ is at {version!r}; {remedy}")
    for line in (staged / "requirements.txt").read_text().splitlines():
        requirement = line.split("#", 1)[0].strip()
        if requirement.startswith(("-e", "..")) or "/../" in requirement:
            raise DeliveryConfigError(f"{key}: {staged}/requirements.txt installs "
                                      f"`{requirement}` from outside the folder, which a published "
                                      f"pack does not have; {remedy}")
        if requirement.startswith("./") and not (staged / requirement).exists():
            raise DeliveryConfigError(f"{key}: {staged}/requirements.txt names `{requirement}`, "
                                      f"which is missing; {remedy}")
    return staged


def read_policy_config(path: Path) -> dict[str, Any]:
    """The pack config the policy group enforces: the same file CI previews with."""
    try:
        config = json.loads(path.read_text())
    except FileNotFoundError:
        raise DeliveryConfigError(f"{path} not found: the policy group enforces the same pack "
                                  "config as CI's preview") from None
    except json.JSONDecodeError as exc:
        raise DeliveryConfigError(f"{path} is not valid JSON: {exc}") from None
    if not isinstance(config, dict):
        raise DeliveryConfigError(f"{path} must hold a JSON object of policy name -> config")
    return config


def render_esc_environment(template: str, settings: DeliverySettings) -> str:
    """The ESC environment definition from `deploy/esc/aws-oidc.yaml` with this stack's role,
    session name and region filled in."""
    definition = yaml.safe_load(template)
    values = definition["values"]
    oidc = values["aws"]["login"]["fn::open::aws-login"]["oidc"]
    oidc["roleArn"] = settings.aws_role_arn
    oidc["sessionName"] = settings.session_name
    values.setdefault("pulumiConfig", {})["aws:region"] = settings.aws_region
    return yaml.safe_dump(definition, sort_keys=False)


def pre_run_commands(settings: DeliverySettings) -> list[str]:
    """What a Deployment runs before `pulumi preview|up`, from the repository root.

    The same gate as CI: the test suite and `trailguard check` (offline: config validation, the
    program under mocks and the policy pack), then the ESC environment is imported into the
    stack so the operation runs with the short-lived AWS credentials it opens.
    """
    return [
        "python -m pip install --quiet -r requirements-dev.txt",
        "python -m pytest -q",
        f"trailguard check --stack {settings.stack} "
        f"--policy-config policies/config/{settings.stack}.json",
        f"pulumi config env add {settings.esc_environment} --stack {settings.stack} --yes",
    ]
