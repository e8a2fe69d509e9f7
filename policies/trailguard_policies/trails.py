"""Resource policies on the audit source: the trail and the log group it delivers to.

A trail that is single-region, skips global service events, stops logging or delivers nowhere
leaves every alarm downstream silent; a log group that expires events early destroys the audit
record an alarm points the responder to.
"""

from __future__ import annotations

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)

from .metadata import metadata_arguments
from .props import LOG_GROUP, TRAIL, UNKNOWN, read, read_items
from .settings import integer, read_config, string_list

TRAIL_SCHEMA = PolicyConfigSchema(
    properties={
        "exemptTrails": string_list(
            "Pulumi names of trails this policy ignores, e.g. a second trail that only records S3 data events."
        ),
    }
)

RETENTION_SCHEMA = PolicyConfigSchema(
    properties={
        "minimumRetentionDays": integer(
            "Fewest days a CloudWatch log group must keep events (CIS and Security Hub CloudWatch.16: 365). "
            "A log group with no retention set keeps events forever and passes.",
            365,
            minimum=1,
        ),
        "exemptLogGroups": string_list(
            "Pulumi names of log groups that do not hold audit data and may expire events sooner."
        ),
    }
)


def trail_delivers_to_cloudwatch_validator(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """Every property a trail needs so that the alarms see all management events, everywhere."""
    if args.resource_type != TRAIL:
        return
    config = read_config(args.get_config(), TRAIL_SCHEMA)
    if args.name in config["exemptTrails"]:
        return
    props, name = args.props, args.name
    if read(props, "isMultiRegionTrail", default=False) is False:
        report_violation(
            f"trail '{name}' is single-region: API calls in other regions never reach its log group. "
            "Set isMultiRegionTrail: true."
        )
    if read(props, "includeGlobalServiceEvents", default=True) is False:
        report_violation(
            f"trail '{name}' skips global service events (IAM, STS, console sign-in), which the root-usage, "
            "IAM and sign-in alarms watch. Set includeGlobalServiceEvents: true."
        )
    if read(props, "enableLogFileValidation", default=False) is False:
        report_violation(
            f"trail '{name}' has no log file validation, so tampering with the delivered logs goes unnoticed. "
            "Set enableLogFileValidation: true."
        )
    if read(props, "enableLogging", default=True) is False:
        report_violation(f"trail '{name}' is not logging (enableLogging is false). Set enableLogging: true.")
    for problem in _management_event_problems(props):
        report_violation(f"trail '{name}' {problem}")
    group_arn = read(props, "cloudWatchLogsGroupArn")
    if group_arn is None or group_arn == "":
        report_violation(
            f"trail '{name}' delivers to no CloudWatch Logs group, so no metric filter sees its events. "
            "Set cloudWatchLogsGroupArn to the log group ARN followed by ':*'."
        )
    elif group_arn is not UNKNOWN and not str(group_arn).endswith(":*"):
        report_violation(
            f"trail '{name}' has cloudWatchLogsGroupArn '{group_arn}' without the ':*' suffix; CloudTrail "
            "rejects it (InvalidCloudWatchLogsLogGroupArnException). Append ':*' to the log group ARN."
        )
    role_arn = read(props, "cloudWatchLogsRoleArn")
    if role_arn is None or role_arn == "":
        report_violation(
            f"trail '{name}' has no cloudWatchLogsRoleArn: CloudTrail needs a role allowed to "
            "logs:CreateLogStream and logs:PutLogEvents on the log group to deliver to it."
        )


def _management_event_problems(props: object) -> list[str]:
    """Event selectors must keep read and write management events; a trail without any does."""
    advanced = read_items(props, "advancedEventSelectors")
    if advanced is not UNKNOWN and advanced:
        return _advanced_selector_problems(advanced)
    selectors = read_items(props, "eventSelectors")
    if selectors is UNKNOWN or not selectors:
        return []
    for selector in selectors:
        if selector is UNKNOWN:
            return []
        includes = read(selector, "includeManagementEvents", default=True)
        read_write = read(selector, "readWriteType", default="All")
        if includes is UNKNOWN or read_write is UNKNOWN:
            return []
        if includes is True and read_write == "All":
            return []
    return [
        "records no read and write management events: no event selector has includeManagementEvents "
        "true with readWriteType All, so the alarms never see the API calls they watch."
    ]


def _advanced_selector_problems(selectors: list[object]) -> list[str]:
    """An advanced selector on eventCategory Management with no readOnly field keeps reads and writes."""
    for selector in selectors:
        if selector is UNKNOWN:
            return []
        fields = read_items(selector, "fieldSelectors")
        if fields is UNKNOWN:
            return []
        names = [read(field, "field") for field in fields]
        if UNKNOWN in names:
            return []
        for field, name in zip(fields, names):
            equals = read_items(field, "equals")
            if equals is UNKNOWN:
                return []
            if name == "eventCategory" and "Management" in equals and "readOnly" not in names:
                return []
    return [
        "records no read and write management events: no advanced event selector selects eventCategory "
        "Management without a readOnly filter, so the alarms never see the API calls they watch."
    ]


def audit_log_retention_validator(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """CloudWatch log groups keep audit events at least the configured number of days."""
    if args.resource_type != LOG_GROUP:
        return
    config = read_config(args.get_config(), RETENTION_SCHEMA)
    if args.name in config["exemptLogGroups"]:
        return
    retention = read(args.props, "retentionInDays", default=0)
    if retention is UNKNOWN or not isinstance(retention, (int, float)) or retention == 0:
        return  # 0 or absent: events never expire
    minimum = config["minimumRetentionDays"]
    if retention < minimum:
        report_violation(
            f"log group '{args.name}' keeps events {retention:g} days, fewer than the required {minimum}: "
            f"the audit trail behind an alarm would be gone before an investigation. "
            f"Set retentionInDays to at least {minimum} (or list the log group in exemptLogGroups)."
        )


trail_delivers_to_cloudwatch = ResourceValidationPolicy(
    name="trail-delivers-to-cloudwatch",
    description=(
        "CloudTrail trails are multi-region, include global service events, validate log files, "
        "are logging, and deliver to a CloudWatch Logs group (ARN ending in ':*') through a role."
    ),
    validate=trail_delivers_to_cloudwatch_validator,
    enforcement_level=EnforcementLevel.MANDATORY,
    config_schema=TRAIL_SCHEMA,
    **metadata_arguments("trail-delivers-to-cloudwatch"),
)

audit_log_retention = ResourceValidationPolicy(
    name="audit-log-retention",
    description="CloudWatch log groups keep audit events at least the configured number of days.",
    validate=audit_log_retention_validator,
    enforcement_level=EnforcementLevel.MANDATORY,
    config_schema=RETENTION_SCHEMA,
    **metadata_arguments("audit-log-retention"),
)
