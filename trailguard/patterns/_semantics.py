"""What one comparison means: the value-level rules shared by the compiler and the reference
evaluator (`_reference.py`), so both agree by construction on the leaves and differ only in how
they walk and optimise the tree.

A JSON value is compared through its *scalar view* `(text, number)`: strings are text, numbers are
both (their text is Python's repr, so 400 -> "400"); null, booleans, arrays and objects have no
scalar view and fail every comparison (rules A11, A13, A19); only IS and NOT EXISTS see them.
"""

from __future__ import annotations

import operator
from typing import Any, Callable, Iterable

from . import rules
from ._regex import compile_regex
from .ast import NUMBER_RE, Index, Key, NumberValue, Regex, StringValue, Wildcard

MISSING: Any = type("Missing", (), {"__repr__": lambda self: "MISSING", "__slots__": ()})()

_NUMERIC_OPS: dict[str, Callable[[float, float], bool]] = {
    "=": operator.eq, "!=": operator.ne, "<": operator.lt, ">": operator.gt, "<=": operator.le, ">=": operator.ge,
}


def number_text(value: int | float) -> str:
    return str(value) if value.__class__ is int else repr(value)


def scalar_view(value: Any) -> tuple[str, float | None] | None:
    """(text, number) for strings and numbers; None for everything a comparison cannot see."""
    cls = value.__class__
    if cls is str:
        return value, None
    if cls is int or cls is float:
        return number_text(value), value
    return None


def token_view(token: str) -> tuple[str, float | None]:
    """Scalar view of a space-delimited field: text, and a number if the token looks like one."""
    return token, float(token) if NUMBER_RE.match(token) else None


def wildcard_form(pattern_text: str) -> tuple[str, str]:
    """(kind, core) of a string value (rule A17): a leading and/or trailing `*` is a wildcard.
    kind is "any" (only stars), "contains", "suffix", "prefix" or "exact"."""
    if pattern_text and set(pattern_text) == {"*"}:
        return "any", ""
    lead = pattern_text.startswith("*")
    trail = len(pattern_text) > 1 and pattern_text.endswith("*")
    core = pattern_text[1 if lead else 0:len(pattern_text) - 1 if trail else len(pattern_text)]
    if lead and trail:
        return "contains", core
    if lead:
        return "suffix", core
    if trail:
        return "prefix", core
    return "exact", core


def string_predicate(pattern_text: str) -> Callable[[str], bool]:
    """Equality with a string value: a leading and/or trailing `*` is a wildcard (rule A17)."""
    kind, core = wildcard_form(pattern_text)
    if kind == "any":
        return lambda s: True
    if kind == "contains":
        return lambda s: core in s
    if kind == "suffix":
        return lambda s: s.endswith(core)
    if kind == "prefix":
        return lambda s: s.startswith(core)
    return lambda s: s == core


def is_exact_string(value: Any) -> bool:
    """A string operand with no wildcard: equality is plain `==` on text."""
    return isinstance(value, StringValue) and not value.text.startswith("*") and not (
        len(value.text) > 1 and value.text.endswith("*"))


def view_test(op: str, value: Any) -> Callable[[str, float | None], bool]:
    """A test over a scalar view `(text, number)` for `<selector> op value`."""
    if isinstance(value, Regex):
        search = compile_regex(value.body).search
        if op == "=":
            return lambda text, number: search(text) is not None
        return lambda text, number: search(text) is None
    if isinstance(value, NumberValue):
        literal = value.value
        literal_text = value.text
        compare = _NUMERIC_OPS[op]
        if op in ("=", "!=") and rules.NUMBER_LITERAL_MATCHES_NUMERIC_STRING_EXACTLY:
            text_equal = op == "="

            def number_or_text(text: str, number: float | None) -> bool:
                if number is not None:
                    return compare(number, literal)
                return (text == literal_text) is text_equal
            return number_or_text
        return lambda text, number: number is not None and compare(number, literal)
    predicate = string_predicate(value.text)
    if op == "=":
        return lambda text, number: predicate(text)
    return lambda text, number: not predicate(text)


def step(values: Iterable[Any], part: Any) -> list[Any]:
    """Follow one path part from each value; missing branches drop out."""
    out: list[Any] = []
    for v in values:
        if isinstance(part, Key):
            if v.__class__ is dict and part.name in v:
                out.append(v[part.name])
        elif isinstance(part, Index):
            if v.__class__ is list and part.index < len(v):
                out.append(v[part.index])
        elif isinstance(part, Wildcard):
            if part.array and v.__class__ is list:
                out.extend(v)
            elif not part.array and v.__class__ is dict:
                out.extend(v.values())
    return out


def resolve(event: Any, parts: tuple) -> list[Any]:
    """Every value the selector reaches (one at most without wildcards); [] when it is missing."""
    values = [event]
    for part in parts:
        values = step(values, part)
        if not values:
            break
    return values
