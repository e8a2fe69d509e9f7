"""The `trailguard:` config the engine handed this program run, validated into a `StackConfig`.

The engine passes config to the Python program as strings (`PULUMI_CONFIG`, or `set_all_config`
under test mocks); every `trailguard:` key is collected, unknown ones included, so a typo in the
stack file is reported instead of ignored.
"""

from __future__ import annotations

from typing import Any

import pulumi
from pulumi.runtime import config as runtime_config

from trailguard.config import NAMESPACE, ConfigError, StackConfig, decode_from_engine, load_stack_config


class InvalidStackConfig(ConfigError, pulumi.RunError):
    """A `ConfigError` Pulumi reports as its bare message (a RunError), without a traceback."""


def read_program_config() -> dict[str, Any]:
    """`{key: value}` for every `trailguard:<key>` set for this run, decoded from the engine's strings."""
    prefix = f"{NAMESPACE}:"
    keys = set(runtime_config.CONFIG.get()) | set(runtime_config.get_config_env())
    return {
        key[len(prefix):]: decode_from_engine(key[len(prefix):], runtime_config.get_config(key))
        for key in sorted(keys) if key.startswith(prefix)
    }


def load_program_config() -> StackConfig:
    """The validated stack config, or `InvalidStackConfig` before any resource exists."""
    try:
        return load_stack_config(read_program_config())
    except ConfigError as err:
        raise InvalidStackConfig(err.key, err.message, err.errors) from None
