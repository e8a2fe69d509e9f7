"""`realtime-detections` at the protocol level: a small Pulumi program in the real-time channel's
contract shape runs under the SDK's mocks (`trailguard.check.harness.run_project`), and its
registrations go to the pack's analyzer servicer as the engine sends them: outputs, dependencies,
property dependencies, and each resource's provider (explicit ones as registered, the default
provider with the stack's `aws:region`), in update and in preview mode."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from google.protobuf import struct_pb2
from pulumi.runtime import proto

from trailguard.check.harness import ProgramRun, run_program, run_project
from trailguard.check.layout import ProjectLayout
from trailguard.check.policy_pack import _engine_values, analyzer_resource, load_pack, make_analyzer, resolve_policy_config

ROOT = Path(__file__).resolve().parents[2]
LAYOUT = ProjectLayout.for_repository(ROOT)
MODES = ["update", "preview"]
IDS = ["root-usage", "iam-policy-changes"]
REQUIRE = {"detections": IDS, "regions": ["us-east-1", "eu-west-1"]}

PROGRAM = textwrap.dedent('''
    """The real-time channel in its contract shape, with one change named by config `rtpack:case`."""
    import json

    import pulumi
    import pulumi_aws as aws

    from trailguard.catalog import load_catalog
    from trailguard.eventbridge import compile_event_pattern

    case = pulumi.Config("rtpack").get("case") or "ok"
    home = "us-east-1"
    regions = ["us-east-1", "eu-west-1"]
    account = aws.get_caller_identity().account_id
    providers = {region: aws.Provider(f"aws-{region}", region=region) for region in regions}
    topic = aws.sns.Topic("security", name="trailguard-security")  # the default provider: aws:region
    role = aws.iam.Role("forward", assume_role_policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"}, "Action": "sts:AssumeRole"}]}))
    for detection_id in ["root-usage", "iam-policy-changes"]:
        compiled = compile_event_pattern(load_catalog().get(detection_id).patterns["default"])
        for region in regions:
            here = (detection_id, region)
            if case == "missing" and here == ("root-usage", "eu-west-1"):
                continue
            pattern, state = json.loads(compiled.text), compiled.rule_state
            if case == "insider" and here == ("iam-policy-changes", "eu-west-1"):
                pattern["detail"]["userIdentity"] = {"arn": [
                    {"anything-but": {"prefix": "arn:aws:sts::123456789012:assumed-role/ops/"}}, {"exists": False}]}
            if case == "prefix" and here == ("iam-policy-changes", "us-east-1"):
                pattern["detail"]["eventName"] = [{"prefix": p} for p in ("Put", "Delete", "Attach", "Detach")]
            if case == "enabled" and here == ("root-usage", "eu-west-1"):
                state = "ENABLED"
            if case == "disabled" and here == ("root-usage", "eu-west-1"):
                state = "DISABLED"
            name = f"trailguard-{detection_id}"
            opts = pulumi.ResourceOptions(provider=providers[region])
            rule = aws.cloudwatch.EventRule(f"{name}-{region}", name=name, event_pattern=json.dumps(pattern),
                                            state=state, opts=opts)
            if region == home:
                if case == "silent-home" and detection_id == "iam-policy-changes":
                    continue
                arn = topic.arn
                if case == "foreign" and detection_id == "root-usage":
                    arn = "arn:aws:sns:us-east-1:999999999999:trailguard-security"
                aws.cloudwatch.EventTarget(f"{name}-{region}-notify", rule=rule.name, arn=arn, opts=opts,
                                           input_transformer={"input_paths": {"name": "$.detail.eventName"},
                                                              "input_template": '"<name>"'})
            else:
                bus = pulumi.Output.concat("arn:aws:events:", home, ":", account, ":event-bus/default")
                aws.cloudwatch.EventTarget(f"{name}-{region}-forward", rule=rule.name, arn=bus, role_arn=role.arn,
                                           opts=opts)
''')


def run(tmp_path: Path, case: str, mode: str) -> ProgramRun:
    (tmp_path / "__main__.py").write_text(PROGRAM, encoding="utf-8")
    return run_project(tmp_path, "test", {"aws:region": "us-east-1", "rtpack:case": case}, project="rtpack",
                       preview=mode == "preview")


def stack_request(run: ProgramRun, default_region: str) -> proto.AnalyzeStackRequest:
    """AnalyzeStack as the engine sends it: every resource with its provider."""
    providers = {r.urn: r for r in run.resources if r.type.startswith("pulumi:providers:")}
    entries = []
    for resource in run.resources:
        entry = analyzer_resource(resource)
        ref = (resource.provider or "").rsplit("::", 1)[0]
        provider = providers.get(ref)
        if provider is not None:
            entry.provider.CopyFrom(proto.AnalyzerProviderResource(
                type=provider.type, urn=provider.urn, name=provider.name, properties=_struct(provider.outputs)))
        elif resource.custom and not resource.type.startswith("pulumi:providers:"):
            entry.provider.CopyFrom(proto.AnalyzerProviderResource(
                type="pulumi:providers:aws", urn="urn:pulumi:test::rtpack::pulumi:providers:aws::default_7_51_1",
                name="default_7_51_1", properties=_struct({"region": default_region})))
        entries.append(entry)
    return proto.AnalyzeStackRequest(resources=entries)


def _struct(values: dict) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update(_engine_values(values))
    return struct


def judge(run: ProgramRun, raw_config: dict) -> list[tuple[int, str]]:
    """(enforcement level, message) of every realtime-detections diagnostic."""
    pack = load_pack(LAYOUT.pack_dir, LAYOUT.pack_package)
    analyzer = make_analyzer(pack, resolve_policy_config(raw_config, pack.ALL_POLICIES))
    response = analyzer.servicer.AnalyzeStack(stack_request(run, "us-east-1"), None)
    prefix = analyzer.descriptions["realtime-detections"] + "\n"
    return [(d.enforcementLevel, d.message.removeprefix(prefix)) for d in response.diagnostics
            if d.policyName == "realtime-detections"]


def required(**settings) -> dict:
    return {"all": "disabled",
            "realtime-detections": {"enforcementLevel": "mandatory", "requireRealtime": REQUIRE, **settings}}


MANDATORY = proto.MANDATORY


@pytest.mark.parametrize("mode", MODES)
def test_contract_shape_passes(tmp_path: Path, mode: str) -> None:
    program = run(tmp_path, "ok", mode)
    assert {r.type for r in program.resources} >= {"aws:cloudwatch/eventRule:EventRule",
                                                   "aws:cloudwatch/eventTarget:EventTarget", "pulumi:providers:aws"}
    assert judge(program, required()) == []


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("case, region, expected", [
    ("missing", "eu-west-1", "required real-time detection 'root-usage' (Root user activity) in eu-west-1: no "
                             "EventBridge rule in eu-west-1 matches its events"),
    ("insider", "eu-west-1", "required real-time detection 'iam-policy-changes' (IAM policy changes) in eu-west-1: "
                             "EventBridge rule 'trailguard-iam-policy-changes' matches the catalogue samples but not "
                             "every event the detection's default pattern counts: it would miss {"),
    ("prefix", "us-east-1", "required real-time detection 'iam-policy-changes' (IAM policy changes) in us-east-1: "
                            "EventBridge rule 'trailguard-iam-policy-changes' misses "),
    ("enabled", "eu-west-1", "required real-time detection 'root-usage' (Root user activity) in eu-west-1: EventBridge "
                             "rule 'trailguard-root-usage' is in state ENABLED, which never receives read-only "
                             "management events"),
    ("disabled", "eu-west-1", "required real-time detection 'root-usage' (Root user activity) in eu-west-1: "
                              "EventBridge rule 'trailguard-root-usage' is DISABLED: it matches nothing"),
    ("foreign", "us-east-1", "required real-time detection 'root-usage' (Root user activity) in us-east-1: EventBridge "
                             "rule 'trailguard-root-usage' delivers to no SNS topic of this stack: its targets "
                             "(arn:aws:sns:us-east-1:999999999999:trailguard-security)"),
])
def test_each_change_is_one_mandatory_violation(tmp_path: Path, mode: str, case: str, region: str, expected: str) -> None:
    found = judge(run(tmp_path, case, mode), required())
    # a broken home rule also breaks the rule forwarding to it: that one names the forwarding region
    own = [message for level, message in found if f" in {region}: " in message]
    assert len(own) == 1 and own[0].startswith(expected), found
    assert all(level == MANDATORY for level, _ in found)
    if region == "us-east-1":
        assert len(found) == 2 and "forwards to the default event bus in us-east-1, where no EventBridge rule" in \
            [m for _, m in found if " in eu-west-1: " in m][0]
    else:
        assert len(found) == 1


@pytest.mark.parametrize("mode", MODES)
def test_forwarding_to_a_bus_with_no_delivering_rule(tmp_path: Path, mode: str) -> None:
    found = judge(run(tmp_path, "silent-home", mode), required())
    assert [m.split(": ", 1)[0] for _, m in found] == [
        "required real-time detection 'iam-policy-changes' (IAM policy changes) in us-east-1",
        "required real-time detection 'iam-policy-changes' (IAM policy changes) in eu-west-1"]
    assert "has no target: nobody is told" in found[0][1]
    assert "target 'trailguard-iam-policy-changes-eu-west-1-forward' forwards to the default event bus in " \
           "us-east-1, where no EventBridge rule matching the detection delivers" in found[1][1]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("case", ["ok", "missing", "disabled"])
def test_default_config_requires_nothing(tmp_path: Path, mode: str, case: str) -> None:
    assert judge(run(tmp_path, case, mode), {}) == []


def test_existing_prod_stack_passes_with_the_default() -> None:
    """The repository's program and production pack config, which do not use the channel yet."""
    from trailguard.check.policy_pack import read_policy_config

    raw = read_policy_config(ROOT / "policies" / "config" / "prod.json")
    assert judge(run_program(LAYOUT, "prod"), raw) == []


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("case, expected", [("ok", []), ("missing", ["realtime-detections"])])
def test_trailguard_check_sends_the_providers(tmp_path: Path, mode: str, case: str, expected: list) -> None:
    """`analyze_run` (what `trailguard check` runs) sends each resource's explicit provider, so
    regions are decided there too; the topic on the default provider is placed by its ARN."""
    from trailguard.check.policy_pack import analyze_run

    pack = load_pack(LAYOUT.pack_dir, LAYOUT.pack_package)
    analyzer = make_analyzer(pack, resolve_policy_config(required(), pack.ALL_POLICIES))
    found = analyze_run(run(tmp_path, case, mode), analyzer)
    assert [(v.policy, v.level) for v in found] == [(p, "mandatory") for p in expected], found
