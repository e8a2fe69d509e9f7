"""Run deploy/ (the Pulumi Cloud delivery settings program) under the SDK's mocks."""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType

from tests.delivery.iam_eval import ROOT
from trailguard.check.harness import MockedResource, run_project

DEPLOY_DIR = ROOT / "deploy"
PROJECT = "trailguard-deploy"
PROGRAM_MODULES = ("delivery_settings", "drift_detection", "pulumi_cloud")


def load_module(stem: str) -> ModuleType:
    """A pure module of deploy/ (no Pulumi import) under a name of its own, for direct tests."""
    name = f"trailguard_deploy_{stem}"
    spec = importlib.util.spec_from_file_location(name, DEPLOY_DIR / f"{stem}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses resolve annotations through sys.modules
    sys.path.insert(0, str(DEPLOY_DIR))  # its sibling imports (delivery_settings -> drift_detection)
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(DEPLOY_DIR))
    return module


def load_delivery_settings() -> ModuleType:
    return load_module("delivery_settings")


def run_deploy_program(config: dict[str, str], *, stack: str = "ops", preview: bool = False,
                       raise_errors: bool = True) -> tuple[list[MockedResource], BaseException | None]:
    """What the program registered and the error it raised (re-raised unless `raise_errors`
    is False); config keys without the `trailguard-deploy:` namespace. Runs under the same
    mocks as the main program (`trailguard.check.harness.run_project`)."""
    run = run_project(DEPLOY_DIR, stack, {f"{PROJECT}:{key}": value for key, value in config.items()},
                      project=PROJECT, preview=preview, modules=PROGRAM_MODULES, raise_errors=raise_errors)
    return run.resources, run.error
