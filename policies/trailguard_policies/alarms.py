"""Resource policy on every CloudWatch alarm: it must be able to tell someone (Security Hub
CloudWatch.15 and CloudWatch.17). An alarm with no action, or with actions disabled, goes to
ALARM on a dashboard nobody watches.
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
from .props import METRIC_ALARM, read, read_items
from .settings import read_config, string_list

ALARM_SCHEMA = PolicyConfigSchema(
    properties={
        "exemptAlarms": string_list(
            "Pulumi names of alarms that may exist without an ALARM action (e.g. only feeding a dashboard)."
        ),
    }
)


def alarm_has_action_validator(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """At least one ALARM action and actions enabled."""
    if args.resource_type != METRIC_ALARM:
        return
    if args.name in read_config(args.get_config(), ALARM_SCHEMA)["exemptAlarms"]:
        return
    if read(args.props, "actionsEnabled", default=True) is False:
        report_violation(
            f"alarm '{args.name}' has actions disabled (actionsEnabled is false): it changes state without "
            "notifying anyone (Security Hub CloudWatch.17). Set actionsEnabled: true."
        )
    if read_items(args.props, "alarmActions") == []:
        report_violation(
            f"alarm '{args.name}' has no alarm actions: nobody is told when it fires (Security Hub "
            "CloudWatch.15). Add the ARN of an SNS topic to alarmActions."
        )


alarm_has_action = ResourceValidationPolicy(
    name="alarm-has-action",
    description="CloudWatch alarms have at least one ALARM action and actions enabled (Security Hub CloudWatch.15, .17).",
    validate=alarm_has_action_validator,
    enforcement_level=EnforcementLevel.MANDATORY,
    config_schema=ALARM_SCHEMA,
    **metadata_arguments("alarm-has-action"),
)
