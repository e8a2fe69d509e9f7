"""Run the project's Pulumi program offline under the SDK's mocks and record what it registers.

No Pulumi CLI, no plugins, no credentials: `__main__.py` runs in-process with
`pulumi.runtime.set_mocks`, config read from `Pulumi.yaml` + `Pulumi.<stack>.yaml` the way the
engine passes it (strings, JSON for objects), and a monitor that keeps each registration's
parent, dependencies and `protect` flag (the SDK's `MockResourceArgs` drops them). Callable any
number of times in one process: each run resets the runtime, config and the program's own
packages (the layout's `program_modules`; pulumi-notes 2.4/2.5).

In preview mode, outputs a provider would compute (ARNs, ids) are unknown, as in `pulumi preview`;
they appear as `UNKNOWN` in inputs and outputs.
"""

from __future__ import annotations

import hashlib
import runpy
import sys
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Mapping

import pulumi
from pulumi.output import Unknown
from pulumi.runtime.mocks import MockCallArgs, MockMonitor, MockResourceArgs, Mocks
from pulumi.runtime.settings import get_root_resource
from pulumi.runtime.sync_await import _sync_await

from trailguard.check.layout import ProjectLayout
from trailguard.config import NAMESPACE, encode_for_engine, read_project_settings

MOCK_ACCOUNT = "123456789012"
DEFAULT_REGION = "us-east-1"
UNKNOWN = "<computed>"
"""Stands for a value only known after apply (a preview's unknowns)."""

STACK_TYPE = "pulumi:pulumi:Stack"


@dataclass(frozen=True)
class MockedResource:
    """One registration as the engine would see it: inputs sent, outputs the mock returned."""

    urn: str
    type: str
    name: str
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    parent: str | None
    dependencies: list[str]
    property_dependencies: dict[str, list[str]]
    protect: bool
    provider: str | None
    custom: bool = True
    secret_inputs: tuple[str, ...] = ()  # input keys sent as secrets (their values are unwrapped)


@dataclass
class ProgramRun:
    """Everything one mocked run of the program registered and exported."""

    stack: str
    preview: bool
    resources: list[MockedResource] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    stack_urn: str | None = None
    error: BaseException | None = None

    def of_type(self, type_token: str) -> list[MockedResource]:
        return [r for r in self.resources if r.type == type_token]

    def get(self, urn: str) -> MockedResource:
        for resource in self.resources:
            if resource.urn == urn:
                return resource
        raise KeyError(urn)

    def children(self, urn: str | None) -> list[MockedResource]:
        return [r for r in self.resources if r.parent == urn]


def run_program(layout: ProjectLayout, stack: str, *, preview: bool = False,
                config_overrides: Mapping[str, Any] | None = None,
                raise_errors: bool = True) -> ProgramRun:
    """Run the program of `layout` (`project_dir/__main__.py`) for `stack` under mocks; raise
    what the program raised.

    `config_overrides` keys are `trailguard` keys (`"detections"`) or namespaced (`"aws:region"`);
    a value of None removes the key. With `raise_errors=False` a failed run is returned with
    `.error` set and whatever was registered before the failure.
    """
    layout = require_layout(layout)
    project_dir = Path(layout.project_dir).resolve()
    settings = read_project_settings(project_dir, stack)
    for key, value in (config_overrides or {}).items():
        full = key if ":" in key else f"{NAMESPACE}:{key}"
        if value is None:
            settings.pop(full, None)
        else:
            settings[full] = value
    region = str(settings.get("aws:region") or DEFAULT_REGION)
    return run_project(project_dir, stack, encode_for_engine(settings), preview=preview, region=region,
                       modules=layout.program_modules, raise_errors=raise_errors)


def require_layout(layout: Any) -> ProjectLayout:
    """`layout` itself; a TypeError naming the fix for a bare path (the pre-layout signature)."""
    if not isinstance(layout, ProjectLayout):
        raise TypeError(f"expected a ProjectLayout, got {type(layout).__name__} {layout!r}; for this "
                        "repository's layout pass ProjectLayout.for_repository(path)")
    return layout


def run_project(project_dir: Path, stack: str, config: Mapping[str, str], *, project: str = NAMESPACE,
                preview: bool = False, region: str = DEFAULT_REGION,
                modules: tuple[str, ...] = (), raise_errors: bool = True) -> ProgramRun:
    """Run any Pulumi Python project's `__main__.py` under these mocks with exactly `config`
    (`ns:key` -> engine string). `modules` are the project's own packages, dropped from
    `sys.modules` before and after so each run imports the directory it is pointed at."""
    project_dir = Path(project_dir).resolve()
    mocks = _ProgramMocks(region, preview)
    monitor = _RecordingMonitor(mocks)
    mocks.monitor = monitor
    run = ProgramRun(stack=stack, preview=preview)
    with _fresh_runtime(project_dir, project, stack, preview, monitor, dict(config), modules):
        program = pulumi.runtime.test(lambda: runpy.run_path(str(project_dir / "__main__.py"),
                                                             run_name="__main__"))
        try:
            program()
        except Exception as err:  # the program's own error (ConfigError, ...) is the result
            run.error = err
        root = get_root_resource()
        if run.error is None and root is not None:
            run.outputs = _sync_await(_resolve(dict(root.outputs)))
    run.resources = monitor.recorded()
    run.stack_urn = monitor.stack_urn
    if run.error is not None and raise_errors:
        raise run.error
    return run


# --- runtime isolation ----------------------------------------------------------------------


@contextmanager
def _fresh_runtime(project_dir: Path, project: str, stack: str, preview: bool, monitor: MockMonitor,
                   config: dict[str, str], modules: tuple[str, ...]) -> Iterator[None]:
    saved_path = list(sys.path)
    _forget_project_modules(modules)
    pulumi.runtime.reset_options(project=project, stack=stack, preview=preview)
    pulumi.runtime.set_mocks(monitor.mocks, project=project, stack=stack, preview=preview,
                             monitor=monitor)
    pulumi.runtime.set_all_config(config)
    sys.path.insert(0, str(project_dir))
    try:
        yield
    finally:
        sys.path[:] = saved_path
        _forget_project_modules(modules)
        pulumi.runtime.set_all_config({})
        pulumi.runtime.reset_options()


def _forget_project_modules(modules: tuple[str, ...]) -> None:
    """Drop the project's own packages so the next run imports the directory it is pointed at."""
    for module in [m for m in sys.modules if m in modules or m.split(".", 1)[0] in modules]:
        del sys.modules[module]


# --- mocks ----------------------------------------------------------------------------------


class _RecordingMonitor(MockMonitor):
    """MockMonitor that also keeps what the engine gets but `MockResourceArgs` lacks."""

    def __init__(self, mocks: Mocks) -> None:
        super().__init__(mocks)
        self._requests: dict[str, Any] = {}
        self.stack_urn: str | None = None

    def RegisterResource(self, request):  # noqa: N802 (gRPC method name)
        response = super().RegisterResource(request)
        if request.type == STACK_TYPE:
            self.stack_urn = response.urn
        else:
            self._requests[response.urn] = request
        return response

    def recorded(self) -> list[MockedResource]:
        resources = []
        for urn, request in self._requests.items():
            registration = self.resources.get(urn)
            inputs = _deserialize(request.object)
            resources.append(MockedResource(
                urn=urn,
                type=request.type,
                name=request.name,
                inputs=_plain(inputs),
                outputs=_plain(registration.state if registration else {}),
                parent=request.parent or None,
                dependencies=list(request.dependencies),
                property_dependencies={k: list(v.urns) for k, v in request.propertyDependencies.items()},
                protect=request.protect if request.HasField("protect") else False,
                provider=request.provider or None,
                custom=bool(request.custom),
                secret_inputs=tuple(key for key, value in inputs.items() if _is_secret(value)),
            ))
        # Registration order depends on when each Output resolved; sort so runs compare and print stably.
        return sorted(resources, key=lambda resource: resource.urn)

    def provider_region(self, provider_ref: str | None) -> str | None:
        """The `region` a provider resource passed through `opts` was configured with."""
        if not provider_ref:
            return None
        registration = self.resources.get(provider_ref.rsplit("::", 1)[0])
        return registration.state.get("region") if registration else None


class _ProgramMocks(Mocks):
    """Answers the program's invokes and fills in the outputs AWS would compute."""

    def __init__(self, region: str, preview: bool) -> None:
        self.region = region
        self.preview = preview
        self.monitor: _RecordingMonitor | None = None

    def call(self, args: MockCallArgs):
        region = (self.monitor and self.monitor.provider_region(args.provider)) or self.region
        if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {"accountId": MOCK_ACCOUNT, "arn": f"arn:aws:iam::{MOCK_ACCOUNT}:user/trailguard-check",
                    "userId": "AIDAMOCKTRAILGUARD", "id": MOCK_ACCOUNT}
        if args.token == "aws:index/getRegion:getRegion":
            return {"region": region, "name": region, "id": region,
                    "description": region, "endpoint": f"ec2.{region}.amazonaws.com"}
        if args.token == "aws:index/getPartition:getPartition":
            return {"partition": "aws", "dnsSuffix": "amazonaws.com", "id": "aws",
                    "reverseDnsPrefix": "com.amazonaws"}
        raise NotImplementedError(f"no offline answer for invoke {args.token}; add it to "
                                  "trailguard.check.harness._ProgramMocks.call")

    def new_resource(self, args: MockResourceArgs):
        state = dict(args.inputs)
        if not args.custom:
            return "", state
        if args.typ.startswith("pulumi:providers:"):
            return f"{args.name}-id", state
        region = (state.get("region") or (self.monitor and self.monitor.provider_region(args.provider))
                  or self.region)
        # Physical names are known in a preview too (the provider picks auto-names in Check);
        # ids and ARNs are not, so a preview leaves them unknown, as `pulumi preview` does.
        state.update(_physical_names(args.typ, args.name, state))
        if self.preview:
            return "", state
        state.update(_computed_arns(args.typ, args.name, state, str(region)))
        return f"{args.name}-id", state


_NAMED_TYPES = (
    "aws:cloudwatch/logGroup:LogGroup", "aws:iam/role:Role", "aws:sns/topic:Topic",
    "aws:cloudtrail/trail:Trail", "aws:cloudwatch/metricAlarm:MetricAlarm",
    "aws:cloudwatch/logMetricFilter:LogMetricFilter", "aws:iam/rolePolicy:RolePolicy",
)


def _suffix(logical_name: str) -> str:
    return hashlib.sha256(logical_name.encode()).hexdigest()[:7]


def _physical_names(type_token: str, logical_name: str, state: Mapping[str, Any]) -> dict[str, Any]:
    """The name a resource gets: the one given, or an auto-name `<logical>-<suffix>`."""
    if type_token == "aws:s3/bucket:Bucket":
        return {"bucket": state.get("bucket") or f"{logical_name}-{_suffix(logical_name)}".lower()}
    if type_token in _NAMED_TYPES:
        return {"name": state.get("name") or f"{logical_name}-{_suffix(logical_name)}"}
    return {}


def _computed_arns(type_token: str, logical_name: str, state: Mapping[str, Any],
                   region: str) -> dict[str, Any]:
    """Plausible provider-computed identifiers for the resource types the program creates."""
    account = MOCK_ACCOUNT
    name = state.get("name", logical_name)
    if type_token == "aws:s3/bucket:Bucket":
        return {"arn": f"arn:aws:s3:::{state['bucket']}"}
    if type_token == "aws:kms/key:Key":
        key_id = f"mock-{_suffix(logical_name)}"
        return {"keyId": key_id, "arn": f"arn:aws:kms:{region}:{account}:key/{key_id}"}
    arns = {
        "aws:cloudwatch/logGroup:LogGroup": f"arn:aws:logs:{region}:{account}:log-group:{name}",
        "aws:iam/role:Role": f"arn:aws:iam::{account}:role/{name}",
        "aws:sns/topic:Topic": f"arn:aws:sns:{region}:{account}:{name}",
        "aws:sns/topicSubscription:TopicSubscription":
            f"arn:aws:sns:{region}:{account}:{logical_name}:{_suffix(logical_name)}",
        "aws:cloudtrail/trail:Trail": f"arn:aws:cloudtrail:{region}:{account}:trail/{name}",
        "aws:cloudwatch/metricAlarm:MetricAlarm": f"arn:aws:cloudwatch:{region}:{account}:alarm:{name}",
        "aws:scheduler/schedule:Schedule":
            f"arn:aws:scheduler:{region}:{account}:schedule/{state.get('groupName') or 'default'}/{name}",
    }
    return {"arn": arns[type_token]} if type_token in arns else {}


# --- values ---------------------------------------------------------------------------------


def _deserialize(struct) -> dict[str, Any]:
    from pulumi.runtime import rpc

    return rpc.deserialize_properties(struct, keep_unknowns=True)


def _is_secret(value: Any) -> bool:
    from pulumi.runtime.rpc import _special_secret_sig, _special_sig_key

    return isinstance(value, Mapping) and value.get(_special_sig_key) == _special_secret_sig


def _plain(value: Any) -> Any:
    """Mock-side values as plain data: unknowns become `UNKNOWN`, secrets their value."""
    if isinstance(value, Unknown):
        return UNKNOWN
    if _is_secret(value):
        return _plain(value.get("value"))
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


async def _resolve(value: Any) -> Any:
    """Stack outputs (nested Outputs) as plain data, `UNKNOWN` where a preview cannot know them."""
    if isinstance(value, pulumi.Output):
        if not await value.is_known():
            return UNKNOWN
        return await _resolve(await value.future())
    if isinstance(value, Mapping):
        return {key: await _resolve(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [await _resolve(item) for item in value]
    return _plain(value)
