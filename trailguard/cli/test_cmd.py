"""`trailguard test PATTERN [FILE...]`: which events of these files would the pattern count?"""

from __future__ import annotations

import sys
from collections import Counter
from typing import Any, TextIO

import click
import orjson

from trailguard.cli import EXIT_ERROR, EXIT_FAIL
from trailguard.cloudtrail import summarize
from trailguard.patterns import PatternSyntaxError, compile_pattern
from trailguard.records import STDIN, Record, RecordSourceError, Rejected, iter_paths, iter_records


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

    Prints one line per matching event (time, event name, who, source IP) and a total. Exit
    status: 0 whatever the number of matches, 2 if PATTERN is invalid, 1 if some input could not
    be read (the rest is still tested and reported).
    """
    out = sys.stdout
    err = sys.stderr
    try:
        compiled = compile_pattern(pattern)
    except PatternSyntaxError as error:
        err.write(f"error: invalid pattern: {error}\n")
        sys.exit(EXIT_ERROR)
    for warning in compiled.warnings:
        err.write(f"warning: {warning.code}: {warning.format(pattern)}\n")

    events = matches = 0
    files_read = 0
    rejected: Counter[tuple[str, str]] = Counter()
    unreadable: list[str] = []
    try:
        paths = list(iter_paths(files or (STDIN,)))
    except RecordSourceError as error:
        err.write(f"error: {error}\n")
        sys.exit(EXIT_FAIL)
    for path in paths:
        try:
            items = iter_records(path if str(path) != STDIN else STDIN, allow_text=True)
            files_read += 1
            for item in items:
                if isinstance(item, Rejected):
                    rejected[(item.source, item.reason)] += item.count
                    continue
                events += 1
                subject = item.event if item.event is not None else item.text
                if compiled.matches(subject):
                    matches += 1
                    _print_match(out, item, as_json)
        except RecordSourceError as error:
            unreadable.append(str(error))
    for message in unreadable:
        err.write(f"error: {message}\n")
    for (source, reason), count in sorted(rejected.items()):
        err.write(f"error: {source}: {reason}" + (f" ({count} records)" if count > 1 else "") + "\n")
    skipped = sum(rejected.values())
    if as_json:
        summary = {"pattern": pattern, "matches": matches, "events": events, "files": files_read,
                   "rejected": [{"source": s, "reason": r, "count": c} for (s, r), c in sorted(rejected.items())],
                   "unreadable": unreadable, "warnings": [w.code for w in compiled.warnings]}
        out.write(orjson.dumps({"summary": summary}).decode() + "\n")
    else:
        total = f"{matches} of {events} events matched"
        if skipped or unreadable:
            total += f"; {skipped} records rejected, {len(unreadable)} sources unreadable (see errors above)"
        out.write(total + "\n")
    if skipped or unreadable:
        sys.exit(EXIT_FAIL)


def _print_match(out: TextIO, record: Record, as_json: bool) -> None:
    where = {"source": record.source, "index": record.index}
    if record.event is None:
        line: dict[str, Any] = {**where, "text": record.text}
        out.write(orjson.dumps(line).decode() + "\n" if as_json else f"{record.text}\n")
        return
    summary = summarize(record.event)
    if as_json:
        out.write(orjson.dumps({**where, **summary.as_dict(), "event": record.event}).decode() + "\n")
    else:
        out.write(f"{summary.time}  {summary.name}  {summary.who}  {summary.ip}\n")
