"""The engine's closed door: code outside `trailguard/patterns/` imports only its public modules.

Public: `trailguard.patterns` itself (compile_pattern, CompiledPattern, parse/render/lint, the
analysis functions, MISSING, getter, errors), `trailguard.patterns.ast` (the syntax tree users
build on), `trailguard.patterns.analysis`, `trailguard.patterns.errors` (the exception types) and
`trailguard.patterns.rules` (the named defaults where AWS is silent). Everything else in the
package is private and named with a leading `_` (`_compiler`, `_semantics`, `_validate`, ...).

Checked by parsing every source file with `ast`, not by searching text, so comments, strings and
formatting neither hide nor fake an import. Tests are not checked: tests/patterns unit-tests the
engine's internals on purpose.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ENGINE = "trailguard.patterns"
PUBLIC_MODULES = frozenset({ENGINE, f"{ENGINE}.ast", f"{ENGINE}.analysis", f"{ENGINE}.errors", f"{ENGINE}.rules"})
CHECKED = ("trailguard", "components", "policies", "bench", "scripts", "deploy", "__main__.py")
"""What must keep out of the engine's internals: the library (except the engine itself), the Pulumi
program, the policy pack, benchmarks, scripts and the deployment project."""


def _engine_module_names() -> frozenset[str]:
    """Every module of the engine package, by dotted name (from its files, not its imports)."""
    return frozenset(f"{ENGINE}.{path.stem}" for path in (ROOT / "trailguard" / "patterns").glob("*.py")
                     if path.stem != "__init__")


def _is_engine(module: str) -> bool:
    return module == ENGINE or module.startswith(ENGINE + ".")


def _module_ok(module: str) -> bool:
    return not _is_engine(module) or module in PUBLIC_MODULES


def _absolute(node: ast.ImportFrom, package: str) -> str:
    """The module an `from ... import` names, relative imports resolved against `package`."""
    if not node.level:
        return node.module or ""
    parts = package.split(".") if package else []
    base = parts[: len(parts) - (node.level - 1)] if node.level > 1 else parts
    return ".".join([*base, *([node.module] if node.module else [])])


def violations(source: str, package: str = "", filename: str = "<source>") -> list[str]:
    """Imports in `source` of a private engine module or a private engine name, as `file:line: what`.

    Covers `import x`, `from x import y` (relative too, resolved against `package`),
    `importlib.import_module("x")` / `__import__("x")` with a literal name, and attribute access
    `alias._private` on a name bound to the engine package.
    """
    tree = ast.parse(source, filename)
    found: list[str] = []
    engine_aliases: set[str] = set()
    private_modules = _engine_module_names() - PUBLIC_MODULES

    def report(node: ast.AST, what: str) -> None:
        found.append(f"{filename}:{getattr(node, 'lineno', 0)}: {what}")

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if not _module_ok(alias.name):
                    report(node, f"import {alias.name}")
                elif alias.name == ENGINE:
                    engine_aliases.add(alias.asname or "")  # "" : reached as trailguard.patterns.<name>
        elif isinstance(node, ast.ImportFrom):
            module = _absolute(node, package)
            if not _module_ok(module):
                report(node, f"from {module} import ...")
                continue
            for alias in node.names:
                if module == "trailguard" and alias.name == "patterns":
                    engine_aliases.add(alias.asname or alias.name)
                if not _is_engine(module):
                    continue
                if alias.name.startswith("_") or f"{module}.{alias.name}" in private_modules:
                    report(node, f"from {module} import {alias.name}")
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            target = node.args[0].value
            if name in ("import_module", "__import__") and isinstance(target, str) and not _module_ok(target):
                report(node, f"{name}({target!r})")
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
            owner = _dotted(node.value)
            if owner in engine_aliases or (owner == ENGINE and "" in engine_aliases):
                report(node, f"{owner}.{node.attr}")
    return sorted(set(found))


def _dotted(node: ast.AST) -> str:
    """`a.b.c` for a chain of attribute accesses on a name, else ""."""
    names = []
    while isinstance(node, ast.Attribute):
        names.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return ""
    return ".".join([node.id, *reversed(names)])


def checked_files() -> list[Path]:
    files: list[Path] = []
    for entry in CHECKED:
        path = ROOT / entry
        files.extend([path] if path.is_file() else sorted(path.rglob("*.py")))
    engine_dir = ROOT / "trailguard" / "patterns"
    return [f for f in files if engine_dir not in f.parents and ".venv" not in f.parts and "node_modules" not in f.parts]


def _package_of(path: Path) -> str:
    """The package relative imports in `path` resolve against: its directory, as a dotted name."""
    return ".".join(path.relative_to(ROOT).parent.parts)


def test_no_module_outside_the_engine_imports_its_internals():
    files = checked_files()
    names = {f.relative_to(ROOT).as_posix() for f in files}
    # the scan is not vacuous: it sees the back-test, the policy pack and the program
    assert {"trailguard/backtest/dispatch.py", "trailguard/backtest/scan.py", "__main__.py"} <= names
    assert any(name.startswith("policies/") for name in names) and any(name.startswith("bench/") for name in names)
    found = [v for f in files for v in violations(f.read_text(), _package_of(f), f.relative_to(ROOT).as_posix())]
    assert found == [], "import only trailguard.patterns' public modules " + f"({sorted(PUBLIC_MODULES)}):\n" + "\n".join(found)


def test_every_engine_module_is_public_or_named_private():
    modules = _engine_module_names()
    assert PUBLIC_MODULES - {ENGINE} <= modules
    unnamed = sorted(m for m in modules - PUBLIC_MODULES if not m.rsplit(".", 1)[1].startswith("_"))
    assert unnamed == [], f"engine modules that are neither public nor named with a leading '_': {unnamed}"
    for module in PUBLIC_MODULES:
        importlib.import_module(module)


@pytest.mark.parametrize("source, package", [
    ("from trailguard.patterns._compiler import compile_expr", ""),
    ("import trailguard.patterns._semantics", ""),
    ("import trailguard.patterns._semantics as sem", ""),
    ("from trailguard.patterns import _validate", ""),
    ("from trailguard.patterns import _always", ""),
    ("from trailguard.patterns.analysis import _constraints", ""),
    ("from ..patterns._compiler import compile_getter", "trailguard.backtest"),
    ("from ..patterns import _semantics", "trailguard.backtest"),
    ("from .patterns._parser import parse", "trailguard"),
    ("import importlib\nimportlib.import_module('trailguard.patterns._compiler')", ""),
    ("__import__('trailguard.patterns._reference')", ""),
    ("import trailguard.patterns as tp\ntp._compiler.compile_expr", ""),
    ("from trailguard import patterns\npatterns._semantics.MISSING", ""),
    ("import trailguard.patterns\ntrailguard.patterns._validate.lint", ""),
    ("def f():\n    from trailguard.patterns._semantics import MISSING\n    return MISSING", ""),
])
def test_the_check_finds_private_imports(source, package):
    assert violations(source, package) != []


@pytest.mark.parametrize("source, package", [
    ("from trailguard.patterns import compile_pattern, MISSING, analysis, rules", ""),
    ("from trailguard.patterns.ast import JsonPattern\nfrom trailguard.patterns.analysis import walk", ""),
    ("import trailguard.patterns.errors\nimport trailguard.patterns", ""),
    ("from ..patterns import compile_pattern", "trailguard.backtest"),
    ("from ._compiler import compile_expr", "trailguard.backtest"),  # the back-test's own module of that name
    ("text = 'from trailguard.patterns._compiler import compile_expr'  # in a string, not an import", ""),
    ("import trailguard.patterns as tp\ntp.compile_pattern('x').__class__", ""),
])
def test_the_check_allows_the_public_api(source, package):
    assert violations(source, package) == []
