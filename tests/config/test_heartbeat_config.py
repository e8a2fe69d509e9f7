"""`heartbeat` in the stack config: on by default, each key checked with an error naming it."""

from __future__ import annotations

import pytest

from tests.config import bad_inputs
from trailguard.config import ConfigError, load_stack_config
from trailguard.heartbeat import HeartbeatConfig

KEY = "trailguard:heartbeat"
TOPICS = {"topics": {"security": {}, "oncall": {}}, "defaultTopic": "security"}


def test_on_by_default_every_five_minutes_over_thirty_to_the_default_topic():
    config = load_stack_config({"notifications": TOPICS})
    assert config.heartbeat == HeartbeatConfig(enabled=True, interval_minutes=5, window_minutes=30,
                                               topic="security")


def test_every_key_is_read():
    config = load_stack_config({"notifications": TOPICS,
                                "heartbeat": {"enabled": True, "interval": 2, "window": 17, "topic": "oncall"}})
    assert config.heartbeat == HeartbeatConfig(True, 2, 17, "oncall")
    assert not load_stack_config({"heartbeat": {"enabled": False}}).heartbeat.enabled


@pytest.mark.parametrize(("heartbeat", "key", "fragment"), [
    ({"enabled": "yes"}, "enabled", "must be true or false"),
    ({"interval": "5m"}, "interval", "must be a whole number of minutes"),
    ({"interval": 0}, "interval", "from 1 to 60"),
    ({"interval": 61}, "interval", "from 1 to 60"),
    ({"window": 2.5}, "window", "must be a whole number of minutes"),
    ({"window": 19}, "window", "from interval + 15 (20"),
    ({"interval": 30, "window": 40}, "window", "from interval + 15 (45"),
    ({"window": 1441}, "window", "to 1440"),
    ({"topic": "pager"}, "topic", "unknown topic 'pager'"),
    ({"topic": 3}, "topic", "must be a non-empty string"),
    ({"intervall": 5}, "intervall", "unknown key 'intervall'"),
])
def test_a_bad_value_is_refused_naming_its_key(heartbeat, key, fragment):
    with pytest.raises(ConfigError) as raised:
        load_stack_config({"notifications": TOPICS, "heartbeat": heartbeat})
    assert raised.value.key == f"{KEY}.{key}"
    assert fragment in raised.value.message


def test_not_a_mapping_is_refused():
    with pytest.raises(ConfigError) as raised:
        load_stack_config({"heartbeat": [1]})
    assert raised.value.key == KEY


def test_all_problems_are_reported_together():
    with pytest.raises(ConfigError) as raised:
        load_stack_config({"heartbeat": {"interval": 0, "window": 5000, "topic": "nowhere"}})
    assert [key for key, _ in raised.value.errors] == [f"{KEY}.interval", f"{KEY}.window", f"{KEY}.topic"]


def test_a_custom_detection_named_heartbeat_is_refused_while_the_heartbeat_is_on():
    custom = bad_inputs.custom("heartbeat")
    with pytest.raises(ConfigError) as raised:
        load_stack_config({"customDetections": [custom]})
    assert raised.value.key == "trailguard:customDetections[0].id"
    assert "heartbeat" in raised.value.message
    assert load_stack_config({"customDetections": [custom], "heartbeat": {"enabled": False}}).detections
