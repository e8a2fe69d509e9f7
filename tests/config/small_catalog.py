"""A four-detection catalogue built from the real record types, for config tests that must not
depend on the packaged catalogue's contents (ids, severities and metrics chosen here)."""

from __future__ import annotations

from types import MappingProxyType

from trailguard.catalog import Catalog, Detection, Reference, Sample, Severity


def _event(name: str, **extra) -> dict:
    return {"eventVersion": "1.08", "eventName": name, "eventSource": "iam.amazonaws.com",
            "eventType": "AwsApiCall", "awsRegion": "us-east-1", "eventTime": "2026-01-01T00:00:00Z",
            "userIdentity": {"type": "IAMUser"}, **extra}


def _detection(detection_id: str, metric: str, severity: Severity, pattern: str, hit: str,
               miss: str, securityhub: str | None = None) -> Detection:
    patterns = {"default": pattern}
    if securityhub:
        patterns["securityhub"] = securityhub
    samples = (Sample(name="hit", event=_event(hit), positive=True),
               Sample(name="miss", event=_event(miss), positive=False))
    return Detection(
        id=detection_id, title=detection_id.replace("-", " ").capitalize(), why="because",
        runbook=f"docs/runbooks/{detection_id}.md", severity=severity, metric=metric,
        references=(Reference("CIS", "4.4", "1.4.0"),), patterns=patterns,
        positives=(samples[0].event,), negatives=(samples[1].event,), samples=samples)


DETECTIONS = (
    _detection("root-usage", "RootAccountUsage", Severity.CRITICAL,
               '{ $.userIdentity.type = "Root" }', "ConsoleLogin", "ConsoleLogin"),
    _detection("iam-policy-changes", "IAMPolicyChanges", Severity.HIGH,
               "{ ($.eventName = PutUserPolicy) || ($.eventName = CreatePolicy) }", "CreatePolicy",
               "ListPolicies", securityhub="{($.eventName=PutUserPolicy)||($.eventName=CreatePolicy)}"),
    _detection("vpc-changes", "VpcChanges", Severity.MEDIUM,
               "{ $.eventName = CreateVpc }", "CreateVpc", "DescribeVpcs"),
    _detection("console-auth-failures", "ConsoleAuthFailures", Severity.LOW,
               '{ $.eventName = ConsoleLogin && $.errorMessage = "Failed authentication" }',
               "ConsoleLogin", "ConsoleLogin"),
)


def small_catalog() -> Catalog:
    detections = {d.id: d for d in DETECTIONS}
    presets = {"seed": ("root-usage", "iam-policy-changes", "vpc-changes"),
               "cis": ("root-usage", "iam-policy-changes", "console-auth-failures"),
               "all": tuple(detections)}
    return Catalog(MappingProxyType(detections), MappingProxyType(presets))
