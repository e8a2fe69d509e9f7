"""AuditTrail: a hardened multi-region CloudTrail delivering to S3 and to a CloudWatch log group.

Or, for an account whose trail is managed elsewhere, just the name of that trail's log group.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Mapping, Optional

import pulumi
import pulumi_aws as aws

from components import documents
from components.environment import aws_environment
from components.keys import customer_key
from trailguard.config import TrailConfig, names


@dataclass(frozen=True)
class AuditTrailArgs:
    trail: TrailConfig
    """Validated trail settings (create or existing, organization, retention, encryption)."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags for every taggable child."""
    protect: bool = True
    """Protect the audit data (bucket, log group, keys, trail) from deletion by `pulumi up`/`destroy`."""


class AuditTrail(pulumi.ComponentResource):
    """The trail, its bucket, log group, delivery role and keys; children are named `<name>-<role>`."""

    trail_arn: pulumi.Output[Optional[str]]
    log_group_name: pulumi.Output[str]
    bucket_name: pulumi.Output[Optional[str]]

    def __init__(self, name: str, args: AuditTrailArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("trailguard:trail:AuditTrail", name, {}, opts)
        trail = args.trail
        if not trail.create:
            self.trail_arn = pulumi.Output.from_input(None)
            self.log_group_name = pulumi.Output.from_input(trail.existing_log_group_name)
            self.bucket_name = pulumi.Output.from_input(None)
            self.register_outputs({"logGroupName": self.log_group_name})
            return

        self._name = name
        self._tags = dict(args.tags)
        self._protect = args.protect
        trail_name = name  # the component's name is the trail's (trailguard.config.names.audit_name)
        log_group_name = names.trail_log_group_name(trail_name)
        org_id = trail.organization_id if trail.organization else None
        env = aws_environment(self)

        trail_key = self._create_trail_key(env, trail_name) if trail.bucket_encryption == "kms" else None
        bucket, bucket_ready = self._create_bucket(env, trail_name, trail_key, org_id)
        log_group = self._create_log_group(env, log_group_name, trail.retention_days, trail.log_group_kms)
        role, role_policy = self._create_delivery_role(env, trail_name, log_group_name, org_id)
        created = aws.cloudtrail.Trail(
            f"{name}-trail",
            name=trail_name,
            s3_bucket_name=bucket.id,
            is_multi_region_trail=True,
            include_global_service_events=True,
            enable_log_file_validation=True,
            enable_logging=True,
            is_organization_trail=trail.organization,
            event_selectors=[aws.cloudtrail.TrailEventSelectorArgs(
                read_write_type="All", include_management_events=True)],
            # CloudTrail wants the stream wildcard on the group ARN (terraform-provider-aws#14557).
            cloud_watch_logs_group_arn=log_group.arn.apply(lambda arn: f"{arn}:*"),
            cloud_watch_logs_role_arn=role.arn,
            kms_key_id=trail_key.arn if trail_key is not None else None,
            tags=self._tags,
            # The role must be usable and the bucket writable before CloudTrail validates them.
            opts=self._child_opts(protect=True, depends_on=[role_policy, *bucket_ready]),
        )
        self.trail_arn = created.arn
        self.log_group_name = log_group.name
        self.bucket_name = bucket.bucket
        self.register_outputs({
            "trailArn": self.trail_arn,
            "logGroupName": self.log_group_name,
            "bucketName": self.bucket_name,
        })

    def _child_opts(self, *, protect: bool = False, depends_on: Optional[list] = None) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, protect=self._protect and protect, depends_on=depends_on)

    def _json(self, env: pulumi.Output, build, *extra) -> pulumi.Output[str]:
        """A policy document from the environment plus `extra` inputs, as JSON text."""
        return pulumi.Output.all(env, *extra).apply(
            lambda values: json.dumps(build(values[0]["partition"], values[0]["region"],
                                            values[0]["account"], *values[1:])))

    def _create_trail_key(self, env, trail_name: str) -> aws.kms.Key:
        return customer_key(f"{self._name}-key", f"CloudTrail log files of trail {trail_name}",
                            self._json(env, documents.trail_key_policy, trail_name), self._tags,
                            self._child_opts(protect=True))

    def _create_bucket(self, env, trail_name: str, key: Optional[aws.kms.Key],
                       org_id: Optional[str]) -> tuple[aws.s3.Bucket, list[pulumi.Resource]]:
        bucket = aws.s3.Bucket(names.child_name(self._name, names.BUCKET), force_destroy=False, tags=self._tags,
                               opts=self._child_opts(protect=True))
        ownership = aws.s3.BucketOwnershipControls(
            f"{self._name}-ownership", bucket=bucket.id,
            rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
            opts=self._child_opts())
        public_access = aws.s3.BucketPublicAccessBlock(
            f"{self._name}-public-access", bucket=bucket.id, block_public_acls=True,
            block_public_policy=True, ignore_public_acls=True, restrict_public_buckets=True,
            opts=self._child_opts())
        versioning = aws.s3.BucketVersioning(
            f"{self._name}-versioning", bucket=bucket.id,
            versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(status="Enabled"),
            opts=self._child_opts())
        if key is not None:
            default = aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                sse_algorithm="aws:kms", kms_master_key_id=key.arn)
        else:
            default = aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                sse_algorithm="AES256")
        encryption = aws.s3.BucketServerSideEncryptionConfiguration(
            f"{self._name}-encryption", bucket=bucket.id,
            rules=[aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                apply_server_side_encryption_by_default=default, bucket_key_enabled=key is not None)],
            opts=self._child_opts())
        policy = aws.s3.BucketPolicy(
            f"{self._name}-bucket-policy", bucket=bucket.id,
            policy=self._json(env, documents.trail_bucket_policy, bucket.bucket, trail_name, org_id),
            # A public-access block must exist before a policy is judged "public" or not.
            opts=self._child_opts(depends_on=[public_access]))
        return bucket, [ownership, public_access, versioning, encryption, policy]

    def _create_log_group(self, env, log_group_name: str, retention_days: int,
                          encrypt: bool) -> aws.cloudwatch.LogGroup:
        key = None
        if encrypt:
            key = customer_key(f"{self._name}-logs-key", f"CloudWatch Logs group {log_group_name}",
                               self._json(env, documents.log_group_key_policy, log_group_name), self._tags,
                               self._child_opts(protect=True))
        return aws.cloudwatch.LogGroup(
            f"{self._name}-logs",
            name=log_group_name,
            retention_in_days=retention_days,
            kms_key_id=key.arn if key is not None else None,
            tags=self._tags,
            opts=self._child_opts(protect=True),
        )

    def _create_delivery_role(self, env, trail_name: str, log_group_name: str,
                              org_id: Optional[str]) -> tuple[aws.iam.Role, aws.iam.RolePolicy]:
        role = aws.iam.Role(
            names.child_name(self._name, names.DELIVERY_ROLE),
            description=f"CloudTrail delivery of trail {trail_name} to {log_group_name}",
            assume_role_policy=self._json(env, documents.delivery_trust_policy, trail_name),
            tags=self._tags,
            opts=self._child_opts(),
        )
        policy = aws.iam.RolePolicy(
            f"{self._name}-delivery-policy",
            role=role.id,
            policy=self._json(env, documents.delivery_role_policy, log_group_name, org_id),
            opts=self._child_opts(),
        )
        return role, policy
