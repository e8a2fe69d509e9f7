"""IAM, KMS, S3 and SNS policy documents as plain functions of account, region and names.

Kept free of Pulumi so each statement can be read and unit-tested as data; the components feed
them resolved strings through `Output.all(...).apply(...)`. Every grant names its service
principal and is pinned to this account and the exact resource (`aws:SourceArn`,
`aws:SourceAccount`, KMS encryption context) to rule out confused-deputy use.
"""

from __future__ import annotations

from typing import Any

from trailguard import heartbeat

Document = dict[str, Any]
VERSION = "2012-10-17"


def trail_arn(partition: str, region: str, account: str, trail_name: str) -> str:
    return f"arn:{partition}:cloudtrail:{region}:{account}:trail/{trail_name}"


def log_group_arn(partition: str, region: str, account: str, log_group_name: str) -> str:
    return f"arn:{partition}:logs:{region}:{account}:log-group:{log_group_name}"


def topic_arn(partition: str, region: str, account: str, topic_name: str) -> str:
    return f"arn:{partition}:sns:{region}:{account}:{topic_name}"


def _root(partition: str, account: str) -> str:
    return f"arn:{partition}:iam::{account}:root"


def _key_admin_statement(partition: str, account: str) -> Document:
    """The account keeps control of its key through IAM (without it a key can become unmanageable)."""
    return {
        "Sid": "AccountAdministersKeyThroughIam",
        "Effect": "Allow",
        "Principal": {"AWS": _root(partition, account)},
        "Action": "kms:*",
        "Resource": "*",
    }


def delivery_trust_policy(partition: str, region: str, account: str, trail_name: str) -> Document:
    """Only CloudTrail, acting for this trail, may assume the delivery role."""
    return {
        "Version": VERSION,
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": "cloudtrail.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {
                "aws:SourceArn": trail_arn(partition, region, account, trail_name)}},
        }],
    }


def heartbeat_trust_policy(partition: str, region: str, account: str) -> Document:
    """Only EventBridge Scheduler, acting for a schedule of this account, may assume the heartbeat role."""
    return {
        "Version": VERSION,
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": heartbeat.SCHEDULER_PRINCIPAL},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": account}},
        }],
    }


def heartbeat_role_policy(partition: str, region: str, account: str) -> Document:
    """The one action the heartbeat makes; GenerateRandom uses no key, so it has no resource to scope to."""
    return {
        "Version": VERSION,
        "Statement": [{"Effect": "Allow", "Action": heartbeat.ACTION, "Resource": "*"}],
    }


def delivery_role_policy(partition: str, region: str, account: str, log_group_name: str,
                         organization_id: str | None = None) -> Document:
    """The seed article's two statements, scoped to this log group's CloudTrail streams only."""
    group = log_group_arn(partition, region, account, log_group_name)
    streams = [f"{group}:log-stream:{account}_CloudTrail_{region}*"]
    if organization_id:
        streams.append(f"{group}:log-stream:{organization_id}_*")
    return {
        "Version": VERSION,
        "Statement": [
            {"Sid": "AWSCloudTrailCreateLogStream2014110", "Effect": "Allow",
             "Action": ["logs:CreateLogStream"], "Resource": streams},
            {"Sid": "AWSCloudTrailPutLogEvents20141101", "Effect": "Allow",
             "Action": ["logs:PutLogEvents"], "Resource": streams},
        ],
    }


def trail_bucket_policy(partition: str, region: str, account: str, bucket: str, trail_name: str,
                        organization_id: str | None = None) -> Document:
    """TLS only; CloudTrail may check the ACL and write log files for this trail and nothing else."""
    bucket_arn = f"arn:{partition}:s3:::{bucket}"
    source = {"aws:SourceArn": trail_arn(partition, region, account, trail_name)}
    prefixes = [f"{bucket_arn}/AWSLogs/{account}/*"]
    if organization_id:
        prefixes.append(f"{bucket_arn}/AWSLogs/{organization_id}/*")
    return {
        "Version": VERSION,
        "Statement": [
            {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
             "Resource": [bucket_arn, f"{bucket_arn}/*"],
             "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
            {"Sid": "AWSCloudTrailAclCheck", "Effect": "Allow",
             "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "s3:GetBucketAcl",
             "Resource": bucket_arn, "Condition": {"StringEquals": source}},
            {"Sid": "AWSCloudTrailWrite", "Effect": "Allow",
             "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "s3:PutObject",
             "Resource": prefixes,
             "Condition": {"StringEquals": {**source, "s3:x-amz-acl": "bucket-owner-full-control"}}},
        ],
    }


def trail_key_policy(partition: str, region: str, account: str, trail_name: str) -> Document:
    """CloudTrail may encrypt this trail's log files; the account's principals may read them back."""
    arn = trail_arn(partition, region, account, trail_name)
    return {
        "Version": VERSION,
        "Statement": [
            _key_admin_statement(partition, account),
            {"Sid": "CloudTrailEncryptsThisTrail", "Effect": "Allow",
             "Principal": {"Service": "cloudtrail.amazonaws.com"},
             "Action": "kms:GenerateDataKey*", "Resource": "*",
             "Condition": {
                 "StringEquals": {"aws:SourceArn": arn},
                 "StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn":
                                f"arn:{partition}:cloudtrail:*:{account}:trail/*"}}},
            {"Sid": "CloudTrailDescribesKey", "Effect": "Allow",
             "Principal": {"Service": "cloudtrail.amazonaws.com"},
             "Action": "kms:DescribeKey", "Resource": "*",
             "Condition": {"StringEquals": {"aws:SourceArn": arn}}},
            {"Sid": "AccountReadsLogFiles", "Effect": "Allow",
             "Principal": {"AWS": _root(partition, account)},
             "Action": ["kms:Decrypt", "kms:ReEncryptFrom"], "Resource": "*",
             "Condition": {
                 "StringEquals": {"kms:CallerAccount": account},
                 "StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn":
                                f"arn:{partition}:cloudtrail:*:{account}:trail/*"}}},
        ],
    }


def log_group_key_policy(partition: str, region: str, account: str, log_group_name: str) -> Document:
    """CloudWatch Logs in this region may use the key for this one log group only."""
    return {
        "Version": VERSION,
        "Statement": [
            _key_admin_statement(partition, account),
            {"Sid": "LogsEncryptsThisLogGroup", "Effect": "Allow",
             "Principal": {"Service": f"logs.{region}.amazonaws.com"},
             "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*",
                        "kms:Describe*"],
             "Resource": "*",
             "Condition": {"ArnEquals": {"kms:EncryptionContext:aws:logs:arn":
                                         log_group_arn(partition, region, account, log_group_name)}}},
        ],
    }


def rule_arn(partition: str, region: str, account: str, rule_name: str) -> str:
    """An EventBridge rule on the default bus (rules on other buses carry the bus in their ARN)."""
    return f"arn:{partition}:events:{region}:{account}:rule/{rule_name}"


def event_bus_arn(partition: str, region: str, account: str, bus_name: str = "default") -> str:
    return f"arn:{partition}:events:{region}:{account}:event-bus/{bus_name}"


def _rules_condition(account: str, rule_arns: list[str]) -> Document:
    return {"StringEquals": {"aws:SourceAccount": account}, "ArnEquals": {"aws:SourceArn": rule_arns}}


def topic_key_policy(partition: str, region: str, account: str, realtime_rule_arns: list[str] | None = None
                     ) -> Document:
    """CloudWatch alarms of this account may publish to the encrypted topic (aws/sns can't grant this);
    with `realtime_rule_arns`, so may exactly those EventBridge rules (real-time alerts)."""
    statements = [
        _key_admin_statement(partition, account),
        {"Sid": "CloudWatchAlarmsPublishEncrypted", "Effect": "Allow",
         "Principal": {"Service": "cloudwatch.amazonaws.com"},
         "Action": ["kms:Decrypt", "kms:GenerateDataKey*"], "Resource": "*",
         "Condition": {
             "StringEquals": {"aws:SourceAccount": account},
             "ArnLike": {"aws:SourceArn": f"arn:{partition}:cloudwatch:{region}:{account}:alarm:*"}}},
    ]
    if realtime_rule_arns:
        statements.append({"Sid": "EventBridgeRulesPublishEncrypted", "Effect": "Allow",
                           "Principal": {"Service": "events.amazonaws.com"},
                           "Action": ["kms:Decrypt", "kms:GenerateDataKey*"], "Resource": "*",
                           "Condition": _rules_condition(account, sorted(realtime_rule_arns))})
    return {"Version": VERSION, "Statement": statements}


def topic_policy(partition: str, region: str, account: str, topic_arn: str,
                 realtime_rule_arns: list[str] | None = None) -> Document:
    """The owner manages the topic; only this account's CloudWatch alarms publish (and, with
    `realtime_rule_arns`, exactly those EventBridge rules); TLS only."""
    document: Document = {
        "Version": VERSION,
        "Statement": [
            {"Sid": "OwnerManagesTopic", "Effect": "Allow", "Principal": {"AWS": _root(partition, account)},
             "Action": ["sns:GetTopicAttributes", "sns:SetTopicAttributes", "sns:AddPermission",
                        "sns:RemovePermission", "sns:DeleteTopic", "sns:Subscribe",
                        "sns:ListSubscriptionsByTopic", "sns:Publish"],
             "Resource": topic_arn},
            {"Sid": "CloudWatchAlarmsPublish", "Effect": "Allow",
             "Principal": {"Service": "cloudwatch.amazonaws.com"}, "Action": "sns:Publish",
             "Resource": topic_arn,
             "Condition": {
                 "StringEquals": {"aws:SourceAccount": account},
                 "ArnLike": {"aws:SourceArn": f"arn:{partition}:cloudwatch:{region}:{account}:alarm:*"}}},
            {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "sns:Publish",
             "Resource": topic_arn, "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
        ],
    }
    if realtime_rule_arns:
        document["Statement"].insert(2, {
            "Sid": "EventBridgeRulesPublish", "Effect": "Allow",
            "Principal": {"Service": "events.amazonaws.com"}, "Action": "sns:Publish", "Resource": topic_arn,
            "Condition": _rules_condition(account, sorted(realtime_rule_arns))})
    return document


def realtime_forward_trust_policy(partition: str, region: str, account: str) -> Document:
    """Only EventBridge, acting for a rule of this account, may assume the forwarding role."""
    return {
        "Version": VERSION,
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": "events.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": account}},
        }],
    }


def realtime_forward_policy(home_bus_arn: str) -> Document:
    """The one call a forwarding rule makes: put the matched event on the home region's default bus."""
    return {
        "Version": VERSION,
        "Statement": [{"Sid": "ForwardToHomeBus", "Effect": "Allow", "Action": "events:PutEvents",
                       "Resource": home_bus_arn}],
    }
