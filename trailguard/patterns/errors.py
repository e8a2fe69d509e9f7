"""Errors and diagnostics of the filter-pattern engine.

Like tomli, an error keeps the raw message, the pattern and the 0-based position, and derives the
1-based column from them; `str()` shows the message, the pattern and a caret under the offending
character, so a user can fix the pattern without counting characters.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One finding about a pattern: a syntax/quota error or a lint warning."""

    code: str  # stable id, e.g. "E101" or "W001"
    message: str
    column: int  # 1-based; len(pattern) + 1 means "at end of pattern"
    severity: Severity = Severity.ERROR

    def format(self, pattern: str) -> str:
        """The message with the pattern and a caret line under `column`."""
        return f"{self.message} {_where(pattern, self.column - 1)}\n{render_caret(pattern, self.column - 1)}"


def _where(pattern: str, pos: int) -> str:
    return "(at end of pattern)" if pos >= len(pattern) else f"(at column {pos + 1})"


def render_caret(pattern: str, pos: int) -> str:
    """Two lines: the pattern and a caret under 0-based `pos` (one past the end at EOF).

    Tabs and newlines in the pattern are shown as spaces so the caret lines up.
    """
    shown = pattern.replace("\t", " ").replace("\n", " ").replace("\r", " ")
    return f"  {shown}\n  {' ' * min(pos, len(shown))}^"


class FilterPatternError(ValueError):
    """Root of every error the engine raises."""


class PatternSyntaxError(FilterPatternError):
    """The pattern is not valid CloudWatch Logs filter-pattern syntax, or breaks an AWS quota.

    `message` says what was expected, `column` is 1-based, `diagnostics` holds every error found
    (the first is the one in `message`).
    """

    def __init__(self, message: str, pattern: str, pos: int, code: str = "E100",
                 diagnostics: tuple[Diagnostic, ...] = ()) -> None:
        self.message = message
        self.pattern = pattern
        self.pos = max(0, min(pos, len(pattern)))
        self.code = code
        first = Diagnostic(code, message, self.pos + 1)
        self.diagnostics = diagnostics or (first,)
        super().__init__(self.__str__())

    @property
    def column(self) -> int:
        return self.pos + 1

    def __str__(self) -> str:
        return f"{self.message} {_where(self.pattern, self.pos)}\n{render_caret(self.pattern, self.pos)}"

    def __reduce__(self):  # picklable for multiprocessing workers
        return (PatternSyntaxError, (self.message, self.pattern, self.pos, self.code, self.diagnostics))
