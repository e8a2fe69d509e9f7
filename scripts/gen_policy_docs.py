#!/usr/bin/env python3
"""Regenerate the policy metadata section of docs/policies.md from the policies themselves.

    python scripts/gen_policy_docs.py           # rewrite the generated section in place
    python scripts/gen_policy_docs.py --check   # exit 1 if the committed page is stale

The section is rendered from the metadata each policy of `ALL_POLICIES` carries (what
`GetAnalyzerInfo` sends to Pulumi): severity, compliance controls, what the policy enforces of
them, and remediation steps. Only the text between the markers changes.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "policies"))  # the pack's package, imported as the Pulumi CLI does

from trailguard.generated_docs import splice as splice_between, update_page  # noqa: E402
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
    return splice_between(page, block, BEGIN, END)


def main(argv: list[str] | None = None) -> int:
    return update_page(argv, description=__doc__.splitlines()[0], default_page=DOCS_PAGE,
                       script="scripts/gen_policy_docs.py", updated=lambda page: splice(page, render_block()))


if __name__ == "__main__":
    sys.exit(main())
