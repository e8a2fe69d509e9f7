"""`trailguard test PATTERN [FILE...]`: which events of these files would the pattern count?

The module is not named after the command so that nothing takes it for a test file; the loop
itself is `trailguard.matching.match_records`, and this module only renders what it yields.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path
from typing import Any, TextIO

import click
import orjson

from trailguard.catalog import PROFILES
from trailguard.cli.errors import EXIT_ERROR, EXIT_FAIL, CommandError, exit_with, print_error
from trailguard.cloudtrail import summarize
from trailguard.matching import MatchSummary, match_records
from trailguard.patterns import PatternSyntaxError, compile_pattern
from trailguard.records import STDIN, Record, encode_json
from trailguard.sourcefiles import Skipped


@click.command("test")
@click.argument("args", nargs=-1, metavar="[PATTERN] [FILE]...")
@click.option("--detection", "detection_id", metavar="ID",
              help="Test catalogue detection ID's pattern instead of a PATTERN; every argument is then a FILE.")
@click.option("--profile", type=click.Choice(PROFILES), default=None,
              help="With --detection: which of its patterns (default: default).")
@click.option("--stack", metavar="NAME",
              help="With --detection: the profile Pulumi.NAME.yaml deploys (its custom detections too).")
@click.option("--project-dir", type=click.Path(file_okay=False, path_type=Path), default=Path("."), show_default=True,
              help="Where Pulumi.yaml and the stack files are (with --stack).")
@click.option("--json", "as_json", is_flag=True,
              help="Print one JSON object per match, then a summary object, instead of text lines.")
def command(args: tuple[str, ...], detection_id: str | None, profile: str | None, stack: str | None,
            project_dir: Path, as_json: bool) -> None:
    """Test a CloudWatch Logs filter PATTERN, or a catalogue detection's (--detection ID), against
    log events.

    \b
      trailguard test PATTERN [FILE]...
      trailguard test --detection ID [--profile NAME | --stack NAME] [FILE]...

    FILE may be a CloudTrail S3 delivery file ({"Records": [...]}, .json or .json.gz), a JSON array,
    JSON lines, or plain text lines; a directory (read recursively) or a glob. With no FILE, or
    with -, standard input is read (on a terminal, end the events with Ctrl-D).

    Prints one line per matching event (time, event name, who, source IP) and a total; with
    --json each match names its input as "file" and its event source as "source". Input that is
    JSON (it starts with { or [) and does not parse is rejected and named, never read as text;
    binary files are rejected; empty files, CloudTrail-Digest files and FIFOs met in a directory
    are skipped and named. Exit status: 0 whatever the number of matches, 2 if PATTERN is invalid
    or the options are wrong (an unknown detection id), 1 if some input could not be read, a
    missing file included (the rest is still tested and reported), or the --stack config is invalid.
    """
    pattern, files = _pattern_and_files(args, detection_id, profile, stack, project_dir)
    out = sys.stdout
    try:
        compiled = compile_pattern(pattern)
    except PatternSyntaxError as error:
        raise CommandError(f"invalid pattern: {error}", EXIT_ERROR) from None
    for warning in compiled.warnings:
        click.echo(f"warning: {warning.code}: {warning.format(pattern)}", err=True)
    sources = files or (STDIN,)
    if STDIN in sources and sys.stdin.isatty():
        click.echo(f"{WAITING}: JSON or text lines, end with Ctrl-D (or give a FILE)", err=True)
    run = match_records(compiled, sources)  # a source that cannot be read is reported in the summary
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


WAITING = "waiting for events on standard input"
"""What `test` says on stderr when it reads a terminal, so an empty screen is not taken for a hang."""


def _pattern_and_files(args: tuple[str, ...], detection_id: str | None, profile: str | None, stack: str | None,
                       project_dir: Path) -> tuple[str, tuple[str, ...]]:
    """The pattern to test and the files to read: the first argument and the rest, or with
    --detection the detection's pattern (announced on stderr) and every argument."""
    if detection_id is None:
        for name, given in (("--profile", profile), ("--stack", stack)):
            if given is not None:
                raise CommandError(f"{name} needs --detection ID (it picks which of a detection's patterns to test)",
                                   EXIT_ERROR)
        if not args:
            raise CommandError("give a PATTERN or --detection ID to test; see trailguard test --help", EXIT_ERROR)
        return args[0], args[1:]
    if stack is not None and profile is not None:
        raise CommandError("--stack and --profile exclude each other: the stack's config names its profile", EXIT_ERROR)
    pattern, used = _detection_pattern(detection_id, profile or "default", stack, project_dir)
    click.echo(f"testing {detection_id} ({used}): {pattern}", err=True)
    return pattern, args


def _detection_pattern(detection_id: str, profile: str, stack: str | None, project_dir: Path) -> tuple[str, str]:
    """(pattern, which profile and stack it came from) for `--detection`: a detection the stack
    enables (catalogue or custom) as the stack deploys it, else the catalogue's for the profile."""
    from trailguard.catalog import CatalogError, load_catalog
    from trailguard.suggest import unknown_name

    catalog = load_catalog()
    if stack is None:
        try:
            return catalog.get(detection_id).pattern_for(profile), f"profile {profile}"
        except CatalogError as error:
            raise CommandError(f"--detection: {error}", EXIT_ERROR) from None
    from trailguard.config import ConfigError, load_stack_file_config

    try:
        config = load_stack_file_config(project_dir, stack)
    except ConfigError as error:
        raise CommandError(f"stack {stack!r}: {error}", EXIT_FAIL) from None
    used = f"profile {config.profile}, stack {stack}"
    enabled = {d.id: d.pattern for d in config.detections}
    if detection_id in enabled:
        return enabled[detection_id], used
    if detection_id in catalog.detections:
        return catalog.get(detection_id).pattern_for(config.profile), used
    known = [*enabled, *(d for d in catalog.detections if d not in enabled)]
    raise CommandError(f"--detection: {unknown_name('detection', detection_id, known)}", EXIT_ERROR)


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
