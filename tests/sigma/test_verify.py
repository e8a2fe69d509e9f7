"""The proof: every converted SigmaHQ rule against the independent oracle, event by event.

- An `exact` rule agrees with pySigma's SQLite backend on every real event (the shared Stratus
  Red Team events where ../shared is present, the catalogue's samples always) and on every event
  generated from the rule.
- A `caveats` rule's disagreements are all explained by a caveat it states, and each stated caveat
  is shown by a generated event on which the two differ for that reason.
- `trailguard sigma convert --verify` reports the same on the user's files.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

pytest.importorskip("sigma.backends.sqlite", reason="the sigma extra is part of requirements-dev.txt")

from click.testing import CliRunner  # noqa: E402

from tests.sigma.rules import EDGE, SIGMAHQ  # noqa: E402
from trailguard.patterns import compile_pattern  # noqa: E402
from trailguard.catalog import load_catalog  # noqa: E402
from trailguard.cli import main  # noqa: E402
from trailguard.sigma import fields as facts  # noqa: E402
from trailguard.sigma.conversion import Caveat  # noqa: E402
from trailguard.sigma.generate import generate_events  # noqa: E402
from trailguard.sigma.verify import read_events, rules_and_conversions, verify  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
SHARED_EVENTS = ROOT.parent / "shared" / "data" / "cloudtrail" / "stratus-red-team"

NO_DIFFERENCE_KINDS = {"literal-field-name", "lint"}
"""Caveats that by their own statement name no difference between the pattern and the rule: a
rule value that looks like a field name (both compare it literally, so the rule itself may not do
what its author meant) and a lint finding on the pattern. No event can show them as a disagreement."""


def _real_events() -> list[dict]:
    """Real CloudTrail events: the catalogue's samples (always here) and the shared detonation
    events where ../shared is present."""
    events = [dict(s.event) for d in load_catalog().detections.values() for s in d.samples]
    if SHARED_EVENTS.is_dir():
        events += list(read_events([str(SHARED_EVENTS)]).events)
    return events


REAL = _real_events()
PAIRS = rules_and_conversions([SIGMAHQ, EDGE])
CONVERTED = [(rule, c) for rule, c in PAIRS if c.verdict != "refused"]


def _id(pair) -> str:
    return Path(pair[1].source).stem


def test_the_corpus_is_real_and_the_rules_are_all_there():
    assert len(REAL) >= 200
    assert sum(1 for _, c in PAIRS if Path(c.source).parent == SIGMAHQ) == 40
    assert sum(1 for _, c in CONVERTED if c.verdict == "exact") >= 25


@pytest.mark.parametrize("pair", [p for p in CONVERTED if p[1].verdict == "exact"], ids=_id)
def test_exact_pattern_agrees_with_the_oracle_on_every_real_and_generated_event(pair):
    rule, conversion = pair
    generated = generate_events(rule)
    on_generated = verify(conversion, rule, [g.event for g in generated], [g.name for g in generated])
    on_real = verify(conversion, rule, REAL)
    assert on_generated.events == len(generated) > 0
    assert on_generated.disagreements == () and on_real.disagreements == (), (
        [(d.name, d.side) for d in on_generated.disagreements + on_real.disagreements])


@pytest.mark.parametrize("pair", [p for p in CONVERTED if p[1].verdict == "caveats"], ids=_id)
def test_caveats_explain_every_disagreement_and_each_caveat_is_shown_by_an_event(pair):
    rule, conversion = pair
    generated = generate_events(rule)
    on_generated = verify(conversion, rule, [g.event for g in generated], [g.name for g in generated])
    on_real = verify(conversion, rule, REAL)
    assert on_generated.ok and on_real.ok, [(d.name, d.side, d.cause) for d in on_generated.unexplained]
    for caveat in conversion.caveats:
        shown = [d for d in on_generated.disagreements if caveat in d.explained_by]
        if caveat.kind in NO_DIFFERENCE_KINDS:
            assert not shown
            continue
        assert shown, f"no generated event shows the caveat {caveat.kind} on {caveat.field}"
        expected_cause = "case" if caveat.kind == "case" else f"field {caveat.field}"
        assert all(d.cause == expected_cause for d in shown)


def test_the_rules_value_in_another_case_than_aws_writes_matches_the_real_event():
    """`MFAUsed: 'NO'`: AWS writes `No`; the rule matches a real console login case-insensitively,
    and so does the pattern, which spells the value as AWS does."""
    rule, conversion = next(p for p in PAIRS if Path(p[1].source).name ==
                            "aws_cloudtrail_console_login_success_without_mfa.yml")
    login = {"eventVersion": "1.08", "userIdentity": {"type": "IAMUser"}, "eventTime": "2026-01-01T00:00:00Z",
             "eventSource": "signin.amazonaws.com", "eventName": "ConsoleLogin", "awsRegion": "us-east-1",
             "eventType": "AwsConsoleSignIn", "additionalEventData": {"MFAUsed": "No"},
             "responseElements": {"ConsoleLogin": "Success"}}
    result = verify(conversion, rule, [login, {**login, "additionalEventData": {"MFAUsed": "Yes"}}])
    assert result.disagreements == ()
    assert compile_pattern(conversion.pattern).matches(login)


def _wrong(conversion, pattern: str, verdict: str = "exact", caveats=()):
    return dataclasses.replace(conversion, pattern=pattern, verdict=verdict, caveats=tuple(caveats))


def test_a_wrong_pattern_is_caught_with_the_event_and_the_side_that_matched():
    rule, conversion = next(p for p in CONVERTED if Path(p[1].source).name == "aws_root_account_usage.yml")
    wrong = _wrong(conversion, '{ $.userIdentity.type = "Root" }')  # forgets "not AwsServiceEvent"
    generated = generate_events(rule)
    result = verify(wrong, rule, [g.event for g in generated], [g.name for g in generated])
    assert not result.ok and result.unexplained == result.disagreements
    assert all(d.pattern_matched and not d.oracle_matched for d in result.disagreements)
    assert {d.event["eventType"] for d in result.disagreements} == {"AwsServiceEvent"}


def test_a_caveat_of_another_kind_does_not_explain_a_case_difference():
    rule, conversion = next(p for p in CONVERTED if Path(p[1].source).name == "aws_cloudtrail_pua_trufflehog.yml")
    shape_only = _wrong(conversion, conversion.pattern, "caveats", (Caveat("userAgent", "shape", "not about case"),))
    generated = generate_events(rule)
    result = verify(shape_only, rule, [g.event for g in generated], [g.name for g in generated])
    assert result.unexplained and all(d.cause == "case" for d in result.unexplained)
    honest = verify(conversion, rule, [g.event for g in generated], [g.name for g in generated])
    assert honest.ok and len(honest.disagreements) == len(result.unexplained)


def test_the_field_facts_generation_relies_on_hold_on_real_events():
    """A field the converter knows as a string is a string (or absent) in every real event."""
    for event in REAL:
        for field in facts.ALWAYS_PRESENT_STRINGS | facts.OPTIONAL_STRINGS:
            node = event
            for key in field.split("."):
                node = node.get(key) if isinstance(node, dict) else None
            assert node is None or isinstance(node, str), (field, node)


# --- the command ---------------------------------------------------------------------------------


def _events_file(tmp_path: Path, events: list[dict]) -> Path:
    path = tmp_path / "events.json"
    path.write_text(json.dumps({"Records": events}))
    return path


TRUFFLEHOG = SIGMAHQ / "aws_sts_getcalleridentity_trufflehog.yml"
CALLER = {"eventVersion": "1.08", "userIdentity": {"type": "IAMUser"}, "eventTime": "2026-01-01T00:00:00Z",
          "eventSource": "sts.amazonaws.com", "eventName": "GetCallerIdentity", "awsRegion": "us-east-1",
          "eventType": "AwsApiCall", "userAgent": "TruffleHog"}


def test_verify_option_reports_agreement_and_stated_differences_exit_0(tmp_path):
    events = _events_file(tmp_path, [CALLER, {**CALLER, "userAgent": "trufflehog"}, {**CALLER, "userAgent": "curl"}])
    result = CliRunner().invoke(main, ["sigma", "convert", str(TRUFFLEHOG), "--verify", str(events)])
    assert result.exit_code == 0, result.output
    assert "verify: 2 of 3 events agree; 1 differ as stated (case userAgent: 1)" in result.output
    data = json.loads(CliRunner().invoke(main, ["sigma", "convert", str(TRUFFLEHOG), "--verify", str(events),
                                                "--json"]).stdout)
    (record,) = data
    assert record["verification"]["events"] == 3 and record["verification"]["ok"] is True
    assert record["verification"]["disagreements"] == [{
        "event": f"{events}#2", "patternMatched": False, "ruleMatched": True, "cause": "case",
        "explainedBy": [{"field": "userAgent", "kind": "case"}]}]


def test_verify_option_exits_1_and_lists_an_unexplained_disagreement(tmp_path, monkeypatch):
    import trailguard.sigma.verify as verify_module

    real = verify_module.rules_and_conversions

    def broken(paths):
        return [(rule, _wrong(c, '{ $.eventName = "GetCallerIdentity" }')) for rule, c in real(paths)]

    monkeypatch.setattr(verify_module, "rules_and_conversions", broken)
    events = _events_file(tmp_path, [CALLER, {**CALLER, "userAgent": "curl"}])
    result = CliRunner().invoke(main, ["sigma", "convert", str(TRUFFLEHOG), "--verify", str(events)])
    assert result.exit_code == 1
    assert "1 UNEXPLAINED" in result.output
    assert f"{events}#2: pattern matches, rule does not (2026-01-01T00:00:00Z sts.amazonaws.com GetCallerIdentity" \
        in result.output


def test_verify_option_exits_1_on_input_it_cannot_read(tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text('{"Records": [')
    result = CliRunner().invoke(main, ["sigma", "convert", str(TRUFFLEHOG), "--verify", str(broken),
                                       "--verify", str(tmp_path / "absent.json")])
    assert result.exit_code == 1
    assert "broken.json" in result.output and "absent.json" in result.output
