"""A plain tree-walking evaluator: the specification in executable form.

Deliberately unoptimised (no set grouping, no specialised getters, generic path resolution), it is
the oracle the compiled matchers are property-tested against.
"""

from __future__ import annotations

from typing import Any

from .ast import And, Comparison, DelimitedPattern, Ellipsis_, FieldCondition, IsCheck, JsonPattern, MatchAll, \
    NotExists, Or, RegexPattern, TermPattern
from ._regex import compile_regex
from ._compiler import compile_extractor
from ._semantics import resolve, scalar_view, token_view, view_test


def evaluate(tree: Any, event: Any, text: str) -> bool:
    """Does the pattern `tree` match? `event` is the decoded JSON (or None), `text` the raw message."""
    if isinstance(tree, MatchAll):
        return True
    if isinstance(tree, JsonPattern):
        return event is not None and _expr(tree.expr, event)
    if isinstance(tree, RegexPattern):
        return compile_regex(tree.regex.body).search(text) is not None
    if isinstance(tree, TermPattern):
        required = [t.text in text for t in tree.terms if t.kind == "required"]
        excluded = [t.text in text for t in tree.terms if t.kind == "exclude"]
        optional = [t.text in text for t in tree.terms if t.kind == "optional"]
        if required or excluded:
            return all(required) and not any(excluded)
        return any(optional) if optional else True
    if isinstance(tree, DelimitedPattern):
        extracted = compile_extractor(tree)(text)
        if extracted is None:
            return False
        values = {k[1:]: v for k, v in extracted.items()}
        return all(_field(f.condition, values) for f in tree.fields
                   if not isinstance(f, Ellipsis_) and f.condition is not None)
    raise TypeError(type(tree).__name__)


def _expr(node: Any, event: Any) -> bool:
    if isinstance(node, And):
        return all(_expr(op, event) for op in node.operands)
    if isinstance(node, Or):
        return any(_expr(op, event) for op in node.operands)
    values = resolve(event, node.selector.parts)
    if isinstance(node, NotExists):
        return not values
    if isinstance(node, IsCheck):
        expected = {"NULL": None, "TRUE": True, "FALSE": False}[node.what]
        return any(v is expected for v in values)
    assert isinstance(node, Comparison)
    test = view_test(node.op, node.value)
    return any(view is not None and test(*view) for view in map(scalar_view, values))


def _field(node: Any, values: dict[str, str]) -> bool:
    if isinstance(node, And):
        return all(_field(op, values) for op in node.operands)
    if isinstance(node, Or):
        return any(_field(op, values) for op in node.operands)
    assert isinstance(node, FieldCondition)
    token = values.get(node.field_name)
    return token is not None and view_test(node.op, node.value)(*token_view(token))
