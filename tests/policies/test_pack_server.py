"""The pack as the Pulumi CLI starts it: `python __main__.py` in the pack folder prints the port of
its analyzer gRPC server; the test talks to it over gRPC like the engine (GetAnalyzerInfo,
Configure, Analyze, AnalyzeStack), then stops the process it started."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import grpc
import pytest
from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime import proto

PACK_DIR = Path(__file__).resolve().parents[2] / "policies"


@pytest.fixture(scope="module")
def analyzer():
    process = subprocess.Popen([sys.executable, "__main__.py"], cwd=PACK_DIR, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        port = process.stdout.readline().strip()
        assert port.isdigit(), f"no port printed; stderr: {process.stderr.read() if process.poll() is not None else ''}"
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        grpc.channel_ready_future(channel).result(timeout=20)
        yield proto.AnalyzerStub(channel)
        channel.close()
    finally:
        process.terminate()
        process.wait(timeout=10)


def struct(values) -> struct_pb2.Struct:
    result = struct_pb2.Struct()
    result.update(values)
    return result


def test_the_pack_serves_its_seven_policies(analyzer):
    info = analyzer.GetAnalyzerInfo(empty_pb2.Empty())
    assert info.name == "trailguard"
    assert sorted(p.name for p in info.policies) == sorted([
        "required-detections", "trail-delivers-to-cloudwatch", "alarm-has-action", "alarm-topic-can-deliver",
        "audit-log-retention", "detections-protected", "realtime-detections"])
    assert info.supportsConfig


def test_over_grpc_a_missing_detection_is_mandatory(analyzer):
    request = proto.ConfigureAnalyzerRequest()
    request.policyConfig["required-detections"].CopyFrom(proto.PolicyConfig(
        enforcementLevel=proto.MANDATORY, properties=struct({"requiredDetections": ["root-usage"]})))
    analyzer.Configure(request)
    response = analyzer.AnalyzeStack(proto.AnalyzeStackRequest(resources=[]))
    assert [(d.policyName, d.enforcementLevel) for d in response.diagnostics] == [("required-detections", proto.MANDATORY)]
    assert "required detection 'root-usage'" in response.diagnostics[0].message


def test_over_grpc_a_topic_on_the_aws_managed_key_is_mandatory(analyzer):
    response = analyzer.Analyze(proto.AnalyzeRequest(
        type="aws:sns/topic:Topic", name="t", urn="urn:pulumi:prod::trailguard::aws:sns/topic:Topic::t",
        properties=struct({"kmsMasterKeyId": "alias/aws/sns"})))
    assert [(d.policyName, d.enforcementLevel) for d in response.diagnostics] == [
        ("alarm-topic-can-deliver", proto.MANDATORY)]
