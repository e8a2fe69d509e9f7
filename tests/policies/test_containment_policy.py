"""Class 1 of the policy proofs: a required detection's deployed pattern must count every event
its reference pattern (either profile's catalogue pattern) counts. The samples stay the quick
first check; containment sees the clauses no sample varies: a region, an exempted principal, a
required field. Each harmful narrowing is reported with an event it would miss; each benign
rewrite passes."""

from __future__ import annotations

import json

import pytest
from trailguard_policies.detections import required_detections_policy
from trailguard_policies.samples import describe_counterexample, prove_pattern

from tests.policies.helpers import run_stack_policy_in_preview
from tests.policies.test_required_detections import VPC_PATTERN, alarm, messages, metric_filter, root_stack
from trailguard.catalog import load_catalog
from trailguard.patterns import compile_pattern

VPC = load_catalog().get("vpc-changes")
VPC_ONLY = {"requiredDetections": ["vpc-changes"]}
INSIDER = "arn:aws:iam::111122223333:user/mallory"


def vpc_stack(pattern: str):
    return root_stack() + [metric_filter("vpc-filter", pattern, VPC.metric), alarm("vpc-alarm", VPC.metric)]


NARROWED = [
    # each clause holds for every catalogue sample: judging by samples alone passes all four
    pytest.param(f'{{ ({VPC_PATTERN[1:-1]}) && $.awsRegion != "ap-southeast-3" }}', '"awsRegion": "ap-southeast-3"',
                 id="exempt-one-region"),
    pytest.param(f'{{ ({VPC_PATTERN[1:-1]}) && $.userIdentity.arn != "{INSIDER}" }}', '"eventName": ',
                 id="insider-exempts-self"),  # != is also false without an arn: more than the insider goes unseen
    pytest.param(f'{{ ({VPC_PATTERN[1:-1]}) && $.eventVersion = "1.09" }}', '"eventVersion": ', id="requires-event-version"),
    pytest.param(f'{{ ({VPC_PATTERN[1:-1]}) && $.userIdentity.type != "Root" }}', '$.userIdentity.type', id="exempts-root"),
]


@pytest.mark.parametrize("pattern, shown", NARROWED)
def test_a_narrowing_every_sample_survives_is_reported_with_the_event_it_misses(pattern, shown):
    assert all(compile_pattern(pattern).matches(e) for e in VPC.positives)  # the samples alone pass it
    reported = messages(vpc_stack(pattern), config=VPC_ONLY)
    assert len(reported) == 1, reported
    assert reported[0].startswith("required detection 'vpc-changes' (VPC changes): metric filter 'vpc-filter' matches "
                                  "the catalogue samples but its pattern is narrower than the detection's ")
    assert "it would not count {" in reported[0] and shown in reported[0]


@pytest.mark.parametrize("pattern, shown", NARROWED)
def test_the_counterexample_is_one_the_reference_counts_and_the_pattern_misses(pattern, shown):
    proof = prove_pattern(pattern, "vpc-changes")
    assert proof.verdict == "not-contained"
    assert compile_pattern(VPC.patterns[proof.profile]).matches(proof.counterexample)
    assert not compile_pattern(pattern).matches(proof.counterexample)


@pytest.mark.parametrize("pattern, shown", NARROWED)
def test_a_narrowing_is_mandatory_in_preview_too(pattern, shown):
    reported, advisory = run_stack_policy_in_preview(required_detections_policy, vpc_stack(pattern), VPC_ONLY)
    assert len(reported) == 1 and "narrower than the detection's" in reported[0]
    assert advisory is None


def _reordered(pattern: str) -> str:
    tree = compile_pattern(pattern).tree
    from dataclasses import replace

    from trailguard.patterns import ast, render

    def flip(node):
        if isinstance(node, (ast.And, ast.Or)):
            return replace(node, operands=tuple(flip(o) for o in reversed(node.operands)))
        return node
    return render(replace(tree, expr=flip(tree.expr)))


BENIGN = [
    pytest.param(_reordered(VPC_PATTERN), id="reordered"),
    pytest.param("{ ( " + VPC_PATTERN[1:-1] + " ) }", id="extra-parentheses"),
    pytest.param(VPC_PATTERN.replace("=DeleteVpc)", '="DeleteVpc")'), id="quoted-value"),
    pytest.param(VPC_PATTERN.replace("($.eventName=DeleteVpc)", "($.eventName=DeleteVpc) || ($.eventName=DeleteVpcEndpoints)"),
                 id="added-event-name"),
    pytest.param(VPC.patterns["default"], id="the-other-profile"),
]


@pytest.mark.parametrize("pattern", BENIGN)
def test_a_rewrite_or_a_broadening_passes(pattern):
    assert pattern != VPC_PATTERN or pattern == VPC.patterns["default"]
    assert messages(vpc_stack(pattern), config=VPC_ONLY) == []


def test_the_counterexample_shows_the_fields_the_patterns_read_then_the_rest_elided():
    event = {"eventSource": "ec2.amazonaws.com", "eventName": "DeleteVpc", "awsRegion": "us-west-2",
             "userIdentity": {"type": "IAMUser", "arn": INSIDER}, "eventTime": "2026-01-01T00:00:00Z"}
    shown = describe_counterexample(event, '{ $.eventName = DeleteVpc && $.awsRegion = "us-east-1" }',
                                    '{ $.eventSource = ec2.amazonaws.com && $.userIdentity.arn = "x" }')
    assert shown.endswith(", ...}")
    assert json.loads(shown[:-6] + "}") == {"eventName": "DeleteVpc", "awsRegion": "us-west-2",
                                            "eventSource": "ec2.amazonaws.com", "userIdentity": {"arn": INSIDER}}


def test_the_fields_the_patterns_read_and_the_event_lacks_are_named():
    shown = describe_counterexample({"eventName": "DeleteVpc"}, '{ $.eventName = DeleteVpc && $.userIdentity.type != "Root" }')
    assert shown == '{"eventName": "DeleteVpc", ...} without $.userIdentity.type'


# --- the real program under mocks, through the analyzer servicer, in update and in preview ------

from tests.policies.test_end_to_end import MODES, PREFIX, ROOT, changed, judge, setter, summary  # noqa: E402
from trailguard.check.harness import run_program  # noqa: E402
from trailguard.check.layout import ProjectLayout  # noqa: E402
from trailguard.check.policy_pack import load_pack, make_analyzer, read_policy_config, resolve_policy_config  # noqa: E402


@pytest.fixture(scope="module")
def prod():
    layout = ProjectLayout.for_repository(ROOT)
    pack = load_pack(layout.pack_dir, layout.pack_package)
    config = resolve_policy_config(read_policy_config(ROOT / "policies" / "config" / "prod.json"), pack.ALL_POLICIES)
    runs = {mode: run_program(layout, "prod", preview=mode == "preview") for mode in MODES}
    return runs, make_analyzer(pack, config)


def _vpc_filter_pattern(run) -> str:
    return next(r for r in run.resources if r.name == f"{PREFIX}-vpc-changes-filter").inputs["pattern"]


@pytest.mark.parametrize("mode", MODES)
def test_prod_filter_scoped_to_one_region_is_mandatory(mode, prod):
    runs, analyzer = prod
    deployed = _vpc_filter_pattern(runs[mode])
    narrowed = f'{{ ({deployed.strip()[1:-1]}) && $.awsRegion = "eu-west-1" }}'
    violations = judge(changed(runs[mode], f"{PREFIX}-vpc-changes-filter", setter(pattern=narrowed)), analyzer)
    assert summary(violations) == [
        ("required-detections", "mandatory", f"aws:cloudwatch/logMetricFilter:LogMetricFilter::{PREFIX}-vpc-changes-filter")]
    assert "its pattern is narrower than the detection's" in violations[0].message
    assert '"awsRegion": "' in violations[0].message and '"awsRegion": "eu-west-1"' not in violations[0].message


@pytest.mark.parametrize("mode", MODES)
def test_prod_filter_reordered_passes(mode, prod):
    runs, analyzer = prod
    reordered = _reordered(_vpc_filter_pattern(runs[mode]))
    assert judge(changed(runs[mode], f"{PREFIX}-vpc-changes-filter", setter(pattern=reordered)), analyzer) == []


def test_a_pattern_containment_cannot_decide_is_advisory_and_judged_by_the_samples():
    """A regex whose values decide the answer: the samples judge it, and an advisory says so
    (not "decided on update": the update cannot decide it either)."""
    regex = VPC_PATTERN.replace("($.eventName=DeleteVpc)", "($.eventName=%^DeleteVpc$%)")
    assert regex != VPC_PATTERN
    assert prove_pattern(regex, "vpc-changes").verdict == "undecided"
    reported, advisory = run_stack_policy_in_preview(required_detections_policy, vpc_stack(regex), VPC_ONLY)
    assert reported == []
    assert advisory is not None and "is undecided (" in advisory and advisory.endswith("judged by the samples only")
