"""Pulumi Cloud delivery settings for the trailguard stack (see docs/ci.md, "Running in CI").

`driftWebhookUrl` is a secret: it is read as plain text only to be validated and is handed to
the webhook as a secret Output (`pulumi_cloud.PulumiCloudDelivery`).
"""

import pulumi

from delivery_settings import read_delivery_settings
from pulumi_cloud import PulumiCloudDelivery

config = pulumi.Config()
settings = read_delivery_settings({
    key: value
    for key in ("organization", "repository", "awsRoleArn", "awsRegion", "stack", "branch",
                "escEnvironment", "pushToDeploy", "previewPullRequests", "policyGroup",
                "policyPackName", "policyPackSource", "executorImage", "driftSchedule",
                "driftAutoRemediate", "driftWebhookUrl", "driftWebhookFormat")
    if (value := config.get(key)) is not None
})
delivery = PulumiCloudDelivery("trailguard", settings)

pulumi.export("deployedStack", f"{settings.organization}/{settings.project}/{settings.stack}")
pulumi.export("escEnvironment", f"{settings.organization}/{settings.esc_environment}")
pulumi.export("policyGroup", delivery.policy_group.name)
pulumi.export("policyPackVersion", delivery.policy_pack.version_tag)
pulumi.export("driftSchedule", delivery.drift_schedule.schedule_cron)
pulumi.export("driftAutoRemediate", delivery.drift_schedule.auto_remediate)
