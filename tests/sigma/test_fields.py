"""The converter's CloudTrail field knowledge agrees with the CloudTrail events this project holds:
the catalogue's sample events (real and documented shapes)."""

from __future__ import annotations

from trailguard.catalog import load_catalog
from trailguard.patterns import MISSING, getter
from trailguard.sigma import fields as ct

SAMPLES = [sample.event for detection in load_catalog().detections.values() for sample in detection.samples]


def _values(field: str) -> list:
    get = getter(tuple(field.split(".")))
    return [value for value in map(get, SAMPLES) if value is not MISSING]


def test_aws_spellings_hold_every_value_the_samples_carry():
    checked = 0
    for field, spellings in ct.AWS_SPELLINGS.items():
        for value in _values(field):
            assert value in spellings, (field, value)
            checked += 1
    assert checked > 200


def test_always_present_strings_are_in_every_sample_as_strings():
    for field in ct.ALWAYS_PRESENT_STRINGS:
        values = _values(field)
        assert len(values) == len(SAMPLES) and all(isinstance(v, str) for v in values), field


def test_known_shapes_match_the_samples():
    for field in ct.OPTIONAL_STRINGS:
        assert all(isinstance(v, str) for v in _values(field)), field
    for field in ct.BOOLEANS:
        assert all(isinstance(v, bool) for v in _values(field)), field
    for field in ct.OBJECTS - {"resources"}:
        assert all(isinstance(v, dict) or v is None for v in _values(field)), field
    assert all(isinstance(v, list) for v in _values("resources"))


def test_fixed_case_and_shape_tables_agree():
    assert ct.FIXED_CASE <= ct.ALWAYS_PRESENT_STRINGS | ct.OPTIONAL_STRINGS
    assert set(ct.AWS_SPELLINGS) <= ct.FIXED_CASE
    assert not (ct.OBJECTS & (ct.ALWAYS_PRESENT_STRINGS | ct.OPTIONAL_STRINGS | ct.BOOLEANS))
    assert ct.looks_like_field_name("responseElements.accessKey.userName")
    assert not ct.looks_like_field_name("Jersey/${project.version}") and not ct.looks_like_field_name("a.b")
