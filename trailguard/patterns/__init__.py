"""The CloudWatch Logs filter-pattern language, offline.

Public API (stable): `compile_pattern(text)` -> `CompiledPattern` with `.matches(message_or_event)`,
`.fields` and `.warnings`; `PatternSyntaxError` for invalid text. Also `parse`, `render`, `lint`
and the syntax tree in `trailguard.patterns.ast`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Callable

import orjson

from .ast import DelimitedPattern, JsonPattern, Key, MatchAll, Pattern
from .compiler import compile_extractor, compile_json_matcher, compile_text_matcher, compile_getter, event_text
from .errors import Diagnostic, FilterPatternError, PatternSyntaxError, Severity, render_caret
from .parser import parse
from .render import render, render_selector
from .semantics import MISSING, NUMBER_TEXT_RE
from .validate import check_quotas, lint
from ._containment import Containment, contains, equivalent  # noqa: F401  (containment, exported)

__all__ = [
    "compile_pattern", "CompiledPattern", "PatternSyntaxError", "FilterPatternError", "Diagnostic", "Severity",
    "parse", "render", "lint", "render_caret", "decode_event",
]


def decode_event(message: str | bytes) -> Any:
    """Decode one log message as JSON; None when it is not JSON (a JSON pattern never matches it)."""
    try:
        return orjson.loads(message)
    except orjson.JSONDecodeError:
        return None


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
    """First keys of those selectors (what a partial decoder must keep); None if every key may be read
    (`$.*`) or the pattern reads the whole message."""
    reads_message: bool
    _json: Callable[[Any], bool] | None = field(repr=False)
    _text: Callable[[str], bool] | None = field(repr=False)

    @property
    def is_json(self) -> bool:
        return self._json is not None

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
        if NUMBER_TEXT_RE.match(spec):
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
        if value.__class__ is str and NUMBER_TEXT_RE.match(value):
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
    if isinstance(tree, JsonPattern):
        selectors = _selectors(tree)
        fields = frozenset(render_selector(s) for s in selectors)
        firsts = [s.parts[0] for s in selectors]
        top = None if any(not isinstance(p, Key) for p in firsts) else frozenset(p.name for p in firsts)
        return CompiledPattern(text, tree, warnings, fields, top, False, compile_json_matcher(tree), None)
    reads = not isinstance(tree, MatchAll)
    return CompiledPattern(text, tree, warnings, frozenset(), None if reads else frozenset(), reads, None,
                           compile_text_matcher(tree))


def _selectors(tree: JsonPattern) -> list:
    from .validate import _selectors as walk

    return list(walk(tree))
