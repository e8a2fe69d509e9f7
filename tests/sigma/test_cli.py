"""`trailguard sigma convert`: text and JSON output, exit statuses, bad input named by file."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.sigma.rules import EDGE, SIGMAHQ
from trailguard.cli import main

EXACT = SIGMAHQ / "aws_cloudtrail_disable_logging.yml"
CAVEATS = SIGMAHQ / "aws_cloudtrail_pua_trufflehog.yml"
REFUSED = SIGMAHQ / "aws_update_login_profile.yml"


def run(*args: str):
    return CliRunner().invoke(main, ["sigma", "convert", *args])


def test_text_output_for_an_exact_rule():
    result = run(str(EXACT))
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        f"{EXACT}: AWS CloudTrail Important Change\n"
        "  verdict: exact\n"
        '  pattern: { $.eventSource = "cloudtrail.amazonaws.com" && ($.eventName = "StopLogging" || '
        '$.eventName = "UpdateTrail" || $.eventName = "DeleteTrail") }\n'
        "  attribution: Sigma 4db60cc0-36fb-42b7-9b58-a5b53019fb74 by vitaliy0x1\n"
        "  link: https://github.com/SigmaHQ/sigma/blob/8eaafff1f2845a696050e05e72ba1140ee190698/rules/cloud/aws/"
        "cloudtrail/aws_cloudtrail_disable_logging.yml\n"
        "\n1 rule(s): 1 exact, 0 with caveats, 0 refused\n")


def test_caveats_convert_and_exit_0():
    result = run(str(EXACT), str(CAVEATS))
    assert result.exit_code == 0
    assert "  caveat (case, userAgent): Sigma compares userAgent case-insensitively" in result.stdout
    assert result.stdout.endswith("2 rule(s): 1 exact, 1 with caveats, 0 refused\n")


def test_a_refused_rule_is_printed_with_its_reason_and_exits_1():
    result = run(str(EXACT), str(REFUSED))
    assert result.exit_code == 1
    assert "  verdict: refused\n  refused: field-reference: userIdentity.arn|fieldref" in result.stdout
    assert "  attribution: Sigma 055fb148-60f8-462d-ad16-26926ce050f1 by toffeebr33k\n" in result.stdout
    assert result.stderr == ""


def test_json_output_has_every_field_and_the_same_exit_status():
    result = run("--json", str(CAVEATS), str(REFUSED))
    assert result.exit_code == 1
    caveats, refused = json.loads(result.stdout)
    assert caveats["verdict"] == "caveats" and caveats["pattern"] == '{ $.userAgent = "TruffleHog" }'
    assert caveats["caveats"] == [{"field": "userAgent", "kind": "case", "message": caveats["caveats"][0]["message"]}]
    assert caveats["attribution"].startswith("Sigma a840e606-7c8c-4684-9bc1-eb6b6155127f by Swachchhanda")
    assert refused["verdict"] == "refused" and refused["pattern"] is None
    assert refused["refusal"].startswith("field-reference: ")
    assert set(caveats) == {"rule_id", "title", "source", "verdict", "pattern", "caveats", "refusal", "level",
                            "status", "description", "author", "references", "falsepositives", "link",
                            "attribution"}


def test_a_directory_is_searched_recursively(tmp_path: Path):
    nested = tmp_path / "a" / "b"
    nested.mkdir(parents=True)
    (nested / "one.yaml").write_bytes(EXACT.read_bytes())
    (tmp_path / "two.yml").write_bytes(CAVEATS.read_bytes())
    (tmp_path / "notes.txt").write_text("not a rule")
    result = run("--json", str(tmp_path))
    assert result.exit_code == 0
    assert [Path(c["source"]).name for c in json.loads(result.stdout)] == ["one.yaml", "two.yml"]


def test_the_shared_rule_set_converts_with_three_refusals():
    result = run("--json", str(SIGMAHQ))
    assert result.exit_code == 1
    verdicts = [c["verdict"] for c in json.loads(result.stdout)]
    assert len(verdicts) == 40 and verdicts.count("refused") == 3


@pytest.mark.parametrize(("content", "message"), [
    ("title: [unclosed\n", "not valid YAML"),
    ("- a\n- b\n", "not a Sigma rule"),
    ("title: x\n", "not a valid Sigma rule"),
    ("title: x\nlogsource:\n  product: aws\ndetection:\n  sel:\n    a|nosuchmodifier: b\n  condition: sel\n",
     "not a valid Sigma rule"),
    ("title: x\nlogsource:\n  product: aws\n  service: cloudtrail\ndetection:\n  sel:\n    a: b\n"
     "  condition: sel and missing\n",
     "not a valid Sigma rule"),
    ("", "no Sigma rule in the file"),
])
def test_bad_input_exits_2_naming_the_file(tmp_path: Path, content: str, message: str):
    bad = tmp_path / "bad.yml"
    bad.write_text(content)
    result = run(str(EXACT), str(bad))
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {bad}: {message}")
    assert result.stdout == ""


def test_unreadable_and_missing_inputs_exit_2(tmp_path: Path):
    binary = tmp_path / "binary.yml"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    assert run(str(binary)).stderr.startswith(f"error: {binary}: cannot read the file")
    missing = tmp_path / "missing.yml"
    result = run(str(missing))
    assert (result.exit_code, result.stderr) == (2, f"error: {missing}: no such file or directory\n")
    empty = tmp_path / "empty"
    empty.mkdir()
    assert run(str(empty)).stderr == f"error: {empty}: no *.yml or *.yaml Sigma rule files in the directory\n"


def test_no_argument_is_a_usage_error():
    assert run().exit_code == 2


def test_without_pysigma_the_command_names_the_sigma_extra(monkeypatch: pytest.MonkeyPatch):
    for name in [m for m in sys.modules if m == "sigma" or m.startswith("sigma.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "sigma", None)
    result = run(str(EXACT))
    assert result.exit_code == 1
    assert "trailguard sigma needs the 'sigma' extra" in result.stderr
    assert "pip install 'trailguard[sigma]'" in result.stderr


def test_help_names_the_exit_statuses():
    result = CliRunner().invoke(main, ["sigma", "convert", "--help"])
    assert result.exit_code == 0
    assert "Exit status 0" in result.stdout and "Detection Rule" in result.stdout


def test_edge_directory_converts_every_rule_including_a_correlation():
    result = run("--json", str(EDGE))
    assert result.exit_code == 1
    assert any(c["refusal"] and c["refusal"].startswith("correlation:") for c in json.loads(result.stdout))
