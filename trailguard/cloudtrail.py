"""What a person needs to see of one CloudTrail event: when, what, who, from where.

Shared by `trailguard test` (one line per match) and the back-test's sample events, so both name
the actor the same way.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Mapping


@dataclass(frozen=True, slots=True)
class EventSummary:
    time: str
    name: str
    source: str
    who: str
    ip: str
    region: str
    error: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def who(identity: Any) -> str:
    """The most specific name of the actor: an ARN, else the user name, else principal or type.
    An AWS service acting for the principal is shown as `<actor> via <service>`."""
    if not isinstance(identity, Mapping):
        return "-"
    actor = (identity.get("arn") or identity.get("userName") or identity.get("principalId")
             or identity.get("type") or "-")
    invoked_by = identity.get("invokedBy")
    return f"{actor} via {invoked_by}" if invoked_by else str(actor)


def summarize(event: Mapping[str, Any]) -> EventSummary:
    """Summary of a decoded event; fields a record lacks become "-"."""
    def text(key: str) -> str:
        value = event.get(key)
        return "-" if value is None else str(value)

    return EventSummary(
        time=text("eventTime"), name=text("eventName"), source=text("eventSource"),
        who=who(event.get("userIdentity")), ip=text("sourceIPAddress"), region=text("awsRegion"),
        error=text("errorCode"),
    )
