"""Declared exclusions against the pack: a stack's `overrides.<id>.exclude` deploys a narrowed
pattern; the pack accepts exactly the narrowing its `allowedExclusions` names (owned by the
security team) and reports any other with an event it would miss. The real program under mocks,
through the analyzer servicer, in update and in preview, one test per exclusion kind."""

from __future__ import annotations

import pytest

from tests.policies.test_end_to_end import MODES, PREFIX, ROOT, judge, summary
from trailguard.check.harness import run_program
from trailguard.check.layout import ProjectLayout
from trailguard.check.policy_pack import load_pack, make_analyzer, read_policy_config, resolve_policy_config
from trailguard.config import read_stack_config

LAYOUT = ProjectLayout.for_repository(ROOT)
DETECTION = "iam-policy-changes"
KINDS = [
    pytest.param({"principal": "arn:aws:iam::111122223333:role/deployer"}, '"arn": "arn:aws:sts::111122223333:assumed-role/deployer/',
                 id="principal-role"),
    pytest.param({"sourceIp": "203.0.113.7"}, '"sourceIPAddress": "203.0.113.7"', id="source-ip"),
    pytest.param({"userAgent": "DeployBot/*"}, '"userAgent": "DeployBot/', id="user-agent"),
    pytest.param({"pattern": '$.userIdentity.invokedBy = "cloudformation.amazonaws.com"'},
                 '"invokedBy": "cloudformation.amazonaws.com"', id="pattern-fragment"),
]


def analyzer(allowed: dict | None = None):
    pack = load_pack(LAYOUT.pack_dir, LAYOUT.pack_package)
    raw = read_policy_config(ROOT / "policies" / "config" / "prod.json")
    if allowed is not None:
        raw = {**raw, "required-detections": {**raw["required-detections"], "allowedExclusions": allowed}}
    return make_analyzer(pack, resolve_policy_config(raw, pack.ALL_POLICIES))


def excluding(mode: str, item: dict):
    overrides = read_stack_config(ROOT, "prod")["overrides"]
    override = {**overrides.get(DETECTION, {}), "exclude": [item]}
    return run_program(LAYOUT, "prod", preview=mode == "preview",
                       config_overrides={"overrides": {**overrides, DETECTION: override}})


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("item, shown", KINDS)
def test_an_allowed_exclusion_passes(mode, item, shown):
    assert judge(excluding(mode, item), analyzer({DETECTION: [item]})) == []


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("item, shown", KINDS)
def test_an_exclusion_the_pack_does_not_allow_is_mandatory_with_the_event_it_drops(mode, item, shown):
    violations = judge(excluding(mode, item), analyzer())
    assert summary(violations) == [
        ("required-detections", "mandatory", f"aws:cloudwatch/logMetricFilter:LogMetricFilter::{PREFIX}-{DETECTION}-filter")]
    message = violations[0].message
    assert "its pattern is narrower than the detection's" in message
    assert shown in message and f"allowedExclusions.{DETECTION}" in message


@pytest.mark.parametrize("mode", MODES)
def test_an_allowance_for_one_principal_does_not_cover_another(mode):
    run = excluding(mode, {"principal": "arn:aws:iam::111122223333:role/deployer"})
    violations = judge(run, analyzer({DETECTION: [{"principal": "arn:aws:iam::111122223333:role/ci"}]}))
    assert len(violations) == 1 and "assumed-role/deployer/" in violations[0].message


@pytest.mark.parametrize("raw, message", [
    ({"iam-policy-change": [{"sourceIp": "203.0.113.7"}]}, "allowedExclusions.iam-policy-change: unknown detection id"),
    ({DETECTION: [{"sourceIp": "10.0.0.0/20"}]}, f"allowedExclusions.{DETECTION}[0].sourceIp: "),
    ({DETECTION: [{"principal": "arn:aws:iam::1:user/a*b"}]}, f"allowedExclusions.{DETECTION}[0].principal: "),
])
def test_a_bad_allowance_names_its_key(raw, message):
    violations = judge(run_program(LAYOUT, "prod"), analyzer(raw))
    assert any(v.message.startswith("policy config " + message) for v in violations), [v.message for v in violations]
