"""What any store's mapping returns for one webhook delivery."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tiktok_relay.tiktok.models import Event, EventSource


@dataclass(frozen=True)
class MappingResult:
    """What one webhook delivery becomes.

    events:       validated Events API events (empty when nothing is sent)
    reason:       why nothing is sent, when `events` is empty
    warnings:     what was dropped or adjusted, naming fields only, never values
    event_source: where the events go: "web" (the pixel) or "offline" (the offline event set);
                  the receiver builds the request's envelope from it
    state:        what to remember for the next delivery of the same object (a cart's lines),
                  JSON-able; None when nothing is to be remembered. Set also when nothing is sent.
    """

    events: list[Event] = field(default_factory=list)
    reason: str | None = None
    warnings: list[str] = field(default_factory=list)
    event_source: EventSource = "web"
    state: dict[str, Any] | None = None

    @property
    def sent(self) -> bool:
        return bool(self.events)
