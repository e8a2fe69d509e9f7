"""Random Sigma rules, converted and checked against the oracle on the events generated from them.

The SigmaHQ rules are mostly `eventSource and eventName`; random rules reach what they do not:
nested `and`/`or`/`not` over several selections, every string modifier, wildcards inside values,
lists, `null`, number comparisons, caller-chosen and unknown-shape fields. For each rule that is
not refused: an `exact` conversion never disagrees with the oracle, and every disagreement of a
`caveats` conversion is explained by a caveat it states. Seeded, so every run checks the same rules.
"""

from __future__ import annotations

import random

import pytest
import yaml

pytest.importorskip("sigma.backends.sqlite", reason="the sigma extra is part of requirements-dev.txt")

from sigma.collection import SigmaCollection  # noqa: E402

from trailguard.sigma.convert import convert_rule  # noqa: E402
from trailguard.sigma.generate import generate_events  # noqa: E402
from trailguard.sigma.verify import verify  # noqa: E402

FIELDS = ("eventName", "eventSource", "userAgent", "errorCode", "userIdentity.type", "userIdentity.arn",
          "requestParameters.bucketName", "sourceIPAddress")
VALUES = ("CreateUser", "s3.amazonaws.com", "Boto3", "AccessDenied", "Root", "arn:aws:iam::1:user/x", "my-bucket",
          "198.51.100.7")
MODIFIERS = ("", "|contains", "|startswith", "|endswith", "|contains|all")
NUMBER_FIELD = "requestParameters.maxKeys"
RULES = 60


def random_rule(rnd: random.Random, number: int) -> str:
    """A CloudTrail Sigma rule of 1-3 selections of 1-2 items, joined by and / or / and not / or not."""
    selections = {}
    for index in range(rnd.randint(1, 3)):
        items: dict[str, list] = {}
        for _ in range(rnd.randint(1, 2)):
            if rnd.random() < 0.15:
                items[NUMBER_FIELD + rnd.choice(("", "|gt", "|lt"))] = [rnd.randint(1, 500)]
                continue
            field, modifier = rnd.choice(FIELDS), rnd.choice(MODIFIERS)
            if rnd.random() < 0.15:
                items[field] = [None]
                continue
            values = rnd.sample(VALUES, rnd.randint(1, 2))
            if rnd.random() < 0.2:
                values = [value[:3] + "*" + value[-2:] for value in values]
            items[field + modifier] = values
        selections[f"sel{index}"] = items
    names = list(selections)
    condition = names[0]
    for name in names[1:]:
        condition = f"({condition}) {rnd.choice(['and', 'or', 'and not', 'or not'])} {name}"
    return yaml.safe_dump({
        "title": f"random {number}", "id": f"00000000-0000-4000-8000-{number:012d}",
        "logsource": {"product": "aws", "service": "cloudtrail"},
        "detection": {**selections, "condition": condition}, "level": "low"}, sort_keys=False)


def _rules() -> list[tuple[int, str]]:
    rnd = random.Random(20261204)
    return [(number, random_rule(rnd, number)) for number in range(RULES)]


@pytest.mark.parametrize("number,text", _rules(), ids=lambda value: str(value) if isinstance(value, int) else "")
def test_random_rule_agrees_with_the_oracle_but_where_a_stated_caveat_says(number, text):
    rule = SigmaCollection.from_yaml(text).rules[0]
    conversion = convert_rule(rule)
    if conversion.verdict == "refused":
        assert conversion.refusal
        return
    generated = generate_events(rule)
    result = verify(conversion, rule, [g.event for g in generated], [g.name for g in generated])
    assert result.events == len(generated) > 0
    unexplained = [(d.name, d.side, d.cause) for d in result.unexplained]
    assert not unexplained, f"{conversion.pattern}\n{text}"
    if conversion.verdict == "exact":
        assert result.disagreements == ()


def test_the_random_rules_cover_both_verdicts_and_negation():
    rules = [SigmaCollection.from_yaml(text).rules[0] for _, text in _rules()]
    verdicts = [convert_rule(rule).verdict for rule in rules]
    assert verdicts.count("exact") >= 10 and verdicts.count("caveats") >= 10
    assert sum(" not " in str(rule.detection.condition) for rule in rules) >= 15
