"""Load and validate the detection catalogue from its data files.

The catalogue is data: one YAML file per detection under `detections/` and the presets in
`presets.yaml`. Everything is checked here, once, before anything is deployed: a malformed entry
raises `CatalogError` naming the file, the detection and the field, and saying what is allowed.
Every pattern goes through the filter-pattern engine, so a pattern AWS would reject (syntax,
1024-character cap) never reaches a stack.
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, Iterable, Mapping, Sequence

import yaml

from trailguard.patterns import PatternSyntaxError, compile_pattern

from .model import PROFILES, Detection, Reference, Sample, Severity

CATALOG_DIR = Path(__file__).parent
"""The packaged catalogue: `detections/*.yaml` and `presets.yaml`."""

DETECTION_KEYS_REQUIRED = ("id", "title", "why", "runbook", "severity", "metric", "references", "patterns",
                           "positives", "negatives")
DETECTION_KEYS_OPTIONAL = ("notes",)
SAMPLE_KEYS_REQUIRED = ("name", "event")
SAMPLE_KEYS_OPTIONAL = ("profiles", "note")
REFERENCE_FRAMEWORKS = ("CIS", "SecurityHub")
ALL_PRESET = "all"
MAX_METRIC_NAME = 255  # CloudWatch metricName quota

KEBAB_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
PASCAL_RE = re.compile(r"^[A-Z][A-Za-z0-9]*$")
VERSION_RE = re.compile(r"^\d+\.\d+\.\d+$")

# Fields every CloudTrail management event carries, and those that must be strings: YAML turns an
# unquoted `eventVersion: 1.08` into a float or `accountId: 111122223333` into an int, which no
# real event has and which would make a sample prove the wrong thing.
EVENT_KEYS_REQUIRED = ("eventVersion", "userIdentity", "eventTime", "eventSource", "eventName", "awsRegion",
                       "eventType")
EVENT_STRING_FIELDS = ("eventVersion", "eventTime", "eventSource", "eventName", "awsRegion", "sourceIPAddress",
                       "userAgent", "eventType", "recipientAccountId", "errorCode", "errorMessage")
IDENTITY_STRING_FIELDS = ("type", "principalId", "arn", "accountId", "invokedBy", "userName")


class CatalogError(ValueError):
    """A catalogue file is malformed, or a name asked of the catalogue does not exist.

    `source`, `detection` and `field` locate the problem (None where not applicable); `str()` is
    the full message.
    """

    def __init__(self, problem: str, *, source: str | None = None, detection: str | None = None,
                 field: str | None = None) -> None:
        self.problem = problem
        self.source = source
        self.detection = detection
        self.field = field
        where = []
        if source:
            where.append(source)
        if detection:
            where.append(f"detection {detection!r}")
        if field:
            where.append(f"field {field!r}")
        super().__init__(": ".join([*where, problem]) if where else problem)


@dataclass(frozen=True, slots=True)
class Catalog:
    """The validated catalogue: detections in catalogue order and the presets naming them."""

    detections: Mapping[str, Detection]
    presets: Mapping[str, tuple[str, ...]]

    def get(self, detection_id: str) -> Detection:
        """The detection `detection_id`; CatalogError lists the valid ids and the nearest one."""
        try:
            return self.detections[detection_id]
        except KeyError:
            raise CatalogError(_unknown("detection", detection_id, self.detections)) from None

    def resolve(self, names: Iterable[str]) -> tuple[str, ...]:
        """Detection ids for `names` (ids or preset names), presets expanded, first occurrence kept."""
        if isinstance(names, str):
            names = (names,)
        resolved: dict[str, None] = {}
        for name in names:
            if name in self.presets:
                resolved.update(dict.fromkeys(self.presets[name]))
            elif name in self.detections:
                resolved[name] = None
            else:
                raise CatalogError(_unknown("detection or preset", name, [*self.presets, *self.detections]))
        return tuple(resolved)

    def presets_of(self, detection_id: str) -> tuple[str, ...]:
        """The presets that include `detection_id`, in preset order."""
        return tuple(name for name, ids in self.presets.items() if detection_id in ids)


def load_catalog(directory: str | Path | None = None) -> Catalog:
    """Load and validate a catalogue; the packaged one (cached) when `directory` is None.

    `directory` holds `detections/*.yaml` and optionally `presets.yaml` (tests build small ones).
    """
    if directory is None:
        return _load_packaged()
    return _load(Path(directory))


@lru_cache(maxsize=1)
def _load_packaged() -> Catalog:
    return _load(CATALOG_DIR)


def _load(directory: Path) -> Catalog:
    detections_dir = directory / "detections"
    files = sorted(detections_dir.glob("*.yaml"))
    if not files:
        raise CatalogError(f"no detection files (*.yaml) in {detections_dir}")
    detections: dict[str, Detection] = {}
    metrics: dict[str, Detection] = {}
    for path in files:
        detection = _load_detection(path, detections)
        if detection.metric in metrics:
            other = metrics[detection.metric]
            raise CatalogError(
                f"metric {detection.metric!r} is already used by detection {other.id!r} in {other.source}; "
                "each detection needs its own metric name", source=str(path), detection=detection.id, field="metric")
        metrics[detection.metric] = detection
        detections[detection.id] = detection
    presets = _load_presets(directory / "presets.yaml", detections)
    ordered = {det_id: detections[det_id] for det_id in presets[ALL_PRESET]}
    return Catalog(MappingProxyType(ordered), MappingProxyType(presets))


# --- one detection file -------------------------------------------------------------------------


def _load_detection(path: Path, seen: Mapping[str, Detection]) -> Detection:
    source = str(path)
    data = _read_yaml(path)
    if not isinstance(data, dict):
        raise CatalogError(f"expected a mapping of detection fields, got {_kind(data)}", source=source)
    raw_id = data.get("id")
    det_id = raw_id if isinstance(raw_id, str) and raw_id else path.stem

    def fail(field: str, problem: str) -> CatalogError:
        return CatalogError(problem, source=source, detection=det_id, field=field)

    unknown = sorted(set(data) - {*DETECTION_KEYS_REQUIRED, *DETECTION_KEYS_OPTIONAL})
    if unknown:
        allowed = ", ".join(DETECTION_KEYS_REQUIRED + DETECTION_KEYS_OPTIONAL)
        raise fail(str(unknown[0]), f"unknown field; allowed: {allowed}")
    for key in DETECTION_KEYS_REQUIRED:
        if key not in data:
            raise fail(key, "required field is missing")

    text = {key: _text(data, key, fail, required=key in DETECTION_KEYS_REQUIRED)
            for key in ("id", "title", "why", "runbook", "metric", "notes")}
    if not KEBAB_RE.match(det_id):
        raise fail("id", f"{det_id!r} is not kebab-case (lower-case words joined by '-', e.g. 'root-usage')")
    if det_id in seen:
        raise fail("id", f"duplicate id: {seen[det_id].source} already defines {det_id!r}")
    if det_id != path.stem:
        raise fail("id", f"id {det_id!r} must equal the file name stem {path.stem!r} (rename the file or the id)")
    metric = text["metric"]
    if not PASCAL_RE.match(metric) or len(metric) > MAX_METRIC_NAME:
        raise fail("metric", f"{metric!r} is not a PascalCase metric name (letters and digits, starting with "
                             f"a capital, at most {MAX_METRIC_NAME} characters, e.g. 'RootAccountUsage')")
    severity = data["severity"]
    allowed_severities = [s.value for s in Severity]
    if severity not in allowed_severities:
        raise fail("severity", f"{severity!r} is not a severity; allowed: {', '.join(allowed_severities)}")

    patterns = _patterns(data["patterns"], fail)
    references = _references(data["references"], fail)
    samples = _samples(data, patterns, fail)
    everywhere = [s for s in samples if all(p in s.profiles for p in patterns)]
    return Detection(
        id=det_id, title=text["title"], why=text["why"], runbook=text["runbook"], severity=Severity(severity),
        metric=metric, references=references, patterns=patterns,
        positives=tuple(s.event for s in everywhere if s.positive),
        negatives=tuple(s.event for s in everywhere if not s.positive),
        notes=text["notes"], samples=samples, source=source)


def _text(data: Mapping[str, Any], key: str, fail, *, required: bool) -> str:
    value = data.get(key, "" if not required else None)
    if not isinstance(value, str) or (required and not value.strip()):
        raise fail(key, f"expected {'a non-empty' if required else 'a'} string, got {_kind(value)}")
    return value.strip()


def _patterns(raw: Any, fail) -> dict[str, str]:
    if not isinstance(raw, dict) or not raw:
        raise fail("patterns", f"expected a mapping of profile -> pattern text, got {_kind(raw)}")
    for profile, text in raw.items():
        field = f"patterns.{profile}"
        if profile not in PROFILES:
            raise fail(field, f"unknown profile {profile!r}; allowed: {', '.join(PROFILES)}")
        if not isinstance(text, str) or not text.strip():
            raise fail(field, f"expected the pattern text as a string, got {_kind(text)}")
        try:
            compile_pattern(text)
        except PatternSyntaxError as err:
            raise fail(field, f"invalid filter pattern: {err}") from None
    if "default" not in raw:
        raise fail("patterns.default", "every detection needs a 'default' pattern")
    return {profile: raw[profile] for profile in PROFILES if profile in raw}


def _references(raw: Any, fail) -> tuple[Reference, ...]:
    if not isinstance(raw, list):
        raise fail("references", f"expected a list (may be empty), got {_kind(raw)}")
    references = []
    for index, item in enumerate(raw):
        field = f"references[{index}]"
        if not isinstance(item, dict) or set(item) - {"framework", "control", "version"}:
            raise fail(field, "expected a mapping with keys framework, control and (for CIS) version")
        framework, control, version = item.get("framework"), item.get("control"), item.get("version")
        if framework not in REFERENCE_FRAMEWORKS:
            raise fail(f"{field}.framework",
                       f"unknown framework {framework!r}; allowed: {', '.join(REFERENCE_FRAMEWORKS)}")
        if not isinstance(control, str) or not control:
            raise fail(f"{field}.control", f"expected the control id as a string (e.g. '4.3'), got {_kind(control)}")
        if framework == "CIS" and not (isinstance(version, str) and VERSION_RE.match(version)):
            raise fail(f"{field}.version", f"a CIS reference needs the benchmark version as a quoted string "
                                           f"like '1.4.0', got {version!r}")
        if framework == "SecurityHub" and version is not None:
            raise fail(f"{field}.version", "a SecurityHub reference has no version")
        references.append(Reference(framework, control, version))
    return tuple(references)


def _samples(data: Mapping[str, Any], patterns: Mapping[str, str], fail) -> tuple[Sample, ...]:
    samples: list[Sample] = []
    names: set[str] = set()
    for key, positive in (("positives", True), ("negatives", False)):
        raw = data[key]
        if not isinstance(raw, list) or not raw:
            raise fail(key, f"expected a non-empty list of samples, got {_kind(raw)}")
        for index, item in enumerate(raw):
            sample = _sample(item, f"{key}[{index}]", positive, patterns, fail)
            if sample.name in names:
                raise fail(f"{key}[{index}].name", f"sample name {sample.name!r} is used twice in this detection")
            names.add(sample.name)
            samples.append(sample)
    return tuple(samples)


def _sample(item: Any, field: str, positive: bool, patterns: Mapping[str, str], fail) -> Sample:
    if not isinstance(item, dict):
        raise fail(field, f"expected a mapping with keys {', '.join(SAMPLE_KEYS_REQUIRED)}, got {_kind(item)}")
    unknown = sorted(set(item) - {*SAMPLE_KEYS_REQUIRED, *SAMPLE_KEYS_OPTIONAL})
    if unknown:
        raise fail(f"{field}.{unknown[0]}",
                   f"unknown sample field; allowed: {', '.join(SAMPLE_KEYS_REQUIRED + SAMPLE_KEYS_OPTIONAL)}")
    name = item.get("name")
    if not isinstance(name, str) or not KEBAB_RE.match(name):
        raise fail(f"{field}.name", f"expected a kebab-case sample name (e.g. 'failed-call'), got {name!r}")
    field = f"{field} ({name})"
    profiles = item.get("profiles", list(patterns))
    if (not isinstance(profiles, list) or not profiles
            or any(p not in patterns for p in profiles)):
        raise fail(f"{field}.profiles", f"expected a non-empty list of this detection's pattern profiles "
                                        f"({', '.join(patterns)}), got {profiles!r}")
    note = item.get("note", "")
    if not isinstance(note, str):
        raise fail(f"{field}.note", f"expected a string, got {_kind(note)}")
    event = _event(item.get("event"), f"{field}.event", fail)
    return Sample(name, event, positive, tuple(p for p in PROFILES if p in profiles), note.strip())


def _event(raw: Any, field: str, fail) -> dict[str, Any]:
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError as err:
            raise fail(field, f"not valid JSON: {err.msg} at line {err.lineno} column {err.colno}") from None
    if not isinstance(raw, dict):
        raise fail(field, f"a CloudTrail event must be a JSON object (a YAML mapping or a JSON string), "
                          f"got {_kind(raw)}")
    missing = [key for key in EVENT_KEYS_REQUIRED if key not in raw]
    if missing:
        raise fail(field, f"not a CloudTrail event: missing {', '.join(missing)} "
                          f"(required: {', '.join(EVENT_KEYS_REQUIRED)})")
    identity = raw["userIdentity"]
    if not isinstance(identity, dict):
        raise fail(f"{field}.userIdentity", f"expected a mapping, got {_kind(identity)}")
    checks = ((raw, EVENT_STRING_FIELDS, ""), (identity, IDENTITY_STRING_FIELDS, "userIdentity."))
    for container, keys, prefix in checks:
        for key in keys:
            if key in container and not isinstance(container[key], str):
                raise fail(f"{field}.{prefix}{key}", f"CloudTrail writes this field as a string, got "
                                                     f"{_kind(container[key])} {container[key]!r}; quote it in YAML")
    try:
        json.dumps(raw, allow_nan=False)
    except (TypeError, ValueError) as err:
        raise fail(field, f"not representable as JSON: {err}") from None
    return raw


# --- presets ------------------------------------------------------------------------------------


def _load_presets(path: Path, detections: Mapping[str, Detection]) -> dict[str, tuple[str, ...]]:
    """Named groups of detection ids. `all` lists every detection and sets catalogue order; without
    a presets file (small test catalogues) `all` is every detection in file-name order."""
    if not path.exists():
        return {ALL_PRESET: tuple(detections)}
    source = str(path)
    data = _read_yaml(path)
    if not isinstance(data, dict) or not data:
        raise CatalogError(f"expected a mapping of preset name -> list of detection ids, got {_kind(data)}",
                           source=source)
    presets: dict[str, tuple[str, ...]] = {}
    for name, ids in data.items():
        where = dict(source=source, field=f"presets.{name}")
        if not isinstance(name, str) or not KEBAB_RE.match(name):
            raise CatalogError(f"preset name {name!r} is not kebab-case", **where)
        if name in detections:
            raise CatalogError(f"preset {name!r} has the same name as a detection; rename the preset", **where)
        if not isinstance(ids, list) or not ids:
            raise CatalogError(f"expected a non-empty list of detection ids, got {_kind(ids)}", **where)
        for det_id in ids:
            if not isinstance(det_id, str) or det_id not in detections:
                raise CatalogError(_unknown("detection", det_id, detections), **where)
        if len(set(ids)) != len(ids):
            twice = next(i for i in ids if ids.count(i) > 1)
            raise CatalogError(f"lists {twice!r} twice", **where)
        presets[name] = tuple(ids)
    listed = presets.get(ALL_PRESET)
    if listed is None:
        raise CatalogError(f"preset {ALL_PRESET!r} is required: it lists every detection in catalogue order",
                           source=source, field=f"presets.{ALL_PRESET}")
    missing = [det_id for det_id in detections if det_id not in listed]
    if missing:
        raise CatalogError(f"does not list {', '.join(repr(m) for m in missing)} "
                           f"({detections[missing[0]].source}); every detection belongs in {ALL_PRESET!r}",
                           source=source, field=f"presets.{ALL_PRESET}")
    return presets


# --- helpers ------------------------------------------------------------------------------------


class _CatalogYamlLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # libyaml's parser: 5x faster
    """YAML without the 1.1 surprises CloudTrail samples trip on: `No`/`Yes`/`on`/`off` stay strings
    (`MFAUsed: No`), and timestamps stay strings (`eventTime: 2024-08-01T12:04:19Z`)."""


_CatalogYamlLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers
            if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:timestamp")]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_CatalogYamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|false)$"), list("tf"))


def _read_yaml(path: Path) -> Any:
    try:
        with path.open(encoding="utf-8") as handle:
            return yaml.load(handle, Loader=_CatalogYamlLoader)  # noqa: S506 (a SafeLoader subclass)
    except yaml.YAMLError as err:
        raise CatalogError(f"not valid YAML: {err}", source=str(path)) from None
    except OSError as err:
        raise CatalogError(f"cannot read: {err.strerror}", source=str(path)) from None


def _unknown(kind: str, name: Any, valid: Sequence[str] | Mapping[str, Any]) -> str:
    names = list(valid)
    nearest = difflib.get_close_matches(str(name), names, n=1, cutoff=0.5)
    hint = f" (did you mean {nearest[0]!r}?)" if nearest else ""
    return f"unknown {kind} {name!r}{hint}; valid: {', '.join(names)}"


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    return {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean", int: "a number",
            float: "a number"}.get(type(value), type(value).__name__)
