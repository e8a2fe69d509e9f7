"""Compile a syntax tree once into closures, so matching an event is a few dict look-ups.

Closures are built through a node-class -> builder table. Two optimisations matter for CloudTrail
patterns, which are mostly `eventSource = X && (eventName = A || eventName = B || ...)`:
selectors without wildcards become direct nested `dict.get` chains, and an `||` of exact string
equalities on one selector becomes a single frozenset membership test.
"""

from __future__ import annotations

import re
from operator import methodcaller
from typing import Any, Callable

import orjson

from . import rules
from .ast import (
    And, Comparison, DelimitedPattern, Ellipsis_, FieldCondition, IsCheck, JsonPattern, Key, MatchAll,
    NotExists, Or, RegexPattern, Selector, StringValue, TermPattern,
)
from ._regex import compile_regex
from ._semantics import MISSING, is_exact_string, number_text, resolve, scalar_view, token_view, view_test, wildcard_form

Predicate = Callable[[Any], bool]

# --------------------------------------------------------------------------- selectors


def compile_getter(selector: Selector) -> Callable[[Any], Any]:
    """Value at a wildcard-free selector, or MISSING."""
    parts = selector.parts
    keys = _plain_keys(selector)
    if keys is not None:
        if len(keys) == 1:
            (k0,) = keys

            def get1(e: Any) -> Any:
                return e.get(k0, MISSING) if e.__class__ is dict else MISSING
            return get1
        if len(keys) == 2:
            k0, k1 = keys

            def get2(e: Any) -> Any:
                if e.__class__ is dict:
                    v = e.get(k0, MISSING)
                    if v.__class__ is dict:
                        return v.get(k1, MISSING)
                return MISSING
            return get2

        def get_n(e: Any) -> Any:
            for k in keys:
                if e.__class__ is not dict:
                    return MISSING
                e = e.get(k, MISSING)
            return e
        return get_n

    def get_generic(e: Any) -> Any:
        values = resolve(e, parts)
        return values[0] if values else MISSING
    return get_generic


def _plain_keys(selector: Selector) -> tuple[str, ...] | None:
    """The keys of a selector made of plain keys only (`$.userIdentity.type`), else None."""
    if not all(isinstance(p, Key) for p in selector.parts):
        return None
    return tuple(p.name for p in selector.parts)


def compile_values(selector: Selector) -> Callable[[Any], list[Any]]:
    """All values a selector with wildcards reaches (existential semantics, rule A15)."""
    parts = selector.parts
    return lambda e: resolve(e, parts)


# --------------------------------------------------------------------------- JSON expressions


def compile_comparison(node: Comparison) -> Predicate:
    if node.op in ("=", "!=") and isinstance(node.value, StringValue):
        keys = _plain_keys(node.selector)
        if keys is not None and len(keys) <= 2:
            return _string_comparison(keys, _string_test(node.value.text), node.op == "=")
    test = view_test(node.op, node.value)
    if node.selector.wildcards:
        values_of = compile_values(node.selector)

        def any_value(e: Any) -> bool:
            for v in values_of(e):
                view = scalar_view(v)
                if view is not None and test(*view):
                    return True
            return False
        return any_value
    get = compile_getter(node.selector)
    if node.op == "=" and is_exact_string(node.value):
        literal = node.value.text
        def equals(e: Any) -> bool:
            v = get(e)
            cls = v.__class__
            if cls is str:
                return v == literal
            if cls is int or cls is float:
                return number_text(v) == literal
            return False
        return equals

    def compare(e: Any) -> bool:
        view = scalar_view(get(e))
        return view is not None and test(*view)
    return compare


def _string_test(pattern_text: str) -> Callable[[str], bool]:
    """`_semantics.string_predicate` as a built-in callable: no Python frame per test. The
    reference evaluator keeps the plain version, and the property tests hold the two equal."""
    kind, core = wildcard_form(pattern_text)
    if kind == "any":
        return _any_string
    if kind == "contains":
        return methodcaller("__contains__", core)
    if kind == "suffix":
        return methodcaller("endswith", core)
    if kind == "prefix":
        return methodcaller("startswith", core)
    return core.__eq__


def _any_string(text: str) -> bool:
    return True


def _string_comparison(keys: tuple[str, ...], test: Callable[[str], bool], positive: bool) -> Predicate:
    """`$.a = "x"` / `$.a.b != "x*"` in one closure: the look-up, the scalar view (numbers compare
    as their JSON text) and the string test. A missing field or a non-scalar is never a match."""
    k0, k1 = keys[0], (keys[1] if len(keys) == 2 else None)

    def string_at(e: Any) -> bool:
        v = e.get(k0) if e.__class__ is dict else None
        if k1 is not None:
            v = v.get(k1) if v.__class__ is dict else None
        cls = v.__class__
        if cls is str:
            return test(v) is positive
        if cls is int or cls is float:
            return test(number_text(v)) is positive
        return False
    return string_at


def compile_is_check(node: IsCheck) -> Predicate:
    expected = {"NULL": None, "TRUE": True, "FALSE": False}[node.what]
    values_of = compile_values(node.selector)
    return lambda e: any(v is expected for v in values_of(e))


def compile_not_exists(node: NotExists) -> Predicate:
    if node.selector.wildcards:
        values_of = compile_values(node.selector)
        return lambda e: not values_of(e)
    keys = _plain_keys(node.selector)
    if keys is not None and len(keys) == 1:  # `$.errorCode NOT EXISTS`: one `in`, no getter call
        (key,) = keys
        return lambda e: e.__class__ is not dict or key not in e
    get = compile_getter(node.selector)
    return lambda e: get(e) is MISSING


def compile_and(node: And) -> Predicate:
    preds = [compile_expr(op) for op in node.operands]
    if len(preds) == 2:
        a, b = preds
        return lambda e: a(e) and b(e)

    def all_of(e: Any) -> bool:
        for p in preds:
            if not p(e):
                return False
        return True
    return all_of


def compile_or(node: Or) -> Predicate:
    preds = _grouped_equalities(node.operands)
    if len(preds) == 1:
        return preds[0]
    if len(preds) == 2:
        a, b = preds
        return lambda e: a(e) or b(e)

    def any_of(e: Any) -> bool:
        for p in preds:
            if p(e):
                return True
        return False
    return any_of


def _grouped_equalities(operands: tuple) -> list[Predicate]:
    """`$.x = "a" || $.x = "b" || ...` -> one set-membership predicate per selector."""
    groups: dict[tuple, set[str]] = {}
    order: list[Any] = []
    for op in operands:
        if (isinstance(op, Comparison) and op.op == "=" and not op.selector.wildcards
                and is_exact_string(op.value)):
            key = op.selector.parts
            if key not in groups:
                groups[key] = set()
                order.append(key)
            groups[key].add(op.value.text)
        else:
            order.append(op)
    preds: list[Predicate] = []
    for item in order:
        if isinstance(item, tuple):
            preds.append(_membership(Selector(item), frozenset(groups[item])))
        else:
            preds.append(compile_expr(item))
    return preds


def _membership(selector: Selector, allowed: frozenset[str]) -> Predicate:
    keys = _plain_keys(selector)
    if keys is not None and len(keys) <= 2:
        return _string_comparison(keys, allowed.__contains__, True)
    get = compile_getter(selector)

    def member(e: Any) -> bool:
        v = get(e)
        cls = v.__class__
        if cls is str:
            return v in allowed
        if cls is int or cls is float:
            return number_text(v) in allowed
        return False
    return member


_EXPR_BUILDERS: dict[type, Callable[[Any], Predicate]] = {
    Comparison: compile_comparison,
    IsCheck: compile_is_check,
    NotExists: compile_not_exists,
    And: compile_and,
    Or: compile_or,
}


def compile_expr(node: Any) -> Predicate:
    return _EXPR_BUILDERS[type(node)](node)


# --------------------------------------------------------------------------- text families


def compile_terms(node: TermPattern) -> Callable[[str], bool]:
    required = tuple(t.text for t in node.terms if t.kind == "required")
    excluded = tuple(t.text for t in node.terms if t.kind == "exclude")
    optional = tuple(t.text for t in node.terms if t.kind == "optional")
    if (required or excluded) and rules.OPTIONAL_TERMS_IGNORED_WITH_OTHERS:
        optional = ()

    def terms(text: str) -> bool:
        for t in required:
            if t not in text:
                return False
        for t in excluded:
            if t in text:
                return False
        if optional:
            for t in optional:
                if t in text:
                    return True
            return False
        return True
    return terms


def compile_regex_pattern(node: RegexPattern) -> Callable[[str], bool]:
    search = compile_regex(node.regex.body).search
    return lambda text: search(text) is not None


# Space-delimited tokens (rule A10): "..." and [...] are single fields with delimiters stripped.
_TOKEN_RE = re.compile(r'"([^"]*)"|\[([^\]]*)\]|(\S+)')


def tokenize_fields(text: str) -> list[str]:
    return [m.group(1) if m.group(1) is not None else m.group(2) if m.group(2) is not None else m.group(3)
            for m in _TOKEN_RE.finditer(text)]


def compile_field_expr(node: Any) -> Callable[[dict[str, str]], bool]:
    if isinstance(node, FieldCondition):
        test = view_test(node.op, node.value)
        name = node.field_name

        def condition(values: dict[str, str]) -> bool:
            token = values.get(name)
            return token is not None and test(*token_view(token))
        return condition
    preds = [compile_field_expr(op) for op in node.operands]
    if isinstance(node, And):
        return lambda values: all(p(values) for p in preds)
    return lambda values: any(p(values) for p in preds)


def compile_extractor(node: DelimitedPattern) -> Callable[[str], dict[str, str] | None]:
    """Assign tokens to fields: `{"$name" or "$<position>": token}`, or None if the count is wrong."""
    fields = node.fields
    ellipsis_at = next((i for i, f in enumerate(fields) if isinstance(f, Ellipsis_)), None)
    before = fields if ellipsis_at is None else fields[:ellipsis_at]
    after = () if ellipsis_at is None else fields[ellipsis_at + 1:]

    def label(f: Any, position: int) -> str:
        return f"${f.name}" if f.name else f"${position}"

    def extract(text: str) -> dict[str, str] | None:
        tokens = tokenize_fields(text)
        n = len(tokens)
        if ellipsis_at is None:
            if n != len(fields) and rules.DELIMITED_EXACT_FIELD_COUNT:
                return None
            if n < len(fields):
                return None
        elif n < len(before) + len(after):
            return None
        out: dict[str, str] = {}
        for i, f in enumerate(before):
            out[label(f, i + 1)] = tokens[i]
        if ellipsis_at is not None:
            tail_start = n - len(after)
            for i in range(len(before), tail_start):
                out[f"${i + 1}"] = tokens[i]
            for j, f in enumerate(after):
                out[label(f, tail_start + j + 1)] = tokens[tail_start + j]
        return out
    return extract


def compile_delimited(node: DelimitedPattern) -> Callable[[str], bool]:
    extract = compile_extractor(node)
    conditions = [compile_field_expr(f.condition) for f in node.fields
                  if not isinstance(f, Ellipsis_) and f.condition is not None]

    def delimited(text: str) -> bool:
        extracted = extract(text)
        if extracted is None:
            return False
        values = {k[1:]: v for k, v in extracted.items()}
        return all(c(values) for c in conditions)
    return delimited


def compile_text_matcher(tree: Any) -> Callable[[str], bool]:
    if isinstance(tree, MatchAll):
        return lambda text: True
    if isinstance(tree, TermPattern):
        return compile_terms(tree)
    if isinstance(tree, RegexPattern):
        return compile_regex_pattern(tree)
    if isinstance(tree, DelimitedPattern):
        return compile_delimited(tree)
    raise TypeError(f"not a text pattern: {type(tree).__name__}")


def compile_json_matcher(tree: JsonPattern) -> Predicate:
    return compile_expr(tree.expr)


def event_text(event: Any) -> str:
    """The log message CloudTrail would have written for a decoded event: compact JSON."""
    return orjson.dumps(event).decode()
