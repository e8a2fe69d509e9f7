"""Render a syntax tree back to canonical pattern text.

Canonical means: one space around binary operators and comparison operators, `{ ... }` with inner
spaces, And-groups inside Or-groups always parenthesised (so the precedence is visible and lint
W002 never fires on rendered text), quoted strings re-escaped. `parse(render(t)) == t` for every
tree the parser produces.
"""

from __future__ import annotations

from typing import Callable

from .ast import (
    And, Comparison, DelimitedPattern, Ellipsis_, Field, FieldCondition, Index, IsCheck, JsonPattern,
    Key, MatchAll, NotExists, NumberValue, Or, Regex, RegexPattern, Selector, StringValue, Term,
    TermPattern, Wildcard,
)


def render(node) -> str:
    """Pattern text for any node of `trailguard.patterns.ast`."""
    return _RENDERERS[type(node)](node)


def quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render_match_all(node: MatchAll) -> str:
    return node.text


def render_term(node: Term) -> str:
    prefix = {"required": "", "exclude": "-", "optional": "?"}[node.kind]
    return prefix + (quote(node.text) if node.quoted else node.text)


def render_term_pattern(node: TermPattern) -> str:
    return " ".join(render_term(t) for t in node.terms)


def render_regex(node: Regex) -> str:
    return f"%{node.body}%"


def render_regex_pattern(node: RegexPattern) -> str:
    return render_regex(node.regex)


def render_selector(node: Selector) -> str:
    out = ["$"]
    for part in node.parts:
        if isinstance(part, Key):
            out.append(f".['{part.name}']" if part.bracketed else f".{part.name}")
        elif isinstance(part, Index):
            out.append(f"[{part.index}]")
        elif isinstance(part, Wildcard):
            out.append("[*]" if part.array else ".*")
    return "".join(out)


def render_value(node) -> str:
    if isinstance(node, StringValue):
        return quote(node.text) if node.quoted else node.text
    if isinstance(node, NumberValue):
        return node.text
    return render_regex(node)


def render_comparison(node: Comparison) -> str:
    return f"{render_selector(node.selector)} {node.op} {render_value(node.value)}"


def render_is_check(node: IsCheck) -> str:
    return f"{render_selector(node.selector)} IS {node.what}"


def render_not_exists(node: NotExists) -> str:
    return f"{render_selector(node.selector)} NOT EXISTS"


def _operand(node, parent: type) -> str:
    text = render(node)
    if isinstance(node, (And, Or)) and not (parent is And and isinstance(node, And)):
        return f"({text})"
    return text


def render_and(node: And) -> str:
    return " && ".join(_operand(op, And) for op in node.operands)


def render_or(node: Or) -> str:
    return " || ".join(_operand(op, Or) for op in node.operands)


def render_json_pattern(node: JsonPattern) -> str:
    return "{ " + render(node.expr) + " }"


def render_field_condition(node: FieldCondition) -> str:
    return f"{node.field_name} {node.op} {render_value(node.value)}"


def _field_expr(node) -> str:
    if isinstance(node, FieldCondition):
        return render_field_condition(node)
    joiner = " && " if isinstance(node, And) else " || "
    return joiner.join(_field_expr(op) for op in node.operands)


def render_field(node: Field) -> str:
    return node.name if node.condition is None else _field_expr(node.condition)


def render_delimited_pattern(node: DelimitedPattern) -> str:
    return "[" + ", ".join("..." if isinstance(f, Ellipsis_) else render_field(f) for f in node.fields) + "]"


_RENDERERS: dict[type, Callable] = {
    MatchAll: render_match_all,
    TermPattern: render_term_pattern,
    Term: render_term,
    RegexPattern: render_regex_pattern,
    Regex: render_regex,
    JsonPattern: render_json_pattern,
    And: render_and,
    Or: render_or,
    Comparison: render_comparison,
    IsCheck: render_is_check,
    NotExists: render_not_exists,
    Selector: render_selector,
    StringValue: render_value,
    NumberValue: render_value,
    DelimitedPattern: render_delimited_pattern,
    Field: render_field,
    FieldCondition: render_field_condition,
}
