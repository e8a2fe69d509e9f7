"""Reading `Pulumi.yaml` and `Pulumi.<stack>.yaml` offline, the way the Pulumi engine would.

The engine merges the project's declared defaults with the stack file, and hands every value to
the program as a string (objects and arrays JSON-encoded). `trailguard check` has no Pulumi CLI and
no key to decrypt `secure:` values, so those become `SECRET_PLACEHOLDER`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping

import yaml

from trailguard.config.engine import decode_engine_config, encode_for_engine, load_engine_config
from trailguard.config.model import NAMESPACE, SECRET_PLACEHOLDER, ConfigError, StackConfig


def read_project_settings(project_dir: Path, stack: str) -> dict[str, Any]:
    """Every config key the program would see (`ns:key` -> value): project defaults, then stack file."""
    project_dir = Path(project_dir)
    project = _read_yaml(project_dir / "Pulumi.yaml")
    name = project.get("name")
    if name != NAMESPACE:
        raise ConfigError(str(project_dir / "Pulumi.yaml"),
                          f"project name is {name!r}; trailguard's config namespace needs {NAMESPACE!r}")
    settings: dict[str, Any] = {}
    for key, declaration in (project.get("config") or {}).items():
        full = key if ":" in key else f"{name}:{key}"
        if isinstance(declaration, Mapping):
            if "default" in declaration:
                settings[full] = declaration["default"]
            elif "value" in declaration:
                settings[full] = declaration["value"]
        else:
            settings[full] = declaration
    stack_file = project_dir / f"Pulumi.{stack}.yaml"
    if not stack_file.is_file():
        stacks = sorted(p.name[len("Pulumi."):-len(".yaml")] for p in project_dir.glob("Pulumi.*.yaml"))
        raise ConfigError(str(stack_file), f"no such stack file; stacks here: {', '.join(stacks) or 'none'}")
    stack_config = _read_yaml(stack_file).get("config") or {}
    if not isinstance(stack_config, Mapping):
        raise ConfigError(f"{stack_file}: config", "must be a mapping of namespaced keys")
    for key, value in stack_config.items():
        full = key if ":" in key else f"{name}:{key}"
        settings[full] = replace_secrets(value)
    return settings


def read_stack_config(project_dir: Path, stack: str) -> dict[str, Any]:
    """The `trailguard:` keys of the stack (project defaults included), names without the namespace,
    decoded as the program reads them (`trailguard.config.engine`): `trailguard:protect: "false"`, as
    `pulumi config set` writes it, reads as false. A `ConfigError` lists every key that cannot be."""
    values, problems = decode_engine_config(encode_for_engine(read_project_settings(project_dir, stack)))
    if problems:
        raise ConfigError.of(problems)
    return values


def load_stack_file_config(project_dir: Path, stack: str) -> StackConfig:
    """`Pulumi.<stack>.yaml` validated as the program would validate it (`load_engine_config` on the
    values encoded as the engine encodes them), every problem located at its line in the file."""
    settings = read_project_settings(project_dir, stack)
    try:
        return load_engine_config(encode_for_engine(settings), stack)
    except ConfigError as err:
        lines = stack_file_lines(project_dir, stack)
        located = {key: line_of(key, lines) for key, _ in err.errors}
        raise ConfigError.of(err.errors, {key: f"Pulumi.{stack}.yaml line {line}"
                                          for key, line in located.items() if line is not None}) from None


def replace_secrets(value: Any) -> Any:
    """Swap every `{secure: ciphertext}` (top-level or set with `--path`) for the placeholder."""
    if isinstance(value, Mapping):
        if set(value) == {"secure"}:
            return SECRET_PLACEHOLDER
        return {key: replace_secrets(item) for key, item in value.items()}
    if isinstance(value, list):
        return [replace_secrets(item) for item in value]
    return value


MAX_EXPANDED_NODES = 100_000
"""How many nodes a stack file may stand for once its aliases are expanded: far above any real
stack (prod is a few hundred) and far below an alias bomb ("billion laughs": 1 KB of aliases for
10^9 nodes), which Pulumi's own YAML loader refuses as excessive aliasing."""


class _StackFileLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """YAML as Pulumi reads a stack file: a key given twice in one mapping is an error (PyYAML
    would keep the last silently), and aliases may not expand beyond MAX_EXPANDED_NODES."""

    source = ""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            try:
                first = seen.setdefault(key, line)
            except TypeError:  # an unhashable key: PyYAML refuses it itself
                continue
            if first != line:
                raise ConfigError(self.source, f"duplicate key {key!r} at line {line} (first at line {first}); "
                                  "Pulumi refuses a key given twice: keep one and merge the two values")
        return super().construct_mapping(node, deep=deep)


def _expanded_size(node: yaml.Node, sizes: dict[int, int]) -> int:
    """Nodes `node` stands for with every alias expanded; shared nodes are sized once (linear time)."""
    known = sizes.get(id(node))
    if known is not None:
        return known
    sizes[id(node)] = 1  # a recursive alias counts once instead of looping
    total = 1
    if isinstance(node, yaml.SequenceNode):
        total += sum(_expanded_size(child, sizes) for child in node.value)
    elif isinstance(node, yaml.MappingNode):
        total += sum(_expanded_size(k, sizes) + _expanded_size(v, sizes) for k, v in node.value)
    total = min(total, MAX_EXPANDED_NODES + 1)
    sizes[id(node)] = total
    return total


def _load_stack_yaml(text: str, source: str) -> Any:
    loader = _StackFileLoader(text)
    loader.source = source
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        size = _expanded_size(node, {})
        if size > MAX_EXPANDED_NODES:
            raise ConfigError(source, f"excessive aliasing: the file's aliases expand to more than "
                              f"{MAX_EXPANDED_NODES:,} values; write the values out or use fewer nested aliases")
        return loader.construct_document(node)
    finally:
        loader.dispose()


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = _load_stack_yaml(path.read_text(encoding="utf-8"), str(path))
    except RecursionError:
        raise ConfigError(str(path), "nested too deeply to read") from None
    except FileNotFoundError:
        raise ConfigError(str(path), "file not found; run from the project directory "
                          "or pass --project-dir") from None
    except yaml.YAMLError as err:
        raise ConfigError(str(path), f"not valid YAML: {err}") from None
    if not isinstance(data, Mapping):
        raise ConfigError(str(path), "must be a YAML mapping")
    return dict(data)


def stack_file_lines(project_dir: Path, stack: str) -> dict[str, int]:
    """Config key (`trailguard:overrides.root-usage.period`, `[i]` for list items) -> the line of
    `Pulumi.<stack>.yaml` it is written on, for error messages; {} if the file can't be read (the
    reader reports why). Aliased nodes are walked once, so an alias bomb stays cheap here too."""
    path = Path(project_dir) / f"Pulumi.{stack}.yaml"
    lines: dict[str, int] = {}
    try:
        loader = _StackFileLoader(path.read_text(encoding="utf-8"))
        try:
            root = loader.get_single_node()
        finally:
            loader.dispose()
        config = _mapping_value(root, "config")
        if config is not None:
            walked: set[int] = set()
            for key_node, value_node in _scalar_keyed(config):
                full = key_node.value if ":" in key_node.value else f"{NAMESPACE}:{key_node.value}"
                _record_lines(full, key_node, value_node, lines, walked)
    except (OSError, UnicodeDecodeError, yaml.YAMLError, RecursionError):
        pass
    return lines


def line_of(key: str, lines: Mapping[str, int]) -> int | None:
    """The line of `key`, or of the nearest enclosing key written in the file (a JSON-string value or a
    default leaves the inner keys unwritten)."""
    while key:
        if key in lines:
            return lines[key]
        cut = max(key.rfind("."), key.rfind("["))
        if cut <= 0:
            return None
        key = key[:cut]
    return None


def _mapping_value(node: Any, name: str) -> yaml.MappingNode | None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in _scalar_keyed(node):
            if key_node.value == name and isinstance(value_node, yaml.MappingNode):
                return value_node
    return None


def _scalar_keyed(node: yaml.MappingNode) -> list[tuple[yaml.ScalarNode, yaml.Node]]:
    return [(k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.tag != "tag:yaml.org,2002:merge"]


def _record_lines(path: str, key_node: yaml.Node, value_node: yaml.Node, lines: dict[str, int],
                  walked: set[int]) -> None:
    lines.setdefault(path, key_node.start_mark.line + 1)
    if id(value_node) in walked or len(lines) > MAX_EXPANDED_NODES:
        return
    walked.add(id(value_node))
    if isinstance(value_node, yaml.MappingNode):
        for child_key, child_value in _scalar_keyed(value_node):
            _record_lines(f"{path}.{child_key.value}", child_key, child_value, lines, walked)
    elif isinstance(value_node, yaml.SequenceNode):
        for index, item in enumerate(value_node.value):
            _record_lines(f"{path}[{index}]", item, item, lines, walked)
