"""The `default` patterns are written the way third-party scanners read pattern text.

Scanners judge the text, not the behaviour (../shared/reference/cis-monitoring.md, "Scanner
facts"). The rules below restate what that reference says in our own checks: Steampipe wants
unquoted eventName/eventSource values in CIS order; Prowler wants the CIS names as whole words
(since 5.30 in any order), the event source on route tables, 21 Organizations names and the two
unauthorized errorCode clauses. These are text checks only; behaviour is test_samples.py's job.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from trailguard.catalog import load_catalog

FIXTURES = Path(__file__).parents[1] / "fixtures" / "catalog"
SECURITYHUB = json.loads((FIXTURES / "securityhub-cloudwatch.json").read_text(encoding="utf-8"))["patterns"]
ORGANIZATIONS = json.loads((FIXTURES / "organizations-event-names.json").read_text(encoding="utf-8"))
CATALOG = load_catalog()


def clause(selector: str, op: str, value: str, *, quoted: bool) -> str:
    """A regex for one comparison as scanners look for it: any spacing, the value quoted or bare,
    and a bare value ending at a word boundary (CreateRoute must not be read from CreateRouteTable)."""
    shown = f'"{re.escape(value)}"' if quoted else re.escape(value) + r"(?![\w\"])"
    return re.escape(selector) + rf"\s*{re.escape(op)}\s*" + shown


def assert_in_order(text: str, regexes: list[str]) -> None:
    position = 0
    for regex in regexes:
        found = re.compile(regex).search(text, position)
        assert found, f"{regex!r} missing (or out of order) after column {position + 1} of {text}"
        position = found.end()


def cis_event_names(control: str) -> list[str]:
    """The event names of a Security Hub / CIS pattern, in CIS order."""
    return re.findall(r"\$\.eventName\s*=\s*\"?(\w+)", SECURITYHUB[control])


def securityhub_control(detection) -> str | None:
    return next((r.control for r in detection.references if r.framework == "SecurityHub"), None)


# detection id -> its Security Hub control, for the ten controls that are event-name lists
NAME_LISTS = {d.id: control for d in CATALOG.detections.values()
              if (control := securityhub_control(d)) and len(cis_event_names(control)) > 1}
assert len(NAME_LISTS) == 10, NAME_LISTS


@pytest.mark.parametrize("detection_id", sorted(NAME_LISTS))
def test_cis_event_names_unquoted_in_cis_order(detection_id: str) -> None:
    text = CATALOG.get(detection_id).patterns["default"]
    names = cis_event_names(NAME_LISTS[detection_id])
    assert_in_order(text, [clause("$.eventName", "=", name, quoted=False) for name in names])


@pytest.mark.parametrize(("detection_id", "source"), [
    ("kms-key-disable-or-deletion", "kms.amazonaws.com"),
    ("s3-bucket-policy-changes", "s3.amazonaws.com"),
    ("aws-config-changes", "config.amazonaws.com"),
    ("route-table-changes", "ec2.amazonaws.com"),
    ("organizations-changes", "organizations.amazonaws.com"),
])
def test_event_source_comes_first_unquoted(detection_id: str, source: str) -> None:
    text = CATALOG.get(detection_id).patterns["default"]
    assert re.match(r"\{\s*\(\s*" + clause("$.eventSource", "=", source, quoted=False), text), text


def test_organizations_lists_cis_names_in_order_then_prowlers_three() -> None:
    text = CATALOG.get("organizations-changes").patterns["default"]
    names = ORGANIZATIONS["cis"] + ORGANIZATIONS["prowler_additions"]
    assert len(names) == 21
    assert_in_order(text, [clause("$.eventName", "=", n, quoted=False) for n in names])


def test_security_groups_include_modify_security_group_rules() -> None:
    text = CATALOG.get("security-group-changes").patterns["default"]
    assert re.search(clause("$.eventName", "=", "ModifySecurityGroupRules", quoted=False), text)


def test_unauthorized_calls_keep_both_error_codes_and_both_exclusions_in_order() -> None:
    text = CATALOG.get("unauthorized-api-calls").patterns["default"]
    assert_in_order(text, [
        clause("$.errorCode", "=", "*UnauthorizedOperation", quoted=True),
        clause("$.errorCode", "=", "AccessDenied*", quoted=True),
        clause("$.sourceIPAddress", "!=", "delivery.logs.amazonaws.com", quoted=True),
        clause("$.eventName", "!=", "HeadBucket", quoted=True),
    ])


def test_no_mfa_starts_with_the_quoted_console_login_clauses() -> None:
    text = CATALOG.get("console-signin-without-mfa").patterns["default"]
    assert re.search(r"\(\s*" + clause("$.eventName", "=", "ConsoleLogin", quoted=True) + r"\s*\)\s+&&\s+\(\s*"
                     + clause("$.additionalEventData.MFAUsed", "!=", "Yes", quoted=True), text)


def test_root_usage_clauses_in_cis_order() -> None:
    text = CATALOG.get("root-usage").patterns["default"]
    assert_in_order(text, [clause("$.userIdentity.type", "=", "Root", quoted=True),
                           re.escape("$.userIdentity.invokedBy NOT EXISTS"),
                           clause("$.eventType", "!=", "AwsServiceEvent", quoted=True)])


def test_console_auth_failures_name_then_message() -> None:
    text = CATALOG.get("console-auth-failures").patterns["default"]
    assert_in_order(text, [clause("$.eventName", "=", "ConsoleLogin", quoted=False),
                           clause("$.errorMessage", "=", "Failed authentication", quoted=True)])


def test_clause_regex_reads_whole_words() -> None:
    regex = clause("$.eventName", "=", "CreateRoute", quoted=False)
    assert re.search(regex, "($.eventName = CreateRoute)")
    assert not re.search(regex, "($.eventName = CreateRouteTable)")
    assert not re.search(regex, '($.eventName = "CreateRoute")')
