"""A lean install for each use: the pack and the program install and import only what they need.

The policy pack is installed on every `pulumi preview/up --policy-pack` and every Pulumi Cloud
policy run, the program on every deployment; neither may pull in the CLI's or the back-test's
dependencies. Checked two ways: what pip resolves for `policies/requirements.txt`, and that every
module they import imports with those packages blocked.
"""

from __future__ import annotations

import ast
import importlib.metadata
import json
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

import trailguard
from trailguard.extras import EXTRA_IMPORTS, extra_for

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]

CLI_AND_BACKTEST = ("click", "rich", "pygments", "isal", "boto3", "botocore")
"""The CLI's and the back-test's dependencies, which the pack must not install. (msgspec, 0.7 MB,
is a core dependency: the stack config's shape is declared with msgspec structs.)"""
CORE_DISTRIBUTIONS = {"pyyaml", "orjson", "msgspec"}


# --- pyproject and the requirements files -----------------------------------------------------


def _pins(requirements: list[str]) -> dict[str, str]:
    """name -> exact version of each `name==version` requirement (others are left out)."""
    pins = {}
    for line in requirements:
        requirement = Requirement(line)
        specifiers = list(requirement.specifier)
        if len(specifiers) == 1 and specifiers[0].operator == "==":
            pins[canonicalize_name(requirement.name)] = specifiers[0].version
    return pins


def _requirement_lines(path: Path) -> list[str]:
    """The requirement lines of a requirements file (no comments, options or local paths)."""
    lines = [line.split("#", 1)[0].strip() for line in path.read_text().splitlines()]
    return [line for line in lines if line and not line.startswith(("-", "."))]


def test_core_dependencies_are_only_what_the_core_imports():
    assert {canonicalize_name(Requirement(r).name) for r in PYPROJECT["dependencies"]} == CORE_DISTRIBUTIONS


def test_extras_per_use_and_all_is_every_extra():
    extras = PYPROJECT["optional-dependencies"]
    assert set(extras) == {"cli", "backtest", "pulumi", "sql", "all"}
    (everything,) = extras["all"]
    assert Requirement(everything).name == "trailguard"
    assert Requirement(everything).extras == {"cli", "backtest", "pulumi", "sql"}
    named = {canonicalize_name(Requirement(r).name) for extra in ("cli", "backtest") for r in extras[extra]}
    assert {"click", "rich", "isal", "boto3"} <= named


def test_every_pin_in_a_requirements_file_agrees_with_pyproject():
    declared = _pins(PYPROJECT["dependencies"] + [r for extra, reqs in PYPROJECT["optional-dependencies"].items()
                                                   if extra != "all" for r in reqs])
    files = [ROOT / "requirements.txt", ROOT / "requirements-dev.txt", ROOT / "policies" / "requirements.txt"]
    checked = 0
    for path in files:
        for name, version in _pins(_requirement_lines(path)).items():
            if name in declared:
                assert version == declared[name], f"{path.name}: {name}=={version}, pyproject.toml has {declared[name]}"
                checked += 1
    assert checked >= 6  # pulumi, pulumi-aws, pyyaml, orjson in requirements.txt; the pack's pins


def test_dev_requirements_install_every_extra_so_the_readme_commands_work():
    lines = [line.strip() for line in (ROOT / "requirements-dev.txt").read_text().splitlines()]
    assert "-e .[all]" in lines


def test_the_version_is_written_once_and_the_cli_reports_it():
    assert "version" in PYPROJECT["dynamic"] and "version" not in PYPROJECT
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert setuptools["dynamic"]["version"] == {"attr": "trailguard.__version__"}
    assert importlib.metadata.version("trailguard") == trailguard.__version__
    shown = subprocess.run([sys.executable, "-m", "trailguard", "--version"], capture_output=True, text=True, check=True)
    assert shown.stdout.strip() == f"trailguard, version {trailguard.__version__}"


def test_extra_imports_map_matches_the_distributions_pyproject_declares():
    """trailguard.extras names the right extra: each import it lists is provided by a distribution
    the extra declares (or one of that distribution's own dependencies, like pygments for rich)."""
    providers = importlib.metadata.packages_distributions()
    for extra, imports in EXTRA_IMPORTS.items():
        declared = {canonicalize_name(Requirement(r).name) for r in PYPROJECT["optional-dependencies"][extra]}
        reachable = set(declared)
        for name in declared:
            for line in importlib.metadata.requires(name) or []:
                requirement = Requirement(line)
                if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                    reachable.add(canonicalize_name(requirement.name))
        for module in imports:
            distributions = {canonicalize_name(d) for d in providers[module.split(".")[0]]}
            assert distributions & reachable, f"{module} ({distributions}) is not installed by extra {extra!r}"
        provided = {canonicalize_name(d) for module in imports for d in providers[module.split(".")[0]]}
        assert declared <= provided, f"extra {extra!r} declares {declared - provided} that no listed import names"
    assert extra_for("botocore.exceptions") == "backtest"
    assert extra_for("rich.console") == "cli"
    assert extra_for("yaml") is None


# --- what pip resolves ------------------------------------------------------------------------


def test_the_pack_requirements_resolve_without_the_cli_and_backtest_dependencies(tmp_path: Path):
    """pip resolves `policies/requirements.txt` from the pack folder, as the Pulumi CLI runs it
    (against the configured index; a few seconds)."""
    report = tmp_path / "report.json"
    subprocess.run([sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet",
                    "--report", str(report), "-r", "requirements.txt"],
                   cwd=ROOT / "policies", check=True, capture_output=True, text=True)
    installs = json.loads(report.read_text())["install"]
    resolved = {canonicalize_name(item["metadata"]["name"]) for item in installs}
    assert {"pulumi", "pulumi-policy", "trailguard", "pyyaml", "orjson"} <= resolved
    assert not resolved & set(CLI_AND_BACKTEST), f"the pack would install {sorted(resolved & set(CLI_AND_BACKTEST))}"
    assert "pulumi-aws" not in resolved and "s3transfer" not in resolved
    (library,) = [item for item in installs if item["metadata"]["name"] == "trailguard"]
    assert library["download_info"]["url"] == ROOT.as_uri()  # the repository itself, editable
    assert not library.get("requested_extras")


def _closure(requirements: list[str]) -> set[str]:
    """Every distribution the requirements need, through installed distributions' metadata
    (markers evaluated for this interpreter, no extras unless a requirement asks for them)."""
    pending = [Requirement(line) for line in requirements]
    seen: set[str] = set()
    while pending:
        requirement = pending.pop()
        name = canonicalize_name(requirement.name)
        if name in seen:
            continue
        seen.add(name)
        for line in importlib.metadata.requires(name) or []:
            needed = Requirement(line)
            extras = [{"extra": extra} for extra in requirement.extras] or [{"extra": ""}]
            if needed.marker is None or any(needed.marker.evaluate(env) for env in extras):
                pending.append(needed)
    return seen


def test_the_program_requirements_need_no_cli_backtest_or_pack_packages():
    needed = _closure(_requirement_lines(ROOT / "requirements.txt"))
    assert {"pulumi", "pulumi-aws", "pyyaml", "orjson"} <= needed
    assert not needed & {*CLI_AND_BACKTEST, "pulumi-policy"}, sorted(needed & {*CLI_AND_BACKTEST, "pulumi-policy"})


# --- what imports with only those packages ------------------------------------------------------

BLOCKER = textwrap.dedent("""
    import importlib, json, pkgutil, sys

    BLOCKED = {blocked!r}

    class Blocker:
        '''Refuses the blocked packages as if they were not installed.'''
        def find_spec(self, name, path=None, target=None):
            if any(name == b or name.startswith(b + ".") for b in BLOCKED):
                raise ModuleNotFoundError(f"No module named {{name!r}} (blocked)", name=name)
            return None

    sys.meta_path.insert(0, Blocker())
    sys.path[:0] = {paths!r}
    imported = []
    for package in {packages!r}:
        module = importlib.import_module(package)
        imported.append(package)
        for info in pkgutil.walk_packages(getattr(module, "__path__", []), package + "."):
            importlib.import_module(info.name)
            imported.append(info.name)
    for name in {modules!r}:
        importlib.import_module(name)
        imported.append(name)
    print(json.dumps(imported))
""")


def _import_with_blocked(blocked: set[str], packages: list[str], modules: list[str] = (),
                         paths: list[str] = ()) -> subprocess.CompletedProcess:
    script = BLOCKER.format(blocked=sorted(blocked), paths=list(paths), packages=packages, modules=list(modules))
    return subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True)


def _imports_of(path: Path) -> list[str]:
    """The modules a script imports at its top level."""
    names = []
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module != "__future__":
            names.append(node.module)
    return names


EVERY_EXTRA = {name for imports in EXTRA_IMPORTS.values() for name in imports} | set(CLI_AND_BACKTEST)
CORE_PACKAGES = ["trailguard.patterns", "trailguard.catalog", "trailguard.config"]
CORE_MODULES = ["trailguard", "trailguard.alarms", "trailguard.cloudtrail", "trailguard.records",
                "trailguard.extras", "trailguard.check.layout", "trailguard.__main__"]


def test_the_core_imports_with_its_own_dependencies_only():
    done = _import_with_blocked(EVERY_EXTRA, CORE_PACKAGES, CORE_MODULES)
    assert done.returncode == 0, done.stderr
    imported = set(json.loads(done.stdout))
    assert {"trailguard.patterns._compiler", "trailguard.catalog.loader", "trailguard.config.validate"} <= imported


def test_the_pack_imports_without_the_cli_backtest_or_aws_packages():
    blocked = {*CLI_AND_BACKTEST, *EXTRA_IMPORTS["cli"], *EXTRA_IMPORTS["backtest"], "pulumi_aws"}
    pack = ROOT / "policies"
    done = _import_with_blocked(blocked, ["trailguard_policies"], _imports_of(pack / "__main__.py"), [str(pack)])
    assert done.returncode == 0, done.stderr
    imported = set(json.loads(done.stdout))
    assert {"trailguard_policies.detections", "trailguard_policies.samples", "pulumi_policy"} <= imported


def test_the_program_imports_without_the_cli_backtest_or_pack_packages():
    blocked = {*CLI_AND_BACKTEST, *EXTRA_IMPORTS["cli"], *EXTRA_IMPORTS["backtest"], "pulumi_policy"}
    done = _import_with_blocked(blocked, ["components"], _imports_of(ROOT / "__main__.py"), [str(ROOT)])
    assert done.returncode == 0, done.stderr
    imported = set(json.loads(done.stdout))
    assert {"components.monitoring", "components.detection", "pulumi"} <= imported


def test_the_blocker_does_block():
    """The import checks above could fail: the CLI does not import with click blocked."""
    done = _import_with_blocked({"click"}, [], ["trailguard.cli"])
    assert done.returncode != 0
    assert "No module named 'click' (blocked)" in done.stderr


# --- a missing extra is named, not a traceback ---------------------------------------------------


@pytest.mark.parametrize("argv", [["--version"], ["catalog"]])
def test_the_console_script_without_click_names_the_cli_extra(argv: list[str]):
    script = ("import sys; sys.modules['click'] = None; sys.argv = ['trailguard', *sys.argv[1:]]; "
              "from trailguard.__main__ import run; run()")
    done = subprocess.run([sys.executable, "-c", script, *argv], capture_output=True, text=True)
    assert done.returncode == 1
    assert done.stderr == ("error: the trailguard command needs the 'cli' extra (click is not installed); "
                           "install it with: pip install 'trailguard[cli]'\n")


def test_the_console_script_entry_point_is_the_guarded_one():
    assert PYPROJECT["scripts"]["trailguard"] == "trailguard.__main__:run"
    (entry,) = [e for e in importlib.metadata.entry_points(group="console_scripts") if e.name == "trailguard"]
    assert entry.value == "trailguard.__main__:run"


def test_a_subcommand_missing_its_extra_names_it(monkeypatch: pytest.MonkeyPatch):
    from click.testing import CliRunner

    from trailguard.cli import catalog_cmd, main

    monkeypatch.setattr(catalog_cmd, "_wants_rich", lambda stream: True)
    monkeypatch.setitem(sys.modules, "rich.console", None)
    result = CliRunner().invoke(main, ["catalog"])
    assert result.exit_code == 1
    assert "trailguard catalog needs the 'cli' extra (rich.console is not installed)" in result.output
    assert "pip install 'trailguard[cli]'" in result.output
    assert not isinstance(result.exception, ModuleNotFoundError)


def test_backtest_over_s3_without_boto3_names_the_backtest_extra(monkeypatch: pytest.MonkeyPatch):
    from click.testing import CliRunner

    from trailguard.cli import main

    monkeypatch.setitem(sys.modules, "boto3", None)
    result = CliRunner().invoke(main, ["backtest", "s3://some-bucket/AWSLogs/", "--pattern", "{ $.eventName = X }"])
    assert result.exit_code == 1
    assert "reading s3:// sources needs the 'backtest' extra (boto3 is not installed)" in result.output
    assert "pip install 'trailguard[backtest]'" in result.output


def test_an_unrelated_missing_module_is_not_blamed_on_an_extra(monkeypatch: pytest.MonkeyPatch):
    from click.testing import CliRunner

    from trailguard.cli import catalog_cmd, main

    def broken(stream):
        raise ModuleNotFoundError("No module named 'nothing_of_ours'", name="nothing_of_ours")

    monkeypatch.setattr(catalog_cmd, "_wants_rich", broken)
    result = CliRunner().invoke(main, ["catalog"])
    assert isinstance(result.exception, ModuleNotFoundError) and result.exception.name == "nothing_of_ours"


def test_check_without_the_pulumi_sdk_names_the_pulumi_extra():
    script = ("import sys; sys.modules['pulumi'] = None; sys.argv = ['trailguard', 'check', '--stack', 'dev']; "
              "from trailguard.__main__ import run; run()")
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 2, done.stderr
    assert "pip install 'trailguard[pulumi]'" in done.stderr and "Traceback" not in done.stderr

