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
    """`match` behind the cheapest proof that it cannot match: an allowed-values check if the
    tree gives one, else a presence check; `match` itself when the tree gives neither. The guard
    runs on every event, so one- and two-key paths read the dict directly."""
    if not conditions:
        return match
    path, allowed = min(conditions.items(), key=lambda item: (item[1] == PRESENT, len(item[0])))
    if allowed == PRESENT:
        if len(path) == 1:
            (key,) = path
            return lambda event: key in event and match(event)
        get = compile_getter(_selector(path))
        return lambda event: get(event) is not MISSING and match(event)
    values = allowed
    if len(path) == 2:
        outer, inner = path

        def guarded_pair(event: Any) -> bool:
            value = event.get(outer)
            if value.__class__ is not dict or inner not in value:
                return False
            value = value[inner]
            if value.__class__ is str and value not in values:
                return False  # numbers are left to the matcher (400 equals "400")
            return match(event)

        return guarded_pair
    get = compile_getter(_selector(path))

    def guarded(event: Any) -> bool:
        value = get(event)
        if value.__class__ is str and value not in values:
            return False  # numbers are left to the matcher (400 equals "400")
        return value is not MISSING and match(event)

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


class Dispatcher:
    """Candidate matchers per event name, in pattern order; `candidates(event)` is what to run,
    and each matcher it gives answers exactly for that event."""

    def __init__(self, patterns: Sequence[Any]) -> None:
        self.everything: Candidates = tuple((i, _event_matcher(p)) for i, p in enumerate(patterns))
        conditions = [constraints(p.tree.expr) if isinstance(p.tree, JsonPattern) else {} for p in patterns]
        names: list[frozenset[str] | None] = []
        for found in conditions:
            allowed = found.get((DISPATCH_KEY,))
            names.append(allowed if isinstance(allowed, frozenset) else None)
        self.unconstrained: Candidates = tuple(
            (i, _guarded(match, found)) for (i, match), found, needed in zip(self.everything, conditions, names)
            if needed is None
        )
        guarded = dict(self.unconstrained)
        index_names = sorted({name for needed in names if needed for name in needed})
        self.by_name: dict[str, Candidates] = {}
        for name in index_names:
            candidates = []
            for (i, match), pattern, needed in zip(self.everything, patterns, names):
                if needed is None:
                    candidates.append((i, guarded[i]))
                elif name in needed:
                    candidates.append((i, _predicate(specialize(pattern.tree.expr, (DISPATCH_KEY,), name))))
            self.by_name[name] = tuple(candidates)

    def candidates(self, event: dict[str, Any]) -> Candidates:
        name = event.get(DISPATCH_KEY)
        if name.__class__ is str:
            return self.by_name.get(name, self.unconstrained)
        return self.everything  # a numeric or missing name: let every pattern decide
