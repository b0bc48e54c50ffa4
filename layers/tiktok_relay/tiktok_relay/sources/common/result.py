"""What any store's mapping returns for one webhook delivery."""

from __future__ import annotations

from dataclasses import dataclass, field

from tiktok_relay.tiktok.models import Event


@dataclass(frozen=True)
class MappingResult:
    """What one webhook delivery becomes.

    events:   validated Events API events (empty when nothing is sent)
    reason:   why nothing is sent, when `events` is empty
    warnings: what was dropped or adjusted, naming fields only, never values
    """

    events: list[Event] = field(default_factory=list)
    reason: str | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def sent(self) -> bool:
        return bool(self.events)
