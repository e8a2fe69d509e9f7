"""The loader accepts a well-formed catalogue and rejects each kind of defect with a message naming
the file, the detection and the field, and saying what is allowed."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any, Callable

import pytest

from trailguard.catalog import Catalog, CatalogError, Detection, Sample, Severity, load_catalog
from trailguard.patterns import PatternSyntaxError, compile_pattern

from .catalog_files import cloudtrail_event, mutated, valid_detection, write_detection, write_presets


def _load_one(tmp_path: Path, data: Any, stem: str | None = None) -> tuple[Path, CatalogError]:
    path = write_detection(tmp_path, data, stem)
    with pytest.raises(CatalogError) as caught:
        load_catalog(tmp_path)
    return path, caught.value


def _set(path: str, value: Any) -> Callable[[dict], None]:
    """A change that sets `data[a][b]... = value` for `path` "a.b" (list indexes as digits)."""
    def change(data: dict) -> None:
        *parents, last = path.split(".")
        target: Any = data
        for key in parents:
            target = target[int(key)] if key.isdigit() else target[key]
        target[int(last) if last.isdigit() else last] = value
    return change


def _delete(key: str) -> Callable[[dict], None]:
    return lambda data: data.pop(key)


# (test id, change to the valid detection, field named in the error, fragments the message must contain)
MALFORMED = [
    ("missing-runbook", _delete("runbook"), "runbook", ["required field is missing"]),
    ("unknown-field", lambda d: d.update(pattern="{ $.eventName = X }"), "pattern",
     ["unknown field", "allowed: id, title"]),
    ("title-not-text", _set("title", ["a", "list"]), "title", ["expected a non-empty string, got a list"]),
    ("id-not-kebab", _set("id", "Policy_Watch"), "id", ["not kebab-case", "root-usage"]),
    ("metric-not-pascal", _set("metric", "policy-watch"), "metric",
     ["not a PascalCase metric name", "RootAccountUsage"]),
    ("severity-unknown", _set("severity", "urgent"), "severity", ["'urgent' is not a severity",
                                                                  "allowed: low, medium, high, critical"]),
    ("profile-unknown", _set("patterns.prowler", "{ $.eventName = CreatePolicy }"), "patterns.prowler",
     ["unknown profile 'prowler'", "allowed: default, securityhub"]),
    ("default-missing", lambda d: d["patterns"].pop("default"), "patterns.default", ["needs a 'default' pattern"]),
    ("pattern-not-text", _set("patterns.default", 42), "patterns.default", ["expected the pattern text as a string"]),
    ("pattern-too-long", _set("patterns.default", "{ " + " || ".join(["($.eventName = CreatePolicy)"] * 40) + " }"),
     "patterns.default", ["invalid filter pattern", "at most 1024"]),
    ("reference-framework-unknown", _set("references.0.framework", "NIST"), "references[0].framework",
     ["unknown framework 'NIST'", "allowed: CIS, SecurityHub"]),
    ("cis-reference-without-version", lambda d: d["references"][0].pop("version"), "references[0].version",
     ["needs the benchmark version", "'1.4.0'"]),
    ("securityhub-reference-with-version", _set("references.1.version", "1.4.0"), "references[1].version",
     ["has no version"]),
    ("positives-empty", _set("positives", []), "positives", ["non-empty list of samples"]),
    ("sample-not-mapping", _set("positives.0", "CreatePolicy"), "positives[0]", ["expected a mapping"]),
    ("sample-name-not-kebab", _set("positives.0.name", "Create Policy"), "positives[0].name",
     ["kebab-case sample name"]),
    ("sample-name-twice", _set("negatives.0.name", "create-policy"), "negatives[0].name",
     ["'create-policy' is used twice"]),
    ("sample-unknown-key", _set("positives.0.expect", "match"), "positives[0].expect",
     ["unknown sample field", "allowed: name, event"]),
    ("sample-profile-unknown", _set("negatives.1.profiles", ["prowler"]),
     "negatives[1] (organizations-create-policy).profiles",
     ["this detection's pattern profiles (default, securityhub)", "['prowler']"]),
    ("sample-not-json", _set("positives.0.event", '{"eventName": "CreatePolicy",'),
     "positives[0] (create-policy).event",
     ["not valid JSON", "line 1 column"]),
    ("sample-json-not-object", _set("positives.0.event", '["CreatePolicy"]'),
     "positives[0] (create-policy).event",
     ["must be a JSON object", "got a list"]),
    ("sample-not-cloudtrail", _set("positives.0.event", {"eventName": "CreatePolicy"}),
     "positives[0] (create-policy).event",
     ["not a CloudTrail event: missing eventVersion", "required: eventVersion, userIdentity"]),
    ("sample-account-as-number", _set("positives.0.event.userIdentity.accountId", 111122223333),
     "positives[0] (create-policy).event.userIdentity.accountId",
     ["writes this field as a string", "quote it in YAML"]),
    ("sample-version-as-number", _set("positives.0.event.eventVersion", 1.09),
     "positives[0] (create-policy).event.eventVersion", ["writes this field as a string"]),
]


@pytest.mark.parametrize(("change", "field", "fragments"), [c[1:] for c in MALFORMED], ids=[c[0] for c in MALFORMED])
def test_rejects_malformed_detection(tmp_path: Path, change, field: str, fragments: list[str]) -> None:
    data = mutated(change)
    path, error = _load_one(tmp_path, data, stem="policy-watch")
    assert error.source == str(path)
    assert error.detection == data["id"]
    assert error.field == field
    message = str(error)
    assert message.startswith(f"{path}: detection {error.detection!r}: field {field!r}: ")
    for fragment in fragments:
        assert fragment in message


def test_invalid_pattern_carries_the_engines_caret_message(tmp_path: Path) -> None:
    broken = "{ ($.eventName = CreatePolicy) && }"
    with pytest.raises(PatternSyntaxError) as engine:
        compile_pattern(broken)
    path, error = _load_one(tmp_path, mutated(_set("patterns.securityhub", broken)))
    assert error.field == "patterns.securityhub"
    assert str(engine.value) in str(error)  # message, pattern and the caret line
    assert "^" in str(error).splitlines()[-1]


def test_id_must_match_file_name(tmp_path: Path) -> None:
    path, error = _load_one(tmp_path, valid_detection(), stem="policy-watcher")
    assert (error.source, error.detection, error.field) == (str(path), "policy-watch", "id")
    assert "must equal the file name stem 'policy-watcher'" in str(error)


def test_duplicate_id_names_both_files(tmp_path: Path) -> None:
    first = write_detection(tmp_path, valid_detection("alpha", "Alpha"))
    second = write_detection(tmp_path, valid_detection("alpha", "Beta"), stem="beta")
    with pytest.raises(CatalogError) as caught:
        load_catalog(tmp_path)
    error = caught.value
    assert (error.source, error.detection, error.field) == (str(second), "alpha", "id")
    assert f"duplicate id: {first} already defines 'alpha'" in str(error)


def test_duplicate_metric_names_both_files(tmp_path: Path) -> None:
    first = write_detection(tmp_path, valid_detection("alpha", "SharedMetric"))
    second = write_detection(tmp_path, valid_detection("beta", "SharedMetric"))
    with pytest.raises(CatalogError) as caught:
        load_catalog(tmp_path)
    error = caught.value
    assert (error.source, error.detection, error.field) == (str(second), "beta", "metric")
    assert f"already used by detection 'alpha' in {first}" in str(error)


def test_invalid_yaml_names_the_file(tmp_path: Path) -> None:
    path = write_detection(tmp_path, "id: policy-watch\ntitle: [unclosed\n", stem="policy-watch")
    with pytest.raises(CatalogError) as caught:
        load_catalog(tmp_path)
    assert caught.value.source == str(path)
    assert "not valid YAML" in str(caught.value)


def test_file_must_hold_a_mapping(tmp_path: Path) -> None:
    path = write_detection(tmp_path, "- just\n- a list\n", stem="policy-watch")
    with pytest.raises(CatalogError) as caught:
        load_catalog(tmp_path)
    assert str(caught.value) == f"{path}: expected a mapping of detection fields, got a list"


def test_empty_directory_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="no detection files"):
        load_catalog(tmp_path)


def test_yaml_keeps_cloudtrail_strings_as_strings(tmp_path: Path) -> None:
    """YAML 1.1 would read `MFAUsed: No` as false and an unquoted eventTime as a datetime."""
    data = valid_detection()
    write_detection(tmp_path, data)
    path = tmp_path / "detections" / "policy-watch.yaml"
    text = path.read_text()
    text = text.replace("eventTime: '2026-03-14T09:21:07Z'", "eventTime: 2026-03-14T09:21:07Z", 1)
    text = text.replace("requestParameters: null", "requestParameters: {MFAUsed: No, enabled: true}", 1)
    path.write_text(text)
    sample = load_catalog(tmp_path).get("policy-watch").samples[0]
    assert sample.event["eventTime"] == "2026-03-14T09:21:07Z"
    assert sample.event["requestParameters"] == {"MFAUsed": "No", "enabled": True}


def test_valid_detection_loads_as_frozen_records(tmp_path: Path) -> None:
    write_detection(tmp_path, valid_detection())
    catalog = load_catalog(tmp_path)
    detection = catalog.get("policy-watch")
    assert detection.severity is Severity.HIGH
    assert detection.source == str(tmp_path / "detections" / "policy-watch.yaml")
    assert [s.name for s in detection.samples] == ["create-policy", "get-policy", "organizations-create-policy"]
    assert detection.samples[2].profiles == ("default",)
    with pytest.raises(dataclasses.FrozenInstanceError):
        detection.metric = "Other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        detection.patterns["default"] = "{ $.x = 1 }"  # type: ignore[index]
    with pytest.raises(TypeError):
        catalog.detections["other"] = detection  # type: ignore[index]


def test_profile_specific_samples(tmp_path: Path) -> None:
    """A negative only `default` excludes is not part of the everywhere-true `negatives`."""
    write_detection(tmp_path, valid_detection())
    detection = load_catalog(tmp_path).get("policy-watch")
    assert [e["eventName"] for e in detection.negatives] == ["GetPolicy"]
    assert [e["eventSource"] for e in detection.negatives_for("default")] == ["iam.amazonaws.com",
                                                                              "organizations.amazonaws.com"]
    assert len(detection.negatives_for("securityhub")) == 1
    assert detection.positives_for("securityhub") == detection.positives


def test_samples_follow_the_default_fallback(tmp_path: Path) -> None:
    """Without its own securityhub pattern a detection deploys `default` there, samples included."""
    data = valid_detection()
    del data["patterns"]["securityhub"]
    data["references"] = data["references"][:1]
    write_detection(tmp_path, data)
    detection = load_catalog(tmp_path).get("policy-watch")
    assert detection.pattern_for("securityhub") == detection.patterns["default"]
    assert detection.samples_for("securityhub") == detection.samples_for("default") == detection.samples
    with pytest.raises(ValueError, match="unknown profile 'prowler'; allowed: default, securityhub"):
        detection.samples_for("prowler")


# --- presets ---


def _two_detections(tmp_path: Path) -> None:
    write_detection(tmp_path, valid_detection("alpha", "Alpha"))
    write_detection(tmp_path, valid_detection("beta", "Beta"))


def test_presets_set_order_and_resolve(tmp_path: Path) -> None:
    _two_detections(tmp_path)
    write_presets(tmp_path, {"first": ["beta"], "all": ["beta", "alpha"]})
    catalog = load_catalog(tmp_path)
    assert list(catalog.detections) == ["beta", "alpha"]
    assert catalog.resolve(["alpha", "first", "all"]) == ("alpha", "beta")
    assert catalog.resolve("first") == ("beta",)
    assert catalog.presets_of("beta") == ("first", "all")


def test_without_presets_file_all_is_every_detection(tmp_path: Path) -> None:
    _two_detections(tmp_path)
    catalog = load_catalog(tmp_path)
    assert dict(catalog.presets) == {"all": ("alpha", "beta")}


@pytest.mark.parametrize(("presets", "field", "fragment"), [
    ({"first": ["alpah"], "all": ["alpha", "beta"]}, "presets.first",
     "unknown detection 'alpah' (did you mean 'alpha'?); allowed: alpha, beta"),
    ({"first": ["alpha"]}, "presets.all", "preset 'all' is required"),
    ({"all": ["alpha"]}, "presets.all", "does not list 'beta'"),
    ({"alpha": ["beta"], "all": ["alpha", "beta"]}, "presets.alpha", "same name as a detection"),
    ({"first": ["alpha", "alpha"], "all": ["alpha", "beta"]}, "presets.first", "lists 'alpha' twice"),
    ({"first": [], "all": ["alpha", "beta"]}, "presets.first", "non-empty list of detection ids"),
], ids=["unknown-id", "all-missing", "all-incomplete", "name-clash", "listed-twice", "empty"])
def test_rejects_malformed_presets(tmp_path: Path, presets: dict, field: str, fragment: str) -> None:
    _two_detections(tmp_path)
    path = write_presets(tmp_path, presets)
    with pytest.raises(CatalogError) as caught:
        load_catalog(tmp_path)
    assert (caught.value.source, caught.value.field) == (str(path), field)
    assert fragment in str(caught.value)
    assert str(caught.value).startswith(f"{path}: field {field!r}: ")


def test_get_and_resolve_suggest_the_nearest_name(tmp_path: Path) -> None:
    _two_detections(tmp_path)
    catalog = load_catalog(tmp_path)
    with pytest.raises(CatalogError, match=r"unknown detection 'alpa' \(did you mean 'alpha'\?\); allowed: alpha, beta"):
        catalog.get("alpa")
    with pytest.raises(CatalogError, match=r"unknown detection or preset 'al' \(did you mean 'all'\?\)"):
        catalog.resolve(["beta", "al"])
    with pytest.raises(CatalogError, match=r"unknown detection or preset 'zzz'; allowed: all, alpha, beta"):
        catalog.resolve(["zzz"])


# --- the packaged catalogue ---


def test_default_load_is_cached_and_complete() -> None:
    catalog = load_catalog()
    assert catalog is load_catalog()
    assert isinstance(catalog, Catalog)
    assert all(isinstance(d, Detection) and all(isinstance(s, Sample) for s in d.samples)
               for d in catalog.detections.values())


def test_cloudtrail_event_helper_is_accepted(tmp_path: Path) -> None:
    """Guards the helper the cases above mutate: the unmutated detection must load."""
    data = valid_detection()
    data["positives"].append({"name": "as-json-text", "event": json.dumps(cloudtrail_event())})
    write_detection(tmp_path, data)
    assert load_catalog(tmp_path).get("policy-watch").samples[1].event == cloudtrail_event()


def test_records_built_without_samples_keep_their_events() -> None:
    event = cloudtrail_event()
    detection = Detection(id="x", title="X", why="w", runbook="r", severity=Severity.LOW, metric="X", references=(),
                          patterns={"default": "{ $.eventName = CreatePolicy }"}, positives=(event,), negatives=())
    assert detection.positives_for("securityhub") == (event,)
    assert detection.negatives_for("default") == ()
    with pytest.raises(ValueError, match="unknown profile"):
        detection.positives_for("prowler")


@pytest.mark.parametrize(("change", "field", "fragments"), [
    (_set("positives.0.event.eventName", "GetPolicy"), "positives[0] (create-policy)",
     ["this event does not match the pattern (default profile)", "does not prove it"]),
    (_set("negatives.0.event.eventName", "CreatePolicy"), "negatives[0] (get-policy)",
     ["this event matches the pattern (default profile)"]),
    (_set("negatives.1.profiles", ["default", "securityhub"]), "negatives[1] (organizations-create-policy)",
     ["matches the pattern (securityhub profile)", "{($.eventName=CreatePolicy)}"]),
], ids=["positive-misses", "negative-matches", "negative-matches-another-profile"])
def test_samples_must_prove_their_patterns(tmp_path: Path, change, field: str, fragments: list[str]) -> None:
    """The rule book every detection shares: each sample proves every pattern it names."""
    _, error = _load_one(tmp_path, mutated(change), stem="policy-watch")
    assert error.field == field
    for fragment in fragments:
        assert fragment in str(error)


def test_profile_free_samples_are_those_every_profile_shares(tmp_path: Path) -> None:
    write_detection(tmp_path, valid_detection())
    detection = load_catalog(tmp_path).get("policy-watch")
    assert [s.name for s in detection.profile_free_samples()] == ["create-policy", "get-policy"]
    bare = dataclasses.replace(detection, samples=())
    assert [(s.name, s.positive) for s in bare.profile_free_samples()] == [("#1", True), ("#1", False)]
