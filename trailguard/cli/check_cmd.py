"""`trailguard check --stack NAME`: validate a stack and run the Pulumi program offline under mocks.

No Pulumi CLI, plugins or credentials: reads `Pulumi.yaml` and `Pulumi.<stack>.yaml` (encrypted
`secure:` values become placeholders), validates, runs `__main__.py` under the SDK's mocks and
prints the resource tree, the detections, the heartbeat and real-time rules (which detections
have an EventBridge rule in which Regions) and the policy pack's violations with rich. Exit 1 on bad
config, listing every problem with its key and its line in the stack file; warnings (config that
has no effect, lint findings on custom patterns) are printed and do not change the exit status.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from trailguard.cli.console import stdout_console
from trailguard.cli.errors import EXIT_ERROR, EXIT_FAIL, CommandError, exit_with
from trailguard.config import ConfigError


@click.command("check")
@click.option("--stack", "-s", required=True, help="Stack name: reads Pulumi.<stack>.yaml.")
@click.option("--project-dir", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
              show_default=True, help="Directory holding Pulumi.yaml and __main__.py.")
@click.option("--preview", is_flag=True,
              help="Run as `pulumi preview` would: values AWS computes (ARNs, ids) stay unknown.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document instead of text.")
@click.option("--policy-config", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Policy-pack config (JSON, as for --policy-pack-config); default policies/config/<stack>.json.")
def command(stack: str, project_dir: Path, preview: bool, as_json: bool, policy_config: Path | None) -> None:
    """Check a stack offline: validate its config, show what `pulumi up` would create and run the
    policy pack on it (exit 1 on a mandatory violation)."""
    try:
        from trailguard.check.layout import ProjectLayout
        from trailguard.check.policy_pack import PolicyConfigError, check_policies, policy_report_data
        from trailguard.check.report import check_data, render_check, render_policy_report
        from trailguard.check.stack import check_stack
    except ImportError as err:
        raise CommandError(f"trailguard check runs the Pulumi program and needs the Pulumi SDK ({err}); "
                           "install it with: pip install 'trailguard[pulumi]'", EXIT_ERROR) from None

    layout = ProjectLayout.for_repository(project_dir)  # this repository's program modules and pack folder
    try:
        result = check_stack(layout, stack, preview=preview)
    except ConfigError as err:
        if as_json:
            errors = [{"key": key, "message": message, "location": err.locations.get(key)}
                      for key, message in err.errors]
            click.echo(json.dumps({"stack": stack, "valid": False, "error": errors[0], "errors": errors},
                                  indent=2))
        raise CommandError(str(err), EXIT_FAIL) from None
    try:  # the policy pack on the mocked resources, through the analyzer as the engine runs it
        policies = check_policies(result.run, layout, stack, policy_config)
    except PolicyConfigError as err:
        raise CommandError(str(err), EXIT_FAIL) from None
    if as_json:
        data = check_data(result)
        data["policies"] = policy_report_data(policies) if policies else None
        click.echo(json.dumps(data, indent=2))
    else:
        console = stdout_console()
        console.print(render_check(result))
        if policies:
            console.print()
            console.print(render_policy_report(policies, result.config))
    if policies and policies.has_mandatory:
        exit_with(EXIT_FAIL)
