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

from trailguard.patterns.ast import And, Comparison, IsCheck, JsonPattern, Key, NotExists, Or
from trailguard.patterns.compiler import compile_expr, compile_getter
from trailguard.patterns.semantics import MISSING, is_exact_string

DISPATCH_KEY = "eventName"
PRESENT = "present"
"""Constraint: the field must exist (every comparison and IS check is false on a missing field)."""

Path = tuple[str, ...]
Constraint = frozenset[str] | str  # the exact strings allowed, or PRESENT
Candidates = tuple[tuple[int, Callable[[Any], bool]], ...]


def constraints(expr: Any) -> dict[Path, Constraint]:
    """Conditions on plain key paths that every event matching `expr` satisfies.

    `=` with an exact string allows that string; any other comparison or IS check needs the
    field present; `&&` combines its operands' conditions, `||` keeps what all branches share.
    Wildcard and index selectors, and NOT EXISTS, say nothing.
    """
    if isinstance(expr, (Comparison, IsCheck)):
        parts = expr.selector.parts
        if not all(isinstance(part, Key) for part in parts):
            return {}
        path = tuple(part.name for part in parts)
        if isinstance(expr, Comparison) and expr.op == "=" and is_exact_string(expr.value):
            return {path: frozenset({expr.value.text})}
        return {path: PRESENT}
    if isinstance(expr, And):
        combined: dict[Path, Constraint] = {}
        for operand in expr.operands:
            for path, allowed in constraints(operand).items():
                combined[path] = _both(combined.get(path, PRESENT), allowed)
        return combined
    if isinstance(expr, Or):
        branches = [constraints(operand) for operand in expr.operands]
        shared = set(branches[0]).intersection(*branches[1:]) if branches else set()
        return {path: _either(*(branch[path] for branch in branches)) for path in shared}
    return {}


def _both(a: Constraint, b: Constraint) -> Constraint:
    if a == PRESENT:
        return b
    if b == PRESENT:
        return a
    return a & b  # type: ignore[operator]


def _either(*allowed: Constraint) -> Constraint:
    if any(a == PRESENT for a in allowed):
        return PRESENT
    return frozenset().union(*allowed)  # type: ignore[arg-type]


def required_values(expr: Any, key: str = DISPATCH_KEY) -> frozenset[str] | None:
    """The exact strings `$.<key>` must equal for `expr` to match, or None if the tree does not say."""
    allowed = constraints(expr).get((key,))
    return allowed if isinstance(allowed, frozenset) else None


def _guarded(match: Callable[[Any], bool], conditions: Mapping[Path, Constraint]) -> Callable[[Any], bool]:
    """`match` behind the cheapest condition the tree gives on a longer path (see `_guard_of` for
    the usual one- and two-key ones); `match` itself when the tree gives none."""
    if not conditions:
        return match
    path, allowed = min(conditions.items(), key=lambda item: (item[1] == PRESENT, len(item[0])))
    get = compile_getter(_selector(path))
    values = allowed

    def guarded(event: Any) -> bool:
        value = get(event)
        if value is MISSING:
            return False
        if values != PRESENT and value.__class__ is str and value not in values:
            return False  # numbers are left to the matcher (400 equals "400")
        return match(event)

    return guarded


def _selector(path: Path) -> Any:
    from trailguard.patterns.ast import Selector

    return Selector(tuple(Key(name) for name in path))


def specialize(expr: Any, path: Path, value: str) -> Any:
    """`expr` for events whose `path` holds the string `value`: every condition on exactly that
    path is decided (True or False) and the rest kept, so `&&`/`||` fold around it. Once the index
    has picked the patterns for an event name, they need not test the name again."""
    if isinstance(expr, (Comparison, IsCheck, NotExists)):
        parts = expr.selector.parts
        if len(parts) != len(path) or not all(isinstance(p, Key) and p.name == k for p, k in zip(parts, path)):
            return expr
        probe: Any = value
        for key in reversed(path):
            probe = {key: probe}
        return compile_expr(expr)(probe)
    if isinstance(expr, (And, Or)):
        decisive = isinstance(expr, Or)  # the operand value that decides the whole: True for ||, False for &&
        kept = []
        for operand in expr.operands:
            folded = specialize(operand, path, value)
            if folded is decisive:
                return decisive
            if folded is not (not decisive):
                kept.append(folded)
        if not kept:
            return not decisive
        return kept[0] if len(kept) == 1 else type(expr)(tuple(kept))
    return expr


def _always(event: Any) -> bool:
    return True


def _never(event: Any) -> bool:
    return False


def _predicate(expr: Any) -> Callable[[Any], bool]:
    if expr is True:
        return _always
    if expr is False:
        return _never
    return compile_expr(expr)


def _event_matcher(pattern: Any) -> Callable[[Any], bool]:
    """The pattern's test for a decoded event: the compiled JSON predicate itself when there is
    one (no per-call type checks), else `matches`."""
    if isinstance(pattern.tree, JsonPattern):
        return compile_expr(pattern.tree.expr)
    return pattern.matches


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

    def __init__(self, patterns: Sequence[Any]) -> None:
        self.everything: Candidates = tuple((i, _event_matcher(p)) for i, p in enumerate(patterns))
        conditions = [constraints(p.tree.expr) if isinstance(p.tree, JsonPattern) else {} for p in patterns]
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
                (i, _predicate(specialize(pattern.tree.expr, (DISPATCH_KEY,), name)))
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
