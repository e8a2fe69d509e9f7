"""Load and validate the detection catalogue from its data files.

The catalogue is data: one YAML file per detection under `detections/` and the presets in
`presets.yaml`. Everything is checked once, before anything is deployed: each file goes through
the rule book every detection shares (`trailguard.catalog.build`: fields, patterns through the
filter-pattern engine, CloudTrail-shaped samples that prove their pattern), and here through what
only the catalogue has (ids equal to file names, unique ids and metrics, presets). A malformed
entry raises `CatalogError` naming the file, the detection and the field, and saying what is
allowed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, Iterable, Mapping

import yaml

from trailguard.suggest import kind_of, unknown_name

from .build import KEBAB_RE, detection_from_mapping
from .errors import CatalogError
from .model import Detection

CATALOG_DIR = Path(__file__).parent
"""The packaged catalogue: `detections/*.yaml` and `presets.yaml`."""

ALL_PRESET = "all"


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
            raise CatalogError(unknown_name("detection", detection_id, self.detections)) from None

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
                raise CatalogError(unknown_name("detection or preset", name, [*self.presets, *self.detections]))
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
    """One detection file through the shared rule book, plus what only a catalogue file has: an id
    equal to its file name and unique across the catalogue."""
    source = str(path)
    detection = detection_from_mapping(_read_yaml(path), source=source, default_id=path.stem)
    if detection.id in seen:
        raise CatalogError(f"duplicate id: {seen[detection.id].source} already defines {detection.id!r}",
                           source=source, detection=detection.id, field="id")
    if detection.id != path.stem:
        raise CatalogError(f"id {detection.id!r} must equal the file name stem {path.stem!r} "
                           "(rename the file or the id)", source=source, detection=detection.id, field="id")
    return detection


# --- presets ------------------------------------------------------------------------------------


def _load_presets(path: Path, detections: Mapping[str, Detection]) -> dict[str, tuple[str, ...]]:
    """Named groups of detection ids. `all` lists every detection and sets catalogue order; without
    a presets file (small test catalogues) `all` is every detection in file-name order."""
    if not path.exists():
        return {ALL_PRESET: tuple(detections)}
    source = str(path)
    data = _read_yaml(path)
    if not isinstance(data, dict) or not data:
        raise CatalogError(f"expected a mapping of preset name -> list of detection ids, got {kind_of(data)}",
                           source=source)
    presets: dict[str, tuple[str, ...]] = {}
    for name, ids in data.items():
        where = dict(source=source, field=f"presets.{name}")
        if not isinstance(name, str) or not KEBAB_RE.match(name):
            raise CatalogError(f"preset name {name!r} is not kebab-case", **where)
        if name in detections:
            raise CatalogError(f"preset {name!r} has the same name as a detection; rename the preset", **where)
        if not isinstance(ids, list) or not ids:
            raise CatalogError(f"expected a non-empty list of detection ids, got {kind_of(ids)}", **where)
        for det_id in ids:
            if not isinstance(det_id, str) or det_id not in detections:
                raise CatalogError(unknown_name("detection", det_id, detections), **where)
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
