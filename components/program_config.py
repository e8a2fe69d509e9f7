"""The `trailguard:` config the engine handed this program run, validated into a `StackConfig`.

The engine passes config to the Python program as strings (`PULUMI_CONFIG`, or `set_all_config`
under test mocks). Every key is collected, other namespaces included, and read by
`trailguard.config.load_engine_config`, the same function `trailguard check` uses on the stack file:
a typo in a key or in the `trailguard` namespace is reported instead of ignored, and the names the
program derives from the stack name are checked against AWS's rules before anything registers.
"""

from __future__ import annotations

from typing import Any

import pulumi
from pulumi.runtime import config as runtime_config

from trailguard.config import ConfigError, StackConfig, decode_engine_config, load_engine_config


class InvalidStackConfig(ConfigError, pulumi.RunError):
    """A `ConfigError` Pulumi reports as its bare message (a RunError), without a traceback."""


def engine_config() -> dict[str, str]:
    """`{ns:key: text}` for every config key set for this run, as the engine's strings."""
    keys = set(runtime_config.CONFIG.get()) | set(runtime_config.get_config_env())
    return {key: runtime_config.get_config(key) for key in sorted(keys)}


def read_program_config() -> dict[str, Any]:
    """`{key: value}` for every `trailguard:<key>` set for this run, decoded as `check` decodes it."""
    values, problems = decode_engine_config(engine_config())
    if problems:
        raise InvalidStackConfig(problems[0][0], problems[0][1], problems)
    return values


def load_program_config() -> StackConfig:
    """The validated stack config, or `InvalidStackConfig` before any resource exists; warnings
    (config that has no effect, lint findings on custom patterns) go to Pulumi's log."""
    try:
        config = load_engine_config(engine_config(), pulumi.get_stack())
    except ConfigError as err:
        raise InvalidStackConfig(err.key, err.message, err.errors) from None
    for key, message in config.warnings:
        pulumi.log.warn(f"{key}: {message}")
    return config
