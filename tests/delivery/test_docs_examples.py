"""The examples in README.md and docs/ run as written from a fresh clone.

Every `$ ...` line of a ```console block is run with bash in a copy of the repository that has no
`../shared` beside it, and when the block shows output under the command, the output (stderr,
then stdout, as a terminal shows it; 100 columns wide) must be that text, wall-clock figures
aside. A command shown without output must exit 0. The ```python blocks of each document run in
order in one namespace from the copy's root. The documents also carry no notes to the team.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DOCUMENTS = ("README.md", "docs/backtest.md", "docs/patterns.md", "docs/catalog.md", "docs/ci.md", "docs/sigma.md")
"""The documents checked here (docs/program.md and docs/policies.md are not yet)."""

COPY_IGNORED = shutil.ignore_patterns(".git", ".venv", "__pycache__", ".pytest_cache", "build", "*.egg-info")
INTERNAL_NOTES = (r"\bTODO\b", r"\bFIXME\b", r"\bXXX\b", r"\bthe lead\b", r"\bhelpers?\b", r"\bsession\b",
                  r"\bissue #?\d+", r"(?<![\w&])#\d+\b", r"\.\./shared\b", r"for the lead", r"README summary")


@dataclass(frozen=True)
class Example:
    document: str
    line: int
    command: str
    output: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.document}:{self.line}"


def _blocks(text: str, language: str) -> list[tuple[int, list[str]]]:
    """(line number of the first line, lines) of every fenced block in `language`."""
    found, current, start = [], None, 0
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if current is None and stripped == f"```{language}":
            current, start = [], number + 1
        elif current is not None and stripped == "```":
            found.append((start, current))
            current = None
        elif current is not None:
            current.append(line)
    return found


def console_examples() -> list[Example]:
    examples = []
    for document in DOCUMENTS:
        for start, lines in _blocks((REPO / document).read_text(encoding="utf-8"), "console"):
            indent = min(len(line) - len(line.lstrip()) for line in lines if line.strip())
            lines = [line[indent:] for line in lines]
            for offset, line in enumerate(lines):
                if not line.startswith("$ "):
                    continue
                output = []
                for following in lines[offset + 1:]:
                    if following.startswith("$ "):
                        break
                    output.append(following.rstrip())
                while output and not output[-1]:
                    output.pop()
                examples.append(Example(document, start + offset, line[2:], tuple(output)))
    return examples


WALL_CLOCK = [
    (re.compile(r"\bin [\d.,]+ s\b"), "in <seconds> s"),
    (re.compile(r"[\d,]+ events/s\b"), "<rate> events/s"),
]


def normalise(lines: list[str] | tuple[str, ...]) -> list[str]:
    """Lines without trailing blanks, wall-clock figures replaced by placeholders."""
    result = []
    for line in lines:
        line = line.rstrip()
        for pattern, replacement in WALL_CLOCK:
            line = pattern.sub(replacement, line)
        result.append(line)
    while result and not result[-1]:
        result.pop()
    return result


@pytest.fixture(scope="module")
def clone(tmp_path_factory) -> Path:
    """A copy of the working tree (what a clone holds), with nothing beside it."""
    root = tmp_path_factory.mktemp("fresh") / "trailguard"
    shutil.copytree(REPO, root, ignore=COPY_IGNORED)
    assert not (root.parent / "shared").exists()
    return root


@pytest.fixture(scope="module")
def shell_env(tmp_path_factory) -> dict[str, str]:
    """PATH with a `trailguard` that is this interpreter's, as an installed venv provides."""
    bin_dir = tmp_path_factory.mktemp("bin")
    shim = bin_dir / "trailguard"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m trailguard "$@"\n')
    shim.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PULUMI_", "AWS_", "TRAILGUARD_"))}
    env.update(PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}", COLUMNS="100", NO_COLOR="1", TERM="dumb")
    return env


EXAMPLES = console_examples()


def test_the_documents_have_runnable_examples():
    documents = {example.document for example in EXAMPLES}
    assert {"README.md", "docs/backtest.md", "docs/catalog.md"} <= documents
    assert sum(1 for example in EXAMPLES if example.output) >= 8


@pytest.mark.parametrize("example", EXAMPLES, ids=str)
def test_console_example_runs_as_shown(example: Example, clone: Path, shell_env: dict[str, str]):
    done = subprocess.run(["bash", "-o", "pipefail", "-c", example.command], cwd=clone, env=shell_env,
                          capture_output=True, text=True, timeout=60)
    if not example.output:
        assert done.returncode == 0, f"{example}: exit {done.returncode}\n{done.stderr}"
        return
    shown = normalise(example.output)
    printed = normalise((done.stderr + done.stdout).splitlines())
    assert printed == shown, f"{example}: `{example.command}` printed something else (exit {done.returncode})"


@pytest.mark.parametrize("document", [d for d in DOCUMENTS if _blocks((REPO / d).read_text(), "python")])
def test_python_examples_run(document: str, clone: Path, monkeypatch):
    monkeypatch.chdir(clone)
    namespace: dict[str, object] = {"__name__": "__doc_example__"}
    for start, lines in _blocks((REPO / document).read_text(encoding="utf-8"), "python"):
        code = "\n".join(lines)
        exec(compile(code, f"{document}:{start}", "exec"), namespace)  # noqa: S102 - our own documentation


@pytest.mark.parametrize("document", DOCUMENTS)
def test_no_internal_notes_or_paths_outside_the_repository(document: str):
    text = (REPO / document).read_text(encoding="utf-8")
    for pattern in INTERNAL_NOTES:
        match = re.search(pattern, text, flags=re.IGNORECASE)
        assert match is None, f"{document}: {match.group(0)!r} at line {text.count(chr(10), 0, match.start()) + 1}"


@pytest.mark.parametrize("document", DOCUMENTS)
def test_repository_paths_in_examples_exist(document: str):
    """Every examples/ or tests/fixtures/ path the document names is in the repository."""
    text = (REPO / document).read_text(encoding="utf-8")
    for path in set(re.findall(r"\b((?:examples|tests/fixtures)/[\w./-]*[\w])", text)):
        matches = list(REPO.glob(path)) if "*" in path else [REPO / path]
        assert matches and all(m.exists() for m in matches), f"{document} names {path}, which is not in the repository"


def test_the_shown_output_is_compared():
    """The comparison itself: a changed count fails, a different wall-clock time does not."""
    shown = ("2 file(s), 11,694 bytes in 0.01 s (1,078 events/s)", "events read 15")
    assert normalise(["2 file(s), 11,694 bytes in 3.20 s (12 events/s)  ", "events read 15", ""]) == normalise(shown)
    assert normalise(["2 file(s), 11,694 bytes in 0.01 s (1,078 events/s)", "events read 16"]) != normalise(shown)
