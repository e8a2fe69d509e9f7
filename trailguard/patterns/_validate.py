"""AWS quotas (errors) and lints (warnings) over a parsed pattern.

Syntax errors are raised by the parser; this module checks what only the whole tree shows: the
1024-character cap, at most 2 regexes, wildcard-selector quotas, and the traps users fall into.
"""

from __future__ import annotations

from typing import Iterator

from . import rules
from ._render import render, render_selector, render_value
from .analysis import required_values, selectors, walk
from .ast import And, Comparison, DelimitedPattern, Field, FieldCondition, JsonPattern, NotExists, Or, Pattern, Regex, StringValue, TermPattern
from .errors import Diagnostic, PatternSyntaxError, Severity


def check_quotas(text: str, tree: Pattern) -> None:
    """Raise `PatternSyntaxError` if the pattern breaks one of AWS's documented limits (the length
    cap is enforced by the parser, before it recurses)."""
    regexes = [node for node in walk(tree) if node.__class__ is Regex]
    if len(regexes) > rules.MAX_REGEX_PER_PATTERN:
        raise PatternSyntaxError(
            f"pattern has {len(regexes)} regular expressions; CloudWatch Logs allows at most "
            f"{rules.MAX_REGEX_PER_PATTERN} per filter pattern", text, regexes[rules.MAX_REGEX_PER_PATTERN].span[0],
            "E151")
    total = 0
    for selector in selectors(tree):
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
    json = isinstance(tree, JsonPattern)
    pinned = dict(_pinned_event_names(tree.expr)) if json else {}
    absence_handled = _absence_handled(tree.expr) if json else set()
    names = {f.name for f in tree.fields if isinstance(f, Field) and f.name} if isinstance(tree, DelimitedPattern) else set()
    for node in walk(tree):
        cls = node.__class__
        if cls is Or and json:
            yield from _lint_or(node)
        elif cls is Comparison:
            yield from _lint_comparison(node, pinned.get(id(node)), id(node) in absence_handled)
        elif cls is StringValue:
            yield from _lint_string(node)
        elif cls is FieldCondition and node.field_name not in names:
            yield Diagnostic(
                "W006", f"the condition tests field {node.field_name!r}, which is not a field of "
                "this pattern, so it never matches (rule A8)", node.span[0] + 1, Severity.WARNING)


def _lint_or(node: Or) -> Iterator[Diagnostic]:
    bare = [op for op in node.operands if isinstance(op, And) and not op.parenthesized]
    if bare:
        yield Diagnostic(
            "W002", "'&&' and '||' are mixed without parentheses; '&&' binds tighter, so this reads as "
            f"{grouping(node)}. Add parentheses to say which you mean", bare[0].span[0] + 1, Severity.WARNING)


GROUPING_WIDTH = 120
"""Longest grouping W002 quotes in full; a longer one is shortened (values, then runs of operands)."""


def grouping(node: Or, width: int = GROUPING_WIDTH) -> str:
    """How the engine groups a mixed `&&`/`||` expression, with every `&&` inside `||` in explicit
    parentheses: the canonical rendering if it fits `width`, else the same shape with long values
    shown as `…`, else also with runs of `||` operands and middle `&&` operands folded to `…`."""
    text = render(node)
    if len(text) <= width:
        return text
    text = _short_or(node, fold=False)
    return text if len(text) <= width else _short_or(node, fold=True)


def _short_or(node: Or, fold: bool) -> str:
    parts: list[str] = []
    run = 0  # operands of the current run of folded operands already shown
    for operand in node.operands:
        flagged = isinstance(operand, And)
        if fold and not flagged and run:
            if run == 1:
                parts.append("…")
            run += 1
            continue
        parts.append(_short_operand(operand, fold))
        run = 0 if flagged else 1
    return " || ".join(parts)


def _short_operand(node, fold: bool) -> str:
    if isinstance(node, And):
        operands = [_short_operand(op, fold) for op in node.operands]
        if fold and len(operands) > 3:
            operands = [operands[0], "…", operands[-1]]
        return "(" + " && ".join(operands) + ")"
    if isinstance(node, Or):
        return "(" + _short_or(node, fold) + ")"
    if isinstance(node, Comparison):
        value = render_value(node.value)
        shown = value if len(value) <= _SHORT_VALUE else "…"
        return f"{render_selector(node.selector)} {node.op} {shown}"
    return render(node)


_SHORT_VALUE = 12  # longest value the shortened grouping still shows


def _pinned_event_names(expr, pinned: frozenset[str] | None = None) -> Iterator[tuple[int, frozenset[str] | None]]:
    """(id of each comparison, the event names its `&&` siblings on the way up restrict it to, or
    None when nothing does): the events a comparison can decide are only those names'."""
    if isinstance(expr, Comparison):
        yield id(expr), pinned
    elif isinstance(expr, And):
        names = [required_values(operand, "eventName") for operand in expr.operands]
        for index, operand in enumerate(expr.operands):
            own = pinned
            for other, allowed in enumerate(names):
                if other != index and allowed is not None:
                    own = allowed if own is None else own & allowed
            yield from _pinned_event_names(operand, own)
    elif isinstance(expr, Or):
        for operand in expr.operands:
            yield from _pinned_event_names(operand, pinned)


def _absence_handled(expr) -> set[int]:
    """Ids of the comparisons under an `||` that also has `<same selector> NOT EXISTS` as an operand:
    their author already said what an event without the field does (W001's own advice)."""
    handled: set[int] = set()
    for node in walk(expr):
        if node.__class__ is Or:
            absent = {op.selector for op in node.operands if op.__class__ is NotExists}
            if absent:
                handled.update(id(n) for n in walk(node) if n.__class__ is Comparison and n.selector in absent)
    return handled


def _always_present(name: str, event_names: frozenset[str] | None) -> bool:
    if name in rules.ALWAYS_PRESENT_CLOUDTRAIL_FIELDS:
        return True
    return bool(event_names) and all(
        name in rules.ALWAYS_PRESENT_BY_EVENT_NAME.get(event, ()) for event in event_names)


def _lint_comparison(expr: Comparison, event_names: frozenset[str] | None,
                     absence_handled: bool = False) -> Iterator[Diagnostic]:
    name = render_selector(expr.selector)
    if expr.op == "!=" and not absence_handled and not _always_present(name, event_names):
        yield Diagnostic(
            "W001", f"'!=' on {name}, a field CloudTrail often omits: '!=' never matches an event "
            "without the field. If absent should count, add "
            f"'|| {name} NOT EXISTS'", expr.span[0] + 1, Severity.WARNING)
    if (isinstance(expr.value, StringValue) and not expr.value.quoted
            and expr.value.text in ("true", "false", "null") and rules.EQUALS_TRUE_IS_STRING_COMPARE):
        yield Diagnostic(
            "W005", f"'{expr.op} {expr.value.text}' compares with the string \"{expr.value.text}\" and never "
            f"matches a JSON {'null' if expr.value.text == 'null' else 'boolean'}; use "
            f"IS {expr.value.text.upper()}", expr.value.span[0] + 1, Severity.WARNING)


def _lint_string(value: StringValue) -> Iterator[Diagnostic]:
    if "*" in value.text.strip("*"):
        inner = value.text.strip("*")
        yield Diagnostic(
            "W003", f"the '*' inside {inner!r} is a literal asterisk: only a leading or trailing '*' is a "
            "wildcard", value.span[0] + 1, Severity.WARNING)
