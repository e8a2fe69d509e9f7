"""The rules the program deploys match what the alarms' filters match, exclusions included: every
EventRule of prod with real-time on, put on moto's EventBridge (tests/eventbridge/moto_oracle.py),
judges the detection's catalogue samples, and events its declared exclusion removes, exactly as the
deployed metric filter's pattern does in the filter-pattern engine."""

from __future__ import annotations

import copy
from typing import Iterator

import pytest

from bench.local_s3 import moto_server
from tests.components.program_runs import FILTER, PROJECT
from tests.eventbridge.moto_oracle import EventBridgeOracle
from trailguard.catalog import load_catalog
from trailguard.check.harness import run_program
from trailguard.check.layout import ProjectLayout
from trailguard.eventbridge import event_for
from trailguard.patterns import compile_pattern

RULE = "aws:cloudwatch/eventRule:EventRule"
DEPLOYER_SESSION = {"type": "Role", "arn": "arn:aws:iam::111122223333:role/trailguard-deployer"}


@pytest.fixture(scope="module")
def oracle() -> Iterator[EventBridgeOracle]:
    with moto_server() as endpoint:
        yield EventBridgeOracle(endpoint)


def by_deployer(record: dict) -> dict:
    """`record` as if the CI deployer made the call: what prod's monitoring-tampering exclusion drops."""
    changed = copy.deepcopy(record)
    identity = changed.setdefault("userIdentity", {})
    identity["type"] = "AssumedRole"
    identity.setdefault("sessionContext", {})["sessionIssuer"] = dict(DEPLOYER_SESSION)
    return changed


def test_every_deployed_rule_agrees_with_its_deployed_filter(oracle):
    run = run_program(ProjectLayout.for_repository(PROJECT), "prod",
                      config_overrides={"realtime": {"enabled": True, "regions": ["us-east-1"]}})
    filters = {f.inputs["name"]: f.inputs["pattern"] for f in run.of_type(FILTER)}
    catalog = load_catalog()
    rules = run.of_type(RULE)
    assert len(rules) == 15
    checked = fired = 0
    excluded_seen = False
    for rule in rules:
        name = rule.inputs["name"]
        detection = catalog.get(name.removeprefix("trailguard-prod-"))
        records = [dict(s.event) for s in detection.samples_for("securityhub")]
        records += [by_deployer(r) for r in records]
        engine = compile_pattern(filters[name])  # the alarm's filter: the same physical name
        expected = [engine.matches(r) for r in records]
        judged = oracle.matches(rule.inputs["eventPattern"], [event_for(r) for r in records], rule.inputs["state"])
        assert judged == expected, f"{name}: the rule and the alarm's filter disagree"
        checked += len(records)
        fired += sum(expected)
        if name == "trailguard-prod-monitoring-tampering":  # prod excludes the deployer's changes
            half = len(records) // 2
            assert any(judged[:half]) and not any(judged[half:]), "the exclusion reaches the rule"
            excluded_seen = True
    assert excluded_seen and checked > 60 and 0 < fired < checked
