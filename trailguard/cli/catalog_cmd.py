"""`trailguard catalog [ID]`: browse the detection catalogue."""

from __future__ import annotations

import sys
from typing import TextIO

import click
import orjson

from trailguard.catalog import Catalog, CatalogError, load_catalog
from trailguard.catalog.render import (TABLE_HEADERS, detection_record, render_detection, render_plain_table,
                                       table_rows)
from trailguard.cli.errors import EXIT_ERROR, EXIT_FAIL, CommandError

SEVERITY_STYLES = {"critical": "bold red", "high": "red", "medium": "yellow", "low": "cyan"}


@click.command("catalog")
@click.argument("detection_id", required=False, metavar="[ID]")
@click.option("--json", "as_json", is_flag=True,
              help="Print JSON: an array with one record per detection, or the whole detection for ID.")
def command(detection_id: str | None, as_json: bool) -> None:
    """List the detections (id, title, severity, CIS and Security Hub controls, metric), or show
    detection ID whole: why it matters, the runbook, its patterns per profile, notes and samples.

    Exit status 2 for an unknown ID, 1 if the catalogue itself fails validation.
    """
    try:
        catalog = load_catalog()
    except CatalogError as error:
        raise CommandError(f"the detection catalogue is invalid: {error}", EXIT_FAIL) from None
    out = sys.stdout
    if detection_id is None:
        if as_json:
            records = [detection_record(catalog, d) for d in catalog.detections.values()]
            out.write(orjson.dumps(records, option=orjson.OPT_INDENT_2).decode() + "\n")
        elif _wants_rich(out):
            _print_rich_table(catalog, out)
        else:
            out.write(render_plain_table(catalog))
        return
    try:
        detection = catalog.get(detection_id)
    except CatalogError as error:
        raise CommandError(str(error), EXIT_ERROR) from None
    if as_json:
        out.write(orjson.dumps(detection_record(catalog, detection, full=True), option=orjson.OPT_INDENT_2).decode()
                  + "\n")
    else:
        out.write(render_detection(catalog, detection))


def _wants_rich(stream: TextIO) -> bool:
    """A terminal gets rich's table (colour unless NO_COLOR, which rich honours); pipes get plain text."""
    return stream.isatty()


def _print_rich_table(catalog: Catalog, stream: TextIO, *, force_terminal: bool | None = None,
                      width: int | None = None) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(box=None, header_style="bold", pad_edge=False)
    for header in TABLE_HEADERS:
        table.add_column(header, no_wrap=header in ("ID", "Severity", "Metric"))
    for row in table_rows(catalog):
        severity = row[2]
        table.add_row(row[0], row[1], f"[{SEVERITY_STYLES.get(severity, '')}]{severity}[/]", *row[3:])
    Console(file=stream, force_terminal=force_terminal, width=width, highlight=False).print(table)
