"""`trailguard check --stack NAME`: validate a stack and run the Pulumi program offline under mocks.

No Pulumi CLI, plugins or credentials: reads `Pulumi.yaml` and `Pulumi.<stack>.yaml` (encrypted
`secure:` values become placeholders), validates, runs `__main__.py` under the SDK's mocks and
prints the resource tree and the detections. Exit 1 with the message naming the key on bad config.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from trailguard.cli import EXIT_ERROR, EXIT_FAIL
from trailguard.config import ConfigError


@click.command("check")
@click.option("--stack", "-s", required=True, help="Stack name: reads Pulumi.<stack>.yaml.")
@click.option("--project-dir", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
              show_default=True, help="Directory holding Pulumi.yaml and __main__.py.")
@click.option("--preview", is_flag=True,
              help="Run as `pulumi preview` would: values AWS computes (ARNs, ids) stay unknown.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document instead of text.")
@click.pass_context
def command(ctx: click.Context, stack: str, project_dir: Path, preview: bool, as_json: bool) -> None:
    """Check a stack offline: validate its config and show what `pulumi up` would create."""
    try:
        from trailguard.check.report import check_data, format_check
        from trailguard.check.stack import check_stack
    except ImportError as err:
        click.echo(f"error: trailguard check runs the Pulumi program and needs the Pulumi SDK ({err}); "
                   "install it with: pip install 'trailguard[pulumi]'", err=True)
        ctx.exit(EXIT_ERROR)

    try:
        result = check_stack(project_dir, stack, preview=preview)
    except ConfigError as err:
        if as_json:
            click.echo(json.dumps({"stack": stack, "valid": False,
                                   "error": {"key": err.key, "message": err.message}}, indent=2))
        click.echo(f"error: {err}", err=True)
        ctx.exit(EXIT_FAIL)
    if as_json:
        click.echo(json.dumps(check_data(result), indent=2))
    else:
        click.echo(format_check(result), nl=False)
