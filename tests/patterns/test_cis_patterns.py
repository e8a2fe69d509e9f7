"""Every CIS and Security Hub pattern of the reference: parses, round-trips, and does what it says on
hand-written CloudTrail events, including the precedence traps the catalogue must avoid."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from trailguard.patterns import PatternSyntaxError, compile_pattern, parse, render

from .cloudtrail import console_login, event

DATA = json.loads((Path(__file__).parents[1] / "fixtures" / "patterns" / "cis-patterns.json").read_text())
PATTERNS = DATA["patterns"]
assert len(PATTERNS) >= 28


@pytest.mark.parametrize("entry", PATTERNS, ids=lambda e: e["name"])
def test_parses_and_round_trips(entry: dict) -> None:
    tree = parse(entry["text"])
    assert parse(render(tree)) == tree
    again = compile_pattern(render(tree))
    assert again.fields == compile_pattern(entry["text"]).fields


@pytest.mark.parametrize("entry", [e for e in PATTERNS if e["kind"] in ("names", "sourced")], ids=lambda e: e["name"])
def test_event_name_lists(entry: dict) -> None:
    pattern = compile_pattern(entry["text"])
    source = entry.get("source", "ec2.amazonaws.com")
    for name in entry["names"]:
        assert pattern.matches(event(name, source)), name
    for name in entry["not"]:
        assert not pattern.matches(event(name, source)), name
    if entry["kind"] == "sourced":
        # the same event name from another service is a near miss
        assert not pattern.matches(event(entry["names"][0], "iam.amazonaws.com"))


@pytest.mark.parametrize("entry", [e for e in PATTERNS if e["kind"] == "root"], ids=lambda e: e["name"])
def test_root_usage(entry: dict) -> None:
    pattern = compile_pattern(entry["text"])
    assert pattern.matches(event("RunInstances", identity="Root"))
    assert pattern.matches(console_login(identity="Root", mfa="Yes"))
    service = event("RunInstances", identity="Root")
    service["userIdentity"]["invokedBy"] = "support.amazonaws.com"
    assert not pattern.matches(service)
    assert not pattern.matches(event("RunInstances", identity="Root", eventType="AwsServiceEvent"))
    assert not pattern.matches(event("RunInstances"))


@pytest.mark.parametrize("entry", [e for e in PATTERNS if e["kind"] == "auth"], ids=lambda e: e["name"])
def test_console_auth_failures(entry: dict) -> None:
    pattern = compile_pattern(entry["text"])
    assert pattern.matches(console_login(success=False))
    assert not pattern.matches(console_login(success=True))
    assert not pattern.matches(event("RunInstances", errorMessage="Failed authentication"))


@pytest.mark.parametrize("entry", [e for e in PATTERNS if e["kind"] == "nomfa"], ids=lambda e: e["name"])
def test_console_signin_without_mfa(entry: dict) -> None:
    pattern = compile_pattern(entry["text"])
    assert pattern.matches(console_login(mfa="No"))
    assert not pattern.matches(console_login(mfa="Yes"))
    # AWS's own documentation example writes "YES": case-sensitive, so it counts as no MFA (A27)
    assert pattern.matches(console_login(mfa="YES"))
    sso = console_login(mfa="No", identity="AssumedRole")  # an IAM Identity Center login
    assert pattern.matches(sso) is (not entry["sso_aware"])
    failed = console_login(mfa="No", success=False)
    assert pattern.matches(failed) is (not entry["sso_aware"])


@pytest.mark.parametrize("entry", [e for e in PATTERNS if e["kind"] == "unauth"], ids=lambda e: e["name"])
def test_unauthorized_api_calls(entry: dict) -> None:
    pattern = compile_pattern(entry["text"])
    assert pattern.matches(event("RunInstances", errorCode="Client.UnauthorizedOperation"))
    assert pattern.matches(event("GetObject", "s3.amazonaws.com", errorCode="AccessDenied"))
    assert pattern.matches(event("ListUsers", "iam.amazonaws.com", errorCode="AccessDeniedException"))
    assert not pattern.matches(event("RunInstances"))
    assert not pattern.matches(event("RunInstances", errorCode="ThrottlingException"))


# ---------------------------------------------------------------- the precedence traps


CIS_13_UNAUTHORIZED = ('{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") || '
                       '($.sourceIPAddress!="delivery.logs.amazonaws.com") || ($.eventName!="HeadBucket") }')
CIS_20_UNAUTHORIZED = ('{ ($.errorCode ="*UnauthorizedOperation") || ($.errorCode ="AccessDenied*") && '
                       '($.sourceIPAddress!="delivery.logs.amazonaws.com") && ($.eventName!="HeadBucket") }')
INTENDED_UNAUTHORIZED = ('{ (($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*")) && '
                         '($.sourceIPAddress != "delivery.logs.amazonaws.com") && ($.eventName != "HeadBucket") }')


def test_cis_13_unauthorized_pattern_fires_on_almost_every_event() -> None:
    pattern = compile_pattern(CIS_13_UNAUTHORIZED)
    assert pattern.matches(event("DescribeInstances"))  # a successful, ordinary call
    assert pattern.matches(event("RunInstances"))


def test_cis_20_exclusions_apply_only_to_access_denied() -> None:
    pattern = compile_pattern(CIS_20_UNAUTHORIZED)
    assert not pattern.matches(event("DescribeInstances"))
    head = event("HeadBucket", "s3.amazonaws.com", errorCode="AccessDenied")
    assert not pattern.matches(head)
    # ...but an UnauthorizedOperation from the log-delivery service is not excluded
    delivery = event("HeadBucket", "s3.amazonaws.com", errorCode="Client.UnauthorizedOperation",
                     sourceIPAddress="delivery.logs.amazonaws.com")
    assert pattern.matches(delivery)
    assert any(w.code == "W002" for w in pattern.warnings)


def test_intended_unauthorized_pattern_excludes_both() -> None:
    pattern = compile_pattern(INTENDED_UNAUTHORIZED)
    delivery = event("HeadBucket", "s3.amazonaws.com", errorCode="Client.UnauthorizedOperation",
                     sourceIPAddress="delivery.logs.amazonaws.com")
    assert not pattern.matches(delivery)
    assert pattern.matches(event("RunInstances", errorCode="Client.UnauthorizedOperation"))
    assert not any(w.code == "W002" for w in pattern.warnings)


def test_route_table_audit_form_binds_event_source_to_create_route_only() -> None:
    audit = ("{($.eventSource = ec2.amazonaws.com) && ($.eventName = CreateRoute) || ($.eventName = CreateRouteTable) || "
             "($.eventName = ReplaceRoute) || ($.eventName = ReplaceRouteTableAssociation) || ($.eventName = "
             "DeleteRouteTable) || ($.eventName = DeleteRoute) || ($.eventName = DisassociateRouteTable) }")
    pattern = compile_pattern(audit)
    assert not pattern.matches(event("CreateRoute", "iam.amazonaws.com"))
    assert pattern.matches(event("DeleteRoute", "iam.amazonaws.com"))  # eventSource not applied
    assert any(w.code == "W002" for w in pattern.warnings)


def test_cis_13_dollar_event_name_typo_is_a_syntax_error() -> None:
    with pytest.raises(PatternSyntaxError) as info:
        compile_pattern("{($.eventName=AttachRolePolicy)||($eventName=DetachRolePolicy)}")
    assert info.value.column == 36
    assert "expected '.' after '$'" in info.value.message
