"""Resource policy on SNS topics: alarms must be able to publish to them.

CloudWatch publishes to an encrypted topic as `cloudwatch.amazonaws.com`, which must be allowed
to use the topic's KMS key. The AWS-managed `alias/aws/sns` key's policy cannot grant that, so
alarm notifications are dropped with a KMS AccessDenied while the alarm shows ALARM.
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
from .props import TOPIC, read
from .settings import read_config, string_list

TOPIC_SCHEMA = PolicyConfigSchema(
    properties={
        "forbiddenKmsKeys": string_list(
            "KMS key ids or aliases whose key policy cannot let CloudWatch publish; matched exactly or as "
            "the end of a key ARN (':alias/aws/sns').",
            ("alias/aws/sns",),
        ),
    }
)


def alarm_topic_can_deliver_validator(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """No topic encrypted with a key CloudWatch cannot use."""
    if args.resource_type != TOPIC:
        return
    key = read(args.props, "kmsMasterKeyId")
    if not isinstance(key, str) or not key:
        return  # unencrypted, or a key id computed at preview (a customer key being created)
    for forbidden in read_config(args.get_config(), TOPIC_SCHEMA)["forbiddenKmsKeys"]:
        if key == forbidden or key.endswith(":" + forbidden):
            report_violation(
                f"SNS topic '{args.name}' is encrypted with '{key}': CloudWatch alarms cannot publish to it "
                "(the AWS-managed key's policy cannot grant cloudwatch.amazonaws.com kms:Decrypt and "
                "kms:GenerateDataKey*), so notifications are silently dropped. Use a customer-managed key "
                "whose policy grants CloudWatch those actions."
            )
            return


alarm_topic_can_deliver = ResourceValidationPolicy(
    name="alarm-topic-can-deliver",
    description="SNS topics are not encrypted with alias/aws/sns, which CloudWatch alarms cannot publish to.",
    validate=alarm_topic_can_deliver_validator,
    enforcement_level=EnforcementLevel.MANDATORY,
    config_schema=TOPIC_SCHEMA,
    **metadata_arguments("alarm-topic-can-deliver"),
)
