"""Shared fixtures: deploy/'s stack config with a staged (publishable) copy of the policy pack."""

from __future__ import annotations

import pytest

from tests.delivery.iam_eval import ROOT

BASE_CONFIG = {
    "organization": "acme",
    "repository": "acme/trailguard",
    "awsRoleArn": "arn:aws:iam::111122223333:role/trailguard-deployer",
    "driftWebhookUrl": "https://hooks.slack.com/services/T000/B000/security-channel",
}


@pytest.fixture(scope="session")
def staged_pack(tmp_path_factory):
    """`policies/` staged as deploy/stage_policy_pack.py does, with a stand-in wheel (building
    the real one needs pip and setuptools from the network)."""
    from tests.delivery.deploy_harness import load_module

    stage = load_module("stage_policy_pack")
    scratch = tmp_path_factory.mktemp("staging")
    wheel = scratch / "trailguard-0.1.0-py3-none-any.whl"
    wheel.write_bytes(b"stand-in")
    return stage.stage_policy_pack(ROOT / "policies", scratch / "policy-pack", wheel)


@pytest.fixture(scope="session")
def deploy_config(staged_pack):
    return {**BASE_CONFIG, "policyPackSource": str(staged_pack)}
