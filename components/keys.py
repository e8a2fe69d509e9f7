"""The one way trailguard makes a customer-managed KMS key: rotation on, the longest deletion
window, a key policy scoped to the one service and resource that uses it."""

from __future__ import annotations

from typing import Mapping

import pulumi
import pulumi_aws as aws

KEY_DELETION_WINDOW_DAYS = 30  # the maximum: a scheduled deletion of audit keys can be noticed and cancelled


def customer_key(name: str, description: str, policy: pulumi.Input[str], tags: Mapping[str, str],
                 opts: pulumi.ResourceOptions) -> aws.kms.Key:
    return aws.kms.Key(
        name,
        description=description,
        enable_key_rotation=True,
        deletion_window_in_days=KEY_DELETION_WINDOW_DAYS,
        policy=policy,
        tags=dict(tags),
        opts=opts,
    )
