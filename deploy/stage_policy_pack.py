"""Stage `policies/` for publishing to Pulumi Cloud, with the trailguard library vendored.

    python deploy/stage_policy_pack.py            # -> build/policy-pack (what deploy/ publishes)

In the repository the pack installs the library with `-e ..`; a published pack is only its
folder, where `..` does not exist. The staged copy replaces that line with a wheel of the
library built from the same commit and shipped in `vendor/` (the procedure docs/policies.md
describes), and leaves out local virtualenvs and caches.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
PACK_DIR = REPO_ROOT / "policies"
STAGED_DIR = REPO_ROOT / "build" / "policy-pack"
EDITABLE_LIBRARY = "-e .."


class StagingError(ValueError):
    """The pack cannot be staged as it is."""


def stage_policy_pack(pack_dir: Path, dest: Path, wheel: Path) -> Path:
    """Copy `pack_dir` to `dest` with `wheel` vendored in place of the editable install."""
    requirements = (pack_dir / "requirements.txt").read_text().splitlines()
    if EDITABLE_LIBRARY not in (line.strip() for line in requirements):
        raise StagingError(f"{pack_dir / 'requirements.txt'} has no `{EDITABLE_LIBRARY}` line to "
                           "replace with the vendored trailguard wheel")
    if not (wheel.name.startswith("trailguard-") and wheel.suffix == ".whl"):
        raise StagingError(f"{wheel} is not a trailguard wheel (trailguard-<version>-*.whl)")
    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(pack_dir, dest, ignore=shutil.ignore_patterns("venv", "__pycache__", "*.pyc"))
    (dest / "vendor").mkdir()
    shutil.copy2(wheel, dest / "vendor" / wheel.name)
    staged = [f"./vendor/{wheel.name}" if line.strip() == EDITABLE_LIBRARY else line
              for line in requirements]
    (dest / "requirements.txt").write_text("\n".join(staged) + "\n")
    return dest


def build_library_wheel(out_dir: Path) -> Path:
    """`pip wheel` of the repository (the library, its catalogue data included)."""
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w",
                    str(out_dir), str(REPO_ROOT)], check=True)
    [wheel] = out_dir.glob("trailguard-*.whl")
    return wheel


def main() -> int:
    with tempfile.TemporaryDirectory() as scratch:
        wheel = build_library_wheel(Path(scratch))
        staged = stage_policy_pack(PACK_DIR, STAGED_DIR, wheel)
    print(f"staged {staged.relative_to(REPO_ROOT)} with vendor/{wheel.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
