"""`trailguard test PATTERN [FILE...]`: which events of these files would the pattern count?

The module is not named after the command so that nothing takes it for a test file; the loop
itself is `trailguard.matching.match_records`, and this module only renders what it yields.
"""

from __future__ import annotations

import sys
from collections import Counter
from typing import Any, TextIO

import click
import orjson

from trailguard.cli.errors import EXIT_ERROR, EXIT_FAIL, CommandError, exit_with, print_error
from trailguard.cloudtrail import summarize
from trailguard.matching import MatchSummary, match_records
from trailguard.patterns import PatternSyntaxError, compile_pattern
from trailguard.records import STDIN, Record, encode_json
from trailguard.sourcefiles import Skipped


@click.command("test")
@click.argument("pattern")
@click.argument("files", nargs=-1, metavar="[FILE]...")
@click.option("--json", "as_json", is_flag=True,
              help="Print one JSON object per match, then a summary object, instead of text lines.")
def command(pattern: str, files: tuple[str, ...], as_json: bool) -> None:
    """Test a CloudWatch Logs filter PATTERN against log events.

    FILE may be a CloudTrail S3 delivery file ({"Records": [...]}, .json or .json.gz), a JSON array,
    JSON lines, or plain text lines; a directory (read recursively) or a glob. With no FILE, or
    with -, standard input is read.

    Prints one line per matching event (time, event name, who, source IP) and a total; with
    --json each match names its input as "file" and its event source as "source". Input that is
    JSON (it starts with { or [) and does not parse is rejected and named, never read as text;
    binary files are rejected; empty files, CloudTrail-Digest files and FIFOs met in a directory
    are skipped and named. Exit status: 0 whatever the number of matches, 2 if PATTERN is invalid,
    1 if some input could not be read, a file is missing included (the rest is still tested and
    reported).
    """
    out = sys.stdout
    try:
        compiled = compile_pattern(pattern)
    except PatternSyntaxError as error:
        raise CommandError(f"invalid pattern: {error}", EXIT_ERROR) from None
    for warning in compiled.warnings:
        click.echo(f"warning: {warning.code}: {warning.format(pattern)}", err=True)
    run = match_records(compiled, files or (STDIN,))
    for record in run:
        _print_match(out, record, as_json)
    summary = run.summary
    for message in summary.unreadable:
        print_error(message)
    for rejection in summary.rejected:
        print_error(f"{rejection.source}: {rejection.reason}" + (f" ({rejection.count} records)" if rejection.count > 1 else ""))
    for skip in summary.skipped:
        click.echo(f"skipped: {skip.source}: {skip.reason}", err=True)
    if as_json:
        out.write(orjson.dumps({"summary": _summary_json(pattern, summary, [w.code for w in compiled.warnings])}).decode()
                  + "\n")
    else:
        total = f"{summary.matches} of {summary.events} events matched"
        if summary.skipped:
            total += f"; {len(summary.skipped)} inputs skipped ({_by_kind(summary.skipped)})"
        if not summary.complete:
            total += (f"; {summary.records_rejected} records rejected, {len(summary.unreadable)} sources unreadable "
                      "(see errors above)")
        out.write(total + "\n")
    if not summary.complete:
        exit_with(EXIT_FAIL)


def _summary_json(pattern: str, summary: MatchSummary, warnings: list[str]) -> dict[str, Any]:
    return {"pattern": pattern, "matches": summary.matches, "events": summary.events, "files": summary.files,
            "rejected": [{"source": r.source, "reason": r.reason, "count": r.count} for r in summary.rejected],
            "unreadable": list(summary.unreadable),
            "skipped": [{"source": s.source, "reason": s.reason} for s in summary.skipped], "warnings": warnings}


def _by_kind(skipped: tuple[Skipped, ...]) -> str:
    return ", ".join(f"{kind}: {count}" for kind, count in sorted(Counter(skip.kind for skip in skipped).items()))


def _print_match(out: TextIO, record: Record, as_json: bool) -> None:
    where = {"file": record.source, "index": record.index}  # "source" is the event's, from summarize
    if record.event is None:
        line: dict[str, Any] = {**where, "text": record.text}
        out.write(orjson.dumps(line).decode() + "\n" if as_json else f"{record.text}\n")
        return
    summary = summarize(record.event)
    if as_json:
        out.write(encode_json({**where, **summary.as_dict(), "event": record.event}).decode() + "\n")
    else:
        out.write(f"{summary.time}  {summary.name}  {summary.who}  {summary.ip}\n")
