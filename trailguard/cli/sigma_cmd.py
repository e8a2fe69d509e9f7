"""`trailguard sigma ...`: Sigma rules for CloudTrail as CloudWatch Logs filter patterns
(trailguard/sigma, docs/sigma.md). Needs the `sigma` extra (pySigma)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
import orjson

from trailguard.cli.errors import EXIT_ERROR, EXIT_FAIL, CommandError, exit_with
from trailguard.sigma.conversion import SigmaConversion


@click.group("sigma")
def command() -> None:
    """Sigma detection rules (https://sigmahq.io) for AWS CloudTrail, as filter patterns: convert
    (and --verify against the rule itself), add to a stack."""


@command.command("convert")
@click.argument("paths", metavar="RULE.yml|DIR...", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True,
              help="Print a JSON array: one object per rule with verdict, pattern, caveats, refusal, "
                   "attribution and the rule's metadata.")
@click.option("--verify", "verify_sources", metavar="FILE", multiple=True,
              help="CloudTrail events (a file, directory or glob; repeat for more) to run each converted "
                   "pattern and the rule itself (pySigma's SQLite backend) on, event by event.")
def convert(paths: tuple[Path, ...], as_json: bool, verify_sources: tuple[str, ...]) -> None:
    """Convert Sigma rules (files, or directories searched for *.yml/*.yaml) with logsource
    'product: aws, service: cloudtrail' to JSON filter patterns. Each rule gets a verdict: exact,
    caveats (each named, per field: how the pattern's matches can differ) or refused (with the
    reason). Every message based on a rule's matches must keep its author (Detection Rule
    License 1.1): the attribution line says it.

    With --verify FILE, each converted pattern runs on trailguard's engine and the rule itself on
    an independent oracle (pySigma's SQLite backend, docs/sigma.md "Proof") over those events, read
    as `trailguard test` reads them; each rule gets its agreement, and every event where the two
    differ is listed unless a caveat the conversion states explains it.

    Exit status 0 when every rule converts (exact or with caveats), 1 when some rule is refused,
    or with --verify when some disagreement is not explained by a stated caveat or some input
    could not be read, 2 for a file that cannot be read or is not a Sigma rule.
    """
    from trailguard.sigma.convert import SigmaInputError, convert_paths

    try:
        if verify_sources:
            from trailguard.sigma.verify import rules_and_conversions

            pairs = rules_and_conversions(list(paths))
            conversions = [conversion for _, conversion in pairs]
        else:
            conversions = convert_paths(list(paths))
    except SigmaInputError as error:
        raise CommandError(str(error), EXIT_ERROR) from None
    agreements: dict[int, Any] = {}
    failed = False
    if verify_sources:
        agreements, failed = _verify(pairs, verify_sources)
    if as_json:
        records = []
        for index, conversion in enumerate(conversions):
            record = conversion.to_json()
            if verify_sources:
                record["verification"] = _agreement_json(agreements.get(index))
            records.append(record)
        sys.stdout.write(orjson.dumps(records, option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        sys.stdout.write("\n".join(format_conversion(c) + (format_agreement(agreements.get(i)) if verify_sources else "")
                                   for i, c in enumerate(conversions)))
        refused = sum(c.verdict == "refused" for c in conversions)
        sys.stdout.write(f"\n{len(conversions)} rule(s): {sum(c.verdict == 'exact' for c in conversions)} exact, "
                         f"{sum(c.verdict == 'caveats' for c in conversions)} with caveats, {refused} refused\n")
    if any(c.verdict == "refused" for c in conversions) or failed:
        exit_with(EXIT_FAIL)


MAX_SHOWN = 5
"""Unexplained disagreements listed per rule in text output (--json lists them all)."""


def _verify(pairs: list[tuple[Any, SigmaConversion]], sources: tuple[str, ...]) -> tuple[dict[int, Any], bool]:
    """Each converted rule's agreement with the oracle on the events of `sources`, by position;
    and whether anything failed (an unexplained disagreement, an unreadable input)."""
    from trailguard.cli.errors import print_error
    from trailguard.sigma.oracle import OracleError
    from trailguard.sigma.verify import read_events, verify

    read = read_events(list(sources))
    for problem in read.problems:
        print_error(problem)
    for skip in read.skipped:
        click.echo(f"skipped: {skip}", err=True)
    click.echo(f"verifying on {len(read.events)} events", err=True)
    agreements: dict[int, Any] = {}
    failed = bool(read.problems)
    for index, (rule, conversion) in enumerate(pairs):
        if conversion.pattern is None:
            continue
        try:
            agreements[index] = verify(conversion, rule, read.events, read.names)
        except OracleError as error:
            agreements[index] = str(error)
            failed = True
            continue
        failed = failed or not agreements[index].ok
    return agreements, failed


def format_agreement(agreement: Any) -> str:
    """The `--verify` lines under a rule (empty for a refused rule)."""
    if agreement is None:
        return ""
    if isinstance(agreement, str):
        return f"  verify: not verified: {agreement}\n"
    explained = [d for d in agreement.disagreements if d.explained_by]
    lines = [f"  verify: {agreement.agreed} of {agreement.events} events agree"
             + (f"; {len(explained)} differ as stated ({_by_caveat(explained)})" if explained else "")
             + (f"; {len(agreement.unexplained)} UNEXPLAINED" if agreement.unexplained else "")]
    for disagreement in agreement.unexplained[:MAX_SHOWN]:
        lines.append(f"    {disagreement.name}: {disagreement.side} ({_event_line(disagreement.event)})")
    if len(agreement.unexplained) > MAX_SHOWN:
        lines.append(f"    ... {len(agreement.unexplained) - MAX_SHOWN} more (--json lists them all)")
    return "\n".join(lines) + "\n"


def _by_caveat(disagreements: list[Any]) -> str:
    from collections import Counter

    counts = Counter(f"{d.explained_by[0].kind} {d.explained_by[0].field}" for d in disagreements)
    return ", ".join(f"{what}: {count}" for what, count in counts.items())


def _event_line(event: Any) -> str:
    from trailguard.cloudtrail import summarize

    summary = summarize(event)
    return f"{summary.time} {summary.source} {summary.name} by {summary.who}"


def _agreement_json(agreement: Any) -> dict[str, Any] | None:
    if agreement is None:
        return None
    if isinstance(agreement, str):
        return {"error": agreement}
    return {
        "events": agreement.events, "agreed": agreement.agreed, "ok": agreement.ok,
        "disagreements": [{"event": d.name, "patternMatched": d.pattern_matched, "ruleMatched": d.oracle_matched,
                           "cause": d.cause or None,
                           "explainedBy": [{"field": c.field, "kind": c.kind} for c in d.explained_by]}
                          for d in agreement.disagreements],
    }


@command.command("add")
@click.argument("paths", metavar="RULE.yml|DIR...", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--stack", required=True, metavar="NAME", help="Add to Pulumi.NAME.yaml.")
@click.option("--project-dir", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
              show_default=True, help="Where Pulumi.yaml and the stack files are.")
def add(paths: tuple[Path, ...], stack: str, project_dir: Path) -> None:
    """Convert Sigma rules and add them to a stack as customDetections (docs/sigma.md, "Adding
    Sigma rules to a stack").

    Each rule converted exact or with caveats becomes a custom detection: id and metric from its
    title, severity from its level, runbook from its description and false positives, samples
    generated from the rule on which the pattern and the rule provably agree, and `source` (rule
    id, author, link), which the alarm description carries as the Detection Rule License asks.
    An entry already there for the same rule is replaced in place (left alone when identical), so
    adding twice changes nothing. Only the customDetections block of the file changes; the file is
    validated as `trailguard check` validates it and written only if valid.

    Exit status 0 when every rule was added (or was already there), 1 when some rule is refused
    (the others are still added) or the stack file would be invalid (nothing is written), 2 for
    a rule file that cannot be read or is not a Sigma rule.
    """
    from trailguard.catalog import load_catalog
    from trailguard.config import ConfigError
    from trailguard.sigma.convert import SigmaInputError
    from trailguard.sigma.stackfile import StackFileError, add_to_stack, detection_entry
    from trailguard.sigma.verify import rules_and_conversions

    try:
        pairs = rules_and_conversions(list(paths))
    except SigmaInputError as error:
        raise CommandError(str(error), EXIT_ERROR) from None
    catalog_ids = list(load_catalog().detections)
    entries, attributions, failed = [], {}, False
    for rule, conversion in pairs:
        where = f"{conversion.source}: {conversion.title}"
        if conversion.verdict == "refused":
            click.echo(f"not added: {where}: refused: {conversion.refusal}", err=True)
            failed = True
            continue
        try:
            entry = detection_entry(conversion, rule, [*catalog_ids, *(e["id"] for e in entries)])
        except StackFileError as error:
            click.echo(f"not added: {where}: {error}", err=True)
            failed = True
            continue
        entries.append(entry)
        attributions[entry["id"]] = conversion
    if entries:
        try:
            edit = add_to_stack(project_dir, stack, entries)
        except (StackFileError, ConfigError) as error:
            raise CommandError(f"Pulumi.{stack}.yaml not changed: {error}", EXIT_FAIL) from None
        for verb, ids in (("added", edit.added), ("replaced", edit.replaced), ("unchanged", edit.unchanged)):
            for detection_id in ids:
                conversion = attributions[detection_id]
                caveats = f" [{len(conversion.caveats)} caveat(s): " + ", ".join(
                    f"{c.kind} {c.field}" for c in conversion.caveats) + "]" if conversion.caveats else ""
                sys.stdout.write(f"{verb}: {detection_id} ({conversion.verdict}{caveats}): {conversion.attribution}"
                                 f", {conversion.link}\n")
        sys.stdout.write(f"Pulumi.{stack}.yaml: {len(edit.added)} added, {len(edit.replaced)} replaced, "
                         f"{len(edit.unchanged)} unchanged" + ("" if edit.changed else " (file not written)") + "\n")
    if failed:
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
