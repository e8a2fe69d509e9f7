#!/usr/bin/env python3
"""Regenerate the policy metadata section of docs/policies.md from the policies themselves.

    python scripts/gen_policy_docs.py           # rewrite the generated section in place
    python scripts/gen_policy_docs.py --check   # exit 1 if the committed page is stale

The section is rendered from the metadata each policy of `ALL_POLICIES` carries (what
`GetAnalyzerInfo` sends to Pulumi): severity, compliance controls, what the policy enforces of
them, and remediation steps. Only the text between the markers changes.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "policies"))  # the pack's package, imported as the Pulumi CLI does

from trailguard_policies import ALL_POLICIES  # noqa: E402
from trailguard_policies.metadata import DOCS_BASE_URL, FRAMEWORKS, POLICY_METADATA, format_controls, only  # noqa: E402

DOCS_PAGE = ROOT / "docs" / "policies.md"
BEGIN = "<!-- BEGIN GENERATED POLICY METADATA (scripts/gen_policy_docs.py) -->"
END = "<!-- END GENERATED POLICY METADATA -->"
NONE = "-"


def render_block() -> str:
    """A table of every policy's severity and controls, then one section per policy (its `url` anchor)."""
    frameworks = [f"{framework.name} {framework.version}" if framework.version else framework.name
                  for framework in FRAMEWORKS.values()]
    lines = [
        f"| policy | severity | {' | '.join(frameworks)} |",
        "| --- | --- |" + " --- |" * len(frameworks),
    ]
    for policy in ALL_POLICIES:
        metadata = POLICY_METADATA[policy.name]
        controls = [format_controls(only(key, metadata.controls)) or NONE for key in FRAMEWORKS]
        lines.append(f"| [`{policy.name}`](#{policy.name}) | {policy.severity.value} | {' | '.join(controls)} |")
    for policy in ALL_POLICIES:
        lines += [
            "",
            f"#### {policy.name}",
            "",
            f"Severity **{policy.severity.value}**. {policy.framework.specification}",
            "",
            f"Remediation: {policy.remediation_steps}",
        ]
    lines += ["", f"(Each policy's `url` is `{DOCS_BASE_URL}#<policy>`.)"]
    return "\n".join(lines)


def splice(page: str, block: str) -> str:
    """`page` with the text between the markers replaced by `block`."""
    start, end = page.find(BEGIN), page.find(END)
    if start < 0 or end < start:
        raise ValueError(f"the page lacks the markers {BEGIN!r} ... {END!r}")
    return page[: start + len(BEGIN)] + "\n" + block + "\n" + page[end:]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="report a stale page instead of rewriting it")
    parser.add_argument("--page", type=Path, default=DOCS_PAGE, help=f"the page to update (default: {DOCS_PAGE})")
    args = parser.parse_args(argv)
    current = args.page.read_text(encoding="utf-8")
    updated = splice(current, render_block())
    if args.check:
        if updated != current:
            print(f"{args.page} is stale: run python scripts/gen_policy_docs.py", file=sys.stderr)
            return 1
        return 0
    if updated != current:
        args.page.write_text(updated, encoding="utf-8")
        print(f"updated {args.page}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
