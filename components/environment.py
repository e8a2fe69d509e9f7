"""Where a component deploys: partition, region and account, read through the component's provider.

The invokes run with `parent=` the calling component so a provider passed in `opts` (another
region or account) decides the values that go into ARNs and policies.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws


def aws_environment(parent: pulumi.Resource) -> pulumi.Output[dict[str, str]]:
    """`{"partition", "region", "account"}` for the provider `parent`'s children use."""
    invoke = pulumi.InvokeOutputOptions(parent=parent)
    return pulumi.Output.all(
        partition=aws.get_partition_output(opts=invoke).partition,
        region=aws.get_region_output(opts=invoke).region,
        account=aws.get_caller_identity_output(opts=invoke).account_id,
    )
