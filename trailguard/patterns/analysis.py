"""What a pattern's syntax tree says without running it: the public analysis API.

`walk` is the one traversal of `trailguard.patterns.ast`: the quota checks, the lints, `selectors`
and `key_paths` (what the back-test's partial decoder keeps) are loops over it. `constraints`
(what every matching event holds, the back-test's dispatch index) and `specialize` (a pattern
with one field's value known) are folds over a JSON expression: each combines its operands'
answers, which a flat walk cannot. A pattern compiler to another language, or a containment
decision, builds on the same functions.

    >>> from trailguard.patterns import parse, required_values
    >>> tree = parse('{ $.eventSource = s3.amazonaws.com && ($.eventName = A || $.eventName = B) }')
    >>> sorted(required_values(tree, "eventName"))
    ['A', 'B']
"""

from __future__ import annotations

from typing import Any, Callable, Iterator, Union

from ._compiler import compile_expr
from ._semantics import is_exact_string
from .ast import (
    And, Comparison, DelimitedPattern, Ellipsis_, Expr, Field, FieldCondition, IsCheck, JsonPattern, Key,
    MatchAll, NotExists, NumberValue, Or, Pattern, Regex, RegexPattern, Selector, StringValue, Term, TermPattern,
)

__all__ = [
    "walk", "selectors", "key_paths", "constraints", "required_values", "specialize", "PRESENT",
    "Path", "Constraint",
]

Path = tuple[str, ...]
"""A path of plain keys: `("userIdentity", "type")` for `$.userIdentity.type`."""

PRESENT = "present"
"""Constraint: the field must exist (every comparison and IS check is false on a missing field)."""

Constraint = Union[frozenset[str], str]
"""The exact strings a field may hold, or PRESENT."""


# --------------------------------------------------------------------------- traversal

def _no_children(node: Any) -> tuple:
    return ()


_CHILDREN: dict[type, Callable[[Any], tuple]] = {
    MatchAll: _no_children,
    TermPattern: lambda node: node.terms,
    Term: _no_children,
    RegexPattern: lambda node: (node.regex,),
    JsonPattern: lambda node: (node.expr,),
    And: lambda node: node.operands,
    Or: lambda node: node.operands,
    Comparison: lambda node: (node.selector, node.value),
    IsCheck: lambda node: (node.selector,),
    NotExists: lambda node: (node.selector,),
    DelimitedPattern: lambda node: node.fields,
    Field: lambda node: () if node.condition is None else (node.condition,),
    FieldCondition: lambda node: (node.value,),
    Ellipsis_: _no_children,
    Selector: _no_children,  # its parts (Key, Index, Wildcard) are steps of a path, not nodes
    StringValue: _no_children,
    NumberValue: _no_children,
    Regex: _no_children,
}


def walk(node: Any) -> Iterator[Any]:
    """`node` and every node below it, in source order (pre-order, left to right): patterns,
    `&&`/`||` groups, comparisons, IS and NOT EXISTS checks, selectors, values, terms, fields and
    field conditions. Iterative, so a deeply nested pattern does not reach the recursion limit."""
    children = _CHILDREN
    stack = [node]
    while stack:
        current = stack.pop()
        try:
            below = children[current.__class__](current)
        except KeyError:
            raise TypeError(f"not a node of trailguard.patterns.ast: {type(current).__name__}") from None
        yield current
        if below:
            stack.extend(reversed(below))


def selectors(tree: Any) -> tuple[Selector, ...]:
    """The selectors a pattern (or an expression) reads, in source order, repeats included.
    Non-JSON patterns have none: they read the whole message."""
    return tuple(node for node in walk(tree) if node.__class__ is Selector)


def key_paths(tree: Pattern) -> tuple[Path, ...] | None:
    """The key paths a partial decoder must keep for `tree` to give its answers: each selector cut
    at its first index or wildcard (`$.resources[0].ARN` keeps all of `resources`). None when any
    key may be read: a selector starting with `.*`, or a pattern that reads the whole message
    (terms, regex, space-delimited). The match-everything pattern needs nothing: ()."""
    if isinstance(tree, MatchAll):
        return ()
    if not isinstance(tree, JsonPattern):
        return None
    paths: list[Path] = []
    for selector in selectors(tree):
        path: list[str] = []
        for part in selector.parts:
            if part.__class__ is not Key:
                break
            path.append(part.name)
        if not path:
            return None
        paths.append(tuple(path))
    return tuple(paths)


# --------------------------------------------------------------------------- constraints


def _plain_path(selector: Selector) -> Path | None:
    if not all(part.__class__ is Key for part in selector.parts):
        return None
    return tuple(part.name for part in selector.parts)


def _expr_of(tree_or_expr: Any) -> Expr | None:
    """The JSON expression of a pattern, the expression itself, or None for other families."""
    if isinstance(tree_or_expr, JsonPattern):
        return tree_or_expr.expr
    if isinstance(tree_or_expr, (Comparison, IsCheck, NotExists, And, Or)):
        return tree_or_expr
    return None


def constraints(tree_or_expr: Any) -> dict[Path, Constraint]:
    """Conditions on plain key paths that every event matching the pattern satisfies.

    `=` with an exact string allows that string; any other comparison or IS check needs the
    field present; `&&` combines its operands' conditions, `||` keeps what all branches share.
    Wildcard and index selectors, NOT EXISTS, and non-JSON patterns say nothing.

        >>> constraints(parse('{ $.userIdentity.type = Root && $.errorCode = "*" }'))
        {('userIdentity', 'type'): frozenset({'Root'}), ('errorCode',): 'present'}
    """
    expr = _expr_of(tree_or_expr)
    return {} if expr is None else _constraints(expr)


def _constraints(expr: Any) -> dict[Path, Constraint]:
    if isinstance(expr, (Comparison, IsCheck)):
        path = _plain_path(expr.selector)
        if path is None:
            return {}
        if isinstance(expr, Comparison) and expr.op == "=" and is_exact_string(expr.value):
            return {path: frozenset({expr.value.text})}
        return {path: PRESENT}
    if isinstance(expr, And):
        combined: dict[Path, Constraint] = {}
        for operand in expr.operands:
            for path, allowed in _constraints(operand).items():
                combined[path] = _both(combined.get(path, PRESENT), allowed)
        return combined
    if isinstance(expr, Or):
        branches = [_constraints(operand) for operand in expr.operands]
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


def required_values(tree_or_expr: Any, path: str | Path) -> frozenset[str] | None:
    """The exact strings the field at `path` (a top-level key, or a tuple of keys) must equal for
    the pattern to match, or None if the tree does not say."""
    allowed = constraints(tree_or_expr).get((path,) if isinstance(path, str) else tuple(path))
    return allowed if isinstance(allowed, frozenset) else None


# --------------------------------------------------------------------------- specialisation


def specialize(tree_or_expr: Any, path: str | Path, value: str) -> Any:
    """The pattern for events whose field at `path` holds the string `value`: every condition on
    exactly that path is decided and the rest kept, so `&&`/`||` fold around it. Returns True or
    False when that decides the whole pattern, else what is left: a JsonPattern for a JsonPattern,
    an expression for an expression. Other families are returned unchanged.

        >>> render(specialize(parse('{ $.eventName = StopLogging && $.errorCode NOT EXISTS }'),
        ...                   "eventName", "StopLogging"))
        '{ $.errorCode NOT EXISTS }'
    """
    keys = (path,) if isinstance(path, str) else tuple(path)
    if isinstance(tree_or_expr, JsonPattern):
        folded = _specialize(tree_or_expr.expr, keys, value)
        return folded if folded is True or folded is False else JsonPattern(folded)
    if _expr_of(tree_or_expr) is None:
        return tree_or_expr
    return _specialize(tree_or_expr, keys, value)


def _specialize(expr: Any, path: Path, value: str) -> Any:
    if isinstance(expr, (Comparison, IsCheck, NotExists)):
        parts = expr.selector.parts
        if len(parts) != len(path) or not all(p.__class__ is Key and p.name == k for p, k in zip(parts, path)):
            return expr
        probe: Any = value
        for key in reversed(path):
            probe = {key: probe}
        return compile_expr(expr)(probe)
    decisive = isinstance(expr, Or)  # the operand value that decides the whole: True for ||, False for &&
    kept = []
    for operand in expr.operands:
        folded = _specialize(operand, path, value)
        if folded is decisive:
            return decisive
        if folded is not (not decisive):
            kept.append(folded)
    if not kept:
        return not decisive
    return kept[0] if len(kept) == 1 else type(expr)(tuple(kept))
