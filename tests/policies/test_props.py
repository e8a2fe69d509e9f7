"""The unknown-safe readers every policy reads props through."""

from pulumi_policy.proxy import UNKNOWN_ARRAY_VALUE, UNKNOWN_OBJECT_VALUE, UNKNOWN_STRING_VALUE, unknown_checking_proxy
from trailguard_policies.props import UNKNOWN, read, read_items, read_mapping

PROPS = unknown_checking_proxy({
    "known": "x",
    "null": None,
    "unknown": UNKNOWN_STRING_VALUE,
    "nested": {"a": UNKNOWN_STRING_VALUE, "b": 1},
    "list": ["arn:1", UNKNOWN_STRING_VALUE],
    "unknownList": UNKNOWN_ARRAY_VALUE,
    "unknownObject": UNKNOWN_OBJECT_VALUE,
})


def test_read_known_absent_null_and_unknown():
    assert read(PROPS, "known") == "x"
    assert read(PROPS, "absent", default=7) == 7
    assert read(PROPS, "null", default=7) == 7
    assert read(PROPS, "unknown") is UNKNOWN
    assert read(PROPS, "nested", "a") is UNKNOWN
    assert read(PROPS, "nested", "b") == 1
    assert read(PROPS, "unknownObject", "a") is UNKNOWN
    assert read(PROPS, "known", "deeper") is None  # a string has no keys


def test_read_items_keeps_known_elements():
    assert read_items(PROPS, "list") == ["arn:1", UNKNOWN]
    assert read_items(PROPS, "unknownList") is UNKNOWN
    assert read_items(PROPS, "absent") == []
    assert read_items(PROPS, "known") == ["x"]


def test_read_mapping():
    assert read_mapping(PROPS, "nested") == {"a": UNKNOWN, "b": 1}
    assert read_mapping(PROPS, "unknownObject") is UNKNOWN
    assert read_mapping(PROPS, "absent") == {}


def test_raw_sentinels_in_plain_dicts_are_unknown_too():
    assert read({"a": UNKNOWN_STRING_VALUE}, "a") is UNKNOWN
