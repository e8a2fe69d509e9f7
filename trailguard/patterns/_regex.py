"""Translation of CloudWatch Logs' restricted regex subset to Python's `re`.

The subset (§2.3) is a strict subset of Python's syntax once parentheses are excluded, so the
translation is the identity plus flags: ASCII classes (`\\w` = [a-zA-Z_0-9]) and unanchored search.
"""

from __future__ import annotations

import re
from functools import lru_cache


@lru_cache(maxsize=512)
def compile_regex(body: str) -> re.Pattern[str]:
    return re.compile(body, re.ASCII)
