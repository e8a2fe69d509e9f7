"""Converted Sigma rules written into a stack file as `customDetections`, and nothing else touched.

`trailguard sigma add` turns each converted rule into a custom detection (`detection_entry`):
an id and a metric from the rule's title, the severity from its `level`, a runbook from its
description and false positives, samples that the pattern and the SQLite oracle provably agree
on (generated from the rule, `trailguard.sigma.generate`), and `source` naming the rule, its
author and link, which the alarm description then carries (Detection Rule License 1.1).

The stack file is edited as text (`edited_stack_text`): PyYAML's node positions locate the
`trailguard:customDetections` block and each of its entries, an entry for the same Sigma rule
(`source.sigma`) is replaced in place, a new one is appended to the block (or the block to the
config mapping), and every other byte of the file is kept as it was, comments and order
included. An identical entry is left alone, so adding the same rules twice changes nothing. The
result is checked before it is written: the file read back must hold the same keys and values
outside `customDetections` and the intended list inside it, and it must pass the validation
`trailguard check` runs (`load_stack_file_config`); only then is it written, atomically (a
temporary file renamed over it). On any error nothing is written.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import yaml

from trailguard.aws_limits import MAX_ALARM_DESCRIPTION
from trailguard.catalog.build import cloudtrail_event
from trailguard.config.model import NAMESPACE

from .generate import generate_events
from .verify import Verifier

KEY = f"{NAMESPACE}:customDetections"
"""The stack-file key the detections go under (a bare `customDetections` is read the same)."""

SEVERITY_OF_LEVEL: Mapping[str, str] = {
    "informational": "low", "low": "low", "medium": "medium", "high": "high", "critical": "critical",
}
"""Sigma's `level` -> trailguard's severity (trailguard has no informational level; a rule
without a level is medium, Sigma's middle)."""

MAX_ID = 64
"""Longest detection id written: the stack-prefixed filter and alarm names stay well inside AWS's."""

MAX_METRIC = 64
MAX_POSITIVES = 3
MAX_NEGATIVES = 3
ATTRIBUTION_ROOM = 320
"""Characters kept free in the alarm description for the attribution sentence."""


class StackFileError(ValueError):
    """The stack file cannot be edited safely, or the edit would not be valid: nothing was written."""


# --- one rule -> one custom detection ------------------------------------------------------------


def slug(title: str, limit: int = MAX_ID) -> str:
    """`AWS Root Credentials` -> `aws-root-credentials` (kebab-case, cut at a word within `limit`)."""
    words = re.findall(r"[a-z0-9]+", title.lower())
    text = ""
    for word in words:
        candidate = f"{text}-{word}" if text else word
        if len(candidate) > limit:
            break
        text = candidate
    return text or "sigma-rule"


def metric_name(title: str) -> str:
    """`AWS Root Credentials` -> `SigmaAwsRootCredentials` (PascalCase, within MAX_METRIC)."""
    words = re.findall(r"[A-Za-z0-9]+", title)
    text = "Sigma"
    for word in words:
        candidate = text + word[:1].upper() + word[1:].lower()
        if len(candidate) > MAX_METRIC:
            break
        text = candidate
    return text


@dataclass(frozen=True, slots=True)
class ChosenSamples:
    positives: tuple[dict[str, Any], ...]
    negatives: tuple[dict[str, Any], ...]


def _is_cloudtrail(event: Mapping[str, Any]) -> bool:
    def fail(path: str, problem: str) -> Exception:
        return ValueError(problem)

    try:
        cloudtrail_event(dict(event), "event", fail)
    except ValueError:
        return False
    return True


def choose_samples(conversion: Any, rule: Any) -> ChosenSamples:
    """Generated events on which the pattern and the oracle agree: a few the rule matches, a few it
    does not (near misses first), each a whole CloudTrail event as custom samples must be."""
    generated = [g for g in generate_events(rule) if _is_cloudtrail(g.event)]
    verifier = Verifier(rule, conversion.pattern)
    agreement = verifier.compare([g.event for g in generated])
    differing = {d.index for d in agreement.disagreements}
    agreed = [(g, bool(verifier.matches(g.event))) for i, g in enumerate(generated) if i not in differing]

    def pick(matched: bool, limit: int) -> tuple[dict[str, Any], ...]:
        # the plain events (no case, shape or absence variant) first; a variant only if there is none
        events = [g for g, m in agreed if m is matched]
        plain = [g for g in events if g.variant is None]
        return tuple(dict(g.event) for g in (plain or events))[:limit if plain else 1]

    return ChosenSamples(pick(True, MAX_POSITIVES), pick(False, MAX_NEGATIVES))


def _runbook(conversion: Any) -> str:
    parts = [(" ".join(conversion.description.split()) or conversion.title).rstrip(".") + "."]
    if conversion.falsepositives:
        parts.append("Known false positives: " + "; ".join(" ".join(f.split()) for f in conversion.falsepositives) + ".")
    if conversion.link:
        parts.append(f"The rule: {conversion.link}")
    return " ".join(parts)


def _alarm_text(conversion: Any) -> str:
    text = f"{conversion.title}: {' '.join(conversion.description.split())}".rstrip(": ")
    room = MAX_ALARM_DESCRIPTION - ATTRIBUTION_ROOM
    return text if len(text) <= room else text[:room - 3].rstrip() + "..."


def detection_entry(conversion: Any, rule: Any, taken_ids: Iterable[str] = ()) -> dict[str, Any]:
    """The `customDetections[]` entry for a converted rule (exact or caveats verdict).

    `taken_ids` are ids the entry must not reuse (the catalogue's, and those of other rules added
    with it): the title's slug gets `-sigma`, then the rule id's first eight characters. Raises
    `StackFileError` for a refused rule, one without an author or an https link (the Detection
    Rule License needs both in every alarm), or one whose generated events give no sample that
    the pattern and the rule both match.
    """
    if conversion.verdict == "refused" or conversion.pattern is None:
        raise StackFileError(f"rule {conversion.rule_id} ({conversion.title}) was refused: {conversion.refusal}")
    if not conversion.author.strip():
        raise StackFileError(f"rule {conversion.rule_id} ({conversion.title}) names no author; the Detection Rule "
                             "License asks every alarm based on it to name the author, so add its author field")
    if not conversion.link.startswith("https://"):
        raise StackFileError(f"rule {conversion.rule_id} ({conversion.title}) has no https link (a SigmaHQ rule "
                             "trailguard knows, or an https URL as its first reference); the alarm must link to it")
    samples = choose_samples(conversion, rule)
    if not samples.positives:
        raise StackFileError(f"rule {conversion.rule_id} ({conversion.title}): no generated event is matched by both "
                             "the pattern and the rule, so no sample can prove the pattern; it is not added")
    taken = set(taken_ids)
    short = re.sub(r"[^a-z0-9]", "", conversion.rule_id.lower())[:8] or "rule"
    candidates = [slug(conversion.title), slug(conversion.title, MAX_ID - len("-sigma")) + "-sigma",
                  slug(conversion.title, MAX_ID - len(short) - 1) + "-" + short]
    detection_id = next((c for c in candidates if c not in taken), candidates[-1])
    level = (conversion.level or "medium").lower()
    if level not in SEVERITY_OF_LEVEL:
        raise StackFileError(f"rule {conversion.rule_id}: level {conversion.level!r} is not a Sigma level; allowed: "
                             f"{', '.join(SEVERITY_OF_LEVEL)}")
    source: dict[str, Any] = {"sigma": conversion.rule_id, "author": conversion.author, "link": conversion.link}
    if conversion.references:
        source["references"] = list(conversion.references)
    if conversion.falsepositives:
        source["falsePositives"] = list(conversion.falsepositives)
    entry: dict[str, Any] = {
        "id": detection_id,
        "title": conversion.title,
        "pattern": conversion.pattern,
        "severity": SEVERITY_OF_LEVEL[level],
        "metric": metric_name(detection_id.replace("-", " ")),  # distinct ids, distinct metrics
        "description": _alarm_text(conversion),
        "runbook": _runbook(conversion),
        "source": source,
        "samples": {"positives": [dict(e) for e in samples.positives], "negatives": [dict(e) for e in samples.negatives]},
    }
    return entry


# --- the stack file as text ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Edit:
    """What an edit does: the new text and which ids it adds, replaces or finds already there."""

    text: str
    added: tuple[str, ...]
    replaced: tuple[str, ...]
    unchanged: tuple[str, ...]

    @property
    def changed(self) -> bool:
        return bool(self.added or self.replaced)


def _render(entry: Mapping[str, Any], indent: int) -> list[str]:
    text = yaml.safe_dump([dict(entry)], sort_keys=False, allow_unicode=True, width=1 << 20,
                          default_flow_style=False)
    return [" " * indent + line + "\n" for line in text.splitlines()]


def _scalar(node: yaml.Node) -> Any:
    return node.value if isinstance(node, yaml.ScalarNode) else None


def _content_end(lines: list[str], start: int, end: int) -> int:
    """`end` moved back over blank and comment lines, never before `start + 1`."""
    while end > start + 1 and (not lines[end - 1].strip() or lines[end - 1].lstrip().startswith("#")):
        end -= 1
    return end


def _sigma_id(entry: Any) -> str | None:
    if isinstance(entry, Mapping) and isinstance(entry.get("source"), Mapping):
        value = entry["source"].get("sigma")
        return value if isinstance(value, str) else None
    return None


def edited_stack_text(text: str, entries: Sequence[Mapping[str, Any]], source: str = "stack file") -> Edit:
    """`text` (a Pulumi.<stack>.yaml) with `entries` written into its customDetections block.

    An existing entry for the same Sigma rule (`source.sigma`) is replaced where it stands (left
    as it is when equal); any other entry with the same id is refused rather than overwritten.
    """
    try:
        root = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise StackFileError(f"{source}: not valid YAML: {error}") from None
    if not isinstance(root, yaml.MappingNode):
        raise StackFileError(f"{source}: must be a YAML mapping with a config: key")
    config_node = next((v for k, v in root.value if _scalar(k) == "config"), None)
    if not isinstance(config_node, yaml.MappingNode) or config_node.flow_style:
        raise StackFileError(f"{source}: needs a block mapping under config: (as `pulumi config set` writes it) "
                             "to add detections to")
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    key_index = next((i for i, (k, _) in enumerate(config_node.value) if _scalar(k) in (KEY, "customDetections")),
                     None)
    existing = list((data.get("config") or {}).get(
        config_node.value[key_index][0].value if key_index is not None else KEY) or [])
    if not all(isinstance(item, Mapping) for item in existing):
        raise StackFileError(f"{source}: {KEY} must be a list of mappings")
    ids = [item.get("id") for item in existing]
    added: list[str] = []
    replaced: list[str] = []
    unchanged: list[str] = []
    updates: dict[int, Mapping[str, Any]] = {}
    appended: list[Mapping[str, Any]] = []
    for entry in entries:
        sigma = _sigma_id(entry)
        index = next((i for i, item in enumerate(existing) if sigma is not None and _sigma_id(item) == sigma), None)
        if index is None:
            if entry["id"] in ids or entry["id"] in [e["id"] for e in appended]:
                raise StackFileError(f"{source}: {KEY} already has a detection with id {entry['id']!r} that is not "
                                     f"Sigma rule {sigma}; rename or remove it first")
            appended.append(entry)
            added.append(entry["id"])
        elif json.dumps(existing[index], sort_keys=True, default=str) == json.dumps(dict(entry), sort_keys=True):
            unchanged.append(entry["id"])
        else:
            if entry["id"] != ids[index] and entry["id"] in ids:
                raise StackFileError(f"{source}: id {entry['id']!r} is already used by another detection")
            updates[index] = entry
            replaced.append(entry["id"])
    if not appended and not updates:
        return Edit(text, (), (), tuple(unchanged))

    key_column = config_node.value[0][0].start_mark.column
    if key_index is None:
        end = _content_end(lines, config_node.start_mark.line, _end_line(lines, config_node))
        block = [" " * key_column + KEY + ":\n"]
        for entry in appended:
            block += _render(entry, key_column + 2)
        new_lines = lines[:end] + block + lines[end:]
        return _checked(text, "".join(new_lines), data, [*existing, *appended], source, added, replaced, unchanged)

    key_node, value_node = config_node.value[key_index]
    if isinstance(value_node, yaml.SequenceNode) and not value_node.flow_style:
        items = value_node.value
        dash_column = _dash_column(lines, items[0])
        starts = [_dash_line(lines, item, dash_column) for item in items]
        block_end = _content_end(lines, starts[-1], _end_line(lines, value_node))
        ends = [*starts[1:], block_end]
        new_lines = list(lines[:starts[0]])
        for index, (start, end) in enumerate(zip(starts, ends)):
            if index in updates:
                body_end = _content_end(lines, start, end)
                new_lines += _render(updates[index], dash_column) + lines[body_end:end]
            else:
                new_lines += lines[start:end]
        for entry in appended:
            new_lines += _render(entry, dash_column)
        new_lines += lines[block_end:]
    elif (isinstance(value_node, yaml.SequenceNode) and not value_node.value) or (
            isinstance(value_node, yaml.ScalarNode) and value_node.tag == "tag:yaml.org,2002:null"):
        line = key_node.start_mark.line
        key_text = lines[line][:key_node.end_mark.column]
        rest = lines[line][value_node.end_mark.column:] if value_node.end_mark.line == line else "\n"
        comment = rest.strip()
        new_lines = lines[:line] + [key_text + ":" + (f"  {comment}" if comment.startswith("#") else "") + "\n"]
        for entry in appended:
            new_lines += _render(entry, key_column + 2)
        new_lines += lines[line + 1:]
    else:
        raise StackFileError(f"{source}: {KEY} is written in flow style ([...]); write it as a block list "
                             "(one `- ` item per detection) so it can be edited without rewriting it")
    merged = [updates.get(i, item) for i, item in enumerate(existing)] + appended
    return _checked(text, "".join(new_lines), data, merged, source, added, replaced, unchanged)


def _end_line(lines: list[str], node: yaml.Node) -> int:
    """The line after a block node's last line: PyYAML ends a block where the next token starts,
    which may be indented on the following line."""
    mark = node.end_mark
    if mark.line >= len(lines):
        return len(lines)
    return mark.line if not lines[mark.line][:mark.column].strip() else mark.line + 1


def _dash_column(lines: list[str], item: yaml.Node) -> int:
    line = lines[item.start_mark.line]
    before = line[:item.start_mark.column]
    return before.rfind("-") if "-" in before else max(item.start_mark.column - 2, 0)


def _dash_line(lines: list[str], item: yaml.Node, dash_column: int) -> int:
    line = item.start_mark.line
    while line > 0 and not lines[line][dash_column:dash_column + 1] == "-":
        line -= 1
    return line


def _checked(old_text: str, new_text: str, old_data: Mapping[str, Any], expected: list[Any], source: str,
             added: list[str], replaced: list[str], unchanged: list[str]) -> Edit:
    """The edit, once the new text reads back as the old one outside customDetections and as
    `expected` inside it (a safety net for the text surgery above)."""
    try:
        new_data = yaml.safe_load(new_text)
    except yaml.YAMLError as error:  # pragma: no cover - the renderer writes plain block YAML
        raise StackFileError(f"{source}: the edit would not be valid YAML ({error}); nothing written") from None

    def without(data: Mapping[str, Any]) -> dict[str, Any]:
        config = {k: v for k, v in (data.get("config") or {}).items() if k not in (KEY, "customDetections")}
        return {**{k: v for k, v in data.items() if k != "config"}, "config": config}

    config = new_data.get("config") or {}
    got = config.get(KEY, config.get("customDetections"))
    if without(new_data) != without(old_data) or json.dumps(got, sort_keys=True, default=str) != json.dumps(
            expected, sort_keys=True, default=str):
        raise StackFileError(f"{source}: could not place the detections without changing other keys (an unusual "
                             "layout of the customDetections block); nothing written")
    return Edit(new_text, tuple(added), tuple(replaced), tuple(unchanged))


# --- the file ----------------------------------------------------------------------------------


def validate_stack_text(project_dir: Path, stack: str, text: str) -> None:
    """`text` as Pulumi.<stack>.yaml, validated as `trailguard check` validates a stack's config
    (project defaults from Pulumi.yaml included); raises `ConfigError`."""
    from trailguard.config import load_stack_file_config

    with tempfile.TemporaryDirectory(prefix="trailguard-sigma-") as scratch:
        shutil.copyfile(Path(project_dir) / "Pulumi.yaml", Path(scratch) / "Pulumi.yaml")
        (Path(scratch) / f"Pulumi.{stack}.yaml").write_text(text, encoding="utf-8")
        load_stack_file_config(Path(scratch), stack)


def write_atomically(path: Path, text: str) -> None:
    """Replace `path` by `text` in one rename (a reader sees the old file or the new, never half)."""
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def add_to_stack(project_dir: Path, stack: str, entries: Sequence[Mapping[str, Any]]) -> Edit:
    """Write `entries` into Pulumi.<stack>.yaml under `project_dir`: edited as text, validated as
    `trailguard check` would, written atomically, and only if something changes.

    Raises `StackFileError` (cannot edit) or `ConfigError` (the result would be invalid); then the
    file is untouched.
    """
    path = Path(project_dir) / f"Pulumi.{stack}.yaml"
    if not path.is_file():
        stacks = sorted(p.name[len("Pulumi."):-len(".yaml")] for p in Path(project_dir).glob("Pulumi.*.yaml"))
        raise StackFileError(f"{path}: no such stack file; stacks here: {', '.join(stacks) or 'none'}")
    text = path.read_text(encoding="utf-8")
    edit = edited_stack_text(text, entries, str(path))
    if not edit.changed:
        return edit
    validate_stack_text(Path(project_dir), stack, edit.text)
    write_atomically(path, edit.text)
    return edit
