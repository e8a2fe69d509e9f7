"""The filter-pattern syntax tree: frozen, slotted dataclasses named after the grammar.

`span` (0-based start, end) is excluded from equality so tests can write expected trees without
positions, and so `parse(render(tree)) == tree` holds. Children are tuples.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Union

Span = tuple[int, int]
NO_SPAN: Span = (0, 0)

NUMBER_RE = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?\Z")
"""The language's number syntax, defined once: an unquoted value written this way parses as a
`NumberValue`, and a space-delimited token or a `metricValue` written this way reads as a number.
Sign, digits, optional decimals and exponent (`+1000`, `-1.5`, `10e-3`); not `.5`, `1.`, hex or `inf`."""


# ---------------------------------------------------------------- values and selectors

@dataclass(frozen=True, slots=True)
class StringValue:
    """A string operand; `quoted` records whether it was written in double quotes."""

    text: str
    quoted: bool = False
    span: Span = field(default=NO_SPAN, compare=False)


@dataclass(frozen=True, slots=True)
class NumberValue:
    """A numeric operand, kept with its source text (`+1000`, `10e-3`), which matches NUMBER_RE."""

    text: str
    span: Span = field(default=NO_SPAN, compare=False)

    @property
    def value(self) -> float:
        return float(self.text)


@dataclass(frozen=True, slots=True)
class Regex:
    """A `%...%` regular expression; `body` is the text between the percent signs."""

    body: str
    span: Span = field(default=NO_SPAN, compare=False)


Value = Union[StringValue, NumberValue, Regex]


@dataclass(frozen=True, slots=True)
class Key:
    """`.name`, or `.['name.with.dots']` when `bracketed`."""

    name: str
    bracketed: bool = False


@dataclass(frozen=True, slots=True)
class Index:
    """`[N]`: the N-th (0-based) element of an array."""

    index: int


@dataclass(frozen=True, slots=True)
class Wildcard:
    """`[*]` (any array element, `array=True`) or `.*` (any object member)."""

    array: bool


PathPart = Union[Key, Index, Wildcard]


@dataclass(frozen=True, slots=True)
class Selector:
    """`$.a.b[0]`: a path into a JSON event."""

    parts: tuple[PathPart, ...]
    span: Span = field(default=NO_SPAN, compare=False)

    @property
    def wildcards(self) -> int:
        return sum(isinstance(p, Wildcard) for p in self.parts)


# ---------------------------------------------------------------- JSON expressions

@dataclass(frozen=True, slots=True)
class Comparison:
    """`selector op value` with op one of = != < > <= >=."""

    selector: Selector
    op: str
    value: Value
    span: Span = field(default=NO_SPAN, compare=False)


@dataclass(frozen=True, slots=True)
class IsCheck:
    """`selector IS NULL | IS TRUE | IS FALSE`."""

    selector: Selector
    what: str  # "NULL", "TRUE", "FALSE"
    span: Span = field(default=NO_SPAN, compare=False)


@dataclass(frozen=True, slots=True)
class NotExists:
    """`selector NOT EXISTS`."""

    selector: Selector
    span: Span = field(default=NO_SPAN, compare=False)


@dataclass(frozen=True, slots=True)
class And:
    """Operands all true. `parenthesized` remembers explicit parentheses (for lints only)."""

    operands: tuple["Expr", ...]
    parenthesized: bool = field(default=False, compare=False)
    span: Span = field(default=NO_SPAN, compare=False)


@dataclass(frozen=True, slots=True)
class Or:
    """Some operand true."""

    operands: tuple["Expr", ...]
    parenthesized: bool = field(default=False, compare=False)
    span: Span = field(default=NO_SPAN, compare=False)


Expr = Union[Comparison, IsCheck, NotExists, And, Or]


# ---------------------------------------------------------------- space-delimited

@dataclass(frozen=True, slots=True)
class FieldCondition:
    """One `op value` test inside a field slot; `field_name` is the field it tests."""

    field_name: str
    op: str
    value: Value
    span: Span = field(default=NO_SPAN, compare=False)


FieldExpr = Union[FieldCondition, And, Or]


@dataclass(frozen=True, slots=True)
class Field:
    """A slot of a space-delimited pattern: a name (possibly empty) and an optional condition."""

    name: str
    condition: FieldExpr | None = None
    span: Span = field(default=NO_SPAN, compare=False)


@dataclass(frozen=True, slots=True)
class Ellipsis_:
    """`...`: any number of unnamed fields."""

    span: Span = field(default=NO_SPAN, compare=False)


# ---------------------------------------------------------------- unstructured terms

@dataclass(frozen=True, slots=True)
class Term:
    """A term: `kind` is "required", "exclude" (`-term`) or "optional" (`?term`)."""

    text: str
    quoted: bool = False
    kind: str = "required"
    span: Span = field(default=NO_SPAN, compare=False)


# ---------------------------------------------------------------- patterns (the four families)

@dataclass(frozen=True, slots=True)
class MatchAll:
    """The empty pattern, `""` or `" "`: every event matches."""

    text: str = ""
    span: Span = field(default=NO_SPAN, compare=False)


@dataclass(frozen=True, slots=True)
class TermPattern:
    terms: tuple[Term, ...]
    span: Span = field(default=NO_SPAN, compare=False)


@dataclass(frozen=True, slots=True)
class RegexPattern:
    regex: Regex
    span: Span = field(default=NO_SPAN, compare=False)


@dataclass(frozen=True, slots=True)
class JsonPattern:
    expr: Expr
    span: Span = field(default=NO_SPAN, compare=False)


@dataclass(frozen=True, slots=True)
class DelimitedPattern:
    fields: tuple[Field | Ellipsis_, ...]
    span: Span = field(default=NO_SPAN, compare=False)


Pattern = Union[MatchAll, TermPattern, RegexPattern, JsonPattern, DelimitedPattern]
