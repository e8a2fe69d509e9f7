"""Recursive-descent parser for CloudWatch Logs filter patterns.

The first non-blank character picks the family (`filter-pattern-spec.md` §2.1): `{` JSON, `[`
space-delimited, `%` a standalone regex, anything else unstructured terms; the empty pattern, `""`
and `" "` match everything. Each grammar rule of §2.9 is one method; errors carry the position of
the character that broke the rule and say what was expected there.
"""

from __future__ import annotations

import re
import sys
from typing import Callable

from . import rules
from .ast import (
    And, Comparison, DelimitedPattern, Ellipsis_, Expr, Field, FieldCondition, Index,
    IsCheck, JsonPattern, Key, MatchAll, NotExists, NUMBER_RE, NumberValue, Or, Pattern, Regex, RegexPattern,
    Selector, StringValue, Term, TermPattern, Value, Wildcard,
)
from .errors import PatternSyntaxError

WHITESPACE = frozenset(" \t\r\n")
IDENT_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")
TERM_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
BARE_VALUE_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.*:/@+-")
OPERATORS = ("!=", "<=", ">=", "=", "<", ">")  # longest first
NUMERIC_OPERATORS = frozenset({"<", ">", "<=", ">="})


def parse(text: str) -> Pattern:
    """Parse `text` into a syntax tree, raising `PatternSyntaxError` if it is not a valid pattern."""
    if not isinstance(text, str):
        raise TypeError(f"a filter pattern is a str, not {type(text).__name__}")
    if len(text) > rules.MAX_PATTERN_LENGTH:
        raise PatternSyntaxError(
            f"pattern is {len(text)} characters long; CloudWatch Logs allows at most "
            f"{rules.MAX_PATTERN_LENGTH}", text, rules.MAX_PATTERN_LENGTH, "E150")
    # AWS sets no nesting limit below the length cap (A22); 1024 characters of '(' need ~1600 frames.
    limit = sys.getrecursionlimit()
    if limit < _PARSE_RECURSION_LIMIT:
        sys.setrecursionlimit(_PARSE_RECURSION_LIMIT)
    try:
        return _Parser(text).parse_pattern()
    finally:
        if limit < _PARSE_RECURSION_LIMIT:
            sys.setrecursionlimit(limit)


_PARSE_RECURSION_LIMIT = 4 * rules.MAX_PATTERN_LENGTH + 1000


class _Parser:
    def __init__(self, src: str) -> None:
        self.src = src
        self.pos = 0

    # ------------------------------------------------------------------ helpers
    def error(self, message: str, pos: int | None = None, code: str = "E100") -> PatternSyntaxError:
        return PatternSyntaxError(message, self.src, self.pos if pos is None else pos, code)

    def peek(self, n: int = 1) -> str:
        return self.src[self.pos:self.pos + n]

    def at_end(self) -> bool:
        return self.pos >= len(self.src)

    def skip_ws(self) -> None:
        src, pos = self.src, self.pos
        while pos < len(src) and src[pos] in WHITESPACE:
            pos += 1
        self.pos = pos

    def describe_here(self) -> str:
        return "end of pattern" if self.at_end() else repr(self.src[self.pos])

    def expect(self, literal: str, what: str) -> None:
        if not self.src.startswith(literal, self.pos):
            raise self.error(f"expected {what}, found {self.describe_here()}")
        self.pos += len(literal)

    # ------------------------------------------------------------------ families
    def parse_pattern(self) -> Pattern:
        stripped = self.src.strip(" \t\r\n")
        if stripped in rules.MATCH_ALL_TEXTS:
            return MatchAll(stripped, (0, len(self.src)))
        self.skip_ws()
        first = self.peek()
        if first == "{":
            node: Pattern = self.parse_json_pattern()
        elif first == "[":
            node = self.parse_delimited_pattern()
        elif first == "%":
            start = self.pos
            regex = self.parse_regex()
            node = RegexPattern(regex, (start, self.pos))
        else:
            return self.parse_term_pattern()
        self.skip_ws()
        if not self.at_end():
            family = {"{": "a JSON pattern's closing '}'", "[": "a space-delimited pattern's closing ']'",
                      "%": "a standalone regex"}[first]
            raise self.error(f"expected end of pattern after {family}, found {self.describe_here()}")
        return node

    # ------------------------------------------------------------------ unstructured terms
    def parse_term_pattern(self) -> TermPattern:
        terms: list[Term] = []
        start = self.pos
        while True:
            self.skip_ws()
            if self.at_end():
                break
            terms.append(self.parse_term())
            if not self.at_end() and self.peek() not in WHITESPACE:
                raise self.error(
                    f"expected a space between terms, found {self.describe_here()}; terms with characters "
                    "other than letters, digits and '_' must be in double quotes")
        return TermPattern(tuple(terms), (start, self.pos))

    def parse_term(self) -> Term:
        start = self.pos
        kind = "required"
        if self.peek() == "-":
            kind = "exclude"
            self.pos += 1
            if rules.ALLOW_SPACE_AFTER_EXCLUDE:
                self.skip_ws()
        elif self.peek() == "?":
            kind = "optional"
            self.pos += 1
        if self.at_end():
            raise self.error(f"expected a term after {self.src[start]!r}")
        if self.peek() == '"':
            text = self.parse_quoted()
            return Term(text, True, kind, (start, self.pos))
        word_start = self.pos
        while not self.at_end() and self.src[self.pos] in TERM_CHARS:
            self.pos += 1
        if self.pos == word_start or (not self.at_end() and self.src[self.pos] not in WHITESPACE):
            bad = self.pos
            raise self.error(
                f"unquoted term may contain only letters, digits and '_', found {self.src[bad]!r}; "
                "put terms with other characters in double quotes, e.g. \"user@example.com\"",
                bad, "E110")
        return Term(self.src[word_start:self.pos], False, kind, (start, self.pos))

    def parse_quoted(self) -> str:
        """`"..."` with the escapes of rule A6; the position is left after the closing quote."""
        start = self.pos
        self.pos += 1
        out: list[str] = []
        src = self.src
        while self.pos < len(src):
            ch = src[self.pos]
            if ch == '"':
                self.pos += 1
                return "".join(out)
            if ch == "\\" and self.pos + 1 < len(src) and src[self.pos + 1] in rules.QUOTED_ESCAPES:
                out.append(rules.QUOTED_ESCAPES[src[self.pos + 1]])
                self.pos += 2
                continue
            out.append(ch)
            self.pos += 1
        raise self.error("unterminated string: expected a closing '\"' for the quote opened here", start, "E111")

    # ------------------------------------------------------------------ regex
    def parse_regex(self) -> Regex:
        start = self.pos
        self.pos += 1  # opening %
        end = self.src.find("%", self.pos)
        if end < 0:
            raise self.error("unterminated regex: expected a closing '%' for the '%' opened here", start, "E120")
        body = self.src[self.pos:end]
        if not body:
            raise self.error("empty regex: expected a regular expression between '%' and '%'", start, "E121")
        for i, ch in enumerate(body, self.pos):
            if ch in "()":
                raise self.error(
                    "Invalid character(s) in term: a regex may not contain '(' or ')' (AWS rejects "
                    "subpatterns); write \\x28 or \\x29 to match a literal parenthesis", i, "E122")
            if ord(ch) > 127:
                raise self.error("multi-byte characters are not supported in a regex", i, "E123")
            if not (ch.isalnum() or ch in rules.REGEX_SYMBOLS or ch in rules.REGEX_OPERATORS):
                raise self.error(
                    f"Invalid character(s) in term: {ch!r} is not allowed in a regex (allowed: letters, "
                    "digits, the symbols : _ # = @ / ; , - and the operators ^ $ ? [ ] { } | \\ * + .)",
                    i, "E124")
        from ._regex import compile_regex  # local: _regex imports the error type only

        try:
            compile_regex(body)
        except re.error as exc:
            raise self.error(f"invalid regex: {exc.msg}", self.pos + (exc.pos or 0), "E125") from None
        self.pos = end + 1
        return Regex(body, (start, self.pos))

    # ------------------------------------------------------------------ JSON
    def parse_json_pattern(self) -> JsonPattern:
        start = self.pos
        self.pos += 1  # {
        self.skip_ws()
        if self.peek() == "}":
            raise self.error("expected a condition such as $.eventName = \"ConsoleLogin\" inside '{ }'")
        expr = self.parse_or(self.parse_json_unary)
        self.skip_ws()
        if self.peek() != "}":
            raise self.error(f"expected '&&', '||' or the closing '}}', found {self.describe_here()}")
        self.pos += 1
        return JsonPattern(expr, (start, self.pos))

    def parse_or(self, unary: Callable[[], Expr]) -> Expr:
        start = self.pos
        operands = [self.parse_and(unary)]
        while True:
            save = self.pos
            self.skip_ws()
            if self.peek(2) != "||":
                self.pos = save
                break
            self.pos += 2
            self.skip_ws()
            operands.append(self.parse_and(unary))
        if len(operands) == 1:
            return operands[0]
        return Or(_flatten(operands, Or), False, (start, self.pos))

    def parse_and(self, unary: Callable[[], Expr]) -> Expr:
        start = self.pos
        operands = [unary()]
        while True:
            save = self.pos
            self.skip_ws()
            if self.peek(2) != "&&":
                self.pos = save
                break
            self.pos += 2
            self.skip_ws()
            operands.append(unary())
        if len(operands) == 1:
            return operands[0]
        return And(_flatten(operands, And), False, (start, self.pos))

    def parse_json_unary(self) -> Expr:
        if self.peek() == "(":
            start = self.pos
            self.pos += 1
            self.skip_ws()
            inner = self.parse_or(self.parse_json_unary)
            self.skip_ws()
            if self.peek() != ")":
                raise self.error(f"expected '&&', '||' or ')' to close the '(' at column {start + 1}, "
                                 f"found {self.describe_here()}")
            self.pos += 1
            if isinstance(inner, (And, Or)):
                return type(inner)(inner.operands, True, (start, self.pos))
            return inner
        return self.parse_condition()

    def parse_condition(self) -> Expr:
        start = self.pos
        if self.peek() != "$":
            raise self.error(f"expected a property selector starting with '$.' or '(', found {self.describe_here()}")
        selector = self.parse_selector()
        self.skip_ws()
        kw_pos = self.pos
        word = self._peek_word()
        if word.upper() in ("IS", "NOT", "EXISTS") and word != word.upper():
            raise self.error(f"keywords are upper case: write {word.upper()!r}, not {word!r}", kw_pos, "E131")
        if word == "EXISTS":
            raise self.error("EXISTS is not supported by CloudWatch Logs; use '= *' for a field with any "
                             "value, or NOT EXISTS", kw_pos, "E132")
        if word == "IS":
            self.pos += 2
            self.skip_ws()
            what_pos = self.pos
            what = self._peek_word()
            if what == "NOT":
                raise self.error("IS NOT is not supported by CloudWatch Logs; use '!=' for strings and numbers, "
                                 "or IS TRUE / IS FALSE for booleans", kw_pos, "E133")
            if what not in ("NULL", "TRUE", "FALSE"):
                raise self.error(f"expected NULL, TRUE or FALSE after IS, found {self.describe_here()}", what_pos)
            self.pos += len(what)
            return IsCheck(selector, what, (start, self.pos))
        if word == "NOT":
            self.pos += 3
            self.skip_ws()
            if self._peek_word() != "EXISTS":
                raise self.error(f"expected EXISTS after NOT, found {self.describe_here()}")
            self.pos += 6
            return NotExists(selector, (start, self.pos))
        op = self.parse_operator("after the selector (or IS NULL, IS TRUE, IS FALSE, NOT EXISTS)")
        self.skip_ws()
        value = self.parse_value(op)
        return Comparison(selector, op, value, (start, self.pos))

    def _peek_word(self) -> str:
        end = self.pos
        while end < len(self.src) and self.src[end].isalpha():
            end += 1
        return self.src[self.pos:end]

    def parse_operator(self, where: str) -> str:
        if self.peek(2) == "==":
            raise self.error("'==' is not an operator; use '=' to compare", code="E134")
        for op in OPERATORS:
            if self.src.startswith(op, self.pos):
                self.pos += len(op)
                return op
        raise self.error(f"expected a comparison operator (=, !=, <, >, <=, >=) {where}, found {self.describe_here()}")

    def parse_selector(self) -> Selector:
        start = self.pos
        self.pos += 1  # $
        parts: list = []
        src = self.src
        while not self.at_end():
            ch = src[self.pos]
            if ch == ".":
                self.pos += 1
                nxt = self.peek()
                if nxt == "*":
                    self.pos += 1
                    parts.append(Wildcard(array=False))
                elif nxt == "[":
                    parts.append(self.parse_bracket_key())
                else:
                    ident_start = self.pos
                    while not self.at_end() and src[self.pos] in IDENT_CHARS:
                        self.pos += 1
                    if self.pos == ident_start:
                        raise self.error(f"expected a property name, '*' or \"['name']\" after '.', found "
                                         f"{self.describe_here()}", code="E135")
                    parts.append(Key(src[ident_start:self.pos]))
            elif ch == "[":
                if not parts:
                    raise self.error("expected '.' after '$': selectors start with '$.'", code="E135")
                bracket = self.pos
                self.pos += 1
                if self.peek() == "*":
                    self.pos += 1
                    parts.append(Wildcard(array=True))
                else:
                    digits_start = self.pos
                    while not self.at_end() and src[self.pos].isdigit():
                        self.pos += 1
                    if self.pos == digits_start:
                        raise self.error(f"expected an array index or '*' after '[', found {self.describe_here()}",
                                         code="E135")
                    parts.append(Index(int(src[digits_start:self.pos])))
                if self.peek() != "]":
                    raise self.error(f"expected ']' to close the '[' at column {bracket + 1}, found "
                                     f"{self.describe_here()}", code="E135")
                self.pos += 1
            else:
                break
        if not parts:
            raise self.error("expected '.' after '$': selectors look like $.eventName or $.userIdentity.type",
                             code="E135")
        return Selector(tuple(parts), (start, self.pos))

    def parse_bracket_key(self) -> Key:
        open_pos = self.pos
        self.pos += 1  # [
        quote = self.peek()
        if quote not in ("'", '"'):
            raise self.error("expected a quoted property name in \"['name']\"", code="E135")
        end = self.src.find(quote, self.pos + 1)
        if end < 0:
            raise self.error("unterminated property name: expected a closing quote", self.pos, "E135")
        name = self.src[self.pos + 1:end]
        self.pos = end + 1
        if self.peek() != "]":
            raise self.error(f"expected ']' to close the '[' at column {open_pos + 1}", code="E135")
        self.pos += 1
        return Key(name, bracketed=True)

    def parse_value(self, op: str) -> Value:
        start = self.pos
        ch = self.peek()
        if ch == '"':
            text = self.parse_quoted()
            value: Value = StringValue(text, True, (start, self.pos))
        elif ch == "%":
            value = self.parse_regex()
        else:
            while not self.at_end() and self.src[self.pos] in BARE_VALUE_CHARS:
                self.pos += 1
            text = self.src[start:self.pos]
            if not text:
                raise self.error(f"expected a value after {op!r} (a number, a \"quoted string\", a word or "
                                 f"a %regex%), found {self.describe_here()}", code="E136")
            value = NumberValue(text, (start, self.pos)) if NUMBER_RE.match(text) else StringValue(
                text, False, (start, self.pos))
        if op in NUMERIC_OPERATORS and not isinstance(value, NumberValue):
            raise self.error(f"the operator {op!r} compares numbers, but the value is not a number "
                             "(numbers look like 10, -5.5, 1e3)", start, "E137")
        return value

    # ------------------------------------------------------------------ space-delimited
    def parse_delimited_pattern(self) -> DelimitedPattern:
        start = self.pos
        self.pos += 1  # [
        fields: list[Field | Ellipsis_] = []
        ellipses = 0
        while True:
            self.skip_ws()
            field_start = self.pos
            if self.src.startswith("...", self.pos):
                self.pos += 3
                ellipses += 1
                if ellipses > rules.MAX_ELLIPSES:
                    raise self.error("only one '...' is allowed in a space-delimited pattern", field_start, "E140")
                fields.append(Ellipsis_((field_start, self.pos)))
            else:
                fields.append(self.parse_field())
            self.skip_ws()
            ch = self.peek()
            if ch == ",":
                self.pos += 1
                continue
            if ch == "]":
                self.pos += 1
                break
            raise self.error(f"expected ',' or ']' after a field, found {self.describe_here()}")
        if len(fields) == 1 and isinstance(fields[0], Field) and not fields[0].name and fields[0].condition is None:
            raise self.error("expected at least one field name in '[ ]', e.g. [ip, user, status_code=404, ...]",
                             start + 1, "E141")
        return DelimitedPattern(tuple(fields), (start, self.pos))

    def parse_field(self) -> Field:
        start = self.pos
        name = self._ident()
        self.skip_ws()
        if self.at_end() or self.peek() in ",]":
            return Field(name, None, (start, self.pos))
        if not name:
            raise self.error(f"expected a field name, '...', ',' or ']', found {self.describe_here()}")
        self._field_name = name
        condition = self.parse_or(self.parse_field_condition)
        return Field(name, condition, (start, self.pos))

    def _ident(self) -> str:
        start = self.pos
        while not self.at_end() and self.src[self.pos] in IDENT_CHARS:
            self.pos += 1
        return self.src[start:self.pos]

    def parse_field_condition(self) -> FieldCondition:
        start = self.pos
        if self.peek() in TERM_CHARS and rules.CONDITION_MAY_NAME_OTHER_FIELD:
            name = self._ident()
            self.skip_ws()
        else:
            name = self._field_name
        op = self.parse_operator(f"in the condition on field {name!r}")
        self.skip_ws()
        value = self.parse_value(op)
        return FieldCondition(name, op, value, (start, self.pos))


def _flatten(operands: list, kind: type) -> tuple:
    """`a && (b && c)` is `a && b && c`: merge same-operator children so trees are canonical."""
    out: list = []
    for op in operands:
        if isinstance(op, kind):
            out.extend(op.operands)
        else:
            out.append(op)
    return tuple(out)
