"""The one rule book for a detection: build and validate a `Detection` from a plain mapping.

Used by the catalogue loader (one YAML file per detection) and by the stack config for
`customDetections`, so a detection is held to the same rules wherever it is written: a kebab-case
id, a PascalCase metric name within CloudWatch's limit, a severity, patterns the filter-pattern
engine accepts, samples shaped like real CloudTrail events, and samples that prove the pattern
(every positive matches, no negative does, under each profile the sample names).

The two sources differ only in which documentation fields they require (`Rules`) and in where a
field sits in the source document (`Layout`), so every error names the source's own key.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from trailguard.aws_limits import MAX_METRIC_NAME
from trailguard.patterns import PatternSyntaxError, compile_pattern
from trailguard.suggest import kind_of

from .errors import CatalogError
from .model import PROFILES, Detection, Reference, Sample, Severity, samples_for_every_profile

KEBAB_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*\Z")
PASCAL_RE = re.compile(r"^[A-Z][A-Za-z0-9]*\Z")
VERSION_RE = re.compile(r"^[0-9]+\.[0-9]+\.[0-9]+\Z")
REFERENCE_FRAMEWORKS = ("CIS", "SecurityHub")

SAMPLE_KEYS_REQUIRED = ("name", "event")
SAMPLE_KEYS_OPTIONAL = ("profiles", "note")

# Fields every CloudTrail management event carries, and those that must be strings: YAML turns an
# unquoted `eventVersion: 1.08` into a float or `accountId: 111122223333` into an int, which no
# real event has and which would make a sample prove the wrong thing.
EVENT_KEYS_REQUIRED = ("eventVersion", "userIdentity", "eventTime", "eventSource", "eventName", "awsRegion",
                       "eventType")
EVENT_STRING_FIELDS = ("eventVersion", "eventTime", "eventSource", "eventName", "awsRegion", "sourceIPAddress",
                       "userAgent", "eventType", "recipientAccountId", "errorCode", "errorMessage")
IDENTITY_STRING_FIELDS = ("type", "principalId", "arn", "accountId", "invokedBy", "userName")


@dataclass(frozen=True, slots=True)
class Rules:
    """Which fields a source must give; everything else about a detection is the same everywhere."""

    required: tuple[str, ...]
    optional: tuple[str, ...]
    negatives_required: bool = True


CATALOG_RULES = Rules(
    required=("id", "title", "why", "runbook", "severity", "metric", "references", "patterns", "positives",
              "negatives"),
    optional=("notes",),
)
"""A catalogue detection documents itself fully: why it matters, a runbook, its controls."""

CUSTOM_RULES = Rules(
    required=("id", "title", "severity", "metric", "patterns", "positives"),
    optional=("why", "runbook", "negatives"),
    negatives_required=False,
)
"""A stack's own detection: documentation optional, but the same id, metric, pattern and sample rules."""


def _catalog_sample(kind: str, index: int, name: str | None) -> str:
    return f"{kind}[{index}]" + (f" ({name})" if name else "")


@dataclass(frozen=True, slots=True)
class Layout:
    """Where each part of a detection sits in its source, so errors name the source's own keys."""

    keys: Mapping[str, str] = field(default_factory=dict)
    """Top-level field -> the source's key for it, where they differ (`why` -> `description`)."""
    pattern: Callable[[str], str] = "patterns.{}".format
    """Key of a profile's pattern."""
    samples: Callable[[str], str] = str
    """Key of the `positives` / `negatives` list."""
    sample: Callable[[str, int, str | None], str] = _catalog_sample
    """Key of one sample (kind, index and its name once known)."""
    event_suffix: str = ".event"
    """What follows a sample's key to reach its event (empty where samples are bare events)."""

    def key(self, name: str) -> str:
        return self.keys.get(name, name)


CATALOG_LAYOUT = Layout()


def detection_from_mapping(data: Any, *, source: str, rules: Rules = CATALOG_RULES,
                           layout: Layout = CATALOG_LAYOUT, default_id: str = "") -> Detection:
    """The validated `Detection` for `data`, or `CatalogError` naming the field (in `layout`'s keys).

    `data` uses the catalogue's field names (`patterns`, `positives`/`negatives` of named samples,
    `why`); `default_id` names the detection in errors when `data` has no usable id.
    """
    if not isinstance(data, Mapping):
        raise CatalogError(f"expected a mapping of detection fields, got {kind_of(data)}", source=source)
    raw_id = data.get("id")
    det_id = raw_id if isinstance(raw_id, str) and raw_id else default_id

    def fail(path: str, problem: str) -> CatalogError:
        return CatalogError(problem, source=source, detection=det_id or None, field=path)

    allowed = (*rules.required, *rules.optional)
    unknown = [key for key in data if key not in allowed]
    if unknown:
        raise fail(layout.key(str(unknown[0])),
                   f"unknown field; allowed: {', '.join(layout.key(key) for key in allowed)}")
    for key in rules.required:
        if key not in data:
            raise fail(layout.key(key), "required field is missing")

    text = {key: _text(data, key, layout.key(key), fail, required=key in rules.required)
            for key in ("id", "title", "why", "runbook", "metric", "notes")}
    if not KEBAB_RE.match(det_id):
        raise fail(layout.key("id"),
                   f"{det_id!r} is not kebab-case (lower-case words joined by '-', e.g. 'root-usage')")
    metric = text["metric"]
    if not PASCAL_RE.match(metric) or len(metric) > MAX_METRIC_NAME:
        raise fail(layout.key("metric"),
                   f"{metric!r} is not a PascalCase metric name (letters and digits, starting with "
                   f"a capital, at most {MAX_METRIC_NAME} characters, e.g. 'RootAccountUsage')")
    severity = data["severity"]
    allowed_severities = [s.value for s in Severity]
    if severity not in allowed_severities:
        raise fail(layout.key("severity"),
                   f"{severity!r} is not a severity; allowed: {', '.join(allowed_severities)}")

    patterns, compiled = _patterns(data["patterns"], layout, fail)
    references = _references(data.get("references", []), fail)
    samples = _samples(data, rules, compiled, layout, fail)
    everywhere = samples_for_every_profile(samples, patterns)
    return Detection(
        id=det_id, title=text["title"], why=text["why"], runbook=text["runbook"], severity=Severity(severity),
        metric=metric, references=references, patterns=patterns,
        positives=tuple(s.event for s in everywhere if s.positive),
        negatives=tuple(s.event for s in everywhere if not s.positive),
        notes=text["notes"], samples=samples, source=source)


def _text(data: Mapping[str, Any], key: str, path: str, fail, *, required: bool) -> str:
    value = data.get(key, "" if not required else None)
    if not isinstance(value, str) or (required and not value.strip()):
        raise fail(path, f"expected {'a non-empty' if required else 'a'} string, got {kind_of(value)}")
    return value.strip()


def _patterns(raw: Any, layout: Layout, fail) -> tuple[dict[str, str], dict[str, Any]]:
    if not isinstance(raw, Mapping) or not raw:
        raise fail(layout.key("patterns"), f"expected a mapping of profile -> pattern text, got {kind_of(raw)}")
    compiled = {}
    for profile, text in raw.items():
        path = layout.pattern(str(profile))
        if profile not in PROFILES:
            raise fail(path, f"unknown profile {profile!r}; allowed: {', '.join(PROFILES)}")
        if not isinstance(text, str) or not text.strip():
            raise fail(path, f"expected the pattern text as a string, got {kind_of(text)}")
        try:
            compiled[profile] = compile_pattern(text)
        except PatternSyntaxError as err:
            raise fail(path, f"invalid filter pattern: {err}") from None
    if "default" not in raw:
        raise fail(layout.pattern("default"), "every detection needs a 'default' pattern")
    ordered = [profile for profile in PROFILES if profile in raw]
    return {profile: raw[profile] for profile in ordered}, {profile: compiled[profile] for profile in ordered}


def _references(raw: Any, fail) -> tuple[Reference, ...]:
    if not isinstance(raw, list):
        raise fail("references", f"expected a list (may be empty), got {kind_of(raw)}")
    references = []
    for index, item in enumerate(raw):
        path = f"references[{index}]"
        if not isinstance(item, Mapping) or set(item) - {"framework", "control", "version"}:
            raise fail(path, "expected a mapping with keys framework, control and (for CIS) version")
        framework, control, version = item.get("framework"), item.get("control"), item.get("version")
        if framework not in REFERENCE_FRAMEWORKS:
            raise fail(f"{path}.framework",
                       f"unknown framework {framework!r}; allowed: {', '.join(REFERENCE_FRAMEWORKS)}")
        if not isinstance(control, str) or not control:
            raise fail(f"{path}.control", f"expected the control id as a string (e.g. '4.3'), got {kind_of(control)}")
        if framework == "CIS" and not (isinstance(version, str) and VERSION_RE.match(version)):
            raise fail(f"{path}.version", f"a CIS reference needs the benchmark version as a quoted string "
                                          f"like '1.4.0', got {version!r}")
        if framework == "SecurityHub" and version is not None:
            raise fail(f"{path}.version", "a SecurityHub reference has no version")
        references.append(Reference(framework, control, version))
    return tuple(references)


def _samples(data: Mapping[str, Any], rules: Rules, compiled: Mapping[str, Any], layout: Layout,
             fail) -> tuple[Sample, ...]:
    samples: list[Sample] = []
    names: set[str] = set()
    for kind, positive in (("positives", True), ("negatives", False)):
        raw = data.get(kind, [])
        required = positive or rules.negatives_required
        if not isinstance(raw, list) or (required and not raw):
            proves = "the pattern must match, to prove it fires" if positive else \
                "the pattern must not match, to prove it is selective"
            raise fail(layout.samples(kind), f"expected a non-empty list of samples, got {kind_of(raw)}: "
                                             f"needs at least one event {proves}")
        for index, item in enumerate(raw):
            sample = _sample(item, kind, index, positive, compiled, layout, fail)
            if sample.name in names:
                raise fail(f"{layout.sample(kind, index, None)}.name",
                           f"sample name {sample.name!r} is used twice in this detection")
            names.add(sample.name)
            samples.append(sample)
    return tuple(samples)


def _sample(item: Any, kind: str, index: int, positive: bool, compiled: Mapping[str, Any], layout: Layout,
            fail) -> Sample:
    path = layout.sample(kind, index, None)
    if not isinstance(item, Mapping):
        raise fail(path, f"expected a mapping with keys {', '.join(SAMPLE_KEYS_REQUIRED)}, got {kind_of(item)}")
    unknown = [key for key in item if key not in (*SAMPLE_KEYS_REQUIRED, *SAMPLE_KEYS_OPTIONAL)]
    if unknown:
        raise fail(f"{path}.{unknown[0]}",
                   f"unknown sample field; allowed: {', '.join(SAMPLE_KEYS_REQUIRED + SAMPLE_KEYS_OPTIONAL)}")
    name = item.get("name")
    if not isinstance(name, str) or not KEBAB_RE.match(name):
        raise fail(f"{path}.name", f"expected a kebab-case sample name (e.g. 'failed-call'), got {name!r}")
    path = layout.sample(kind, index, name)
    profiles = item.get("profiles", list(compiled))
    if (not isinstance(profiles, list) or not profiles
            or any(p not in compiled for p in profiles)):
        raise fail(f"{path}.profiles", f"expected a non-empty list of this detection's pattern profiles "
                                       f"({', '.join(compiled)}), got {profiles!r}")
    note = item.get("note", "")
    if not isinstance(note, str):
        raise fail(f"{path}.note", f"expected a string, got {kind_of(note)}")
    event = cloudtrail_event(item.get("event"), path + layout.event_suffix, fail)
    held = tuple(p for p in PROFILES if p in profiles)
    for profile in held:
        if compiled[profile].matches(event) is not positive:
            verb = "does not match" if positive else "matches"
            which = f" ({profile} profile)" if len(compiled) > 1 else ""
            raise fail(path, f"this event {verb} the pattern{which} {compiled[profile].text!r}, "
                             f"so it does not prove it")
    return Sample(name, event, positive, held, note.strip())


def cloudtrail_event(raw: Any, path: str, fail: Callable[[str, str], Exception]) -> dict[str, Any]:
    """`raw` (a mapping, or JSON text of one) checked to have a CloudTrail event's shape."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError as err:
            raise fail(path, f"not valid JSON: {err.msg} at line {err.lineno} column {err.colno}") from None
    if not isinstance(raw, Mapping):
        raise fail(path, f"a CloudTrail event must be a JSON object (a YAML mapping or a JSON string), "
                         f"got {kind_of(raw)}")
    raw = dict(raw)
    missing = [key for key in EVENT_KEYS_REQUIRED if key not in raw]
    if missing:
        raise fail(path, f"not a CloudTrail event: missing {', '.join(missing)} "
                         f"(required: {', '.join(EVENT_KEYS_REQUIRED)})")
    identity = raw["userIdentity"]
    if not isinstance(identity, Mapping):
        raise fail(f"{path}.userIdentity", f"expected a mapping, got {kind_of(identity)}")
    checks = ((raw, EVENT_STRING_FIELDS, ""), (identity, IDENTITY_STRING_FIELDS, "userIdentity."))
    for container, keys, prefix in checks:
        for key in keys:
            if key in container and not isinstance(container[key], str):
                raise fail(f"{path}.{prefix}{key}", f"CloudTrail writes this field as a string, got "
                                                    f"{kind_of(container[key])} {container[key]!r}; quote it in YAML")
    try:
        json.dumps(raw, allow_nan=False)
    except (TypeError, ValueError) as err:
        raise fail(path, f"not representable as JSON: {err}") from None
    return raw
