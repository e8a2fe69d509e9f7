"""Messages for a name that is not one of the allowed ones, shared by every validator.

The catalogue, the stack config and the commands all refuse unknown names the same way: the
name, the nearest allowed one (a typo is the usual cause) and the whole allowed list.
"""

from __future__ import annotations

import difflib
from typing import Any, Iterable

SIMILARITY_CUTOFF = 0.6
"""How close (difflib ratio) a name must be to an allowed one to be suggested."""


def unknown_name(kind: str, name: Any, allowed: Iterable[Any]) -> str:
    """`unknown <kind> 'name' (did you mean 'nearest'?); allowed: a, b, c`."""
    names = [str(item) for item in allowed]
    nearest = difflib.get_close_matches(str(name), names, n=1, cutoff=SIMILARITY_CUTOFF)
    hint = f" (did you mean {nearest[0]!r}?)" if nearest else ""
    return f"unknown {kind} {name!r}{hint}; allowed: {', '.join(names)}"


def kind_of(value: Any) -> str:
    """What a decoded YAML/JSON value is, in the words an error message uses."""
    return {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean", int: "a number",
            float: "a number", type(None): "nothing"}.get(type(value), type(value).__name__)
