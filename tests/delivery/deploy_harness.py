"""Run deploy/ (the Pulumi Cloud delivery settings program) under the SDK's mocks."""

from __future__ import annotations

import importlib.util
import runpy
import sys
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import pulumi
from pulumi.runtime import rpc
from pulumi.runtime.mocks import MockMonitor, Mocks

from tests.delivery.iam_eval import ROOT

DEPLOY_DIR = ROOT / "deploy"
PROJECT = "trailguard-deploy"
PROGRAM_MODULES = ("delivery_settings", "pulumi_cloud")


def load_module(stem: str) -> ModuleType:
    """A pure module of deploy/ (no Pulumi import) under a name of its own, for direct tests."""
    name = f"trailguard_deploy_{stem}"
    spec = importlib.util.spec_from_file_location(name, DEPLOY_DIR / f"{stem}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses resolve annotations through sys.modules
    spec.loader.exec_module(module)
    return module


def load_delivery_settings() -> ModuleType:
    return load_module("delivery_settings")


@dataclass(frozen=True)
class Registered:
    urn: str
    type: str
    name: str
    inputs: dict[str, Any]
    parent: str
    dependencies: list[str]


class _Mocks(Mocks):
    def new_resource(self, args):
        return (f"{args.name}-id" if args.custom else ""), dict(args.inputs)

    def call(self, args):
        raise NotImplementedError(f"deploy/ makes no invokes, got {args.token}")


class _RecordingMonitor(MockMonitor):
    """Keeps parent and dependencies, which `MockResourceArgs` does not carry."""

    def __init__(self) -> None:
        super().__init__(_Mocks())
        self.registered: list[Registered] = []

    def RegisterResource(self, request):  # noqa: N802 (gRPC method name)
        response = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            self.registered.append(Registered(
                urn=response.urn, type=request.type, name=request.name,
                inputs=rpc.deserialize_properties(request.object), parent=request.parent,
                dependencies=list(request.dependencies)))
        return response


def run_deploy_program(config: dict[str, str], *, stack: str = "ops", preview: bool = False,
                       raise_errors: bool = True) -> tuple[list[Registered], BaseException | None]:
    """What the program registered and the error it raised (re-raised unless `raise_errors`
    is False); config keys without the `trailguard-deploy:` namespace."""
    monitor = _RecordingMonitor()
    for module in PROGRAM_MODULES:
        sys.modules.pop(module, None)
    pulumi.runtime.reset_options(project=PROJECT, stack=stack, preview=preview)
    pulumi.runtime.set_mocks(monitor.mocks, project=PROJECT, stack=stack, preview=preview,
                             monitor=monitor)
    pulumi.runtime.set_all_config({f"{PROJECT}:{key}": value for key, value in config.items()})
    error: BaseException | None = None
    try:
        pulumi.runtime.test(lambda: runpy.run_path(str(DEPLOY_DIR), run_name="__main__"))()
    except Exception as exc:  # the program's own error is the result
        error = exc
    finally:
        pulumi.runtime.set_all_config({})
        pulumi.runtime.reset_options()
        for module in PROGRAM_MODULES:
            sys.modules.pop(module, None)
    if error is not None and raise_errors:
        raise error
    return monitor.registered, error
