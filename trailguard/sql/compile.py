"""Filter patterns compiled to a SQL boolean over one row of the CloudTrail table, for DuckDB and Athena.

A JSON filter pattern judges one CloudTrail record; the back-test at scale asks the same question
of a table holding one record per row (`trailguard.sql.table`: AWS's documented Athena table). The
compiler walks the pattern's tree (the engine's public `trailguard.patterns.ast`) once into a sqlglot
expression and prints it per dialect (`duckdb`, or `athena` = Trino's SQL), so the two texts differ
only in spelling. What it cannot keep exactly it refuses with a named reason
(`SqlRefusal.reason`, a key of REFUSALS), like the EventBridge compiler.

Each selector lands in one of three places, and the value there is read through a *view*:

- a STRING column or struct field CloudTrail documents as a string (`eventName`,
  `userIdentity.type`): the text itself. The table stores any JSON there as text and a null as
  NULL, so the SQL takes the field to hold what CloudTrail documents (a string): `IS NULL`,
  `IS TRUE`, `IS FALSE` and `<`/`>` are false there, `NOT EXISTS` is `IS NULL` (a JSON null
  counts as missing). `readOnly`, documented as a boolean, is read the other way round: `IS TRUE`
  is the text `true`, and string or number comparisons are false.
- a path inside a JSON-text column (`requestParameters.bucketName`): read with the JSON functions,
  which see every JSON type, so the language's rules hold exactly (strings, numbers by value and by
  text, null, booleans, objects, arrays, missing).
- a struct, the `resources` array or a JSON-text column itself: an object or array, which no
  comparison matches; `$.resources[*].ARN` is "some element".

docs/backtest.md ("At scale: SQL semantics") states every difference; tests/sql holds each one.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Callable, Literal, Mapping

from sqlglot import exp

from trailguard.patterns import CompiledPattern, compile_pattern
from trailguard.patterns.ast import (
    And, Comparison, Index, IsCheck, JsonPattern, Key, MatchAll, NotExists, NumberValue, Or, Regex, Selector,
    StringValue, Wildcard,
)

from .table import ARRAY, BOOLEAN, JSON_TEXT, MAP, STRING, STRUCT, TABLE, Field

__all__ = ["compile_predicate", "predicate_expression", "SqlRefusal", "REFUSALS", "DIALECTS", "Dialect"]

Dialect = Literal["duckdb", "athena"]
DIALECTS: Mapping[str, str] = {"duckdb": "duckdb", "athena": "trino"}
"""Our dialect name -> sqlglot's. Athena's engine v3 is Trino."""

REFUSALS: Mapping[str, str] = {
    "not-json": "only JSON filter patterns ({ ... }) compile; terms, %regex% and space-delimited patterns read "
                "the raw log message, which the table does not have",
    "no-column": "the documented CloudTrail table has no column or struct field for this key",
    "key-case": "the table matches keys case-insensitively, CloudTrail spells this key otherwise, and the "
                "filter pattern compares keys exactly",
    "struct-members": "'.*' over a struct: the table keeps only the declared fields, so members a record has "
                      "beyond them are lost",
    "map-field": "'.*' over webIdFederationData.attributes, a MAP<STRING,STRING>: the engines share no form for "
                 "its values as a list",
    "json-wildcard": "wildcard selectors ([*], .*) inside a JSON-text column have no form both DuckDB and "
                     "Athena's json_extract share",
    "json-path-key": "an empty key, the key '*', or one with a double quote or backslash cannot be written in a "
                     "JSON path both engines read alike",
    "regex": "this regular expression has no exact equivalent in DuckDB's RE2 and Athena's regex engine",
    "number-range": "the number is not finite as a double",
}
"""Every reason the compiler refuses a pattern, by name (the tests cover each one)."""


class SqlRefusal(ValueError):
    """The pattern has no exact SQL form over the CloudTrail table; `reason` is a key of REFUSALS."""

    def __init__(self, reason: str, detail: str = "") -> None:
        self.reason = reason
        self.detail = detail
        super().__init__(f"cannot compile to SQL ({reason}): {REFUSALS[reason]}" + (f": {detail}" if detail else ""))


# ------------------------------------------------------------------ small SQL builders

TRUE: exp.Expression = exp.true()
FALSE: exp.Expression = exp.false()
LIKE_ESCAPE = "!"


def _is_true(node: exp.Expression) -> bool:
    return isinstance(node, exp.Boolean) and node.this is True


def _is_false(node: exp.Expression) -> bool:
    return isinstance(node, exp.Boolean) and node.this is False


def _and(*nodes: exp.Expression) -> exp.Expression:
    kept = [n for n in nodes if not _is_true(n)]
    if any(_is_false(n) for n in kept):
        return FALSE
    if not kept:
        return TRUE
    return kept[0] if len(kept) == 1 else exp.and_(*kept)


def _or(*nodes: exp.Expression) -> exp.Expression:
    kept = [n for n in nodes if not _is_false(n)]
    if any(_is_true(n) for n in kept):
        return TRUE
    if not kept:
        return FALSE
    return kept[0] if len(kept) == 1 else exp.or_(*kept)


def _string(text: str) -> exp.Expression:
    return exp.Literal.string(text)


def _double(value: float) -> exp.Expression:
    """A DOUBLE literal in both dialects (`22.0E0`; `22.0` would be a DECIMAL in Trino)."""
    text = repr(value)
    return exp.Literal.number(text if "e" in text else text + "E0")


def _like_pattern(kind: str, core: str) -> str:
    escaped = core.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2).replace("%", LIKE_ESCAPE + "%").replace("_", LIKE_ESCAPE + "_")
    return {"prefix": escaped + "%", "suffix": "%" + escaped, "contains": "%" + escaped + "%"}[kind]


def _wildcard_form(text: str) -> tuple[str, str]:
    """(kind, core) of a string value: a leading and/or trailing `*` is a wildcard (the engine's rule
    A17; docs/patterns.md); kind is any, contains, suffix, prefix or exact."""
    if text and set(text) == {"*"}:
        return "any", ""
    lead = text.startswith("*")
    trail = len(text) > 1 and text.endswith("*")
    core = text[1 if lead else 0:len(text) - 1 if trail else len(text)]
    return ("contains" if lead and trail else "suffix" if lead else "prefix" if trail else "exact"), core


def _string_test(text_expr: exp.Expression, value: str) -> exp.Expression:
    kind, core = _wildcard_form(value)
    if kind == "exact":
        return exp.EQ(this=text_expr.copy(), expression=_string(core))
    like = exp.Like(this=text_expr.copy(), expression=_string(_like_pattern(kind, core)))
    return exp.Escape(this=like, expression=_string(LIKE_ESCAPE))


def _is_null(node: exp.Expression) -> exp.Expression:
    return exp.Is(this=node.copy(), expression=exp.Null())


def _not_null(node: exp.Expression) -> exp.Expression:
    return exp.Not(this=_is_null(node))


# ------------------------------------------------------------------ views: what a selector reaches

@dataclass(frozen=True)
class View:
    """How one place of the row is read. Every member is a SQL boolean or value; a view is built for
    one selector (or one array element, inside a lambda)."""

    missing: exp.Expression          # nothing there (NOT EXISTS)
    scalar: exp.Expression           # a string or a number is there (what comparisons see)
    text: exp.Expression | None      # its text (the number's text for a number); None: never a scalar
    is_string: exp.Expression        # a string is there
    number: exp.Expression | None    # its numeric value when a number, else NULL; None: never a number
    null: exp.Expression
    true: exp.Expression
    false: exp.Expression


def _text_view(node: exp.Expression) -> View:
    """A STRING field holding a JSON string (CloudTrail's documented type)."""
    present = _not_null(node)
    return View(missing=_is_null(node), scalar=present, text=node, is_string=present, number=None,
                null=FALSE, true=FALSE, false=FALSE)


def _boolean_view(node: exp.Expression) -> View:
    """readOnly: a JSON boolean stored as the text true / false."""
    return View(missing=_is_null(node), scalar=FALSE, text=None, is_string=FALSE, number=None, null=FALSE,
                true=exp.EQ(this=node.copy(), expression=_string("true")),
                false=exp.EQ(this=node.copy(), expression=_string("false")))


def _container_view(node: exp.Expression) -> View:
    """A struct, an array or a JSON-text column itself: an object or array when present."""
    return View(missing=_is_null(node), scalar=FALSE, text=None, is_string=FALSE, number=None, null=FALSE,
                true=FALSE, false=FALSE)


ABSENT = View(missing=TRUE, scalar=FALSE, text=None, is_string=FALSE, number=None, null=FALSE, true=FALSE, false=FALSE)
"""A path the table's shape cannot hold (a key under a string, an index into a struct): never there."""


def _json_view(column: exp.Expression, path: list[Key | Index]) -> View:
    """A path inside a JSON-text column: every JSON type is visible through the JSON functions."""
    json_path = _json_path(path)
    scalar_text = exp.Try(this=exp.JSONExtractScalar(this=column.copy(), expression=json_path.copy()))
    extracted = exp.Cast(this=exp.JSONExtract(this=column.copy(), expression=json_path.copy()),
                         to=exp.DataType.build("JSON"))  # Trino's printer adds this cast anyway; explicit, both agree
    canonical = exp.Try(this=exp.JSONFormat(this=extracted))
    is_string = exp.Like(this=canonical.copy(), expression=_string('"%'))
    number = exp.TryCast(this=canonical.copy(), to=exp.DataType.build("DOUBLE"))
    return View(missing=_is_null(canonical), scalar=_or(is_string, _not_null(number)), text=scalar_text,
                is_string=is_string, number=number,
                null=exp.EQ(this=canonical.copy(), expression=_string("null")),
                true=exp.EQ(this=canonical.copy(), expression=_string("true")),
                false=exp.EQ(this=canonical.copy(), expression=_string("false")))


def _json_path(parts: list[Key | Index]) -> exp.JSONPath:
    nodes: list[exp.Expression] = [exp.JSONPathRoot()]
    for part in parts:
        if isinstance(part, Index):
            nodes.append(exp.JSONPathSubscript(this=part.index))
        else:
            if part.name in ("", "*") or '"' in part.name or "\\" in part.name:  # DuckDB reads "*" as a wildcard
                raise SqlRefusal("json-path-key", part.name)
            nodes.append(exp.JSONPathKey(this=part.name))
    return exp.JSONPath(expressions=nodes)


def _dot(base: exp.Expression, name: str) -> exp.Expression:
    return exp.Dot(this=base, expression=exp.to_identifier(name))


def _declared(parent: Field, key: str) -> Field:
    field = parent.child(key)
    if field is not None:
        return field
    other = parent.child_ignoring_case(key)
    if other is not None:
        raise SqlRefusal("key-case", f"{key!r} (CloudTrail writes {other.key!r})")
    raise SqlRefusal("no-column", key)


@dataclass(frozen=True)
class Place:
    """Where a selector leads: one view, or (`array`) some element of the resources array, each
    element read through `element` (a view builder over the lambda's variable)."""

    view: View | None = None
    array: exp.Expression | None = None
    element: Callable[[exp.Expression], View] | None = None
    whole_elements: bool = False  # the selector ends at the elements themselves (`$.resources[*]`)


def _resolve(selector: Selector) -> Place:
    parts = selector.parts
    if not parts or not isinstance(parts[0], Key):
        if parts and isinstance(parts[0], Wildcard) and not parts[0].array:
            raise SqlRefusal("struct-members", "$.*")
        return Place(view=ABSENT)  # `$[0]`, `$[*]`: a record is an object, never an array
    return _walk(TABLE, None, parts)


def _walk(field: Field, node: exp.Expression | None, parts: tuple) -> Place:
    """Follow `parts` from `field` (the SQL `node` reads it; None for the row itself)."""
    if not parts:
        return Place(view=_field_view(field, node))
    part, rest = parts[0], parts[1:]
    kind = field.kind
    if kind == STRUCT:
        if isinstance(part, Key):
            child = _declared(field, part.name)
            return _walk(child, exp.column(child.name) if node is None else _dot(node, child.name), rest)
        if isinstance(part, Wildcard) and not part.array:
            raise SqlRefusal("struct-members", field.key + ".*")
        return Place(view=ABSENT)
    if kind == ARRAY:
        if isinstance(part, Wildcard) and part.array:
            element_field = Field(field.name, field.key, STRUCT, field.fields)

            def element(variable: exp.Expression) -> View:
                place = _walk(element_field, variable, rest)
                if place.view is None:  # pragma: no cover - the table has no array inside resources
                    raise SqlRefusal("json-wildcard", "nested arrays")
                return place.view
            if rest and isinstance(rest[0], Key):
                _declared(field, rest[0].name)  # refuse an undeclared element key now, not inside the lambda
            return Place(array=node, element=element, whole_elements=not rest)
        if isinstance(part, Index):  # element_at: NULL past the end in both engines, 1-based
            element_node = exp.Bracket(this=node.copy(), expressions=[exp.Literal.number(part.index + 1)],
                                       offset=1, safe=True)
            return _walk(Field(field.name, field.key, STRUCT, field.fields), element_node, rest)
        return Place(view=ABSENT)
    if kind == MAP:  # MAP<STRING,STRING>: a key's value is a string field (element_at: NULL when absent)
        if isinstance(part, Key):
            value = exp.Bracket(this=node.copy(), expressions=[_string(part.name)], offset=1, safe=True)
            return _walk(Field(part.name, part.name, STRING), value, rest)
        if isinstance(part, Wildcard) and not part.array:
            raise SqlRefusal("map-field", field.key + ".*")
        return Place(view=ABSENT)
    if kind == JSON_TEXT:
        if any(isinstance(p, Wildcard) for p in parts):
            raise SqlRefusal("json-wildcard", field.key)
        return Place(view=_json_view(node, list(parts)))
    return Place(view=ABSENT)  # a key, index or wildcard under a string or boolean: nothing there


def _field_view(field: Field, node: exp.Expression) -> View:
    if field.kind == STRING:
        return _text_view(node)
    if field.kind == BOOLEAN:
        return _boolean_view(node)
    return _container_view(node)  # struct, array, map, JSON-text column itself


# ------------------------------------------------------------------ leaves

def _comparison(view: View, node: Comparison) -> exp.Expression:
    value = node.value
    if isinstance(value, Regex):
        return _regex_test(view, node.op, value.body)
    if isinstance(value, NumberValue):
        number = value.value
        if not math.isfinite(number):
            raise SqlRefusal("number-range", value.text)
        ops = {"=": exp.EQ, "!=": exp.NEQ, "<": exp.LT, ">": exp.GT, "<=": exp.LTE, ">=": exp.GTE}
        numeric = FALSE if view.number is None else _and(
            _not_null(view.number), ops[node.op](this=view.number.copy(), expression=_double(number)))
        if node.op not in ("=", "!="):
            return numeric
        if view.text is None:
            return numeric
        text_op = exp.EQ if node.op == "=" else exp.NEQ
        by_text = _and(view.is_string if view.number is not None else TRUE,  # a number's text never counts here
                       text_op(this=view.text.copy(), expression=_string(value.text)))
        return _or(numeric, by_text)
    if view.text is None:
        return FALSE
    if _wildcard_form(value.text)[0] == "any":  # `= *`: a string or number is there; `!= *`: never
        return view.scalar.copy() if node.op == "=" else FALSE
    test = _string_test(view.text, value.text)
    return _and(_guard(view), test if node.op == "=" else exp.Not(this=exp.Paren(this=test)))


def _guard(view: View) -> exp.Expression:
    """What a test on `view.text` needs beside it: that a string or number is there. A text view's
    text is NULL exactly when nothing is there, so its tests need none; a JSON view's text is also
    set for booleans and (on DuckDB) objects, so they need the type test."""
    return view.scalar if view.number is not None else TRUE


def _regex_test(view: View, op: str, body: str) -> exp.Expression:
    if view.text is None:
        return FALSE
    translated = _translate_regex(body)
    search = exp.RegexpLike(this=view.text.copy(), expression=_string(translated))
    return _and(_guard(view), search if op == "=" else exp.Not(this=exp.Paren(this=search)))


# The filter-pattern regex subset (docs/patterns.md; the engine runs it as Python `re` with
# re.ASCII, searching) rewritten so RE2 (DuckDB's regexp_matches) and Athena's regexp_like (Trino:
# Joni with Java syntax by default, RE2J optionally) read it the same way: classes spelled out, `.` as
# "not a newline", `^` as `\A`, `$` as Python's "end, or before a final newline" (`\n?\z`, so only
# at the end of an alternative), none of the three engines' differing anchors or escapes left in.
# What has no such spelling is refused.
_CLASS_ESCAPES = {"d": "0-9", "w": "0-9A-Za-z_", "s": "\\t\\n\\x0B\\f\\r "}
_REGEX_META = frozenset("\\.^$|?*+()[]{}")
_QUANTIFIER = re.compile(r"\{(\d+)(,(\d*))?\}")
_MAX_REPEAT = 1000  # RE2's limit on a counted repetition


def _literal(char: str, in_class: bool = False) -> str:
    """`char` as a literal: escaped when it is an operator there, as itself otherwise (RE2 rejects
    escapes of letters, digits and `_`)."""
    special = "\\]^-[&" if in_class else _REGEX_META
    return "\\" + char if char in special else char


def _translate_regex(body: str) -> str:
    """`body` in a syntax RE2 and Trino's regex engines (Joni, RE2J) read as Python's `re` (ASCII) does."""
    out: list[str] = []
    i, n = 0, len(body)
    after_quantifier = False
    while i < n:
        char = body[i]
        quantifier = False
        if char == "\\":
            if i + 1 >= n:
                raise SqlRefusal("regex", f"%{body}%: a trailing backslash")
            nxt = body[i + 1]
            if nxt.lower() in _CLASS_ESCAPES:
                inner = _CLASS_ESCAPES[nxt.lower()]
                out.append(f"[{inner}]" if nxt.islower() else f"[^{inner}]")
            elif nxt.isalnum() or ord(nxt) > 127:
                raise SqlRefusal("regex", f"%{body}%: the escape \\{nxt}")
            else:
                out.append(_literal(nxt))
            i += 2
        elif char == "[":
            text, i = _translate_class(body, i)
            out.append(text)
        elif char == ".":
            out.append("[^\\n]")
            i += 1
        elif char == "^":
            out.append("\\A")
            i += 1
        elif char == "$":
            if i + 1 < n and body[i + 1] != "|":
                raise SqlRefusal("regex", f"%{body}%: '$' before more of the expression")
            out.append("\\n?\\z")
            i += 1
        elif char in "*+?":
            if after_quantifier and char != "?":
                raise SqlRefusal("regex", f"%{body}%: a possessive or repeated quantifier")
            out.append(char)
            quantifier = char != "?" or not after_quantifier
            i += 1
        elif char == "{":
            match = _QUANTIFIER.match(body, i)
            if match is None:
                if body.startswith("{,", i):
                    raise SqlRefusal("regex", f"%{body}%: '{{,n}}'")
                out.append("\\{")
                i += 1
            else:
                if after_quantifier:
                    raise SqlRefusal("regex", f"%{body}%: a repeated quantifier")
                counts = [int(c) for c in (match.group(1), match.group(3)) if c]
                if max(counts) > _MAX_REPEAT or (len(counts) == 2 and counts[0] > counts[1]):
                    raise SqlRefusal("regex", f"%{body}%: the repetition {match.group(0)}")
                out.append(match.group(0))
                quantifier = True
                i = match.end()
        elif char == "|":
            out.append("|")
            i += 1
        else:
            out.append(_literal(char))
            i += 1
        after_quantifier = quantifier
    return "".join(out)


def _translate_class(body: str, start: int) -> tuple[str, int]:
    """A `[...]` class from `start`: (its translation, the index after it)."""
    i, n = start + 1, len(body)
    out = ["["]
    if i < n and body[i] == "^":
        out.append("^")
        i += 1
    first = True
    items: list[str] = []
    while True:
        if i >= n:
            raise SqlRefusal("regex", f"%{body}%: an unclosed '['")
        char = body[i]
        if char == "]" and not first:
            i += 1
            break
        first = False
        if char == "[" or body.startswith("&&", i):
            raise SqlRefusal("regex", f"%{body}%: '[' or '&&' inside a class")
        if char == "\\":
            if i + 1 >= n:
                raise SqlRefusal("regex", f"%{body}%: a trailing backslash")
            nxt = body[i + 1]
            if nxt in _CLASS_ESCAPES:
                items.append(_CLASS_ESCAPES[nxt])
            elif nxt.isalnum() or ord(nxt) > 127:
                raise SqlRefusal("regex", f"%{body}%: the escape \\{nxt} inside a class")
            else:
                items.append(_literal(nxt, in_class=True))
            i += 2
            continue
        if char == "-" and items and i + 1 < n and body[i + 1] != "]":
            low = items[-1]
            high = body[i + 1]
            if len(low) > 2 or (len(low) == 2 and not low.startswith("\\")) or high in "\\[":
                raise SqlRefusal("regex", f"%{body}%: a range in a class that is not between two characters")
            items[-1] = f"{low}-{_literal(high, in_class=True)}"
            i += 2
            continue
        items.append(_literal(char, in_class=True))
        i += 1
    return "".join(out) + "".join(items) + "]", i


def _leaf_on(view: View, node: Any) -> exp.Expression:
    if isinstance(node, NotExists):
        return view.missing.copy()
    if isinstance(node, IsCheck):
        return {"NULL": view.null, "TRUE": view.true, "FALSE": view.false}[node.what].copy()
    return _comparison(view, node)


def _leaf(node: Any) -> exp.Expression:
    place = _resolve(node.selector)
    if place.view is not None:
        return _leaf_on(place.view, node)
    variable = exp.to_identifier("r")
    element_view = place.element(exp.column("r"))
    if isinstance(node, NotExists):
        if place.whole_elements:  # no element at all: the array is missing or empty
            return exp.EQ(this=exp.func("COALESCE", exp.ArraySize(this=place.array.copy()), exp.Literal.number(0)),
                          expression=exp.Literal.number(0))
        if _is_true(element_view.missing):
            return TRUE
        present = exp.Not(this=exp.Paren(this=element_view.missing.copy()))
        some = _some(place.array, variable, present)
        return exp.Not(this=exp.Paren(this=exp.func("COALESCE", some, FALSE)))
    condition = _leaf_on(element_view, node)
    if _is_false(condition):
        return FALSE
    return _some(place.array, variable, condition)


def _some(array: exp.Expression, variable: exp.Identifier, condition: exp.Expression) -> exp.Expression:
    """Some element of `array` satisfies `condition` (NULL when the array is NULL)."""
    lam = exp.Lambda(this=condition, expressions=[variable])
    return exp.GT(this=exp.ArraySize(this=exp.ArrayFilter(this=array.copy(), expression=lam)),
                  expression=exp.Literal.number(0))


# ------------------------------------------------------------------ && and ||

def _expr(node: Any) -> exp.Expression:
    if isinstance(node, And):
        return _and(*(_expr(op) for op in node.operands))
    if isinstance(node, Or):
        return _or(*_grouped(node.operands))
    return _leaf(node)


def _grouped(operands: tuple) -> list[exp.Expression]:
    """`$.eventName = A || $.eventName = B` on a text field -> `eventname IN ('A', 'B')`."""
    groups: dict[tuple, list[str]] = {}
    order: list[Any] = []
    for op in operands:
        key = _in_list_key(op)
        if key is None:
            order.append(op)
            continue
        if key not in groups:
            groups[key] = []
            order.append(key)
        if op.value.text not in groups[key]:
            groups[key].append(op.value.text)
    out: list[exp.Expression] = []
    for item in order:
        if isinstance(item, tuple):
            view = _resolve(Selector(item)).view
            values = groups[item]
            if len(values) == 1:
                out.append(exp.EQ(this=view.text.copy(), expression=_string(values[0])))
            else:
                out.append(exp.In(this=view.text.copy(), expressions=[_string(v) for v in values]))
        else:
            out.append(_expr(item))
    return out


def _in_list_key(op: Any) -> tuple | None:
    if not (isinstance(op, Comparison) and op.op == "=" and isinstance(op.value, StringValue)
            and _wildcard_form(op.value.text)[0] == "exact" and all(isinstance(p, Key) for p in op.selector.parts)):
        return None
    try:
        place = _resolve(op.selector)
    except SqlRefusal:
        return None
    if place.view is None or place.view.text is None or place.view.number is not None:
        return None
    return op.selector.parts


# ------------------------------------------------------------------ the entry points

def predicate_expression(pattern: str | CompiledPattern | Any) -> exp.Expression:
    """The sqlglot expression (dialect-free) that is TRUE exactly for the rows the pattern matches,
    and FALSE otherwise (never NULL). Raises SqlRefusal, or PatternSyntaxError for invalid text."""
    if isinstance(pattern, str):
        tree: Any = compile_pattern(pattern).tree
    elif isinstance(pattern, CompiledPattern):
        tree = pattern.tree
    else:
        tree = pattern
    if isinstance(tree, MatchAll):
        return TRUE.copy()
    if isinstance(tree, JsonPattern):
        tree = tree.expr
    if not isinstance(tree, (And, Or, Comparison, IsCheck, NotExists)):
        raise SqlRefusal("not-json", type(tree).__name__)
    body = _expr(tree)
    if _is_true(body) or _is_false(body):
        return body.copy()
    return exp.func("COALESCE", exp.Paren(this=body), FALSE.copy())


def compile_predicate(pattern: str | CompiledPattern | Any, dialect: Dialect) -> str:
    """The SQL boolean expression over one row of the CloudTrail table (`trailguard.sql.table`)
    that is TRUE exactly for the records the filter pattern matches, written for `dialect`
    ("duckdb" or "athena"). Raises SqlRefusal (a ValueError; `.reason` names why) when the table
    cannot keep the pattern's meaning, PatternSyntaxError for invalid pattern text and ValueError
    for an unknown dialect."""
    if dialect not in DIALECTS:
        raise ValueError(f"dialect {dialect!r}: use one of {', '.join(DIALECTS)}")
    return predicate_expression(pattern).sql(dialect=DIALECTS[dialect])
