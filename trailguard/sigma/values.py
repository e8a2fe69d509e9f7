"""Sigma values as filter-pattern values: a wildcard string as a `"*x*"`-style string where the
filter-pattern wildcards can hold it, else as a `%regex%` of the engine's subset; a Sigma `|re` as
that subset, or the reason it has none. Control characters (`|wide` and `|utf16` make NULs) go
through a regex too, as `\\xhh`: a quoted filter-pattern string has no escape for them.

Filter-pattern strings have only a leading and a trailing `*` (an inner `*` is literal, a literal
`*` at either end cannot be written) and no single-character wildcard, so Sigma's `?`, inner `*`
and escaped boundary `*` go through a regex: `*` -> `[\\s\\S]*`, `?` -> `[\\s\\S]` (both also match a
newline, as Sigma's wildcards do), anchored where the Sigma value has no wildcard. Characters the
regex subset does not allow are written `\\xhh`; non-ASCII text has no regex form (AWS rejects
multi-byte characters in a regex).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from trailguard.patterns import rules
from trailguard.patterns.ast import Regex, StringValue

MULTI = "multi"
SINGLE = "single"


class Refusal(Exception):
    """The rule (or one of its values) has no filter-pattern form; `kind` names why."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(f"{kind}: {message}")
        self.kind = kind
        self.message = message


@dataclass(frozen=True)
class ValueMatch:
    """A Sigma string as a filter-pattern value. `any` when it matches every string (Sigma `*`);
    `wildcard` when it compares more than equality (then the text of an object or array could match
    in Sigma); `folded` when letters were made case-insensitive inside the regex."""

    value: StringValue | Regex
    any: bool = False
    wildcard: bool = False
    folded: bool = False


_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") | rules.REGEX_SYMBOLS
_ANY_CHAR = r"[\s\S]"


def string_parts(parts: list) -> list[str | tuple[str]]:
    """pySigma's string parts as plain text and (MULTI,)/(SINGLE,) markers, runs of `*` merged."""
    from sigma.types import Placeholder, SpecialChars  # the `sigma` extra, imported only when used

    out: list = []
    for part in parts:
        if isinstance(part, Placeholder):
            raise Refusal("placeholder", f"the value holds the placeholder %{part.name}%, which only a "
                          "processing pipeline fills in")
        if part is SpecialChars.WILDCARD_MULTI:
            if out and out[-1] == (MULTI,):
                continue
            out.append((MULTI,))
        elif part is SpecialChars.WILDCARD_SINGLE:
            out.append((SINGLE,))
        elif isinstance(part, str):
            if out and isinstance(out[-1], str):
                out[-1] += part
            elif part:
                out.append(part)
        else:  # pragma: no cover - pySigma has no other part type
            raise Refusal("value", f"unknown string part {part!r}")
    return out


def match_string(parts: list, fold_case: bool) -> ValueMatch:
    """A Sigma string (its `.s` parts) as a filter-pattern value. `fold_case` asks for letters to
    match either case, possible only inside a regex: plain strings stay case-sensitive."""
    items = string_parts(parts)
    lead = bool(items) and items[0] == (MULTI,)
    trail = len(items) > 1 and items[-1] == (MULTI,)
    core = items[1 if lead else 0:len(items) - 1 if trail else len(items)]
    if lead and not core:
        return ValueMatch(StringValue("*", quoted=True), any=True, wildcard=True)
    literal = "".join(item for item in core if isinstance(item, str))
    plain = (all(isinstance(item, str) for item in core) and "*" not in literal
             and not any(ord(ch) < 0x20 or ord(ch) == 0x7f for ch in literal))
    if plain:
        text = "".join(core)  # type: ignore[arg-type]
        return ValueMatch(StringValue(("*" if lead else "") + text + ("*" if trail else ""), quoted=True),
                          wildcard=lead or trail)
    body = "".join(_ANY_CHAR + "*" if item == (MULTI,) else _ANY_CHAR if item == (SINGLE,)
                   else _literal(item, fold_case) for item in core)  # type: ignore[arg-type]
    wildcard = lead or trail or any(not isinstance(item, str) for item in core)
    return ValueMatch(Regex(("" if lead else "^") + body + ("" if trail else "$")), wildcard=wildcard,
                      folded=fold_case and any(ch.isalpha() for item in core if isinstance(item, str) for ch in item))


def _literal(text: str, fold_case: bool) -> str:
    out = []
    for ch in text:
        if ord(ch) > 127:
            raise Refusal("non-ascii", f"the value {text!r} needs a regex, and a filter-pattern regex cannot "
                          "hold multi-byte characters")
        if fold_case and ch.isalpha():
            out.append(f"[{ch.upper()}{ch.lower()}]")
        elif ch in _SAFE:
            out.append(ch)
        else:
            out.append(f"\\x{ord(ch):02x}")
    return "".join(out)


_ESCAPE_CLASSES = frozenset("dDsSwW")
_ESCAPE_CONTROL = {"n": "\\x0a", "t": "\\x09", "r": "\\x0d", "f": "\\x0c", "v": "\\x0b"}
_HEX2 = re.compile(r"[0-9a-fA-F]{2}\Z")


def translate_regex(text: str) -> Regex:
    """A Sigma `|re` value (Python/PCRE syntax, unanchored search) as the filter-pattern subset:
    the same expression, literal characters the subset forbids rewritten as `\\xhh`. Groups (any
    `(`), back-references, anchors other than `^`/`$` and escapes the subset lacks are refused."""
    out: list[str] = []
    i, in_class = 0, False
    while i < len(text):
        ch = text[i]
        if ord(ch) > 127:
            raise Refusal("regex", f"the regex {text!r} holds a multi-byte character, which a filter-pattern "
                          "regex cannot")
        if ch == "\\":
            if i + 1 >= len(text):
                raise Refusal("regex", f"the regex {text!r} ends with a lone backslash")
            nxt = text[i + 1]
            if nxt in _ESCAPE_CLASSES:
                out.append("\\" + nxt)
                i += 2
                continue
            if nxt == "x" and _HEX2.match(text[i + 2:i + 4]):
                out.append(text[i:i + 4])
                i += 4
                continue
            if nxt in _ESCAPE_CONTROL:
                out.append(_ESCAPE_CONTROL[nxt])
                i += 2
                continue
            if nxt.isalnum() or ord(nxt) > 127:
                raise Refusal("regex", f"the regex {text!r} uses \\{nxt}, which the filter-pattern regex subset "
                              "does not have (it has \\d \\D \\s \\S \\w \\W and \\xhh)")
            out.append(f"\\x{ord(nxt):02x}")
            i += 2
            continue
        if in_class:
            if ch == "]" and not _class_opens_at(out):
                in_class = False
                out.append(ch)
            elif ch in _SAFE or ch in "^-":
                out.append(ch)
            else:
                out.append(f"\\x{ord(ch):02x}")
        elif ch in "()":
            raise Refusal("regex", f"the regex {text!r} uses a group '(...)'; filter-pattern regexes have no "
                          "parentheses (alternatives must be written without grouping)")
        elif ch == "[":
            in_class = True
            out.append(ch)
        elif ch in _SAFE or ch in rules.REGEX_OPERATORS:
            out.append(ch)
        else:
            out.append(f"\\x{ord(ch):02x}")
        i += 1
    body = "".join(out)
    try:
        re.compile(body, re.ASCII)
    except re.error as error:
        raise Refusal("regex", f"the regex {text!r} is not a valid regular expression: {error}") from None
    return Regex(body)


def _class_opens_at(out: list[str]) -> bool:
    """A `]` right after `[` or `[^` is a literal member of the class, not its end."""
    return bool(out) and (out[-1] == "[" or (out[-1] == "^" and len(out) > 1 and out[-2] == "["))
