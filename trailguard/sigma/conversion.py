"""The result of converting one Sigma rule: a verdict, the pattern, what differs and who wrote it.

Plain data (no pySigma import), so the CLI, the docs generator and other tools can hold and print
conversions without the `sigma` extra.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Verdict = Literal["exact", "caveats", "refused"]
VERDICTS: tuple[Verdict, ...] = ("exact", "caveats", "refused")


@dataclass(frozen=True)
class Caveat:
    """One named way the pattern's matches may differ from the rule's: `kind` is one of
    `CAVEAT_KINDS`, `field` the CloudTrail field it concerns."""

    field: str
    kind: str
    message: str


CAVEAT_KINDS: dict[str, str] = {
    "case": "Sigma compares strings case-insensitively, filter patterns case-sensitively; the field's "
            "value is chosen by the caller (or the rule writes it in a case AWS does not)",
    "shape": "the field's type is not known: where AWS writes an object, array, boolean or null there, "
             "Sigma's backends compare its text while the pattern sees no string; numbers and their text "
             "match alike in a pattern, not in Sigma; comparisons see JSON numbers only",
    "boolean": "the rule compares with the string 'true'/'false'; if AWS writes a JSON boolean there, "
               "neither the rule nor the pattern matches it",
    "literal-field-name": "the rule's value names a CloudTrail field; without |fieldref Sigma compares "
                          "with that text literally, and so does the pattern",
    "array": "the path runs through an array (`items`): the pattern matches when some element matches "
             "(`[*]`), where Sigma backends differ",
    "lint": "the engine's lint found something in the generated pattern",
}
"""Every caveat kind, with what it means (docs/sigma.md lists the same)."""


@dataclass(frozen=True)
class SigmaConversion:
    """One Sigma rule converted: `pattern` is set unless `verdict` is "refused", when `refusal` says
    why (it starts with the refusal kind: `keywords: ...`)."""

    rule_id: str
    title: str
    source: str | None
    verdict: Verdict
    pattern: str | None
    caveats: tuple[Caveat, ...]
    refusal: str | None
    level: str | None
    status: str | None
    description: str
    author: str
    references: tuple[str, ...]
    falsepositives: tuple[str, ...]
    link: str

    @property
    def attribution(self) -> str:
        """What the Detection Rule License 1.1 asks every message based on the rule's matches to keep."""
        return f"Sigma {self.rule_id or repr(self.title)} by {self.author or 'unknown author'}"

    @property
    def refusal_kind(self) -> str | None:
        return None if self.refusal is None else self.refusal.split(":", 1)[0]

    def to_json(self) -> dict[str, Any]:
        return {
            "rule_id": self.rule_id, "title": self.title, "source": self.source, "verdict": self.verdict,
            "pattern": self.pattern,
            "caveats": [{"field": c.field, "kind": c.kind, "message": c.message} for c in self.caveats],
            "refusal": self.refusal, "level": self.level, "status": self.status, "description": self.description,
            "author": self.author, "references": list(self.references), "falsepositives": list(self.falsepositives),
            "link": self.link, "attribution": self.attribution,
        }
