"""Reading stack files as Pulumi does: a duplicate key is refused naming both lines, and an alias
bomb is refused in bounded time and memory, before anything is validated or deployed."""

from __future__ import annotations

from pathlib import Path

import pytest

from trailguard.config import ConfigError, read_stack_config
from trailguard.config.files import MAX_EXPANDED_NODES

PROJECT = "name: trailguard\nruntime: python\n"


def project(tmp_path: Path, stack_text: str) -> Path:
    (tmp_path / "Pulumi.yaml").write_text(PROJECT)
    (tmp_path / "Pulumi.dev.yaml").write_text(stack_text)
    return tmp_path


def test_a_key_given_twice_is_refused_with_both_lines(tmp_path):
    text = ("config:\n"
            "  trailguard:tags:\n"
            "    team: security\n"
            "  trailguard:protect: true\n"
            "  trailguard:tags:\n"
            "    env: prod\n")
    with pytest.raises(ConfigError) as raised:
        read_stack_config(project(tmp_path, text), "dev")
    assert "Pulumi.dev.yaml" in raised.value.key
    assert "duplicate key 'trailguard:tags' at line 5 (first at line 2)" in str(raised.value)


def test_a_nested_duplicate_is_refused_too(tmp_path):
    text = "config:\n  trailguard:tags:\n    team: a\n    team: b\n"
    with pytest.raises(ConfigError, match="duplicate key 'team' at line 4 \\(first at line 3\\)"):
        read_stack_config(project(tmp_path, text), "dev")


def test_merge_keys_overridden_by_the_mapping_are_not_duplicates(tmp_path):
    text = ("base: &base {team: a, env: dev}\n"
            "config:\n"
            "  trailguard:tags:\n"
            "    <<: *base\n"
            "    env: prod\n")
    assert read_stack_config(project(tmp_path, text), "dev")["tags"] == {"team": "a", "env": "prod"}


def test_an_alias_bomb_is_refused_quickly_and_small(tmp_path):
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 10):  # 10^10 values once expanded, in under 1 KB
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    lines.append("config:\n  trailguard:tags:\n    bomb: *a9")
    text = "\n".join(lines) + "\n"
    assert len(text) < 1024
    # refused from the composed node graph, before anything is expanded (the old reader expanded it)
    with pytest.raises(ConfigError, match=f"excessive aliasing: .* more than {MAX_EXPANDED_NODES:,} values"):
        read_stack_config(project(tmp_path, text), "dev")


def test_a_few_aliases_are_fine(tmp_path):
    text = ("emails: &emails [{protocol: email, endpoint: soc@example.com}]\n"
            "config:\n"
            "  trailguard:notifications:\n"
            "    topics:\n"
            "      a: {subscriptions: *emails}\n"
            "      b: {subscriptions: *emails}\n"
            "    defaultTopic: a\n")
    config = read_stack_config(project(tmp_path, text), "dev")
    assert config["notifications"]["topics"]["b"]["subscriptions"][0]["endpoint"] == "soc@example.com"


def test_stack_file_lines_map_each_key_and_fall_back_to_the_enclosing_one(tmp_path):
    from trailguard.config import line_of, stack_file_lines

    text = ("config:\n"
            "  trailguard:overrides:\n"
            "    root-usage:\n"
            "      period: 45\n"
            "  trailguard:tags: '{\"Team\": \"sec\"}'\n"
            "  detections:\n"
            "    - seed\n")
    lines = stack_file_lines(project(tmp_path, text), "dev")
    assert line_of("trailguard:overrides.root-usage.period", lines) == 4
    assert line_of("trailguard:tags.Team", lines) == 5  # inside a JSON string: the key's own line
    assert line_of("trailguard:detections[0]", lines) == 7  # a key without namespace is trailguard's
    assert line_of("stack name 'dev'", lines) is None


def test_stack_file_lines_walk_an_alias_bomb_once(tmp_path):
    from trailguard.config import stack_file_lines

    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 10):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    lines.append("config:\n  trailguard:tags:\n    bomb: *a9")
    found = stack_file_lines(project(tmp_path, "\n".join(lines) + "\n"), "dev")
    assert found["trailguard:tags.bomb"] == 13 and len(found) < 200
