"""Stack config: read offline from the Pulumi files, validated into frozen records before deploying.

`read_stack_config(project_dir, stack)` -> the `trailguard:` keys as the program reads them;
`load_stack_config(raw)` -> `StackConfig` or `ConfigError` naming the key and what is allowed;
`load_engine_config(engine strings, stack)` does both as the program does, derived AWS names
included (`names`). No Pulumi imports here.
"""

from trailguard.config.engine import (
    KEY_KINDS,
    decode_engine_config,
    decode_from_engine,
    encode_for_engine,
    load_engine_config,
    misspelled_namespaces,
)
from trailguard.config.files import (
    line_of,
    load_stack_file_config,
    read_project_settings,
    read_stack_config,
    replace_secrets,
    stack_file_lines,
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
from trailguard.config.validate import DEFAULTS, load_stack_config

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
    "decode_engine_config",
    "decode_from_engine",
    "encode_for_engine",
    "load_engine_config",
    "line_of",
    "load_stack_config",
    "load_stack_file_config",
    "misspelled_namespaces",
    "read_project_settings",
    "read_stack_config",
    "replace_secrets",
    "stack_file_lines",
]
