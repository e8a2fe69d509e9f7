"""`trailguard.check` takes the project layout as an argument: program modules, pack folder and package."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from tests.components.program_runs import PROJECT, copy_project
from trailguard.check.harness import run_program
from trailguard.check.layout import ProjectLayout
from trailguard.check.policy_pack import PolicyConfigError, check_policies, load_pack
from trailguard.check.stack import check_stack


def test_the_repository_layout_is_components_and_the_policies_folder(tmp_path: Path):
    layout = ProjectLayout.for_repository(tmp_path)
    assert layout == ProjectLayout(tmp_path, ("components",), tmp_path / "policies", "trailguard_policies")
    assert layout.pack_config("prod") is None  # no config file in an empty folder
    assert ProjectLayout.for_repository(PROJECT).pack_config("prod") == PROJECT / "policies" / "config" / "prod.json"


def test_a_layout_refuses_a_string_for_modules_and_half_a_pack(tmp_path: Path):
    with pytest.raises(TypeError, match="program_modules must be a tuple of package names, not the string 'components'"):
        ProjectLayout(tmp_path, "components")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="needs both pack_dir and pack_package"):
        ProjectLayout(tmp_path, ("components",), tmp_path / "policies")


def test_a_bare_path_is_refused_with_the_fix():
    with pytest.raises(TypeError, match=r"expected a ProjectLayout, got PosixPath .*ProjectLayout.for_repository\(path\)"):
        run_program(PROJECT, "dev")  # type: ignore[arg-type]


def test_the_program_modules_of_the_layout_are_the_ones_reimported(tmp_path: Path):
    project = copy_project(tmp_path)
    sys.modules.pop("components", None)
    run_program(ProjectLayout(project, ()), "dev")  # the layout says nothing about components/
    left = sys.modules.pop("components")
    assert Path(left.__file__).parent == project / "components"
    run_program(ProjectLayout(project, ("components",)), "dev")
    assert "components" not in sys.modules


def test_a_project_without_a_pack_gets_no_policy_report(tmp_path: Path):
    project = copy_project(tmp_path)
    layout = ProjectLayout(project, ("components",))
    result = check_stack(layout, "dev")
    assert result.project_dir == project and result.run.resources
    assert check_policies(result.run, layout, "dev") is None
    with pytest.raises(PolicyConfigError, match="--policy-config given but the project has no policy pack"):
        check_policies(result.run, layout, "dev", tmp_path / "pack.json")


def test_the_pack_folder_and_package_come_from_the_layout(tmp_path: Path):
    """The repository's pack copied as `guard/guard_rules` runs from there, with its config folder."""
    (tmp_path / "project").mkdir()
    project = copy_project(tmp_path / "project")
    guard = tmp_path / "guard"
    shutil.copytree(PROJECT / "policies" / "trailguard_policies", guard / "guard_rules",
                    ignore=shutil.ignore_patterns("__pycache__"))
    (guard / "config").mkdir()
    (guard / "config" / "dev.json").write_text('{"all": "disabled"}')
    layout = ProjectLayout(project, ("components",), guard, "guard_rules")
    try:
        run = check_stack(layout, "dev").run
        report = check_policies(run, layout, "dev")
        assert report is not None and report.pack_dir == guard
        assert report.config_path == guard / "config" / "dev.json" and report.violations == ()
        (tmp_path / "defaults.json").write_text("{}")
        defaults = check_policies(run, layout, "dev", tmp_path / "defaults.json")
        assert {(v.policy, v.level) for v in defaults.violations} == {("detections-protected", "advisory")}
        assert load_pack(guard, "guard_rules").__name__ == "guard_rules"
    finally:
        for name in [m for m in sys.modules if m == "guard_rules" or m.startswith("guard_rules.")]:
            del sys.modules[name]
    with pytest.raises(PolicyConfigError, match="no policy pack here \\(expected trailguard_policies/__init__.py\\)"):
        load_pack(guard, "trailguard_policies")
