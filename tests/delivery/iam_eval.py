"""Just enough IAM policy evaluation for the tests: does an Allow statement cover action + ARN.

IAM matches actions case-insensitively and resources case-sensitively, `*` spanning any
characters (`:` and `/` included) and `?` one character. There are no Deny statements in the
policies under test; conditions are ignored (they can only narrow an Allow).
"""

from __future__ import annotations

import functools
import importlib.util
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def load_renderer() -> ModuleType:
    """iam/render_policies.py is a script, not a package module: load it by path."""
    path = ROOT / "iam" / "render_policies.py"
    spec = importlib.util.spec_from_file_location("render_policies", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@functools.lru_cache(maxsize=None)
def _glob(pattern: str, flags: int) -> re.Pattern[str]:
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c)
                              for c in pattern) + r"\Z", flags)


def _listed(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def statements(policy: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    listed = policy["Statement"]
    yield from listed if isinstance(listed, list) else [listed]


def actions(policy: Mapping[str, Any]) -> set[str]:
    return {a for s in statements(policy) for a in _listed(s["Action"])}


def allows(policy: Mapping[str, Any], action: str, resource: str) -> bool:
    for statement in statements(policy):
        if statement["Effect"] != "Allow":
            continue
        if not any(_glob(a, re.IGNORECASE).match(action) for a in _listed(statement["Action"])):
            continue
        if any(_glob(r, 0).match(resource) for r in _listed(statement["Resource"])):
            return True
    return False


def resource_arn(template: str, resource: Any, account: str, region: str) -> str:
    """Fill an `arn:` template of iam/resource-actions.yaml from one mocked resource."""
    def value(match: re.Match[str]) -> str:
        source, key = match.group(1), match.group(2)
        if source is None:
            return {"account": account, "region": region}[key]
        found = (resource.outputs if source == "out" else resource.inputs).get(key)
        assert isinstance(found, str) and found, (
            f"{resource.urn}: {source}:{key} is {found!r}; iam/resource-actions.yaml derives "
            f"this type's ARN from it")
        return found

    return re.sub(r"\{(?:(in|out):)?(\w+)\}", value, template)
