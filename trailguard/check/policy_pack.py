"""Run the project's policy pack on a mocked program run, the way the Pulumi engine would.

The engine validates the pack config against each policy's schema, fills in the schema defaults,
sends `Configure` to the pack's analyzer, then one `Analyze` per resource (its inputs) and one
`AnalyzeStack` with every resource (its outputs, parents and dependencies), unknown values as
sentinel strings. This module does the same with pulumi-policy's own analyzer servicer driven
in-process, so `trailguard check` reports exactly the violations `pulumi preview --policy-pack`
would, with no Pulumi CLI.
"""

from __future__ import annotations

import importlib
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, Mapping

from google.protobuf import struct_pb2
from pulumi.runtime import proto
from pulumi_policy import EnforcementLevel, Policy
from pulumi_policy.policy import _PolicyAnalyzerServicer  # private API: pulumi-policy is pinned
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

from trailguard.check.harness import UNKNOWN as HARNESS_UNKNOWN
from trailguard.check.harness import MockedResource, ProgramRun, require_layout
from trailguard.check.layout import ProjectLayout

LEVELS: tuple[str, ...] = ("advisory", "mandatory", "remediate", "disabled")
_PROTO_LEVEL_NAMES = {proto.ADVISORY: "advisory", proto.MANDATORY: "mandatory", proto.DISABLED: "disabled"}


class PolicyConfigError(ValueError):
    """The policy-pack config file is unreadable or does not fit the pack's schemas."""


@dataclass(frozen=True)
class PolicyViolation:
    """One diagnostic of the pack: which policy, at which level, about which resource."""

    policy: str
    level: str  # "mandatory" or "advisory"
    message: str
    urn: str  # the resource it is about; "" for the stack as a whole

    @property
    def resource(self) -> str:
        """The resource's type and name from its URN, or "stack"."""
        if not self.urn:
            return "stack"
        parts = self.urn.split("::")
        return f"{parts[-2].rsplit('$', 1)[-1]}::{parts[-1]}" if len(parts) >= 2 else self.urn


def load_pack(pack_dir: Path, package: str) -> ModuleType:
    """Import the pack's policies `package` from `pack_dir` (the folder holding PulumiPolicy.yaml)."""
    pack_dir = Path(pack_dir).resolve()
    if not (pack_dir / package / "__init__.py").is_file():
        raise PolicyConfigError(f"{pack_dir}: no policy pack here (expected {package}/__init__.py)")
    loaded = sys.modules.get(package)
    if loaded is not None and Path(loaded.__file__ or "").resolve().parent.parent == pack_dir:
        return loaded
    for name in [m for m in sys.modules if m == package or m.startswith(package + ".")]:
        del sys.modules[name]
    sys.path.insert(0, str(pack_dir))
    try:
        return importlib.import_module(package)
    finally:
        sys.path.remove(str(pack_dir))


def read_policy_config(path: Path) -> dict[str, Any]:
    """The JSON object of a `--policy-pack-config` file."""
    try:
        raw = json.loads(Path(path).read_text())
    except OSError as error:
        raise PolicyConfigError(f"{path}: cannot read the policy config: {error.strerror}") from None
    except json.JSONDecodeError as error:
        raise PolicyConfigError(f"{path}: not JSON: {error.msg} at line {error.lineno} column {error.colno}") from None
    if not isinstance(raw, dict):
        raise PolicyConfigError(f"{path}: the policy config must be a JSON object of policy names, got {type(raw).__name__}")
    return raw


def resolve_policy_config(raw: Mapping[str, Any], policies: list[Policy], source: str = "policy config") -> dict[str, tuple[str, dict[str, Any]]]:
    """Per policy: its enforcement level and properties, schema defaults filled in, as the CLI does.

    Accepts the CLI's format: `"all": level`, `"<policy>": level` or `"<policy>": {"enforcementLevel":
    level, ...properties}`. Raises PolicyConfigError naming the key and what is allowed.
    """
    by_name = {policy.name: policy for policy in policies}
    unknown = [key for key in raw if key != "all" and key not in by_name]
    if unknown:
        raise PolicyConfigError(f"{source}: unknown policy '{unknown[0]}'; allowed: all, {', '.join(by_name)}")
    all_level = raw.get("all")
    if all_level is not None:
        _check_level(all_level, f"{source}: all")
    resolved: dict[str, tuple[str, dict[str, Any]]] = {}
    for name, policy in by_name.items():
        entry = raw.get(name, {})
        level = (policy.enforcement_level or EnforcementLevel.ADVISORY).value
        if all_level is not None:
            level = all_level
        properties: dict[str, Any] = {}
        if isinstance(entry, str):
            level = _check_level(entry, f"{source}: {name}")
        elif isinstance(entry, dict):
            properties = dict(entry)
            if "enforcementLevel" in properties:
                level = _check_level(properties.pop("enforcementLevel"), f"{source}: {name}.enforcementLevel")
        else:
            raise PolicyConfigError(f"{source}: {name} must be an enforcement level ({', '.join(LEVELS)}) or an object")
        schema = policy.config_schema.properties if policy.config_schema else {}
        for key, value in properties.items():
            if key not in schema:
                allowed = ", ".join(["enforcementLevel", *schema])
                raise PolicyConfigError(f"{source}: {name}.{key} is not a setting of this policy; allowed: {allowed}")
            _check_schema(value, schema[key], f"{source}: {name}.{key}")
        for key, spec in schema.items():
            if key not in properties and "default" in spec:
                properties[key] = spec["default"]
        resolved[name] = (level, properties)
    return resolved


@dataclass(frozen=True)
class PackAnalyzer:
    """The pack's analyzer servicer and its policies' descriptions (which prefix every message)."""

    servicer: _PolicyAnalyzerServicer
    descriptions: Mapping[str, str]


def make_analyzer(pack: ModuleType, config: Mapping[str, tuple[str, dict[str, Any]]] | None = None) -> PackAnalyzer:
    """The pack's analyzer servicer, configured as the engine configures it (every policy, with a level)."""
    policies = pack.ALL_POLICIES
    analyzer = _PolicyAnalyzerServicer(pack.PACK_NAME, pack.PACK_VERSION, policies, EnforcementLevel.MANDATORY)
    resolved = config if config is not None else resolve_policy_config({}, policies)
    request = proto.ConfigureAnalyzerRequest()
    for name, (level, properties) in resolved.items():
        policy_config = proto.PolicyConfig(enforcementLevel=_proto_level(level))
        policy_config.properties.update(properties)
        request.policyConfig[name].CopyFrom(policy_config)
    analyzer.Configure(request, None)
    return PackAnalyzer(analyzer, {policy.name: policy.description for policy in policies})


def analyze_run(run: ProgramRun, analyzer: PackAnalyzer) -> list[PolicyViolation]:
    """Every diagnostic of the pack on a mocked run: `Analyze` per resource, then `AnalyzeStack`."""
    servicer, descriptions = analyzer.servicer, analyzer.descriptions
    violations: list[PolicyViolation] = []
    custom = [r for r in run.resources if r.custom and not r.type.startswith("pulumi:providers:")]
    for resource in custom:
        response = servicer.Analyze(analyze_request(resource), None)
        violations.extend(_violations(response, descriptions, resource.urn))
    providers = {r.urn: r for r in run.resources if r.type.startswith("pulumi:providers:")}
    stack_request = proto.AnalyzeStackRequest(resources=[analyzer_resource(r, providers) for r in run.resources])
    violations.extend(_violations(servicer.AnalyzeStack(stack_request, None), descriptions, ""))
    return violations


def analyze_request(resource: MockedResource) -> proto.AnalyzeRequest:
    """The engine's per-resource request: inputs, options (protect, parent)."""
    return proto.AnalyzeRequest(
        type=resource.type,
        urn=resource.urn,
        name=resource.name,
        properties=_struct(resource.inputs),
        options=proto.AnalyzerResourceOptions(protect=resource.protect, parent=resource.parent or ""),
    )


def analyzer_resource(resource: MockedResource,
                      providers: Mapping[str, MockedResource] | None = None) -> proto.AnalyzerResource:
    """The engine's stack-analysis entry: outputs, parent, dependencies, property dependencies, and
    the explicit provider the resource was registered with (of `providers`, by URN), whose
    `region` is the resource's region. Default providers are not registered under mocks."""
    entry = proto.AnalyzerResource(
        type=resource.type,
        urn=resource.urn,
        name=resource.name,
        properties=_struct(resource.outputs),
        options=proto.AnalyzerResourceOptions(protect=resource.protect),
        parent=resource.parent or "",
        dependencies=list(resource.dependencies),
    )
    for key, urns in resource.property_dependencies.items():
        entry.propertyDependencies[key].urns.extend(urns)
    provider = (providers or {}).get((resource.provider or "").rsplit("::", 1)[0])
    if provider is not None:
        entry.provider.CopyFrom(proto.AnalyzerProviderResource(
            type=provider.type, urn=provider.urn, name=provider.name, properties=_struct(provider.outputs)))
    return entry


def _violations(response: Any, descriptions: Mapping[str, str], urn: str) -> list[PolicyViolation]:
    found = []
    for diagnostic in response.diagnostics:
        message = diagnostic.message
        prefix = descriptions.get(diagnostic.policyName, "") + "\n"
        if message.startswith(prefix):
            message = message[len(prefix):]
        level = _PROTO_LEVEL_NAMES.get(diagnostic.enforcementLevel, "mandatory")
        found.append(PolicyViolation(diagnostic.policyName, level, message, diagnostic.urn or urn))
    return found


def _proto_level(level: str) -> int:
    return {"advisory": proto.ADVISORY, "mandatory": proto.MANDATORY, "remediate": proto.REMEDIATE,
            "disabled": proto.DISABLED}[level]


def _struct(values: Mapping[str, Any]) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update(_engine_values(dict(values)))
    return struct


def _engine_values(value: Any) -> Any:
    """Harness values as the engine marshals them: unknowns as the string sentinel."""
    if value == HARNESS_UNKNOWN:
        return UNKNOWN_STRING_VALUE
    if isinstance(value, Mapping):
        return {str(k): _engine_values(v) for k, v in value.items() if v is not None}
    if isinstance(value, (list, tuple)):
        return [_engine_values(v) for v in value]
    return value


def _check_level(level: Any, where: str) -> str:
    if level not in LEVELS:
        raise PolicyConfigError(f"{where}: {level!r} is not an enforcement level; allowed: {', '.join(LEVELS)}")
    return level


_JSON_TYPES = {"string": str, "array": list, "object": dict, "boolean": bool}


def _check_schema(value: Any, spec: Mapping[str, Any], where: str) -> None:
    """The subset of JSON Schema the pack's schemas use: type, items, enum, minimum, (additional)properties."""
    kind = spec.get("type")
    if kind in ("number", "integer"):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        if ok and kind == "integer":
            ok = float(value).is_integer()
        if not ok:
            raise PolicyConfigError(f"{where}: expected {'an integer' if kind == 'integer' else 'a number'}, got {json.dumps(value)}")
        if "minimum" in spec and value < spec["minimum"]:
            raise PolicyConfigError(f"{where}: {value} is below the minimum {spec['minimum']}")
    elif kind in _JSON_TYPES and not isinstance(value, _JSON_TYPES[kind]):
        raise PolicyConfigError(f"{where}: expected {'an' if kind[0] in 'ao' else 'a'} {kind}, got {json.dumps(value)}")
    if "enum" in spec and value not in spec["enum"]:
        raise PolicyConfigError(f"{where}: {json.dumps(value)} is not allowed; allowed: {', '.join(map(str, spec['enum']))}")
    if kind == "array" and "items" in spec:
        for index, item in enumerate(value):
            _check_schema(item, spec["items"], f"{where}[{index}]")
    if kind == "object":
        properties = spec.get("properties", {})
        extra = spec.get("additionalProperties", True)
        for key, item in value.items():
            if key in properties:
                _check_schema(item, properties[key], f"{where}.{key}")
            elif extra is False:
                raise PolicyConfigError(f"{where}: unknown key '{key}'; allowed: {', '.join(properties)}")
            elif isinstance(extra, Mapping):
                _check_schema(item, extra, f"{where}.{key}")


# --- `trailguard check` ------------------------------------------------------------------------


@dataclass(frozen=True)
class PolicyReport:
    """The pack's verdict on one mocked run, and which config it used."""

    pack_dir: Path
    config_path: Path | None
    violations: tuple[PolicyViolation, ...]

    @property
    def has_mandatory(self) -> bool:
        return any(v.level == "mandatory" for v in self.violations)


def check_policies(run: ProgramRun, layout: ProjectLayout, stack: str,
                   config_path: Path | None = None) -> PolicyReport | None:
    """Run the layout's policy pack on `run`; None when the project has no pack.

    Without `config_path`, the pack's `config/<stack>.json` is used when it exists, else the
    schema defaults. Raises PolicyConfigError naming the file and key.
    """
    layout = require_layout(layout)
    pack_dir = Path(layout.pack_dir) if layout.pack_dir is not None else None
    if pack_dir is None or not (pack_dir / layout.pack_package).is_dir():
        if config_path is not None:
            where = f"{pack_dir} holds no policy pack" if pack_dir else "the project has no policy pack"
            raise PolicyConfigError(f"--policy-config given but {where}")
        return None
    if config_path is None:
        config_path = layout.pack_config(stack)
    pack = load_pack(pack_dir, layout.pack_package)
    raw = read_policy_config(config_path) if config_path is not None else {}
    config = resolve_policy_config(raw, pack.ALL_POLICIES, source=str(config_path or "policy config"))
    return PolicyReport(pack_dir, config_path, tuple(analyze_run(run, make_analyzer(pack, config))))


def policy_report_data(report: PolicyReport) -> dict[str, Any]:
    return {
        "pack": str(report.pack_dir),
        "config": str(report.config_path) if report.config_path else None,
        "violations": [
            {"policy": v.policy, "level": v.level, "urn": v.urn or None, "message": v.message}
            for v in report.violations
        ],
    }
