"""The CloudWatch Logs filter-pattern language, offline.

Public API (stable), everything importable from `trailguard.patterns`:
- `compile_pattern(text)` -> `CompiledPattern` (`.matches`, `.predicate`, `.specialized`, `.fields`,
  `.key_paths`, `.warnings`, `.metric_value`); `PatternSyntaxError` for invalid text;
- `parse`, `render`, `render_selector`, `lint`, `decode_event`, `MISSING` and `getter`;
- the analysis of a tree (`walk`, `selectors`, `key_paths`, `constraints`, `required_values`,
  `specialize`), also as the module `trailguard.patterns.analysis`.

Public modules: this package, `ast` (the syntax tree), `analysis`, `errors` and `rules` (the named
defaults where AWS is silent). Every module whose name starts with `_` is private: other packages
import only the names above (tests/test_import_boundaries.py holds them to it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Callable

import orjson

from . import analysis, ast, errors, rules
from ._compiler import compile_expr, compile_extractor, compile_getter, compile_json_matcher, compile_text_matcher, \
    event_text
from ._parser import parse
from ._render import render, render_selector
from ._semantics import MISSING
from ._validate import check_quotas, lint
from .analysis import PRESENT, constraints, key_paths, required_values, selectors, specialize, walk
from .ast import NUMBER_RE, DelimitedPattern, JsonPattern, Key, MatchAll, Pattern, Selector
from .errors import Diagnostic, FilterPatternError, PatternSyntaxError, Severity, render_caret
from ._containment import Containment, contains, equivalent
from ._containment import clear_caches as clear_containment_caches

__all__ = [
    "compile_pattern", "CompiledPattern", "PatternSyntaxError", "FilterPatternError", "Diagnostic", "Severity",
    "parse", "render", "render_selector", "lint", "render_caret", "decode_event", "MISSING", "getter",
    "walk", "selectors", "key_paths", "constraints", "required_values", "specialize", "PRESENT",
    "contains", "equivalent", "Containment", "clear_containment_caches", "analysis", "ast", "errors", "rules",
]

Predicate = Callable[[Any], bool]


def decode_event(message: str | bytes) -> Any:
    """Decode one log message as JSON; None when it is not JSON (a JSON pattern never matches it)."""
    try:
        return orjson.loads(message)
    except orjson.JSONDecodeError:
        return None


def getter(path: str | tuple[str, ...]) -> Callable[[Any], Any]:
    """The value at a path of plain keys (`"errorCode"`, `("userIdentity", "type")`) in a decoded
    event, or MISSING: a direct `dict.get` chain, for code that reads a field many times."""
    keys = (path,) if isinstance(path, str) else tuple(path)
    return compile_getter(Selector(tuple(Key(key) for key in keys)))


def _always(event: Any) -> bool:
    return True


def _never(event: Any) -> bool:
    return False


@dataclass(frozen=True, eq=False)
class CompiledPattern:
    """A validated pattern compiled to a matcher. Build it with `compile_pattern`."""

    text: str
    tree: Pattern
    warnings: tuple[Diagnostic, ...]
    fields: frozenset[str]
    """Selectors the pattern reads (`$.eventName`, ...); empty for non-JSON patterns, which read the
    whole message (see `reads_message`)."""
    top_level_fields: frozenset[str] | None
    """First keys of those selectors; None if every key may be read (`$.*`) or the pattern reads the
    whole message."""
    key_paths: tuple[tuple[str, ...], ...] | None
    """What a partial decoder must keep (`analysis.key_paths`): the selectors' key paths cut at the
    first index or wildcard; None when any key may be read."""
    reads_message: bool
    _json: Predicate | None = field(repr=False)
    _text: Callable[[str], bool] | None = field(repr=False)

    @property
    def is_json(self) -> bool:
        return self._json is not None

    @property
    def predicate(self) -> Predicate:
        """The test for an already-decoded event, for hot loops: for a JSON pattern the compiled
        predicate itself (no per-call type checks; the event must be decoded JSON), for the other
        families `matches`."""
        return self._json if self._json is not None else self.matches

    def specialized(self, path: str | tuple[str, ...], value: str) -> Predicate:
        """`predicate` for events whose field at `path` holds the string `value` (`analysis.specialize`):
        the conditions on that path are decided once here instead of on every event. Only call it on
        such events. Non-JSON patterns are not specialised: their `predicate`."""
        if self._json is None:
            return self.predicate
        folded = specialize(self.tree.expr, path, value)  # type: ignore[union-attr]
        if folded is True:
            return _always
        if folded is False:
            return _never
        return self._json if folded is self.tree.expr else compile_expr(folded)  # type: ignore[union-attr]

    def matches(self, message_or_event: Any) -> bool:
        """Whether CloudWatch Logs would count this log event: a raw message (str/bytes) or an
        already-decoded JSON event (dict/list); both give the same answer."""
        m = message_or_event
        if self._json is not None:
            if m.__class__ is str or m.__class__ is bytes:
                m = decode_event(m)
                if m is None:
                    return False
            return self._json(m)
        if m.__class__ is bytes:
            m = m.decode("utf-8", "replace")
        elif m.__class__ is not str:
            m = event_text(m)
        return self._text(m)

    def extract(self, message: str) -> dict[str, str] | None:
        """Space-delimited patterns: the extracted fields (`$name`, `$3`) of a message, or None when
        the message does not fit the pattern's fields. Other families extract nothing ({})."""
        if isinstance(self.tree, DelimitedPattern):
            return compile_extractor(self.tree)(message)
        return {}

    def metric_value(self, message_or_event: Any, spec: str) -> float | None:
        """The metric value a filter with `metricValue = spec` publishes for a matching event: a literal
        number, `$.field` (JSON) or `$name`/`$N` (space-delimited); None if missing or not numeric."""
        if NUMBER_RE.match(spec):
            return float(spec)
        if spec.startswith("$.") and self._json is not None:
            event = message_or_event
            if event.__class__ in (str, bytes):
                event = decode_event(event)
            value = compile_getter(parse("{ " + spec + " = * }").expr.selector)(event)
        elif spec.startswith("$") and isinstance(self.tree, DelimitedPattern):
            text = message_or_event if isinstance(message_or_event, str) else event_text(message_or_event)
            value = (self.extract(text) or {}).get(spec, MISSING)
        else:
            raise ValueError(f"metric value {spec!r} must be a number, $.field for JSON patterns or $name for "
                             "space-delimited patterns")
        if value.__class__ in (int, float):
            return float(value)
        if value.__class__ is str and NUMBER_RE.match(value):
            return float(value)
        return None


@lru_cache(maxsize=2048)
def compile_pattern(text: str) -> CompiledPattern:
    """Parse, validate and compile a filter pattern (cached by text).

    Raises `PatternSyntaxError` (message, 1-based column, caret excerpt) for invalid text or a
    pattern over an AWS quota.
    """
    tree = parse(text)
    check_quotas(text, tree)
    warnings = lint(tree)
    paths = key_paths(tree)
    if isinstance(tree, JsonPattern):
        fields = frozenset(render_selector(s) for s in selectors(tree))
        top = None if paths is None else frozenset(path[0] for path in paths)
        return CompiledPattern(text, tree, warnings, fields, top, paths, False, compile_json_matcher(tree), None)
    reads = not isinstance(tree, MatchAll)
    return CompiledPattern(text, tree, warnings, frozenset(), None if reads else frozenset(), paths, reads, None,
                           compile_text_matcher(tree))
