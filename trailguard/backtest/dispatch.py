"""Evaluate every enabled pattern on an event by looking at only the ones that can match it.

Almost every CloudTrail pattern requires `$.eventName` to be one of a few names (CIS 4.4 is
sixteen `||`-ed names, 4.5 five...). Reading that requirement off each pattern's syntax tree once
gives an index from event name to candidate patterns, so one dict look-up replaces a dozen
pattern evaluations per event. The answer is the same as evaluating every pattern: a pattern is
skipped only when its own tree proves it false for the event's name.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

from trailguard.patterns.ast import And, Comparison, JsonPattern, Key, Or
from trailguard.patterns.semantics import is_exact_string

DISPATCH_KEY = "eventName"

Candidates = tuple[tuple[int, Callable[[Any], bool]], ...]


def required_values(expr: Any, key: str = DISPATCH_KEY) -> frozenset[str] | None:
    """Strings `$.<key>` must equal for `expr` to be true, or None if the tree does not say.

    `=` with an exact string gives that string; `||` needs every operand to constrain (union);
    `&&` needs one operand to (intersection of those that do). Anything else says nothing.
    """
    if isinstance(expr, Comparison):
        parts = expr.selector.parts
        if (expr.op == "=" and len(parts) == 1 and isinstance(parts[0], Key) and parts[0].name == key
                and is_exact_string(expr.value)):
            return frozenset({expr.value.text})
        return None
    if isinstance(expr, Or):
        union: set[str] = set()
        for operand in expr.operands:
            values = required_values(operand, key)
            if values is None:
                return None
            union |= values
        return frozenset(union)
    if isinstance(expr, And):
        known = [values for operand in expr.operands if (values := required_values(operand, key)) is not None]
        if not known:
            return None
        return frozenset.intersection(*known)
    return None


class Dispatcher:
    """Candidate patterns per event name, in pattern order; `candidates(event)` is what to run."""

    def __init__(self, patterns: Sequence[Any]) -> None:
        self.everything: Candidates = tuple((i, p.matches) for i, p in enumerate(patterns))
        constraints = [
            required_values(p.tree.expr) if isinstance(p.tree, JsonPattern) else None for p in patterns
        ]
        self.unconstrained: Candidates = tuple(
            (i, match) for (i, match), needed in zip(self.everything, constraints) if needed is None
        )
        names = sorted({name for needed in constraints if needed for name in needed})
        self.by_name: dict[str, Candidates] = {
            name: tuple(
                (i, match) for (i, match), needed in zip(self.everything, constraints) if needed is None or name in needed
            )
            for name in names
        }

    def candidates(self, event: dict[str, Any]) -> Candidates:
        name = event.get(DISPATCH_KEY)
        if name.__class__ is str:
            return self.by_name.get(name, self.unconstrained)
        return self.everything  # a numeric or missing name: let every pattern decide
