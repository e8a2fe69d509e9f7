"""Evaluate every enabled pattern on an event by running only the ones that can match it.

Reading a pattern's syntax tree once tells what any matching event must have: `$.eventName`
one of a few names (CIS 4.4 is sixteen `||`-ed names), `$.userIdentity.type` equal to `Root`, or
at least an `$.errorCode`. Patterns that pin `eventName` go into an index from name to candidates,
so one dict look-up replaces a dozen evaluations; the others get a guard, a single field look-up
run before the full matcher. The answers are those of running every pattern: a pattern is
skipped only when its own tree proves it false for the event.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence

from trailguard.patterns import MISSING, PRESENT, CompiledPattern, constraints, getter
from trailguard.patterns.analysis import Constraint, Path

DISPATCH_KEY = "eventName"

Candidates = tuple[tuple[int, Callable[[Any], bool]], ...]


def _guarded(match: Callable[[Any], bool], conditions: Mapping[Path, Constraint]) -> Callable[[Any], bool]:
    """`match` behind the cheapest condition the tree gives on a longer path (see `_guard_of` for
    the usual one- and two-key ones); `match` itself when the tree gives none."""
    if not conditions:
        return match
    path, allowed = min(conditions.items(), key=lambda item: (item[1] == PRESENT, len(item[0])))
    get = getter(path)
    values = allowed

    def guarded(event: Any) -> bool:
        value = get(event)
        if value is MISSING:
            return False
        if values != PRESENT and value.__class__ is str and value not in values:
            return False  # numbers are left to the matcher (400 equals "400")
        return match(event)

    return guarded


Guard = tuple[str, "str | None", "frozenset[str] | None", Candidates]
"""(first key, second key or None, the strings allowed there or None for "present", the patterns
behind it): a condition on one or two plain keys that patterns without an event name need."""


def _guard_of(conditions: Mapping[Path, Constraint]) -> tuple[str, str | None, frozenset[str] | None] | None:
    """The cheapest condition as a Guard head (allowed values before presence, short paths first),
    or None when there is none on a path of one or two keys."""
    usable = [(path, allowed) for path, allowed in conditions.items() if len(path) <= 2]
    if not usable:
        return None
    path, allowed = min(usable, key=lambda item: (item[1] == PRESENT, len(item[0])))
    return path[0], (path[1] if len(path) == 2 else None), (None if allowed == PRESENT else allowed)  # type: ignore[return-value]


def passes(event: dict[str, Any], first: str, second: str | None, allowed: frozenset[str] | None) -> bool:
    """Whether an event can satisfy a guard: the field exists and, when values are given, is one
    of them (a number is left to the matcher: 400 equals "400"). `scan._passing` applies the
    same rule to a whole batch at once."""
    value = event.get(first, MISSING)
    if second is not None:
        value = value.get(second, MISSING) if value.__class__ is dict else MISSING
    if value is MISSING:
        return False
    return allowed is None or value.__class__ is not str or value in allowed


class Dispatcher:
    """What to run on an event. Patterns that pin `$.eventName` are found through `by_name`, as
    copies specialized to that name; the others sit behind `guards` (one field look-up decides
    whether they run) or, with no usable condition, in `always`. `candidates(event)` puts the
    three together; each matcher it gives answers exactly for that event."""

    def __init__(self, patterns: Sequence[CompiledPattern]) -> None:
        self.everything: Candidates = tuple((i, p.predicate) for i, p in enumerate(patterns))
        conditions = [constraints(p.tree) for p in patterns]
        names: list[frozenset[str] | None] = []
        for found in conditions:
            allowed = found.get((DISPATCH_KEY,))
            names.append(allowed if isinstance(allowed, frozenset) else None)
        guarded: dict[tuple[str, str | None, frozenset[str] | None], list[tuple[int, Callable[[Any], bool]]]] = {}
        always: list[tuple[int, Callable[[Any], bool]]] = []
        for (i, match), found, needed in zip(self.everything, conditions, names):
            if needed is not None:
                continue
            head = _guard_of(found)
            if head is None:
                always.append((i, _guarded(match, found)))
            else:
                guarded.setdefault(head, []).append((i, match))
        self.guards: tuple[Guard, ...] = tuple((*head, tuple(behind)) for head, behind in guarded.items())
        self.always: Candidates = tuple(always)
        self.by_name: dict[str, Candidates] = {
            name: tuple(
                (i, pattern.specialized(DISPATCH_KEY, name))
                for i, pattern, needed in zip(range(len(patterns)), patterns, names) if needed and name in needed
            )
            for name in sorted({name for needed in names if needed for name in needed})
        }

    def candidates(self, event: dict[str, Any]) -> Candidates:
        name = event.get(DISPATCH_KEY)
        if name.__class__ is not str:
            return self.everything  # a numeric or missing name: let every pattern decide
        found = list(self.by_name.get(name, ()))
        for first, second, allowed, behind in self.guards:
            if passes(event, first, second, allowed):
                found.extend(behind)
        found.extend(self.always)
        return tuple(found)
