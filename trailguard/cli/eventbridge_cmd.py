"""`trailguard eventbridge ID|PATTERN`: the EventBridge event pattern a detection or filter pattern
compiles to, or the named reason it cannot compile (trailguard/eventbridge.py, docs/realtime.md)."""

from __future__ import annotations

import re
import sys

import click
import orjson

from trailguard.catalog import PROFILES, CatalogError, load_catalog
from trailguard.cli.errors import EXIT_ERROR, EXIT_FAIL, CommandError, exit_with, print_error
from trailguard.eventbridge import EventBridgeRefusal, compile_event_pattern
from trailguard.patterns import PatternSyntaxError

_ID_RE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*\Z")


@click.command("eventbridge")
@click.argument("target", metavar="ID|PATTERN")
@click.option("--profile", type=click.Choice(PROFILES), default="default", show_default=True,
              help="Which of a detection's patterns to compile (ignored for a PATTERN).")
@click.option("--json", "as_json", is_flag=True,
              help="Print one JSON object: compiled, event_pattern and rule_state, or reason and message.")
def command(target: str, profile: str, as_json: bool) -> None:
    """Compile a catalogue detection ID or a JSON filter PATTERN to an EventBridge event pattern for
    CloudTrail events: the pattern (source and detail-type envelope, the record's fields under
    detail) and the rule state it needs, or the named reason it has no exact EventBridge form.

    Exit status 0 when it compiles, 1 when it cannot compile (the reason is printed), 2 for an
    invalid filter pattern or an unknown ID.
    """
    text = target
    if _ID_RE.match(target):
        try:
            text = load_catalog().get(target).pattern_for(profile)
        except CatalogError as error:
            raise CommandError(str(error), EXIT_ERROR) from None
    try:
        compiled = compile_event_pattern(text)
    except PatternSyntaxError as error:
        raise CommandError(f"invalid filter pattern: {error}", EXIT_ERROR) from None
    except EventBridgeRefusal as refusal:
        if as_json:
            sys.stdout.write(orjson.dumps({"input": target, "filter_pattern": text, "compiled": False,
                                           "reason": refusal.reason, "message": str(refusal)}).decode() + "\n")
        else:
            print_error(str(refusal))
        exit_with(EXIT_FAIL)
    if as_json:
        sys.stdout.write(orjson.dumps({"input": target, "filter_pattern": text, "compiled": True,
                                       "event_pattern": compiled.pattern, "rule_state": compiled.rule_state},
                                      option=orjson.OPT_INDENT_2).decode() + "\n")
        return
    sys.stdout.write(orjson.dumps(compiled.pattern, option=orjson.OPT_INDENT_2).decode() + "\n")
    sys.stdout.write(f"rule state: {compiled.rule_state}\n")
