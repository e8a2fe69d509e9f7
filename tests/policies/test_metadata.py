"""Policy metadata (pulumi-policy 1.21): every policy reaches the engine, through the analyzer
servicer's `GetAnalyzerInfo`, with a severity, a compliance framework and its controls,
remediation steps and a docs URL; the detection policies' controls are the catalogue's
references; every control id is one the research digest names; docs/policies.md shows them."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import pytest
from pulumi.runtime import proto
from trailguard_policies.metadata import (
    CIS_VERSION,
    DOCS_BASE_URL,
    FRAMEWORKS,
    POLICY_METADATA,
    metadata_arguments,
)
from trailguard_policies.props import TOPIC

import trailguard_policies
from trailguard.catalog import SEED_PRESET, load_catalog

from .test_protocol import analyze, servicer

ROOT = Path(__file__).parents[2]
FIXTURE = json.loads((ROOT / "tests" / "fixtures" / "policies" / "reference-controls.json").read_text(encoding="utf-8"))
REFERENCE = ROOT.parent / "shared" / "reference" / "cis-monitoring.md"
PAGE = ROOT / "docs" / "policies.md"
SCRIPT = ROOT / "scripts" / "gen_policy_docs.py"
CATALOG = load_catalog()
NAME_OF = {"CIS": FRAMEWORKS["CIS"].name, "SecurityHub": FRAMEWORKS["SecurityHub"].name}
DETECTION_POLICIES = ("required-detections", "detections-protected")


def analyzer_info() -> dict[str, proto.PolicyInfo]:
    return {policy.name: policy for policy in servicer().GetAnalyzerInfo(None, None).policies}


def tag_controls(policy: proto.PolicyInfo) -> dict[str, set[str]]:
    """{framework key: control ids} from the policy's `<framework tag>:<control>` tags."""
    by_tag = {framework.tag: key for key, framework in FRAMEWORKS.items()}
    controls: dict[str, set[str]] = {key: set() for key in FRAMEWORKS}
    for tag in policy.tags:
        prefix, _, control = tag.partition(":")
        assert prefix in by_tag and control, f"{policy.name}: tag {tag!r} is not '<framework tag>:<control>'"
        controls[by_tag[prefix]].add(control)
    return controls


def catalogue_references(detection_ids) -> dict[str, set[str]]:
    """The union of the detections' catalogue references: CIS at the cited version, and Security Hub."""
    references = [r for d in detection_ids for r in CATALOG.get(d).references]
    return {
        "CIS": {r.control for r in references if r.framework == "CIS" and r.version == CIS_VERSION},
        "SecurityHub": {r.control for r in references if r.framework == "SecurityHub"},
    }


# --- what GetAnalyzerInfo sends ---------------------------------------------------------------


def test_every_policy_has_all_metadata_in_analyzer_info() -> None:
    info = analyzer_info()
    assert list(info) == [policy.name for policy in trailguard_policies.ALL_POLICIES]
    assert set(info) == set(POLICY_METADATA), "metadata for a policy the pack does not have"
    for name, policy in info.items():
        declared = POLICY_METADATA[name]
        assert proto.PolicySeverity.Name(policy.severity) == f"POLICY_SEVERITY_{declared.severity.name}", name
        assert policy.severity != proto.POLICY_SEVERITY_UNSPECIFIED, name
        assert policy.framework.name in NAME_OF.values(), name
        assert policy.framework.reference and policy.framework.specification, name
        if policy.framework.name == NAME_OF["CIS"]:
            assert policy.framework.version == CIS_VERSION, name
        assert len(policy.remediation_steps) > 40, f"{name}: remediation steps too short to act on"
        assert policy.url == f"{DOCS_BASE_URL}#{name}"
        assert policy.tags, name


def test_framework_reference_lists_the_primary_frameworks_tagged_controls() -> None:
    for name, policy in analyzer_info().items():
        primary = next(key for key, label in NAME_OF.items() if label == policy.framework.name)
        referenced = policy.framework.reference.split(", ")
        assert len(referenced) == len(set(referenced)), name
        assert set(referenced) == tag_controls(policy)[primary], name
        for key, controls in tag_controls(policy).items():
            if key != primary and controls:  # the other framework is named in the specification
                assert all(control in policy.framework.specification for control in controls), name


def test_a_violation_carries_the_policy_severity() -> None:
    diagnostics = analyze(servicer(), TOPIC, "security", {"kmsMasterKeyId": "alias/aws/sns"})
    assert [d.policyName for d in diagnostics] == ["alarm-topic-can-deliver"]
    assert diagnostics[0].severity == proto.POLICY_SEVERITY_HIGH


def test_metadata_for_an_unknown_policy_names_the_module() -> None:
    with pytest.raises(KeyError, match="no entry in POLICY_METADATA .*metadata.py"):
        metadata_arguments("no-such-policy")


# --- the detection policies' controls are the catalogue's references ----------------------------


@pytest.mark.parametrize("name", DETECTION_POLICIES)
def test_detection_policy_controls_are_the_catalogue_references(name: str) -> None:
    policy = analyzer_info()[name]
    assert tag_controls(policy) == catalogue_references(CATALOG.detections)
    seed = catalogue_references(CATALOG.presets[SEED_PRESET])
    default_sentence = re.search(r"the default \(the seed preset\) covers CIS (.*?) and Security Hub (.*?);",
                                 policy.framework.specification)
    assert default_sentence, policy.framework.specification
    assert set(default_sentence[1].split(", ")) == seed["CIS"]
    assert set(default_sentence[2].split(", ")) == seed["SecurityHub"]


def test_the_catalogue_covers_cis_4_1_to_4_15_and_cloudwatch_1_to_14() -> None:
    """What the detection policies cite when the whole catalogue is required: all metric-filter
    monitoring controls (CIS 4.16, Security Hub enabled, is no metric filter)."""
    controls = tag_controls(analyzer_info()["required-detections"])
    assert controls["CIS"] == {f"4.{n}" for n in range(1, 16)}
    assert controls["SecurityHub"] == {f"CloudWatch.{n}" for n in range(1, 15)}
    cis_order = analyzer_info()["required-detections"].framework.reference.split(", ")
    assert cis_order == [f"4.{n}" for n in range(1, 16)], "controls in numeric order"


# --- every control id is one the research digest names -----------------------------------------


def reference_control_ids(text: str, cis_version: str) -> dict:
    """The ids cis-monitoring.md names: the CIS control column of `cis_version` in its control-id
    table, and every Security Hub CloudWatch.x / CloudTrail.x id, slash lists (`CloudTrail.1/.2`,
    `CloudWatch.15/16/17`) expanded."""
    cis: list[str] = []
    lines = text.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("| Topic |") and f"v{cis_version}" in line)
    column = next(i for i, cell in enumerate(lines[header].split("|")) if f"v{cis_version}" in cell)
    for row in lines[header + 2:]:
        if not row.startswith("|"):
            break
        control = re.match(r"\s*(\d+\.\d+)\b", row.split("|")[column])
        if control:
            cis.append(control[1])
    securityhub: set[str] = set()
    for service, first, rest in re.findall(r"\b(CloudWatch|CloudTrail)\.(\d+)((?:/\.?\d+)*)", text):
        securityhub.update(f"{service}.{n}" for n in [first, *re.findall(r"\d+", rest)])
    return {"cis": {cis_version: cis}, "securityhub": sorted(securityhub)}


def test_reference_parser_reads_the_table_column_and_the_id_lists() -> None:
    text = (
        "| Topic | v1.2.0 | v4.0.1 / v5.0.0 | Profile |\n|---|---|---|---|\n"
        '| Unauthorized | 3.1 | 4.1 "Ensure ..." | L2 |\n| Orgs | — | 4.15 | L1 |\n\n'
        "**CloudWatch.2 — x** and CloudTrail.1/.4 and CloudWatch.15/16, CloudWatch.1–14\n"
    )
    found = reference_control_ids(text, "5.0.0")
    assert found["cis"] == {"5.0.0": ["4.1", "4.15"]}
    assert found["securityhub"] == sorted(["CloudWatch.1", "CloudWatch.2", "CloudTrail.1", "CloudTrail.4",
                                           "CloudWatch.15", "CloudWatch.16"])


def test_every_control_id_is_one_the_reference_names() -> None:
    named = {"CIS": set(FIXTURE["cis"][CIS_VERSION]), "SecurityHub": set(FIXTURE["securityhub"])}
    for name, policy in analyzer_info().items():
        for key, controls in tag_controls(policy).items():
            assert controls <= named[key], f"{name} cites {sorted(controls - named[key])}, not in the reference"


def test_fixture_matches_the_shared_reference() -> None:
    if not REFERENCE.exists():
        pytest.skip(f"{REFERENCE} is absent; the fixture copy is checked above")
    found = reference_control_ids(REFERENCE.read_text(encoding="utf-8"), CIS_VERSION)
    assert found["cis"] == FIXTURE["cis"]
    assert found["securityhub"] == sorted(FIXTURE["securityhub"])


# --- docs/policies.md -----------------------------------------------------------------------------


def _script():
    spec = importlib.util.spec_from_file_location("gen_policy_docs", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_docs_page_is_current() -> None:
    script = _script()
    current = PAGE.read_text(encoding="utf-8")
    assert current == script.splice(current, script.render_block()), (
        "docs/policies.md is stale: run python scripts/gen_policy_docs.py")


def test_docs_page_has_each_policys_url_section_severity_and_remediation() -> None:
    page = PAGE.read_text(encoding="utf-8")
    for name, policy in analyzer_info().items():
        anchor = policy.url.removeprefix(f"{DOCS_BASE_URL}#")
        section = page.split(f"\n#### {anchor}\n", 1)
        assert len(section) == 2, f"no section '#### {anchor}' for {name}'s url"
        body = section[1].split("\n#### ", 1)[0]
        severity = proto.PolicySeverity.Name(policy.severity).removeprefix("POLICY_SEVERITY_").lower()
        assert f"Severity **{severity}**" in body
        assert policy.remediation_steps in body
        assert policy.framework.specification in body


def test_script_checks_then_rewrites_a_stale_page(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    script = _script()
    page = tmp_path / "policies.md"
    page.write_text(f"# Pack\n{script.BEGIN}\nstale\n{script.END}\nafter\n", encoding="utf-8")
    assert script.main(["--check", "--page", str(page)]) == 1
    assert "is stale: run python scripts/gen_policy_docs.py" in capsys.readouterr().err
    assert script.main(["--page", str(page)]) == 0
    assert script.main(["--check", "--page", str(page)]) == 0
    text = page.read_text(encoding="utf-8")
    assert "| [`required-detections`](#required-detections) | critical |" in text
    assert text.startswith("# Pack\n") and text.endswith(f"{script.END}\nafter\n")
    with pytest.raises(ValueError, match="lacks the markers"):
        script.splice("no markers", "x")
