"""Drift detection for the delivered stack, as plain data (no Pulumi import).

Pulumi Deployments runs a preview-only refresh of the stack on a cron schedule and reports any
difference between the recorded state and what the cloud holds. `read_drift_settings` validates
the `trailguard-deploy:drift*` stack config; `pulumi_cloud.PulumiCloudDelivery` turns the result
into a `DriftSchedule` and a stack webhook that posts drift events to the security channel.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

DEFAULT_DRIFT_SCHEDULE = "0 * * * *"  # hourly, on the hour
DEFAULT_WEBHOOK_FORMAT = "slack"

# Stacks whose drift is reported, never repaired automatically: remediation is an unreviewed
# `pulumi up` that would also silently undo the evidence of an out-of-band change.
NO_AUTO_REMEDIATION_STACKS = frozenset({"prod"})

# Message formats of the Pulumi Cloud webhook (`WebhookFormat` of pulumi-pulumiservice 1.5.0)
# that post a readable message to a channel: Slack, Microsoft Teams, or the raw JSON event.
WEBHOOK_FORMATS = ("slack", "ms_teams", "raw")

# `WebhookFilters` values of pulumi-pulumiservice 1.5.0 the security channel receives: drift
# found, a drift run that could not check (silence would look like "no drift"), and a failed
# remediation (only possible where auto-remediation is allowed).
DRIFT_WEBHOOK_FILTERS = ("drift_detected", "drift_detection_failed", "drift_remediation_failed")

# Allowed numbers per cron field, in the order of the five fields.
_CRON_FIELDS = (("minute", 0, 59), ("hour", 0, 23), ("day of month", 1, 31), ("month", 1, 12),
                ("day of week", 0, 6))
_CRON_ITEM = re.compile(r"^(\*|(\d+)(?:-(\d+))?)(?:/(\d+))?$")


class DriftConfigError(ValueError):
    """A `trailguard-deploy:drift*` config value that cannot produce a working drift check."""


@dataclass(frozen=True, slots=True)
class DriftSettings:
    """The drift schedule and where its events go."""

    stack: str
    webhook_url: str = field(repr=False)  # a secret: only ever passed on as a secret Output
    schedule_cron: str = DEFAULT_DRIFT_SCHEDULE
    auto_remediate: bool = False
    webhook_format: str = DEFAULT_WEBHOOK_FORMAT
    webhook_filters: tuple[str, ...] = DRIFT_WEBHOOK_FILTERS


def read_drift_settings(config: Mapping[str, Any], stack: str) -> DriftSettings:
    """Validate the drift keys of the `trailguard-deploy:` config for the delivered `stack`."""
    return DriftSettings(
        stack=stack,
        webhook_url=check_webhook_url(config.get("driftWebhookUrl")),
        schedule_cron=check_cron(config.get("driftSchedule", DEFAULT_DRIFT_SCHEDULE)),
        auto_remediate=check_auto_remediate(config.get("driftAutoRemediate", False), stack),
        webhook_format=check_webhook_format(
            config.get("driftWebhookFormat", DEFAULT_WEBHOOK_FORMAT)),
    )


def check_cron(value: Any) -> str:
    """A five-field cron expression (minute hour day-of-month month day-of-week) of numbers,
    `*`, ranges `a-b`, lists `a,b` and steps `/n`, each number inside its field's range."""
    key = "trailguard-deploy:driftSchedule"
    allowed = ('a cron expression of 5 fields "minute hour day-of-month month day-of-week", '
               f'such as "{DEFAULT_DRIFT_SCHEDULE}" (hourly)')
    if not isinstance(value, str):
        raise DriftConfigError(f"{key} is {value!r}; expected {allowed}")
    fields = value.split()
    if len(fields) != len(_CRON_FIELDS):
        raise DriftConfigError(f"{key} is {value!r} with {len(fields)} fields; expected {allowed}")
    for text, (name, low, high) in zip(fields, _CRON_FIELDS):
        for item in text.split(","):
            match = _CRON_ITEM.match(item)
            numbers = [int(n) for n in match.group(2, 3) if n is not None] if match else []
            step = match.group(4) if match else None
            if (not match or any(not low <= n <= high for n in numbers)
                    or (len(numbers) == 2 and numbers[0] > numbers[1])
                    or (step is not None and int(step) == 0)):
                raise DriftConfigError(
                    f"{key} is {value!r}: the {name} field {text!r} is not valid; each field holds "
                    f"*, numbers {low}-{high}, ranges a-b, lists a,b or steps /n; expected {allowed}")
    return " ".join(fields)


def check_auto_remediate(value: Any, stack: str) -> bool:
    """True or false; true is refused for production stacks."""
    key = "trailguard-deploy:driftAutoRemediate"
    if isinstance(value, str) and value.lower() in ("true", "false"):
        value = value.lower() == "true"
    if not isinstance(value, bool):
        raise DriftConfigError(f"{key} is {value!r}; expected true or false")
    if value and stack in NO_AUTO_REMEDIATION_STACKS:
        raise DriftConfigError(
            f"{key} is true for the stack {stack!r}; auto-remediation is refused for production: "
            "it runs an unreviewed `pulumi up` that also erases the evidence of the change. Set "
            f"it to false (the default) and repair drift on {stack!r} through a reviewed change")
    return value


def check_webhook_url(value: Any) -> str:
    """An https URL with a host. The value is a secret, so messages never repeat it."""
    key = "trailguard-deploy:driftWebhookUrl"
    how = (f"set it with `pulumi config set --secret {key} https://...` in deploy/ "
           "(the security channel's incoming-webhook URL)")
    if not value:
        raise DriftConfigError(f"{key} is required; {how}")
    if not isinstance(value, str):
        raise DriftConfigError(f"{key} is not a string; expected an https:// URL; {how}")
    parts = urlsplit(value.strip())
    if parts.scheme != "https" or not parts.hostname:
        scheme = f"{parts.scheme}://" if parts.scheme else "no scheme"
        raise DriftConfigError(
            f"{key} has {scheme} (value not shown, it is a secret); expected an https:// URL with "
            f"a host; {how}")
    return value.strip()


def check_webhook_format(value: Any) -> str:
    """One of the channel message formats of `WEBHOOK_FORMATS`."""
    if value not in WEBHOOK_FORMATS:
        raise DriftConfigError(
            f"trailguard-deploy:driftWebhookFormat is {value!r}; expected one of "
            f"{', '.join(WEBHOOK_FORMATS)} (raw is the generic JSON payload)")
    return value
