"""Check one stack offline: read its config files, validate, run the program under mocks.

Each step is a function so `trailguard check` can add more (the policy pack runs on the
`ProgramRun` this returns).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from trailguard.check.harness import ProgramRun, require_layout, run_program
from trailguard.check.layout import ProjectLayout
from trailguard.config import StackConfig, load_stack_file_config


@dataclass(frozen=True)
class StackCheck:
    """A stack whose config validated and whose program ran: what it enables and what it registers."""

    stack: str
    project_dir: Path
    config: StackConfig
    run: ProgramRun


def check_stack(layout: ProjectLayout, stack: str, *, preview: bool = False) -> StackCheck:
    """Validate `Pulumi.<stack>.yaml` as the program does (one ConfigError naming every key at fault,
    with its line in the file), then run the program under mocks."""
    project_dir = Path(require_layout(layout).project_dir)
    config = load_stack_file_config(project_dir, stack)
    run = run_program(layout, stack, preview=preview)
    return StackCheck(stack=stack, project_dir=project_dir, config=config, run=run)
