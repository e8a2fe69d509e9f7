"""Which optional extra of the `trailguard` distribution provides which import.

The core (patterns, catalogue, stack config, record readers) needs only pyyaml, orjson and msgspec, so the
policy pack and the Pulumi program install nothing more. Everything else comes with an extra of
pyproject.toml; when one of its imports is missing, the message names the extra to install
instead of showing a traceback. Plain Python, importable with nothing but the standard library.
"""

from __future__ import annotations

EXTRA_IMPORTS: dict[str, tuple[str, ...]] = {
    "cli": ("click", "rich", "pygments"),
    "backtest": ("isal", "boto3", "botocore"),
    "pulumi": ("pulumi", "pulumi_aws", "pulumi_policy", "google.protobuf"),
    "sql": ("duckdb", "sqlglot"),
}
"""extra -> the top-level imports its distributions provide (pygments comes with rich)."""


def extra_for(module: str | None) -> str | None:
    """The extra that installs `module` (a dotted name, as in `ModuleNotFoundError.name`), or None."""
    if not module:
        return None
    for extra, imports in EXTRA_IMPORTS.items():
        if any(module == name or module.startswith(name + ".") for name in imports):
            return extra
    return None


def install_command(extra: str) -> str:
    """The pip command that installs `extra`, quoted for a POSIX shell."""
    return f"pip install 'trailguard[{extra}]'"


def missing_extra_message(module: str, extra: str, needed_by: str) -> str:
    """`needed_by` (e.g. "the trailguard command") cannot import `module`: say which extra installs it."""
    return f"{needed_by} needs the '{extra}' extra ({module} is not installed); install it with: {install_command(extra)}"
