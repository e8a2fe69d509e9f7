"""What each policy tells Pulumi Cloud about itself: severity, compliance controls, remediation
steps and a link to its documentation (pulumi-policy 1.21's `severity`, `framework`, `tags`,
`remediation_steps` and `url`, sent in `GetAnalyzerInfo`).

pulumi-policy gives a policy one `PolicyComplianceFramework` (name, version, reference,
specification) and a list of tags, while a policy here can implement controls of two frameworks,
the CIS AWS Foundations Benchmark and AWS Security Hub. So:

- `framework` is the policy's first framework: `reference` lists its control ids, comma
  separated, and `specification` says what the policy enforces of them and names the controls of
  the other framework too;
- `tags` hold every control of every framework as `<framework tag>:<control>`, one tag each, so
  that any control can be filtered on.

The controls of the detection policies are read from the catalogue's `references`, never retyped:
a detection added to the catalogue adds its controls here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

from pulumi_policy import PolicyComplianceFramework, Severity

from trailguard.catalog import SEED_PRESET, load_catalog
from trailguard.catalog.model import Reference

DOCS_BASE_URL = "docs/policies.md"
"""Base of every policy's `url`, which adds `#<policy name>` (the policy's section of the page).

The repository has no public host, so this is the page's path relative to the repository root:
it resolves when browsing the repository, not from Pulumi Cloud. Set it to the page's absolute
address (e.g. `https://git.example.com/org/trailguard/blob/main/docs/policies.md`) before
`pulumi policy publish`; nothing else names the address."""

CIS = "CIS"
SECURITY_HUB = "SecurityHub"
CIS_VERSION = "5.0.0"
"""The CIS AWS Foundations Benchmark version the policies cite: the newest the catalogue references
that numbers the monitoring controls 4.x, and one of the CIS standards Security Hub runs. The
catalogue's references give each control's number in the other versions."""


@dataclass(frozen=True)
class Framework:
    """How a framework of the catalogue's references is named in policy metadata."""

    name: str
    version: str | None  # None: Security Hub control ids are not versioned
    tag: str


FRAMEWORKS: dict[str, Framework] = {
    CIS: Framework("CIS AWS Foundations Benchmark", CIS_VERSION, f"cis-aws-foundations-v{CIS_VERSION}"),
    SECURITY_HUB: Framework("AWS Security Hub", None, "aws-securityhub"),
}


def control_order(reference: Reference) -> tuple[Any, ...]:
    """Framework order, then control number: 4.2 before 4.10, CloudTrail.4 before CloudWatch.1."""
    prefix, numbers = reference.control.split(".", 1) if reference.framework == SECURITY_HUB else ("", reference.control)
    return (list(FRAMEWORKS).index(reference.framework), prefix, tuple(int(part) for part in numbers.split(".")))


def catalogue_controls(detection_ids: Iterable[str]) -> tuple[Reference, ...]:
    """The CIS (`CIS_VERSION`) and Security Hub controls the detections' catalogue references name."""
    catalog = load_catalog()
    controls = {
        reference
        for detection_id in detection_ids
        for reference in catalog.get(detection_id).references
        if reference.framework == SECURITY_HUB or (reference.framework == CIS and reference.version == CIS_VERSION)
    }
    return tuple(sorted(controls, key=control_order))


def security_hub(*controls: str) -> tuple[Reference, ...]:
    """Security Hub controls no catalogue detection carries (they judge the trail, alarms, log groups)."""
    return tuple(Reference(SECURITY_HUB, control) for control in controls)


def only(framework: str, controls: Iterable[Reference]) -> tuple[Reference, ...]:
    """The controls of one framework, in their order."""
    return tuple(reference for reference in controls if reference.framework == framework)


def format_controls(controls: Iterable[Reference]) -> str:
    """Control ids, comma separated: the form of `framework.reference`."""
    return ", ".join(reference.control for reference in controls)


@dataclass(frozen=True)
class PolicyMetadata:
    """One policy's metadata; `arguments()` are the keyword arguments of its constructor."""

    policy: str  # the policy's name, which is also its section anchor in docs/policies.md
    severity: Severity
    controls: tuple[Reference, ...]  # every framework's; the first one's framework is `framework`
    enforces: str  # what the policy enforces of these controls, one or two sentences
    remediation: str

    @property
    def url(self) -> str:
        return f"{DOCS_BASE_URL}#{self.policy}"

    @property
    def framework(self) -> PolicyComplianceFramework:
        primary = self.controls[0].framework
        others = [
            f"{FRAMEWORKS[key].name} {format_controls(only(key, self.controls))}."
            for key in FRAMEWORKS if key != primary and only(key, self.controls)
        ]
        return PolicyComplianceFramework(
            name=FRAMEWORKS[primary].name,
            version=FRAMEWORKS[primary].version,
            reference=format_controls(only(primary, self.controls)),
            specification=" ".join([self.enforces, *(f"Also {other}" for other in others)]),
        )

    @property
    def tags(self) -> list[str]:
        return [f"{FRAMEWORKS[r.framework].tag}:{r.control}" for r in self.controls]

    def arguments(self) -> dict[str, Any]:
        return {
            "severity": self.severity,
            "framework": self.framework,
            "tags": self.tags,
            "remediation_steps": self.remediation,
            "url": self.url,
        }


EVERY_DETECTION: tuple[str, ...] = tuple(load_catalog().detections)
"""Every catalogue detection: what `requiredDetections` can name (the `all` preset)."""

DETECTION_CONTROLS = catalogue_controls(EVERY_DETECTION)
"""The controls `required-detections` enforces when configured with the `cis` or `all` preset."""

SEED_CONTROLS = catalogue_controls(load_catalog().presets[SEED_PRESET])
"""The controls it enforces with its default `requiredDetections` (the seed article's five)."""

ENFORCED_PER_DETECTION = (
    "Enforced for the detections named in requiredDetections: the default (the seed preset) covers "
    f"CIS {format_controls(only(CIS, SEED_CONTROLS))} and Security Hub {format_controls(only(SECURITY_HUB, SEED_CONTROLS))}; "
    "the cis or all preset covers every control listed."
)

POLICY_METADATA: dict[str, PolicyMetadata] = {
    m.policy: m
    for m in (
        PolicyMetadata(
            policy="required-detections",
            severity=Severity.CRITICAL,
            controls=DETECTION_CONTROLS,
            enforces=(
                "Enforces each monitoring control as its audit prescribes it: a metric filter for the control's events on the "
                "log group of a multi-region logging trail, an alarm on the filter's metric, and an SNS topic with a "
                "subscriber; the filter is judged by the catalogue samples, not by its text. " + ENFORCED_PER_DETECTION
            ),
            remediation=(
                "Deploy the detection the violation names with its whole chain: list its id in the stack config "
                "trailguard:detections (or restore the metric filter, alarm, SNS topic or subscription the violation "
                "names) and keep the filter pattern one of the catalogue's (trailguard catalog ID shows them). An alarm must "
                "watch the filter's exact metric name and namespace, fire on one event and notify an SNS topic. Parts "
                "that live outside the stack go in the pack config: externalLogGroups, externalTopicArns, "
                "subscribedElsewhere."
            ),
        ),
        PolicyMetadata(
            policy="trail-delivers-to-cloudwatch",
            severity=Severity.CRITICAL,
            controls=only(CIS, DETECTION_CONTROLS) + security_hub("CloudTrail.1", "CloudTrail.4"),
            enforces=(
                "The trail every CIS monitoring control's audit requires: multi-region, logging, recording read and "
                "write management events and delivering to the CloudWatch Logs group the metric filters are on; "
                "with log file validation on (Security Hub CloudTrail.4) and global service events included."
            ),
            remediation=(
                "On the aws.cloudtrail.Trail set isMultiRegionTrail, includeGlobalServiceEvents, "
                "enableLogFileValidation and enableLogging to true; record management events with readWriteType All "
                "(or an advanced selector on eventCategory Management without readOnly); set cloudWatchLogsGroupArn "
                "to the log group ARN followed by ':*' and cloudWatchLogsRoleArn to a role CloudTrail can assume "
                "with logs:CreateLogStream and logs:PutLogEvents. List a trail that feeds no alarm in exemptTrails."
            ),
        ),
        PolicyMetadata(
            policy="alarm-has-action",
            severity=Severity.HIGH,
            controls=security_hub("CloudWatch.15", "CloudWatch.17"),
            enforces=(
                "Every CloudWatch alarm has an action for the ALARM state (CloudWatch.15) and its actions enabled "
                "(CloudWatch.17)."
            ),
            remediation=(
                "Set actionsEnabled: true on the alarm and add the ARN of an SNS topic to alarmActions. List an alarm "
                "that only feeds a dashboard in exemptAlarms."
            ),
        ),
        PolicyMetadata(
            policy="alarm-topic-can-deliver",
            severity=Severity.HIGH,
            controls=only(CIS, DETECTION_CONTROLS),
            enforces=(
                "The SNS notification every CIS monitoring control's remediation sets up can be delivered: the alarm's "
                "topic is not encrypted with a KMS key CloudWatch cannot use (alias/aws/sns), which drops every "
                "notification while the alarm shows ALARM. The CIS audit reads the configuration and does not catch this."
            ),
            remediation=(
                "Encrypt the SNS topic with a customer-managed KMS key whose key policy allows the service principal "
                "cloudwatch.amazonaws.com kms:Decrypt and kms:GenerateDataKey*, and set kmsMasterKeyId to it (or "
                "leave the topic unencrypted)."
            ),
        ),
        PolicyMetadata(
            policy="audit-log-retention",
            severity=Severity.MEDIUM,
            controls=security_hub("CloudWatch.16"),
            enforces="CloudWatch log groups keep events at least a year (CloudWatch.16; the minimum is configurable).",
            remediation=(
                "Set retentionInDays on the log group to at least minimumRetentionDays (365 by default), or leave it "
                "unset to keep events forever. List a log group that holds no audit data in exemptLogGroups."
            ),
        ),
        PolicyMetadata(
            policy="detections-protected",
            severity=Severity.MEDIUM,
            controls=DETECTION_CONTROLS,
            enforces=(
                "The metric filters and alarms implementing the monitoring controls cannot be deleted by an update "
                "that skips the preview, where required-detections runs only after the deletion. "
                + ENFORCED_PER_DETECTION
            ),
            remediation=(
                "Set the stack config trailguard:protect: true (the program then protects every detection's metric "
                "filter and alarm), or give the resource the option protect=True."
            ),
        ),
        PolicyMetadata(
            policy="realtime-detections",
            severity=Severity.HIGH,
            controls=DETECTION_CONTROLS,
            enforces=(
                "Delivers the events of the monitoring controls' detections within seconds, beside the metric-filter "
                "alarms their audit prescribes: for each detection listed in requireRealtime and each required region, "
                "an EventBridge rule on the default bus whose pattern provably matches every event of the detection's "
                "catalogue pattern, in a state that receives them (read-only management events included when the "
                "pattern can match them), with a target reaching an SNS topic of the stack. Nothing is required by "
                "default."
            ),
            remediation=(
                "Enable the real-time channel for the detection (or restore its rule or target) in the region the "
                "violation names: an EventBridge rule on the default bus with the pattern `trailguard eventbridge ID` "
                "prints and the state it names, and a target that is an SNS topic of this stack in that region or the "
                "default event bus of a region where such a rule notifies the topic (with a role). A narrower pattern "
                "needs the exclusion in this policy's allowedExclusions."
            ),
        ),
    )
}


def metadata_arguments(policy: str) -> dict[str, Any]:
    """The metadata keyword arguments for the policy named `policy`."""
    try:
        return POLICY_METADATA[policy].arguments()
    except KeyError:
        raise KeyError(
            f"policy '{policy}' has no entry in POLICY_METADATA ({', '.join(POLICY_METADATA)}): add one to "
            "policies/trailguard_policies/metadata.py"
        ) from None
