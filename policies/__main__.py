"""Entry point the Pulumi CLI runs: build the pack (this starts the analyzer server and blocks)."""

from pulumi_policy import EnforcementLevel, PolicyPack

from trailguard_policies import ALL_POLICIES, PACK_NAME

PolicyPack(
    name=PACK_NAME,
    policies=ALL_POLICIES,
    enforcement_level=EnforcementLevel.MANDATORY,
    description="Blocks deployments that drop a required CloudTrail security alarm or break the chain that makes it fire.",
)
