"""Does a converted pattern match the events its Sigma rule matches? Event by event, against the oracle.

For one rule and a list of events, the converted CloudWatch Logs pattern runs on trailguard's
filter-pattern engine (`trailguard.patterns`, the semantics the project deploys) and the rule
itself runs on the SQLite oracle (`trailguard.sigma.oracle`); every event where the two differ is
a disagreement, kept with the event and which side matched.

A conversion with verdict `caveats` says in advance where it departs from the rule. Each
disagreement is traced to its causes, and one a stated caveat covers explains it:

- `case`: the oracle evaluated case-sensitively agrees with the pattern, or both sides agree on
  the event respelled in the rule's case (every substring equal to one of the rule's literals but
  for case written as the rule writes it): only case separates them (Sigma compares
  case-insensitively, CloudWatch Logs case-sensitively except inside the converter's case-folded
  regexes). Covered by a caveat whose kind names case.
- `field F`: F's path runs through an array (the oracle reads nothing there, the pattern's `[*]`
  looks into every element); or F is held in a form the two read differently: rewritten as the
  oracle already reads it (an object or array as its JSON text, `true`/`false` as strings, JSON
  null as absent, a number as its text) or, a string spelling a number, as that number, the
  oracle's answer stays and the pattern comes to agree; or F is absent and, given a placeholder
  string, the same holds. Covered by any other caveat on F (or on the whole rule).

A disagreement no caveat covers is unexplained: for an `exact` verdict, every disagreement is.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from trailguard.patterns import compile_pattern

from .oracle import OracleQuery, number_value, evaluate, oracle_query

PLACEHOLDER = "trailguard-placeholder"
"""What an absent field is given when asking whether its absence caused a disagreement."""

_ABSENT = object()


@dataclass(frozen=True, slots=True)
class Disagreement:
    """One event on which the pattern and the rule differ, and what explains it (if anything)."""

    index: int
    name: str
    event: Mapping[str, Any]
    pattern_matched: bool
    oracle_matched: bool
    cause: str = ""
    """`case` or `field <name>`: the cause a caveat covers, else the first found; empty if none."""
    explained_by: tuple[Any, ...] = ()
    """The stated caveats that cover `cause`; empty means unexplained."""

    @property
    def side(self) -> str:
        """Which side matched, in words."""
        return "pattern matches, rule does not" if self.pattern_matched else "rule matches, pattern does not"


@dataclass(frozen=True, slots=True)
class RuleAgreement:
    """How a converted rule fared against the oracle on a set of events."""

    rule_id: str
    title: str
    verdict: str
    pattern: str
    events: int
    agreed: int
    disagreements: tuple[Disagreement, ...] = field(default=())

    @property
    def unexplained(self) -> tuple[Disagreement, ...]:
        return tuple(d for d in self.disagreements if not d.explained_by)

    @property
    def ok(self) -> bool:
        """True when every disagreement is explained by a stated caveat."""
        return not self.unexplained


def _get(event: Any, path: str) -> Any:
    node = event
    for key in path.split("."):
        if not isinstance(node, Mapping) or key not in node:
            return _ABSENT
        node = node[key]
    return node


def _crosses_array(event: Any, path: str) -> bool:
    """Whether the dotted `path` runs through an array in `event` (the oracle reads nothing there)."""
    node = event
    for key in path.split(".")[:-1]:
        if not isinstance(node, Mapping) or key not in node:
            return False
        node = node[key]
        if isinstance(node, list):
            return True
    return False


def _replace(event: Mapping[str, Any], path: str, value: Any) -> dict[str, Any]:
    copied = copy.deepcopy(dict(event))
    keys = path.split(".")
    node = copied
    for key in keys[:-1]:
        child = node.get(key)
        if not isinstance(child, dict):
            child = node[key] = {}
        node = child
    if value is _ABSENT:
        node.pop(keys[-1], None)
    else:
        node[keys[-1]] = value
    return copied


def _as_oracle_reads(value: Any) -> Any:
    """`value` in the form the oracle's view gives it (see trailguard.sigma.oracle)."""
    if value is None:
        return _ABSENT
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    if isinstance(value, (int, float)):
        return json.dumps(value)
    return value


def _as_number(value: Any) -> Any:
    """A string spelling a number as that number (which the oracle's comparisons read it as), else None."""
    if isinstance(value, str):
        number = number_value(value)
        if number is not None:
            return int(number) if float(number).is_integer() and "." not in value and "e" not in value.lower() else number
    return None


def rule_literals(rule: Any) -> tuple[str, ...]:
    """The literal text of the rule's string values (between wildcards), longest first."""
    from sigma import conditions, types

    found: set[str] = set()
    stack = [c.parsed for c in rule.detection.parsed_condition]
    while stack:
        node = stack.pop()
        if isinstance(node, conditions.ConditionFieldEqualsValueExpression):
            values = node.value.values if isinstance(node.value, types.SigmaExpansion) else [node.value]
            for value in values:
                if isinstance(value, types.SigmaString):
                    found.update(part for part in value.s if isinstance(part, str) and part)
        stack.extend(getattr(node, "args", None) or [])
    return tuple(sorted(found, key=lambda text: (-len(text), text)))


def _respelled(event: Any, literals: Sequence[str]) -> Any:
    """`event` with every string's text that equals a rule literal but for case written as the rule
    writes it: what the event would be if its author had used the rule's spelling."""
    import re

    if isinstance(event, Mapping):
        return {key: _respelled(value, literals) for key, value in event.items()}
    if isinstance(event, list):
        return [_respelled(value, literals) for value in event]
    if isinstance(event, str):
        for literal in literals:
            event = re.sub(re.escape(literal), lambda _: literal, event, flags=re.IGNORECASE)
        return event
    return event


def _is_case(kind: str) -> bool:
    return "case" in kind.lower()


class Verifier:
    """The pattern and the oracle for one rule, ready to compare on any events."""

    def __init__(self, rule: Any, pattern: str, caveats: Sequence[Any] = ()) -> None:
        self.rule = rule
        self.pattern = pattern
        self.matches = compile_pattern(pattern).matches
        self.caveats = tuple(caveats)
        self.query: OracleQuery = oracle_query(rule)
        self._cased: OracleQuery | None = None
        self.literals = rule_literals(rule)

    def _cased_query(self) -> OracleQuery:
        if self._cased is None:
            self._cased = oracle_query(self.rule, case_sensitive=True)
        return self._cased

    def compare(self, events: Sequence[Mapping[str, Any]], names: Sequence[str] | None = None,
                *, verdict: str = "", rule_id: str = "", title: str = "") -> RuleAgreement:
        oracle = evaluate(self.query, events)
        disagreements = []
        for index, (event, expected) in enumerate(zip(events, oracle)):
            got = bool(self.matches(event))
            if got != expected:
                name = names[index] if names is not None else f"#{index + 1}"
                causes = self.causes(event, got, expected)
                covered = next(((c, self._covering(c)) for c in causes if self._covering(c)), None)
                cause, explained = covered or ((causes[0] if causes else ""), ())
                disagreements.append(Disagreement(index, name, event, got, expected, cause, explained))
        return RuleAgreement(rule_id=rule_id or self.query.rule_id, title=title or str(self.rule.title),
                             verdict=verdict, pattern=self.pattern, events=len(events),
                             agreed=len(events) - len(disagreements), disagreements=tuple(disagreements))

    def causes(self, event: Mapping[str, Any], pattern_matched: bool, oracle_matched: bool) -> list[str]:
        """Every cause found for the two sides differing on `event` (see the module docstring):
        `case` first, then fields held in another form, then absent fields; empty if none."""
        found: list[str] = []
        respelled = _respelled(event, self.literals)
        if evaluate(self._cased_query(), [event])[0] == pattern_matched or (
                respelled != event and evaluate(self.query, [respelled])[0] == oracle_matched
                and bool(self.matches(respelled)) == oracle_matched):
            found.append("case")
        absent: list[str] = []
        for name in self.query.fields:
            if _crosses_array(event, name):
                found.append(f"field {name}")
                continue
            held = _get(event, name)
            if held is _ABSENT:
                if self._agrees(_replace(event, name, PLACEHOLDER), oracle_matched):
                    absent.append(f"field {name}")
                continue
            for rewritten in (_as_oracle_reads(held), _as_number(held)):
                if rewritten is None or rewritten is held or rewritten == held:
                    continue
                if self._agrees(_replace(event, name, rewritten), oracle_matched):
                    found.append(f"field {name}")
                    break
        return found + absent

    def _agrees(self, changed: Mapping[str, Any], oracle_matched: bool) -> bool:
        """The oracle still answers `oracle_matched` on `changed`, and the pattern now does too."""
        return evaluate(self.query, [changed])[0] == oracle_matched and bool(self.matches(changed)) == oracle_matched

    def _covering(self, cause: str) -> tuple[Any, ...]:
        if not cause:
            return ()
        if cause == "case":
            return tuple(c for c in self.caveats if _is_case(str(c.kind)))
        name = cause.removeprefix("field ")
        return tuple(c for c in self.caveats if not _is_case(str(c.kind)) and (not c.field or c.field == name))


def verify(conversion: Any, rule: Any, events: Sequence[Mapping[str, Any]],
           names: Sequence[str] | None = None) -> RuleAgreement:
    """Compare `conversion` (a `SigmaConversion` with a pattern) with the oracle on `events`.

    Caveats count only for a `caveats` verdict; a refused conversion has no pattern to verify.
    """
    if conversion.pattern is None:
        raise ValueError(f"rule {conversion.rule_id} was refused ({conversion.refusal}); there is no pattern to verify")
    caveats = conversion.caveats if conversion.verdict == "caveats" else ()
    return Verifier(rule, conversion.pattern, caveats).compare(
        events, names, verdict=conversion.verdict, rule_id=conversion.rule_id, title=conversion.title)


# --- the user's events and rules ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EventsRead:
    """The JSON events of some CloudTrail files, named `file#n`, and what could not be read."""

    events: tuple[Mapping[str, Any], ...]
    names: tuple[str, ...]
    problems: tuple[str, ...]
    """Sources that could not be opened and records that are not JSON events, one line each."""
    skipped: tuple[str, ...]
    """Inputs that hold no events on purpose (empty files, CloudTrail digests) and plain text
    lines (a README beside the logs), counted per file: neither side can be run on them."""


def read_events(sources: Sequence[str]) -> EventsRead:
    """Every event of `sources` (files, directories, globs), read by the reader `trailguard test`
    and the back-test use (`trailguard.records`), with the same rejections."""
    from collections import Counter

    from trailguard.records import Record, RecordSourceError, Rejected, iter_records
    from trailguard.sourcefiles import Skipped, list_sources

    listing = list_sources(sources)
    events: list[Mapping[str, Any]] = []
    names: list[str] = []
    problems: list[str] = list(listing.missing)
    skipped = [f"{s.source}: {s.reason}" for s in listing.skipped]
    rejected: Counter[tuple[str, str]] = Counter()
    text_lines: Counter[str] = Counter()
    for path in listing.files:
        try:
            for item in iter_records(path, allow_text=True):
                if isinstance(item, Record) and item.event is not None:
                    events.append(item.event)
                    names.append(f"{item.source}#{item.index + 1}")
                elif isinstance(item, Record):
                    text_lines[item.source] += 1
                elif isinstance(item, Rejected):
                    rejected[(item.source, item.reason)] += item.count
                elif isinstance(item, Skipped):
                    skipped.append(f"{item.source}: {item.reason}")
        except RecordSourceError as error:
            problems.append(str(error))
    problems += [f"{source}: {reason}" + (f" ({count} records)" if count > 1 else "")
                 for (source, reason), count in sorted(rejected.items())]
    skipped += [f"{source}: {count} plain text line(s), not JSON events" for source, count in text_lines.items()]
    return EventsRead(tuple(events), tuple(names), tuple(problems), tuple(skipped))


def rules_and_conversions(paths: Sequence[Any]) -> list[tuple[Any, Any]]:
    """(pySigma rule, its `SigmaConversion`) for every rule of the files and directories named, in
    the order `convert_paths` gives them; raises `SigmaInputError` like it."""
    from pathlib import Path

    from .convert import convert_paths, load_rules, rule_files

    pairs: list[tuple[Any, Any]] = []
    for path in rule_files([Path(p) for p in paths]):
        pairs += list(zip(load_rules(path), convert_paths([path]), strict=True))
    return pairs
