"""`trailguard sigma ...`: Sigma rules for CloudTrail as CloudWatch Logs filter patterns
(trailguard/sigma, docs/sigma.md). Needs the `sigma` extra (pySigma)."""

from __future__ import annotations

import sys
from pathlib import Path

import click
import orjson

from trailguard.cli.errors import EXIT_ERROR, EXIT_FAIL, CommandError, exit_with
from trailguard.sigma.conversion import SigmaConversion


@click.group("sigma")
def command() -> None:
    """Sigma detection rules (https://sigmahq.io) for AWS CloudTrail, as filter patterns."""


@command.command("convert")
@click.argument("paths", metavar="RULE.yml|DIR...", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True,
              help="Print a JSON array: one object per rule with verdict, pattern, caveats, refusal, "
                   "attribution and the rule's metadata.")
def convert(paths: tuple[Path, ...], as_json: bool) -> None:
    """Convert Sigma rules (files, or directories searched for *.yml/*.yaml) with logsource
    'product: aws, service: cloudtrail' to JSON filter patterns. Each rule gets a verdict: exact,
    caveats (each named, per field: how the pattern's matches can differ) or refused (with the
    reason). Every message based on a rule's matches must keep its author (Detection Rule
    License 1.1): the attribution line says it.

    Exit status 0 when every rule converts (exact or with caveats), 1 when some rule is refused,
    2 for a file that cannot be read or is not a Sigma rule.
    """
    from trailguard.sigma.convert import SigmaInputError, convert_paths

    try:
        conversions = convert_paths(list(paths))
    except SigmaInputError as error:
        raise CommandError(str(error), EXIT_ERROR) from None
    if as_json:
        sys.stdout.write(orjson.dumps([c.to_json() for c in conversions], option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        sys.stdout.write("\n".join(format_conversion(c) for c in conversions))
        refused = sum(c.verdict == "refused" for c in conversions)
        sys.stdout.write(f"\n{len(conversions)} rule(s): {sum(c.verdict == 'exact' for c in conversions)} exact, "
                         f"{sum(c.verdict == 'caveats' for c in conversions)} with caveats, {refused} refused\n")
    if any(c.verdict == "refused" for c in conversions):
        exit_with(EXIT_FAIL)


def format_conversion(conversion: SigmaConversion) -> str:
    """One rule's conversion as indented text lines (ending in a newline)."""
    lines = [f"{conversion.source or '-'}: {conversion.title}", f"  verdict: {conversion.verdict}"]
    if conversion.pattern is not None:
        lines.append(f"  pattern: {conversion.pattern}")
    for caveat in conversion.caveats:
        lines.append(f"  caveat ({caveat.kind}, {caveat.field}): {caveat.message}")
    if conversion.refusal is not None:
        lines.append(f"  refused: {conversion.refusal}")
    lines.append(f"  attribution: {conversion.attribution}")
    if conversion.link:
        lines.append(f"  link: {conversion.link}")
    return "\n".join(lines) + "\n"
