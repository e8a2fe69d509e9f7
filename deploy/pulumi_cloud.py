"""The Pulumi Cloud side of delivering a trailguard stack, as one component.

Pulumi recommends against a stack managing its own Deployment settings, so they live in this
separate program. Six resources, all from `delivery_settings.DeliverySettings`:

- an ESC environment that logs into AWS through OIDC (`deploy/esc/aws-oidc.yaml`);
- the policy pack published from its staged copy (`deploy/stage_policy_pack.py`: `policies/`
  with the trailguard library vendored) at the version its `PulumiPolicy.yaml` names;
- a *preventative* policy group holding the stack and that pack with the production config, so
  every preview and update Pulumi Cloud runs for the stack enforces the mandatory policies;
- the stack's Deployment settings: source branch, pre-run commands (tests, `trailguard check`,
  ESC import), PR previews, push-to-deploy, a pinned executor image;
- a drift schedule (a preview-only refresh of the stack, hourly by default, never auto-remediated
  on prod) and a stack webhook posting drift events to the security channel
  (`drift_detection.DriftSettings`).
"""

from __future__ import annotations

import pulumi
import pulumi_pulumiservice as pulumiservice

from delivery_settings import ESC_DEFINITION, DeliverySettings, pre_run_commands, \
    render_esc_environment


class PulumiCloudDelivery(pulumi.ComponentResource):
    """ESC environment, published policy pack, policy group, Deployment settings and drift
    detection with its webhook."""

    environment: pulumiservice.Environment
    policy_pack: pulumiservice.PolicyPack
    policy_group: pulumiservice.PolicyGroup
    deployment_settings: pulumiservice.DeploymentSettings
    drift_schedule: pulumiservice.DriftSchedule
    drift_webhook: pulumiservice.Webhook

    def __init__(self, name: str, settings: DeliverySettings,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("trailguard:delivery:PulumiCloudDelivery", name,
                         {"stack": settings.stack, "project": settings.project}, opts)
        child = pulumi.ResourceOptions(parent=self)

        self.environment = pulumiservice.Environment(
            f"{name}-aws-oidc",
            organization=settings.organization,
            project=settings.esc_project,
            name=settings.esc_name,
            yaml=pulumi.StringAsset(render_esc_environment(ESC_DEFINITION.read_text(), settings)),
            opts=child,
        )

        self.policy_pack = pulumiservice.PolicyPack(
            f"{name}-policy-pack",
            organization=settings.organization,
            name=settings.policy_pack_name,
            version_tag=settings.policy_pack_version,
            source_path=str(settings.policy_pack_source),
            opts=child,
        )

        self.policy_group = pulumiservice.PolicyGroup(
            f"{name}-policy-group",
            organization_name=settings.organization,
            name=settings.policy_group,
            entity_type="stacks",
            mode="preventative",
            stacks=[{"name": settings.stack, "routing_project": settings.project}],
            policy_packs=[{
                "name": self.policy_pack.name,
                "version_tag": self.policy_pack.version_tag,
                "config": dict(settings.policy_config or {}),
            }],
            opts=child,
        )

        self.deployment_settings = pulumiservice.DeploymentSettings(
            f"{name}-deployment-settings",
            organization=settings.organization,
            project=settings.project,
            stack=settings.stack,
            source_context={"git": {"branch": f"refs/heads/{settings.branch}", "repo_dir": "."}},
            vcs={
                "provider": "github",
                "repository": settings.repository,
                "deploy_commits": settings.push_to_deploy,
                "preview_pull_requests": settings.preview_pull_requests,
            },
            operation_context={
                "pre_run_commands": pre_run_commands(settings),
                # Queued pushes collapse into one update of the newest commit (one at a time).
                "options": {"skip_intermediate_deployments": True},
            },
            executor_context={"executor_image": settings.executor_image},
            cache_options={"enable": True},
            # Deployments need the environment to exist and the pack to be enforced first.
            opts=pulumi.ResourceOptions(parent=self,
                                        depends_on=[self.environment, self.policy_group]),
        )

        drift = settings.drift
        if drift is None:
            raise ValueError("DeliverySettings.drift is missing; build the settings with "
                             "delivery_settings.read_delivery_settings")
        # Drift runs are Deployments: they need the stack's Deployment settings first.
        self.drift_schedule = pulumiservice.DriftSchedule(
            f"{name}-drift-schedule",
            organization=settings.organization,
            project=settings.project,
            stack=drift.stack,
            schedule_cron=drift.schedule_cron,
            auto_remediate=drift.auto_remediate,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.deployment_settings]),
        )

        self.drift_webhook = pulumiservice.Webhook(
            f"{name}-drift-webhook",
            organization_name=settings.organization,
            project_name=settings.project,
            stack_name=drift.stack,
            display_name=f"trailguard {drift.stack} drift",
            payload_url=pulumi.Output.secret(drift.webhook_url),
            format=pulumiservice.WebhookFormat(drift.webhook_format),
            filters=[pulumiservice.WebhookFilters(event) for event in drift.webhook_filters],
            active=True,
            # The provider keeps payloadUrl in plain state unless told it is secret.
            opts=pulumi.ResourceOptions(parent=self, additional_secret_outputs=["payloadUrl"]),
        )

        self.register_outputs({
            "escEnvironment": settings.esc_environment,
            "policyGroup": self.policy_group.name,
            "policyPackVersion": self.policy_pack.version_tag,
            "deploymentSettings": self.deployment_settings.id,
            "driftSchedule": self.drift_schedule.id,
        })
