"""AWS quotas (errors) and lints (warnings) over a parsed pattern.

Syntax errors are raised by the parser; this module checks what only the whole tree shows: the
1024-character cap, at most 2 regexes, wildcard-selector quotas, and the traps users fall into.
"""

from __future__ import annotations

from typing import Iterator

from . import rules
from .ast import (
    And, Comparison, DelimitedPattern, Field, FieldCondition, JsonPattern, Or, Pattern, Regex,
    RegexPattern, Selector, StringValue, TermPattern,
)
from .errors import Diagnostic, PatternSyntaxError, Severity
from .render import render_selector


def check_quotas(text: str, tree: Pattern) -> None:
    """Raise `PatternSyntaxError` if the pattern breaks one of AWS's documented limits (the length
    cap is enforced by the parser, before it recurses)."""
    regexes = list(_regexes(tree))
    if len(regexes) > rules.MAX_REGEX_PER_PATTERN:
        raise PatternSyntaxError(
            f"pattern has {len(regexes)} regular expressions; CloudWatch Logs allows at most "
            f"{rules.MAX_REGEX_PER_PATTERN} per filter pattern", text, regexes[rules.MAX_REGEX_PER_PATTERN].span[0],
            "E151")
    total = 0
    for selector in _selectors(tree):
        count = selector.wildcards
        if count > rules.MAX_WILDCARD_SELECTORS_PER_SELECTOR:
            raise PatternSyntaxError(
                f"selector {render_selector(selector)} has {count} wildcard selectors ([*] or .*); at most "
                f"{rules.MAX_WILDCARD_SELECTORS_PER_SELECTOR} is allowed per selector", text, selector.span[0], "E152")
        total += count
        if total > rules.MAX_WILDCARD_SELECTORS_PER_PATTERN:
            raise PatternSyntaxError(
                f"pattern has more than {rules.MAX_WILDCARD_SELECTORS_PER_PATTERN} wildcard selectors "
                "([*] or .*); CloudWatch Logs allows at most 3 per filter pattern", text, selector.span[0], "E153")


def lint(tree: Pattern) -> tuple[Diagnostic, ...]:
    """Warnings for valid patterns that probably do not do what their author meant."""
    return tuple(sorted(_lint(tree), key=lambda d: (d.column, d.code)))


def _lint(tree: Pattern) -> Iterator[Diagnostic]:
    if isinstance(tree, TermPattern):
        optional = [t for t in tree.terms if t.kind == "optional"]
        others = [t for t in tree.terms if t.kind != "optional"]
        if optional and others and rules.OPTIONAL_TERMS_IGNORED_WITH_OTHERS:
            yield Diagnostic(
                "W004", "'?' terms are ignored by CloudWatch Logs when the pattern also has ordinary or '-' "
                "terms; this pattern behaves as if the '?' terms were absent", optional[0].span[0] + 1,
                Severity.WARNING)
        return
    if isinstance(tree, JsonPattern):
        yield from _lint_expr(tree.expr, parent=None)
    elif isinstance(tree, DelimitedPattern):
        names = {f.name for f in tree.fields if isinstance(f, Field) and f.name}
        for f in tree.fields:
            if isinstance(f, Field) and f.condition is not None:
                for cond in _walk(f.condition):
                    if isinstance(cond, FieldCondition):
                        yield from _lint_value(cond.value)
                        if cond.field_name not in names:
                            yield Diagnostic(
                                "W006", f"the condition tests field {cond.field_name!r}, which is not a field of "
                                "this pattern, so it never matches (rule A8)", cond.span[0] + 1, Severity.WARNING)


def _lint_expr(expr, parent) -> Iterator[Diagnostic]:
    if isinstance(expr, (And, Or)):
        if isinstance(expr, And) and isinstance(parent, Or) and not expr.parenthesized:
            yield Diagnostic(
                "W002", "'&&' and '||' are mixed without parentheses; '&&' binds tighter, so this reads as "
                "a || (b && c). Add parentheses to say which you mean", expr.span[0] + 1, Severity.WARNING)
        for child in expr.operands:
            yield from _lint_expr(child, expr)
        return
    if isinstance(expr, Comparison):
        name = render_selector(expr.selector)
        if expr.op == "!=" and name not in rules.ALWAYS_PRESENT_CLOUDTRAIL_FIELDS:
            yield Diagnostic(
                "W001", f"'!=' on {name}, a field CloudTrail often omits: '!=' never matches an event "
                "without the field. If absent should count, add "
                f"'|| {name} NOT EXISTS'", expr.span[0] + 1, Severity.WARNING)
        yield from _lint_value(expr.value)
        if (isinstance(expr.value, StringValue) and not expr.value.quoted
                and expr.value.text in ("true", "false", "null") and rules.EQUALS_TRUE_IS_STRING_COMPARE):
            yield Diagnostic(
                "W005", f"'{expr.op} {expr.value.text}' compares with the string \"{expr.value.text}\" and never "
                f"matches a JSON {'null' if expr.value.text == 'null' else 'boolean'}; use "
                f"IS {expr.value.text.upper()}", expr.value.span[0] + 1, Severity.WARNING)


def _lint_value(value) -> Iterator[Diagnostic]:
    if isinstance(value, StringValue) and "*" in value.text.strip("*"):
        inner = value.text.strip("*")
        yield Diagnostic(
            "W003", f"the '*' inside {inner!r} is a literal asterisk: only a leading or trailing '*' is a "
            "wildcard", value.span[0] + 1, Severity.WARNING)


def _walk(node):
    yield node
    if isinstance(node, (And, Or)):
        for child in node.operands:
            yield from _walk(child)


def _selectors(tree: Pattern) -> Iterator[Selector]:
    if isinstance(tree, JsonPattern):
        for node in _walk(tree.expr):
            selector = getattr(node, "selector", None)
            if selector is not None:
                yield selector


def _regexes(tree: Pattern) -> Iterator[Regex]:
    if isinstance(tree, RegexPattern):
        yield tree.regex
    elif isinstance(tree, JsonPattern):
        for node in _walk(tree.expr):
            if isinstance(node, Comparison) and isinstance(node.value, Regex):
                yield node.value
    elif isinstance(tree, DelimitedPattern):
        for f in tree.fields:
            if isinstance(f, Field) and f.condition is not None:
                for node in _walk(f.condition):
                    if isinstance(node, FieldCondition) and isinstance(node.value, Regex):
                        yield node.value
