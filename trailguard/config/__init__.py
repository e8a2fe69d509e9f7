"""Stack config: read offline from the Pulumi files, validated into frozen records before deploying.

`read_stack_config(project_dir, stack)` -> the raw `trailguard:` keys; `load_stack_config(raw)` ->
`StackConfig` or `ConfigError` naming the key and what is allowed. No Pulumi imports here.
"""

from trailguard.config.files import (
    decode_from_engine,
    encode_for_engine,
    read_project_settings,
    read_stack_config,
    replace_secrets,
)
from trailguard.config.model import (
    NAMESPACE,
    SECRET_PLACEHOLDER,
    ConfigError,
    EnabledDetection,
    StackConfig,
    Subscription,
    TopicConfig,
    TrailConfig,
)
from trailguard.config.validate import DEFAULTS, KEY_KINDS, load_stack_config

__all__ = [
    "DEFAULTS",
    "KEY_KINDS",
    "NAMESPACE",
    "SECRET_PLACEHOLDER",
    "ConfigError",
    "EnabledDetection",
    "StackConfig",
    "Subscription",
    "TopicConfig",
    "TrailConfig",
    "decode_from_engine",
    "encode_for_engine",
    "load_stack_config",
    "read_project_settings",
    "read_stack_config",
    "replace_secrets",
]
