"""Offline checks of GitHub Actions workflow files: structure, action inputs, expressions.

Each `check_*` returns a list of problems (empty when the workflow is right), so the tests can
both assert the shipped workflows are clean and that a broken copy is caught.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

from tests.delivery.iam_eval import ROOT

WORKFLOWS = ROOT / ".github" / "workflows"

# Inputs of each action at the pinned major version, from its action.yml (pulumi/actions v7 as
# listed in the reference notes, section 5.4). A `with:` key outside these is a typo the runner
# would only warn about; "required" ones must be given.
ACTIONS: Mapping[str, Mapping[str, Any]] = {
    "actions/checkout@v4": {"required": set(), "inputs": {
        "repository", "ref", "token", "ssh-key", "ssh-known-hosts", "ssh-strict", "ssh-user",
        "persist-credentials", "path", "clean", "filter", "sparse-checkout",
        "sparse-checkout-cone-mode", "fetch-depth", "fetch-tags", "show-progress", "lfs",
        "submodules", "set-safe-directory", "github-server-url"}},
    "actions/setup-python@v5": {"required": set(), "inputs": {
        "python-version", "python-version-file", "cache", "architecture", "check-latest", "token",
        "cache-dependency-path", "update-environment", "allow-prereleases", "freethreaded"}},
    "actions/cache@v4": {"required": {"path", "key"}, "inputs": {
        "path", "key", "restore-keys", "upload-chunk-size", "enableCrossOsArchive",
        "fail-on-cache-miss", "lookup-only", "save-always"}},
    "aws-actions/configure-aws-credentials@v4": {"required": {"aws-region"}, "inputs": {
        "aws-region", "role-to-assume", "aws-access-key-id", "aws-secret-access-key",
        "aws-session-token", "web-identity-token-file", "role-chaining", "audience",
        "http-proxy", "mask-aws-account-id", "role-duration-seconds", "role-external-id",
        "role-session-name", "role-skip-session-tagging", "inline-session-policy",
        "managed-session-policies", "output-credentials", "unset-current-credentials",
        "disable-retry", "retry-max-attempts", "special-characters-workaround",
        "use-existing-credentials"}},
    "pulumi/auth-actions@v1": {"required": {"organization"}, "inputs": {
        "organization", "requested-token-type", "scope", "token-expiration",
        "export-environment-variables", "cloud-url"}},
    "pulumi/actions@v7": {"required": set(), "inputs": {
        "command", "stack-name", "work-dir", "cloud-url", "comment-on-pr", "comment-on-pr-number",
        "comment-on-summary", "edit-pr-comment", "github-token", "secrets-provider", "parallel",
        "message", "config-map", "expect-no-changes", "diff", "replace", "target",
        "target-dependents", "exclude", "exclude-dependents", "exclude-protected", "policyPacks",
        "policyPackConfigs", "refresh", "upsert", "remove", "plan", "suppress-outputs",
        "suppress-progress", "always-include-summary", "continue-on-error", "log-verbosity",
        "log-flow", "debug", "pulumi-version", "pulumi-version-file"}},
}
CONTEXTS = {"github", "env", "vars", "inputs", "steps", "runner", "needs", "secrets", "job",
            "matrix", "strategy"}
LONG_LIVED_KEY_INPUTS = {"aws-access-key-id", "aws-secret-access-key", "aws-session-token"}
_EXPRESSION = re.compile(r"\$\{\{(.*?)\}\}")
_CONTEXT_REF = re.compile(r"(?<![\w.'-])([A-Za-z_][\w]*)((?:\.[\w-]+)*)")


def load(path: Path) -> dict[str, Any]:
    """A workflow as data. PyYAML reads the bare key `on` as True; give it its name back."""
    document = yaml.safe_load(path.read_text())
    if True in document:
        document["on"] = document.pop(True)
    return document


def workflow_files() -> list[Path]:
    return sorted(WORKFLOWS.glob("*.yml")) + sorted(WORKFLOWS.glob("*.yaml"))


def _expressions(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield from (m.group(1) for m in _EXPRESSION.finditer(node))
    elif isinstance(node, Mapping):
        for key, value in node.items():
            if key == "if" and isinstance(value, str) and "${{" not in value:
                yield value  # `if:` is an expression even without ${{ }}
            else:
                yield from _expressions(value)
    elif isinstance(node, list):
        for item in node:
            yield from _expressions(item)


def _strip_strings(expression: str) -> str:
    return re.sub(r"'(?:[^']|'')*'", "''", expression)


def check_workflow(workflow: Mapping[str, Any], name: str) -> list[str]:
    """Structure, action inputs and expression references of one workflow."""
    problems: list[str] = []
    if "on" not in workflow or not workflow.get("jobs"):
        return [f"{name}: needs `on:` and `jobs:`"]
    workflow_env = set(workflow.get("env") or {})
    call_inputs = set(((workflow["on"] or {}).get("workflow_call") or {}).get("inputs") or {}) \
        if isinstance(workflow["on"], Mapping) else set()
    jobs = workflow["jobs"]
    for job_id, job in jobs.items():
        where = f"{name}: job {job_id}"
        needs = job.get("needs", [])
        needs = [needs] if isinstance(needs, str) else needs
        for needed in needs:
            if needed not in jobs:
                problems.append(f"{where} needs unknown job {needed!r}")
        if "uses" in job:
            target = job["uses"]
            if target.startswith("./") and not (ROOT / target).is_file():
                problems.append(f"{where} calls missing workflow {target}")
            continue
        if "runs-on" not in job or not job.get("steps"):
            problems.append(f"{where} has no runs-on or no steps")
            continue
        job_env = workflow_env | set(job.get("env") or {})
        step_ids: set[str] = set()
        for index, step in enumerate(job["steps"]):
            label = f"{where} step {step.get('name') or step.get('uses') or index}"
            if ("uses" in step) == ("run" in step):
                problems.append(f"{label}: exactly one of uses/run")
            if "uses" in step:
                problems += _check_action(step, label)
            for expression in _expressions(step):
                step_env = job_env | set(step.get("env") or {})
                problems += _check_expression(expression, label, step_env, step_ids,
                                              call_inputs, set(needs))
            if "id" in step:
                step_ids.add(step["id"])
        for key in ("if", "environment", "runs-on"):
            for expression in _expressions({key: job.get(key)} if key in job else {}):
                problems += _check_expression(expression, f"{where} {key}", workflow_env, set(),
                                              call_inputs, set(needs))
    return problems


def _check_action(step: Mapping[str, Any], label: str) -> list[str]:
    uses = step["uses"]
    if uses.startswith("./"):
        return []
    if uses not in ACTIONS:
        return [f"{label}: {uses} is not a pinned, known action ({', '.join(sorted(ACTIONS))})"]
    spec, given = ACTIONS[uses], set(step.get("with") or {})
    problems = [f"{label}: {uses} has no input {key!r}" for key in sorted(given - spec["inputs"])]
    problems += [f"{label}: {uses} needs input {key!r}" for key in sorted(spec["required"] - given)]
    if given & LONG_LIVED_KEY_INPUTS:
        problems.append(f"{label}: long-lived AWS keys ({sorted(given & LONG_LIVED_KEY_INPUTS)}); "
                        "use role-to-assume with GitHub OIDC")
    return problems


def _check_expression(expression: str, label: str, env: set[str], step_ids: set[str],
                      call_inputs: set[str], needs: set[str]) -> list[str]:
    problems = []
    for match in _CONTEXT_REF.finditer(_strip_strings(expression)):
        context, path = match.group(1), match.group(2).split(".")[1:]
        if context in ("true", "false", "null", "success", "failure", "always", "cancelled",
                       "contains", "startsWith", "endsWith", "format", "join", "toJSON",
                       "fromJSON", "hashFiles"):
            continue
        if context not in CONTEXTS:
            problems.append(f"{label}: unknown context {context!r} in ${{{{{expression}}}}}")
        elif context == "env" and path and path[0] not in env:
            problems.append(f"{label}: env.{path[0]} is not defined")
        elif context == "steps" and path and path[0] not in step_ids:
            problems.append(f"{label}: steps.{path[0]} is not an earlier step id")
        elif context == "inputs" and path and path[0] not in call_inputs:
            problems.append(f"{label}: inputs.{path[0]} is not a workflow_call input")
        elif context == "needs" and path and path[0] not in needs:
            problems.append(f"{label}: needs.{path[0]} is not in the job's needs")
    return problems


def steps_using(job: Mapping[str, Any], action: str) -> list[Mapping[str, Any]]:
    return [s for s in job.get("steps", []) if s.get("uses") == action]


def pulumi_steps(job: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return steps_using(job, "pulumi/actions@v7")


def check_pulumi_job(job: Mapping[str, Any], label: str, command: str) -> list[str]:
    """A job that runs Pulumi against prod: OIDC credentials, the pack and its config, a pinned
    CLI, the pack's virtualenv cached."""
    problems: list[str] = []
    steps = [s for s in pulumi_steps(job) if (s.get("with") or {}).get("command") == command]
    if len(steps) != 1:
        return [f"{label}: expected one pulumi/actions step with command {command}"]
    inputs = steps[0]["with"]
    if not str(inputs.get("stack-name", "")).endswith("/prod"):
        problems.append(f"{label}: stack-name {inputs.get('stack-name')!r} is not <org>/prod")
    if inputs.get("policyPacks") != "policies":
        problems.append(f"{label}: policyPacks must be the local pack `policies`")
    if inputs.get("policyPackConfigs") != "policies/config/prod.json":
        problems.append(f"{label}: policyPackConfigs must be policies/config/prod.json")
    version = str(inputs.get("pulumi-version", ""))
    if not re.fullmatch(r"\d+\.\d+\.\d+|\$\{\{ env\.PULUMI_VERSION \}\}", version):
        problems.append(f"{label}: pulumi-version must pin an exact CLI version")
    permissions = job.get("permissions") or {}
    if permissions.get("id-token") != "write":
        problems.append(f"{label}: needs permissions id-token: write for GitHub OIDC")
    if not steps_using(job, "aws-actions/configure-aws-credentials@v4"):
        problems.append(f"{label}: no AWS credentials from GitHub OIDC")
    if not steps_using(job, "pulumi/auth-actions@v1"):
        problems.append(f"{label}: no Pulumi access token from GitHub OIDC")
    caches = [s["with"] for s in steps_using(job, "actions/cache@v4")]
    if not any(c["path"] == "policies/venv" and "policies/requirements.txt" in c["key"]
               for c in caches):
        problems.append(f"{label}: the policy pack's virtualenv (policies/venv) is not cached "
                        "by its requirements")
    order = [s.get("uses") for s in job["steps"]]
    pulumi_at = job["steps"].index(steps[0])
    for needed in ("aws-actions/configure-aws-credentials@v4", "pulumi/auth-actions@v1"):
        if needed in order and order.index(needed) > pulumi_at:
            problems.append(f"{label}: {needed} runs after the Pulumi step")
    return problems
