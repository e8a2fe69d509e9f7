"""Render the deploying and previewing roles' IAM policies from iam/resource-actions.yaml.

    python iam/render_policies.py                    # rewrite both JSON files (placeholder account)
    python iam/render_policies.py --account 111122223333 --out-dir /tmp/policies
    python iam/render_policies.py --check            # exit 1 if the shipped files are stale

Statements are grouped by the ARN pattern they are scoped to. An action goes to the one
`Resource: "*"` statement only when the Service Authorization Reference (the extract in
iam/service-authorization.json) lists no resource type for it, i.e. IAM cannot scope it.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
TABLE = HERE / "resource-actions.yaml"
SERVICE_AUTHORIZATION = HERE / "service-authorization.json"
DEPLOYER_POLICY = HERE / "deployer-policy.json"
PREVIEWER_POLICY = HERE / "previewer-policy.json"
PHASES = ("create", "read", "update", "delete")
_ACCOUNT = re.compile(r"^\d{12}$")

Policy = dict[str, Any]


class PolicyTableError(ValueError):
    """iam/resource-actions.yaml names something the renderer cannot turn into a policy."""


def load_table(path: Path = TABLE) -> dict[str, Any]:
    return yaml.safe_load(path.read_text())


def load_service_authorization(path: Path = SERVICE_AUTHORIZATION) -> dict[str, Any]:
    return json.loads(path.read_text())["actions"]


def _sid(text: str) -> str:
    return "".join(part.capitalize() for part in re.split(r"[^A-Za-z0-9]+", text) if part)


def _type_sid(type_token: str) -> str:
    """`aws:cloudtrail/trail:Trail` -> `CloudtrailTrail`."""
    module, type_name = type_token.split(":")[1].split("/")[0], type_token.split(":")[2]
    return _sid(module) + type_name


def _scoped_statements(grants: Mapping[str, set[str]], owners: Mapping[str, str]) -> list[Policy]:
    """One statement per ARN pattern, named after the first resource type scoped to it."""
    return [{
        "Sid": _type_sid(owners[scope]),
        "Effect": "Allow",
        "Action": sorted(grants[scope], key=str.lower),
        "Resource": scope,
    } for scope in grants]


def render_policy(table: Mapping[str, Any], sar: Mapping[str, Any], phases: Iterable[str],
                  *, account: str | None = None) -> Policy:
    """One policy document granting the table's actions of `phases` for every resource type."""
    account = account or table["account"]
    if not _ACCOUNT.match(account):
        raise PolicyTableError(f"account {account!r} is not a 12-digit AWS account id")
    phases = tuple(phases)
    provider_calls = table.get("provider", {}).get("read", [])
    unscoped: set[str] = set(provider_calls) if "read" in phases else set()
    scoped: dict[str, set[str]] = {}
    owners: dict[str, str] = {}  # scope -> first type token using it, for the statement's Sid
    passes: dict[tuple[str, str], None] = {}
    for type_token, spec in table["types"].items():
        scope = spec["scope"].format(account=account)
        owners.setdefault(scope, type_token)
        for phase in phases:
            for action in spec.get(phase, []):
                if action not in sar:
                    raise PolicyTableError(
                        f"{type_token}: {action} is not in iam/service-authorization.json; add it "
                        "from the Service Authorization Reference (or fix the name)")
                (unscoped.add(action) if not sar[action]["resource_arns"]
                 else scoped.setdefault(scope, set()).add(action))
        if spec.get("passes_role_to") and "create" in phases:
            role_scope = table["types"]["aws:iam/role:Role"]["scope"].format(account=account)
            passes[(role_scope, spec["passes_role_to"])] = None

    statements = _scoped_statements(scoped, owners)
    for role_scope, service in passes:
        statements.append({
            "Sid": _sid(f"pass delivery role to {service.split('.')[0]}"),
            "Effect": "Allow",
            "Action": "iam:PassRole",
            "Resource": role_scope,
            "Condition": {"StringEquals": {"iam:PassedToService": service}},
        })
    if unscoped:
        statements.append({
            "Sid": "CallsWithoutResourceLevelPermissions",
            "Effect": "Allow",
            "Action": sorted(unscoped, key=str.lower),
            "Resource": "*",
        })
    return {"Version": "2012-10-17", "Statement": statements}


def render_deployer_policy(table: Mapping[str, Any], sar: Mapping[str, Any],
                           account: str | None = None) -> Policy:
    """What `pulumi up` needs: every phase, nothing withheld."""
    return render_policy(table, sar, PHASES, account=account)


def render_previewer_policy(table: Mapping[str, Any], sar: Mapping[str, Any],
                            account: str | None = None) -> Policy:
    """What `pulumi preview` (and `--refresh`) needs: read calls only."""
    return render_policy(table, sar, ("read",), account=account)


def dump(policy: Policy) -> str:
    return json.dumps(policy, indent=2) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--account",
                        help="12-digit AWS account id (default: the table's placeholder)")
    parser.add_argument("--out-dir", type=Path, default=HERE)
    parser.add_argument("--check", action="store_true", help="fail if the shipped files are stale")
    args = parser.parse_args(argv)
    table, sar = load_table(), load_service_authorization()
    rendered = {
        args.out_dir / DEPLOYER_POLICY.name:
            dump(render_deployer_policy(table, sar, args.account)),
        args.out_dir / PREVIEWER_POLICY.name:
            dump(render_previewer_policy(table, sar, args.account)),
    }
    if args.check:
        stale = [str(p) for p, text in rendered.items() if not p.exists() or p.read_text() != text]
        if stale:
            print("stale, run `python iam/render_policies.py`: " + ", ".join(stale),
                  file=sys.stderr)
            return 1
        return 0
    for path, text in rendered.items():
        path.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
