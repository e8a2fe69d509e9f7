"""How much the policy pack installs: `policies/requirements.txt` of a base revision against this tree.

Every `pulumi preview/up --policy-pack policies` and every Pulumi Cloud policy run installs the
pack's requirements into a fresh virtualenv, so what they pull in is paid on each install. For each
tree this script creates a throw-away venv, runs `pip install -r requirements.txt` from the tree's
`policies/` folder (as the Pulumi CLI does), and measures the venv's site-packages: bytes on disk
(`du`-style, allocated blocks), number of distributions, and the distributions one tree installs
and the other does not. An empty venv (pip alone) is measured too, as the floor.

The base tree is exported with `git archive` (no checkout, no git metadata written). The library
itself is installed editable (`-e ..`), so its own source is not in site-packages for either
tree; a published pack vendors the wheel instead (about the same size for both).

    .venv/bin/python bench/pack_install_size.py                      # base: main
    .venv/bin/python bench/pack_install_size.py --base 1a94349 --out bench/RESULTS-install.md
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WATCHED = ("click", "rich", "pygments", "isal", "boto3", "botocore", "s3transfer", "jmespath")
"""The CLI's and the back-test's dependencies (and boto3's own), which the pack does not use."""

LIST_DISTRIBUTIONS = (
    "import importlib.metadata as m, json; "
    "print(json.dumps(sorted({d.metadata['Name'].lower().replace('_', '-'): d.version "
    "for d in m.distributions()}.items())))"
)


@dataclass(frozen=True)
class Install:
    label: str
    site_packages_bytes: int
    distributions: dict[str, str]
    seconds: float
    pip: str


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", default="main", help="git revision to compare against (default: main)")
    parser.add_argument("--out", type=Path, help="write the results as Markdown to this file")
    args = parser.parse_args()

    base_commit = _git("rev-parse", "--short", args.base)
    head_commit = _git("rev-parse", "--short", "HEAD")
    dirty = bool(_git("status", "--porcelain", "--", "pyproject.toml", "policies", "trailguard"))
    with tempfile.TemporaryDirectory(prefix="pack-size-") as scratch:
        scratch_dir = Path(scratch)
        base_tree = scratch_dir / "base"
        _export(args.base, base_tree)
        empty = _measure("empty venv (pip only)", scratch_dir / "venv-empty", None)
        base_label = base_commit if args.base.startswith(base_commit) else f"{args.base} ({base_commit})"
        before = _measure(f"before: {base_label}", scratch_dir / "venv-before", base_tree)
        after = _measure(f"after: this tree ({head_commit}{', uncommitted changes' if dirty else ''})",
                         scratch_dir / "venv-after", ROOT)
    command = " ".join(["python", "bench/pack_install_size.py", *sys.argv[1:]])
    report = _markdown(empty, before, after, command)
    print(report)
    if args.out:
        args.out.write_text(report)
    return 0


def _git(*args: str) -> str:
    return subprocess.run(["git", "-C", str(ROOT), *args], check=True, capture_output=True, text=True).stdout.strip()


def _export(revision: str, target: Path) -> None:
    """The tree of `revision`, unpacked into `target` with `git archive`."""
    target.mkdir(parents=True)
    archive = target.parent / "base.tar"
    with archive.open("wb") as out:
        subprocess.run(["git", "-C", str(ROOT), "archive", revision], check=True, stdout=out)
    with tarfile.open(archive) as tar:
        tar.extractall(target, filter="data")
    archive.unlink()


def _measure(label: str, venv: Path, tree: Path | None) -> Install:
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    started = time.perf_counter()
    if tree is not None:
        subprocess.run([str(python), "-m", "pip", "install", "-q", "-r", "requirements.txt"],
                       cwd=tree / "policies", check=True)
    seconds = time.perf_counter() - started
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                               check=True, capture_output=True, text=True).stdout.strip())
    listed = subprocess.run([str(python), "-c", LIST_DISTRIBUTIONS], check=True, capture_output=True, text=True)
    pip = subprocess.run([str(python), "-m", "pip", "--version"], check=True, capture_output=True, text=True)
    return Install(label, _disk_bytes(site), dict(json.loads(listed.stdout)), seconds, " ".join(pip.stdout.split()[:2]))


def _disk_bytes(path: Path) -> int:
    """Allocated bytes under `path`, each file counted once (what `du -s -B1` reports)."""
    total, seen = 0, set()
    for directory, _, files in os.walk(path):
        for name in [".", *files]:
            stat = os.lstat(os.path.join(directory, name))
            if (stat.st_dev, stat.st_ino) not in seen:
                seen.add((stat.st_dev, stat.st_ino))
                total += stat.st_blocks * 512
    return total


def _mb(size: int) -> str:
    return f"{size / 1e6:.1f} MB"


def _markdown(empty: Install, before: Install, after: Install, command: str) -> str:
    def row(install: Install) -> str:
        over = install.site_packages_bytes - empty.site_packages_bytes
        return (f"| {install.label} | {_mb(install.site_packages_bytes)} | {_mb(over)} | "
                f"{len(install.distributions)} | {install.seconds:.0f} s |")

    saved = before.site_packages_bytes - after.site_packages_bytes
    dropped = sorted(set(before.distributions) - set(after.distributions))
    added = sorted(set(after.distributions) - set(before.distributions))
    watched_after = sorted(set(WATCHED) & set(after.distributions))
    lines = [
        "# The policy pack's install size",
        "",
        "What `pip install -r requirements.txt`, run in `policies/` as the Pulumi CLI does it, puts in a",
        "fresh virtualenv; measured by `bench/pack_install_size.py` (site-packages bytes on disk as `du`",
        "counts them, and the distributions `importlib.metadata` sees).",
        "",
        f"Command: `{command}`",
        "",
        f"Machine: {platform.platform()}, {platform.machine()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}, {empty.pip} (the venvs' own); packages from the local index (/etc/pip.conf).",
        "",
        "| install | site-packages | over an empty venv | distributions | pip time |",
        "| --- | ---: | ---: | ---: | ---: |",
        row(empty), row(before), row(after),
        "",
        f"The pack's install is {_mb(saved)} smaller ({saved / max(before.site_packages_bytes - empty.site_packages_bytes, 1):.0%} "
        f"of what it added to an empty venv), with {len(before.distributions) - len(after.distributions)} fewer distributions.",
        "",
        f"No longer installed: {', '.join(f'{name} {before.distributions[name]}' for name in dropped) or 'none'}.",
        "",
        f"Newly installed: {', '.join(f'{name} {after.distributions[name]}' for name in added) or 'none'}.",
        "",
        f"CLI/back-test packages still in the pack's venv: {', '.join(watched_after) or 'none'}.",
        "",
        "pip time is wall-clock on a shared machine, indicative only; the sizes do not depend on it.",
        "The library is installed editable (`-e ..`) in both, so its own code is outside site-packages;",
        "the published pack vendors its wheel instead, the same size before and after.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
