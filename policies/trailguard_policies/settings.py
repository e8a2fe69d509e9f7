"""Policy config: one schema per policy, whose defaults the policies apply themselves.

The Pulumi CLI fills schema defaults in before it calls `Configure`, but the analyzer servicer
does not: a policy run in-process (tests, `trailguard check`) or configured with only an
enforcement level gets `None` or a partial dict from `args.get_config()`. Reading through
`read_config` makes the schema the single source of every default.
"""

from __future__ import annotations

from typing import Any, Mapping

from pulumi_policy import PolicyConfigSchema

from trailguard.catalog import SEED_PRESET, load_catalog

SEED_DETECTIONS: tuple[str, ...] = load_catalog().presets[SEED_PRESET]
"""The seed article's five alarms, as the catalogue's `seed` preset lists them: what every stack
must keep unless the pack config says otherwise."""


def string_list(description: str, default: list[str] | tuple[str, ...] = ()) -> dict[str, Any]:
    """A JSON-schema property holding a list of strings."""
    return {"type": "array", "items": {"type": "string"}, "default": list(default), "description": description}


def number(description: str, default: float, minimum: float = 0) -> dict[str, Any]:
    """A JSON-schema property holding a number at least `minimum`."""
    return {"type": "number", "minimum": minimum, "default": default, "description": description}


def integer(description: str, default: int, minimum: int = 0) -> dict[str, Any]:
    """A JSON-schema property holding an integer at least `minimum`."""
    return {"type": "integer", "minimum": minimum, "default": default, "description": description}


def required_detections_property() -> dict[str, Any]:
    """`requiredDetections`, shared by the policies that act on required detections."""
    return string_list(
        "Detection ids or presets (seed, cis, assurance, all) of the trailguard catalogue that every stack "
        "must deploy and wire to an alarm (see `trailguard catalog`).",
        SEED_DETECTIONS,
    )


def read_config(config: Mapping[str, Any] | None, schema: PolicyConfigSchema) -> dict[str, Any]:
    """Every property of `schema`: the configured value, else the schema default.

    Integers arrive as floats through the protobuf Struct the engine sends, so integer-typed
    properties are turned back into ints.
    """
    given = dict(config or {})
    values: dict[str, Any] = {}
    for name, spec in schema.properties.items():
        value = given.get(name, spec.get("default"))
        if spec.get("type") == "integer" and isinstance(value, float) and value.is_integer():
            value = int(value)
        values[name] = value
    return values
