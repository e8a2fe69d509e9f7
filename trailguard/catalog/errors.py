"""The catalogue's error: where a detection is malformed (file, detection, field) and why."""

from __future__ import annotations


class CatalogError(ValueError):
    """A catalogue file is malformed, or a name asked of the catalogue does not exist.

    `source`, `detection` and `field` locate the problem (None where not applicable); `field` is
    the key path inside the source (`patterns.default`, `samples.positives[0]`); `str()` is the
    full message.
    """

    def __init__(self, problem: str, *, source: str | None = None, detection: str | None = None,
                 field: str | None = None) -> None:
        self.problem = problem
        self.source = source
        self.detection = detection
        self.field = field
        where = []
        if source:
            where.append(source)
        if detection:
            where.append(f"detection {detection!r}")
        if field:
            where.append(f"field {field!r}")
        super().__init__(": ".join([*where, problem]) if where else problem)
