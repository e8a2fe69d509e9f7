"""Where a Pulumi project keeps its program and its policy pack, as `trailguard check` needs to know.

The harness and the pack runner take a `ProjectLayout` instead of assuming this repository's
folders, so they can check any Pulumi Python project; `ProjectLayout.for_repository` is this
repository's layout, which the `trailguard check` command passes. No Pulumi import here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ProjectLayout:
    """A Pulumi Python project: its directory, its own packages and its policy pack (if any).

    `program_modules` are the packages the program imports from `project_dir`; they are dropped
    from `sys.modules` around each run so every run imports the directory it is pointed at.
    `pack_dir` is the folder holding `PulumiPolicy.yaml` (None: the project has no pack) and
    `pack_package` the package in it that defines `ALL_POLICIES`, `PACK_NAME` and `PACK_VERSION`.
    """

    project_dir: Path
    program_modules: tuple[str, ...] = ()
    pack_dir: Path | None = None
    pack_package: str | None = None

    def __post_init__(self) -> None:
        if isinstance(self.program_modules, str):
            raise TypeError(f"program_modules must be a tuple of package names, not the string {self.program_modules!r}")
        if (self.pack_dir is None) != (self.pack_package is None):
            raise ValueError("a policy pack needs both pack_dir and pack_package (or neither, for no pack)")

    @classmethod
    def for_repository(cls, project_dir: Path) -> ProjectLayout:
        """This repository's layout at `project_dir`: the program's package `components/`, the
        pack `policies/` with its policies in `policies/trailguard_policies/`."""
        project_dir = Path(project_dir)
        return cls(project_dir, ("components",), project_dir / "policies", "trailguard_policies")

    def pack_config(self, stack: str) -> Path | None:
        """The pack's config file for `stack` (`<pack_dir>/config/<stack>.json`) if it exists."""
        if self.pack_dir is None:
            return None
        path = self.pack_dir / "config" / f"{stack}.json"
        return path if path.is_file() else None
