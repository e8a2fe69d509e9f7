"""Fake engine args for the policies: props wrapped in pulumi-policy's unknown-checking proxy, so
an unguarded read of an unknown value fails the test exactly as it would fail a preview."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from pulumi_policy import (
    Policy,
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    StackValidationArgs,
)
from pulumi_policy.proxy import UnknownValueError, unknown_checking_proxy

PROJECT = "trailguard"
STACK = "prod"


def urn(type_token: str, name: str) -> str:
    return f"urn:pulumi:{STACK}::{PROJECT}::{type_token}::{name}"


def options(protect: bool = False) -> PolicyResourceOptions:
    return PolicyResourceOptions(protect, [], None, [], PolicyCustomTimeouts(0, 0, 0), [])


def run_resource_policy(policy: Policy, type_token: str, props: Mapping[str, Any], *, name: str = "r",
                        config: Mapping[str, Any] | None = None, protect: bool = False) -> list[str]:
    """The messages `policy` reports for one resource."""
    reported: list[str] = []
    args = ResourceValidationArgs(type_token, unknown_checking_proxy(dict(props)), urn(type_token, name), name,
                                  options(protect), None, dict(config) if config is not None else None)
    policy.validate(args, lambda message, urn=None: reported.append(message))
    return reported


@dataclass
class Res:
    """A resource of a fake stack; dependencies name other resources of the same stack."""

    type: str
    name: str
    props: dict[str, Any]
    property_dependencies: dict[str, list[str]] = field(default_factory=dict)
    parent: str | None = None
    protect: bool = False


def build_stack(resources: list[Res]) -> list[PolicyResource]:
    """PolicyResources as the servicer builds them: parents and dependencies resolved to objects."""
    built = {
        r.name: PolicyResource(r.type, unknown_checking_proxy(dict(r.props)), urn(r.type, r.name), r.name,
                               options(r.protect), None, None, [], {})
        for r in resources
    }
    for r in resources:
        resource = built[r.name]
        resource.parent = built[r.parent] if r.parent else None
        for prop, names in r.property_dependencies.items():
            resource.property_dependencies[prop] = [built[n] for n in names]
            resource.dependencies.extend(built[n] for n in names if built[n] not in resource.dependencies)
    return list(built.values())


def run_stack_policy(policy: Policy, resources: list[Res], config: Mapping[str, Any] | None = None) -> list[tuple[str, str | None]]:
    """The (message, urn) pairs `policy` reports for a stack of `resources`."""
    reported: list[tuple[str, str | None]] = []
    args = StackValidationArgs(build_stack(resources), dict(config) if config is not None else None)
    policy.validate(args, lambda message, urn=None: reported.append((message, urn)))
    return reported


def run_stack_policy_in_preview(policy: Policy, resources: list[Res], config: Mapping[str, Any] | None = None) -> tuple[list[str], str | None]:
    """The messages reported, and the message of the UnknownValueError the policy ended with, if any:
    the servicer keeps the first at their level and turns the second into an advisory diagnostic."""
    reported: list[str] = []
    args = StackValidationArgs(build_stack(resources), dict(config) if config is not None else None)
    try:
        policy.validate(args, lambda message, urn=None: reported.append(message))
    except UnknownValueError as error:
        return reported, error.message
    return reported, None
