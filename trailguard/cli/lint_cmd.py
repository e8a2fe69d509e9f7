"""`trailguard lint PATTERN...`: errors and warnings for filter patterns, before AWS sees them."""

from __future__ import annotations

import sys

import click
import orjson

from trailguard.cli.errors import EXIT_ERROR, EXIT_FAIL, exit_with, print_error
from trailguard.patterns import PatternSyntaxError, compile_pattern


@click.command("lint")
@click.argument("patterns", nargs=-1, required=True, metavar="PATTERN...")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per pattern.")
@click.option("--strict", is_flag=True, help="Warnings fail too (exit status 1), for CI.")
def command(patterns: tuple[str, ...], as_json: bool, strict: bool) -> None:
    """Check each CloudWatch Logs filter PATTERN: syntax and AWS quotas (errors) and the traps that
    make a valid pattern miss or over-match (warnings: '!=' on a field CloudTrail omits, '&&' and
    '||' mixed without parentheses, a literal inner '*', ignored '?' terms, '= true', a slot
    condition on a field the pattern does not have).

    Exit status 2 if any pattern is invalid; else 1 with --strict if any pattern has a warning;
    else 0 (without --strict warnings do not fail).
    """
    out = sys.stdout
    invalid = 0
    warned = 0
    for number, text in enumerate(patterns, 1):
        label = f"pattern {number}" if len(patterns) > 1 else "pattern"
        try:
            compiled = compile_pattern(text)
        except PatternSyntaxError as error:
            invalid += 1
            if as_json:
                out.write(orjson.dumps({"pattern": text, "valid": False, "errors": [
                    {"code": d.code, "message": d.message, "column": d.column} for d in error.diagnostics],
                    "warnings": []}).decode() + "\n")
            else:
                out.write(f"{label}: error: {error.code}: {error}\n")
            continue
        warned += bool(compiled.warnings)
        if as_json:
            out.write(orjson.dumps({"pattern": text, "valid": True, "errors": [], "warnings": [
                {"code": w.code, "message": w.message, "column": w.column} for w in compiled.warnings]}).decode() + "\n")
        elif not compiled.warnings:
            out.write(f"{label}: ok\n")
        for warning in () if as_json else compiled.warnings:
            out.write(f"{label}: warning: {warning.code}: {warning.format(text)}\n")
    if invalid:
        exit_with(EXIT_ERROR)
    if strict and warned:
        print_error(f"--strict: {warned} pattern{'s' if warned > 1 else ''} with warnings")
        exit_with(EXIT_FAIL)
