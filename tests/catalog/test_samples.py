"""Every packaged detection is proved by its samples: under every profile the positives match and
the negatives do not, and every event name a pattern lists is exercised by a positive."""

from __future__ import annotations

from fnmatch import fnmatchcase
from pathlib import Path

import pytest

from trailguard.catalog import PROFILES, load_catalog
from trailguard.catalog.loader import CATALOG_DIR
from trailguard.patterns import compile_pattern, parse, render_selector
from trailguard.patterns.ast import And, Comparison, JsonPattern, Or, StringValue

CATALOG = load_catalog()
DETECTION_FILES = sorted((CATALOG_DIR / "detections").glob("*.yaml"))
assert DETECTION_FILES, "no detection files found"

EXPECTED_IDS = {
    "root-usage", "ec2-instance-changes", "iam-policy-changes", "security-group-changes", "vpc-changes",
    "unauthorized-api-calls", "console-signin-without-mfa", "cloudtrail-config-changes", "console-auth-failures",
    "kms-key-disable-or-deletion", "s3-bucket-policy-changes", "aws-config-changes", "nacl-changes",
    "network-gateway-changes", "route-table-changes", "organizations-changes", "monitoring-tampering",
}

CASES = [(d.id, profile, s.name) for d in CATALOG.detections.values() for profile in PROFILES
         for s in d.samples_for(profile)]


@pytest.mark.parametrize(("detection_id", "profile", "sample_name"), CASES,
                         ids=[f"{d}-{p}-{s}" for d, p, s in CASES])
def test_sample_proves_pattern(detection_id: str, profile: str, sample_name: str) -> None:
    detection = CATALOG.get(detection_id)
    sample = next(s for s in detection.samples if s.name == sample_name)
    pattern = compile_pattern(detection.pattern_for(profile))
    assert pattern.matches(sample.event) is sample.positive, (
        f"{detection.source}: {'positive' if sample.positive else 'negative'} sample {sample.name!r} "
        f"{'does not match' if sample.positive else 'matches'} the {profile} pattern {pattern.text}")


def _listed_event_names(text: str) -> set[str]:
    """The values of every `$.eventName = X` comparison in the pattern, read from its syntax tree."""
    tree = parse(text)
    assert isinstance(tree, JsonPattern)
    names: set[str] = set()
    stack = [tree.expr]
    while stack:
        node = stack.pop()
        if isinstance(node, (And, Or)):
            stack.extend(node.operands)
        elif (isinstance(node, Comparison) and node.op == "=" and isinstance(node.value, StringValue)
              and render_selector(node.selector) == "$.eventName"):
            names.add(node.value.text)
    return names


OWN_PATTERNS = [(d.id, profile) for d in CATALOG.detections.values() for profile in d.patterns]


@pytest.mark.parametrize(("detection_id", "profile"), OWN_PATTERNS, ids=[f"{d}-{p}" for d, p in OWN_PATTERNS])
def test_every_listed_event_name_has_a_positive(detection_id: str, profile: str) -> None:
    detection = CATALOG.get(detection_id)
    listed = _listed_event_names(detection.patterns[profile])
    covered = {event["eventName"] for event in detection.positives_for(profile)}
    # A name with a wildcard (`"*RetentionPolicy"`) needs a positive of a name it matches.
    missing = {name for name in listed if not any(fnmatchcase(event_name, name) for event_name in covered)}
    assert not missing, f"{detection.source}: no {profile} positive for {sorted(missing)}"


def test_listed_event_names_are_read_from_the_tree() -> None:
    """The helper above must see names however they are quoted or nested, and only eventName."""
    text = '{ ($.eventSource = a) && (($.eventName = "One") || ($.eventName=Two)) && ($.errorCode != Three) }'
    assert _listed_event_names(text) == {"One", "Two"}


def test_catalogue_holds_every_seed_and_cis_detection() -> None:
    assert set(CATALOG.detections) == EXPECTED_IDS
    assert {p.stem for p in DETECTION_FILES} == EXPECTED_IDS


def test_presets() -> None:
    assert CATALOG.presets["seed"] == ("root-usage", "ec2-instance-changes", "iam-policy-changes",
                                       "security-group-changes", "vpc-changes")
    cis = CATALOG.presets["cis"]
    assert set(cis) == EXPECTED_IDS - {"ec2-instance-changes", "monitoring-tampering"}
    # in CIS control order: 4.1 ... 4.15, read from each detection's CIS v1.4.0 reference
    controls = [next(r.control for r in CATALOG.get(i).references if r.version == "1.4.0") for i in cis]
    assert controls == [f"4.{n}" for n in range(1, 16)]
    assert CATALOG.presets["all"] == tuple(CATALOG.detections)
    assert CATALOG.presets["assurance"] == ("cloudtrail-config-changes", "kms-key-disable-or-deletion",
                                            "monitoring-tampering")


@pytest.mark.parametrize("detection_id", sorted(EXPECTED_IDS))
def test_each_detection_has_enough_samples(detection_id: str) -> None:
    detection = CATALOG.get(detection_id)
    for profile in PROFILES:
        assert len(detection.positives_for(profile)) >= 3, (detection.source, profile)
        assert len(detection.negatives_for(profile)) >= 3, (detection.source, profile)


def test_metrics_are_unique() -> None:
    metrics = [d.metric for d in CATALOG.detections.values()]
    assert len(set(metrics)) == len(metrics)


def test_files_live_in_the_package() -> None:
    assert all(Path(d.source).parent == CATALOG_DIR / "detections" for d in CATALOG.detections.values())


RESTRICTED = [(d.id, s.name) for d in CATALOG.detections.values() for s in d.samples
              if set(s.profiles) != set(d.patterns)]


@pytest.mark.parametrize(("detection_id", "sample_name"), RESTRICTED, ids=[f"{d}-{s}" for d, s in RESTRICTED])
def test_profile_restriction_marks_a_real_difference(detection_id: str, sample_name: str) -> None:
    """A sample limited to some profiles must behave the other way under the rest: the restriction
    documents where the profiles differ, it must not hide a sample that simply fails."""
    detection = CATALOG.get(detection_id)
    sample = next(s for s in detection.samples if s.name == sample_name)
    for profile in set(detection.patterns) - set(sample.profiles):
        assert compile_pattern(detection.patterns[profile]).matches(sample.event) is not sample.positive, (
            f"{detection.source}: sample {sample.name!r} is limited to {sample.profiles} but behaves the same "
            f"under {profile}; drop its `profiles`")


def test_profiles_differ_where_the_notes_say() -> None:
    """Every detection with a Security Hub string behaves differently under it, except the two whose
    `default` is the same expression (root usage: spacing only; no-MFA: the identical string)."""
    same_behaviour = {"root-usage", "console-signin-without-mfa"}
    two_profiles = {d.id for d in CATALOG.detections.values() if len(d.patterns) == 2}
    assert {d for d, _ in RESTRICTED} == two_profiles - same_behaviour
