"""Config as the Pulumi engine hands it to the program, read the one way both the program and
`trailguard check` read it.

The engine passes every config value to the program as a string: a YAML string as is, anything
else JSON-encoded. So `pulumi config set trailguard:protect false`, which stores the string
`"false"`, reaches the program exactly as a YAML `false` does, and `pulumi config set
trailguard:tags '{"Team": "sec"}'` (a JSON string) as a YAML mapping does. `decode_engine_config`
turns those strings back into values by each key's declared kind, the way the SDK's typed getters
do (`Config.get_bool` takes `true`/`True`/`false`/`False`, `get_object` parses JSON), and checks the
namespaces. The program calls it on the engine's strings; `check` calls it on the stack file's values
encoded as the engine would (`encode_for_engine`), so the two cannot disagree on any key.
"""

from __future__ import annotations

import difflib
import json
from typing import Any, Mapping

from trailguard.config.model import NAMESPACE, SECRET_PLACEHOLDER, ConfigError, StackConfig

KEY_KINDS: Mapping[str, str] = {
    "detections": "array",
    "profile": "string",
    "namespace": "string",
    "protect": "boolean",
    "overrides": "object",
    "customDetections": "array",
    "notifications": "object",
    "trail": "object",
    "tags": "object",
    "heartbeat": "object",
    "realtime": "object",
}
"""The JSON kind of each top-level key: how the engine's string value is decoded."""

REGION_KEY = "aws:region"
"""The AWS provider's region for the stack: the home region of real-time rules (`trailguard:realtime`)."""

BOOLEAN_TEXTS: Mapping[str, bool] = {"true": True, "True": True, "false": False, "False": False}
"""What `pulumi.Config.get_bool` accepts (pulumi/config.py `_get_bool`), and so what we accept."""

_KIND_WHAT = {"array": "a list", "object": "a mapping"}

NAMESPACE_TYPO_CUTOFF = 0.75
"""How close (difflib ratio, case ignored) an unknown namespace must be to `trailguard` to be taken
for a misspelling of it: `trailgaurd`, `trailguards`, `TrailGuard`, `trail-guard` are; `aws`, `pulumi`,
`tls` are nowhere near."""


def encode_for_engine(settings: Mapping[str, Any]) -> dict[str, str]:
    """Values as the engine passes them: strings as-is, everything else JSON (booleans lower-case)."""
    return {key: value if isinstance(value, str) else json.dumps(value) for key, value in settings.items()}


def decode_from_engine(key: str, text: str) -> Any:
    """One engine string back to data, by the key's declared kind; unknown keys stay strings.
    A `ConfigError` naming the key when the text is not of that kind."""
    kind = KEY_KINDS.get(key, "string")
    if kind == "string" or text == SECRET_PLACEHOLDER:  # the placeholder only exists offline
        return text
    if kind == "boolean":
        if text in BOOLEAN_TEXTS:
            return BOOLEAN_TEXTS[text]
        raise ConfigError(f"{NAMESPACE}:{key}", f"must be true or false, got {text!r}")
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise ConfigError(f"{NAMESPACE}:{key}", f"must be {_KIND_WHAT[kind]} (in the stack file, or as the "
                          f"JSON text `pulumi config set` stores), got {text!r}: not JSON ({err.msg})") from None


def misspelled_namespaces(keys: Any) -> list[tuple[str, str]]:
    """(key, message) for each `ns:key` whose namespace looks like a misspelling of `trailguard`:
    Pulumi would pass it to nobody, so its setting would silently do nothing."""
    problems = []
    for full in keys:
        namespace, colon, name = str(full).partition(":")
        if not colon or namespace == NAMESPACE:
            continue
        ratio = difflib.SequenceMatcher(None, namespace.lower(), NAMESPACE).ratio()
        if ratio >= NAMESPACE_TYPO_CUTOFF:
            problems.append((str(full), f"unknown namespace {namespace!r}: did you mean '{NAMESPACE}:{name}'? "
                                        f"Pulumi gives this key to no program, so it does nothing"))
    return problems


def decode_engine_config(engine: Mapping[str, str]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """The `trailguard:` keys of `engine` (`ns:key` -> the engine's string), decoded, names without
    the namespace; and a (key, message) for each key that cannot be decoded (left out, so the rest
    is still validated) or whose namespace is a misspelling of ours."""
    prefix = f"{NAMESPACE}:"
    values: dict[str, Any] = {}
    problems = misspelled_namespaces(engine)
    for full, text in engine.items():
        if not full.startswith(prefix):
            continue
        key = full[len(prefix):]
        try:
            values[key] = decode_from_engine(key, text)
        except ConfigError as err:
            problems.extend(err.errors)
    return values, problems


def load_engine_config(engine: Mapping[str, str], stack: str, catalog: Any = None) -> StackConfig:
    """The validated stack config from the engine's strings, with every problem in one `ConfigError`:
    what the program runs before registering anything, and what `trailguard check` runs offline."""
    from trailguard.config.validate import load_stack_config

    values, problems = decode_engine_config(engine)
    try:
        config = load_stack_config(values, catalog, stack=stack, region=engine.get(REGION_KEY) or None)
    except ConfigError as err:
        problems.extend(err.errors)
    if problems:
        raise ConfigError.of(problems)
    return config
