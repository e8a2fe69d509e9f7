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

# Each action the workflows use, pinned to the commit of one release: `uses:` must name that
# commit, with the release in a trailing comment (`owner/repo@<commit> # <release>`). The commit
# is what the release tag points to in the action's repository; `inputs` and `required` are that
# release's action.yml. A `with:` key outside `inputs` is a typo the runner would only warn
# about; `required` ones must be given. To move a pin, update the commit, the release and the
# inputs here and every `uses:` of the action (docs/ci.md).
ACTIONS: Mapping[str, Mapping[str, Any]] = {
    "actions/checkout": {
        "commit": "11d5960a326750d5838078e36cf38b85af677262", "release": "v4.4.0",
        "required": set(), "inputs": {
            "repository", "ref", "token", "ssh-key", "ssh-known-hosts", "ssh-strict", "ssh-user",
            "persist-credentials", "path", "clean", "filter", "sparse-checkout",
            "sparse-checkout-cone-mode", "fetch-depth", "fetch-tags", "show-progress", "lfs",
            "submodules", "set-safe-directory", "github-server-url",
            "allow-unsafe-pr-checkout"}},
    "actions/setup-python": {
        "commit": "a26af69be951a213d495a4c3e4e4022e16d87065", "release": "v5.6.0",
        "required": set(), "inputs": {
            "python-version", "python-version-file", "cache", "architecture", "check-latest",
            "token", "cache-dependency-path", "update-environment", "allow-prereleases",
            "freethreaded"}},
    "actions/cache": {
        "commit": "0057852bfaa89a56745cba8c7296529d2fc39830", "release": "v4.3.0",
        "required": {"path", "key"}, "inputs": {
            "path", "key", "restore-keys", "upload-chunk-size", "enableCrossOsArchive",
            "fail-on-cache-miss", "lookup-only", "save-always"}},
    "aws-actions/configure-aws-credentials": {
        "commit": "7474bc4690e29a8392af63c5b98e7449536d5c3a", "release": "v4.3.1",
        "required": {"aws-region"}, "inputs": {
            "aws-region", "role-to-assume", "aws-access-key-id", "aws-secret-access-key",
            "aws-session-token", "web-identity-token-file", "role-chaining", "audience",
            "http-proxy", "mask-aws-account-id", "role-duration-seconds", "role-external-id",
            "role-session-name", "role-skip-session-tagging", "inline-session-policy",
            "managed-session-policies", "output-credentials", "output-env-credentials",
            "unset-current-credentials", "disable-retry", "retry-max-attempts",
            "special-characters-workaround", "use-existing-credentials"}},
    "pulumi/auth-actions": {
        "commit": "1c89817aab0c66407723cdef72b05266e7376640", "release": "v1.0.1",
        "required": {"organization"}, "inputs": {
            "organization", "requested-token-type", "scope", "token-expiration",
            "export-environment-variables", "cloud-url"}},
    "pulumi/actions": {
        "commit": "8e5e406f4007fca908480587cb9893c07090f58d", "release": "v7.0.0",
        "required": set(), "inputs": {
            "command", "stack-name", "work-dir", "cloud-url", "comment-on-pr",
            "comment-on-pr-number", "comment-on-summary", "edit-pr-comment", "github-token",
            "secrets-provider", "parallel", "message", "config-map", "expect-no-changes", "diff",
            "replace", "target", "target-dependents", "exclude", "exclude-dependents",
            "exclude-protected", "policyPacks", "policyPackConfigs", "refresh", "upsert",
            "remove", "plan", "suppress-outputs", "suppress-progress", "always-include-summary",
            "continue-on-error", "log-verbosity", "log-flow", "debug", "pulumi-version",
            "pulumi-version-file", "color"}},
}
CONTEXTS = {"github", "env", "vars", "inputs", "steps", "runner", "needs", "secrets", "job",
            "matrix", "strategy"}
LONG_LIVED_KEY_INPUTS = {"aws-access-key-id", "aws-secret-access-key", "aws-session-token"}
_FULL_COMMIT = re.compile(r"[0-9a-f]{40}")
# A `uses:` line as written: the reference, then an optional trailing comment.
_USES_LINE = re.compile(r"^\s*(?:-\s+)?uses:\s*(?P<ref>[^\s#]+)\s*(?:#\s*(?P<comment>.*?))?\s*$")
_RELEASE = re.compile(r"v\d+\.\d+\.\d+")
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


def action_name(uses: str) -> str:
    """`owner/repo` of a `uses:` reference (what comes before `@`)."""
    return uses.partition("@")[0]


def _check_action(step: Mapping[str, Any], label: str) -> list[str]:
    uses = step["uses"]
    if uses.startswith("./"):
        return []
    name, _, ref = uses.partition("@")
    if name not in ACTIONS:
        return [f"{label}: {name} is not a known, pinned action ({', '.join(sorted(ACTIONS))})"]
    spec, given = ACTIONS[name], set(step.get("with") or {})
    problems = []
    if ref != spec["commit"]:
        problems.append(f"{label}: {uses} is not pinned to {spec['commit']} ({name} "
                        f"{spec['release']}, the release whose inputs are checked)")
    problems += [f"{label}: {name} has no input {key!r}" for key in sorted(given - spec["inputs"])]
    problems += [f"{label}: {name} needs input {key!r}" for key in sorted(spec["required"] - given)]
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
    """The steps of `job` that use `action` (`owner/repo`), at whatever reference."""
    return [s for s in job.get("steps", []) if action_name(s.get("uses", "")) == action]


def pulumi_steps(job: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return steps_using(job, "pulumi/actions")


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
    if not steps_using(job, "aws-actions/configure-aws-credentials"):
        problems.append(f"{label}: no AWS credentials from GitHub OIDC")
    if not steps_using(job, "pulumi/auth-actions"):
        problems.append(f"{label}: no Pulumi access token from GitHub OIDC")
    caches = [s["with"] for s in steps_using(job, "actions/cache")]
    if not any(c["path"] == "policies/venv" and "policies/requirements.txt" in c["key"]
               for c in caches):
        problems.append(f"{label}: the policy pack's virtualenv (policies/venv) is not cached "
                        "by its requirements")
    order = [action_name(s.get("uses", "")) for s in job["steps"]]
    pulumi_at = job["steps"].index(steps[0])
    for needed in ("aws-actions/configure-aws-credentials", "pulumi/auth-actions"):
        if needed in order and order.index(needed) > pulumi_at:
            problems.append(f"{label}: {needed} runs after the Pulumi step")
    return problems


def _remote_uses_lines(text: str) -> Iterator[tuple[int, re.Match[str]]]:
    for number, line in enumerate(text.splitlines(), start=1):
        match = _USES_LINE.match(line)
        if match and not match["ref"].startswith("./"):
            yield number, match


def written_remote_uses(text: str) -> list[str]:
    """The references of the `uses:` lines `check_pins` reads (other repositories only)."""
    return [match["ref"] for _, match in _remote_uses_lines(text)]


def check_pins(text: str, name: str) -> list[str]:
    """Every `uses:` of another repository, as written in the file, names a full commit and
    says in a trailing comment which release that commit is. A tag or branch can be moved to
    other code after review; a commit cannot, and the comment keeps the pin readable."""
    problems: list[str] = []
    for number, match in _remote_uses_lines(text):
        where, (action, _, ref) = f"{name}:{number}", match["ref"].partition("@")
        if not _FULL_COMMIT.fullmatch(ref):
            problems.append(f"{where}: {match['ref']} is not pinned to a full 40-hex commit")
        comment = match["comment"] or ""
        if not _RELEASE.fullmatch(comment):
            problems.append(f"{where}: {match['ref']} needs its release as the comment "
                            f"(`# vX.Y.Z`), found {comment or 'none'!r}")
        elif action in ACTIONS and comment != ACTIONS[action]["release"]:
            problems.append(f"{where}: comment {comment} but {action} is pinned to "
                            f"{ACTIONS[action]['release']}")
    return problems


def uses_references(workflow: Mapping[str, Any]) -> list[str]:
    """Every `uses:` of the parsed workflow, jobs and steps, to count against `check_pins`."""
    return [reference for job in workflow["jobs"].values()
            for reference in ([job["uses"]] if "uses" in job else
                              [s["uses"] for s in job.get("steps", []) if "uses" in s])]


def check_checkout_credentials(workflow: Mapping[str, Any], name: str) -> list[str]:
    """actions/checkout leaves the job's token in .git/config unless told not to, where any
    later step (and an uploaded workspace) can read it. Only a job that pushes with git later
    needs it kept."""
    problems: list[str] = []
    for job_id, job in workflow["jobs"].items():
        steps = job.get("steps", [])
        for index, step in enumerate(steps):
            if action_name(step.get("uses", "")) != "actions/checkout":
                continue
            pushes_later = any(re.search(r"\bgit\s+push\b", s.get("run", ""))
                               for s in steps[index + 1:])
            persists = (step.get("with") or {}).get("persist-credentials") is not False
            if persists and not pushes_later:
                problems.append(f"{name}: job {job_id} step {index}: actions/checkout without "
                                "persist-credentials: false, and no later step pushes with git")
    return problems
