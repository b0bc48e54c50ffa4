"""What any store's mapping returns for one webhook delivery."""

from __future__ import annotations

import warnings as python_warnings
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, get_args

from tiktok_relay.errors import DeprecatedEventWarning

if TYPE_CHECKING:
    from tiktok_relay.tiktok.models import Event, EventSource

# Why a delivery sends nothing, as a category a report can count (the coverage report of
# `reconcile`, README "Reconciliation"); `reason` says the same in words:
#   test                a test order (a Stripe test-mode event), and no TIKTOK_TEST_EVENT_CODE to
#                       send it as a test event
#   channel             the order's sales channel sends nothing (TikTok Shop; in-store, draft or
#                       WooCommerce admin orders without an offline event set;
#                       SHOPIFY_SOURCE_CHANNELS=...=none)
#   consent             the buyer's recorded tracking consent (SHOPIFY_CONSENT)
#   no_event_for_topic  the topic maps to no TikTok event (SHOPIFY_TOPIC_EVENTS), or has no rules
#   unmappable          the body cannot become an event: another kind of payload than its
#                       topic's, no stable id, or no valid event could be built
#   other               nothing to send by the topic's own rules (a cart with nothing added, an
#                       anonymous checkout, a customer without an account, an order not paid
#                       yet, a payment whose Purchase was sent already)
IgnoredReason = Literal["test", "channel", "consent", "no_event_for_topic", "unmappable", "other"]
IGNORED_REASONS: tuple[IgnoredReason, ...] = get_args(IgnoredReason)


class MappedEvent:
    """One validated event: its wire shape (`wire`, what is queued and sent: hashed, no nulls) and
    its model (`model()`), built only when asked for, from the fields the wire shape was
    validated from (tiktok/encode.py's rules, held to the models: Event(**fields) gives the same
    wire shape). The receiver, `map` and `reconcile` read `wire` only, so a delivery needs no
    pydantic model (README "Performance"). The fields are the mapping's (raw identifiers): never
    shown; the repr is the wire shape's."""

    __slots__ = ("wire", "_fields", "_model")

    def __init__(self, wire: dict[str, Any], *, fields: dict[str, Any] | None = None, model: Event | None = None):
        if (fields is None) == (model is None):
            raise TypeError("MappedEvent takes the fields it was validated from or its model, one of them")
        self.wire = wire
        self._fields = fields
        self._model = model

    @classmethod
    def of(cls, event: Event) -> MappedEvent:
        return cls(event.wire(), model=event)

    def model(self) -> Event:
        """The Event (built on first call, then kept; the raw fields are let go)."""
        if self._model is None:
            from tiktok_relay.tiktok.models import Event

            with python_warnings.catch_warnings():  # a deprecated name was warned about by the mapping
                python_warnings.simplefilter("ignore", DeprecatedEventWarning)
                self._model = Event(**self._fields or {})
            self._fields = None
        return self._model

    def __eq__(self, other: object) -> bool:
        return isinstance(other, MappedEvent) and self.wire == other.wire

    # Unhashable, like the dict it holds.
    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"MappedEvent({self.wire!r})"


@dataclass(frozen=True, init=False)
class MappingResult:
    """What one webhook delivery becomes.

    events:       validated Events API events, as models (empty when nothing is sent); built
                  when read (`mapped` holds them as wire dicts already: `wire_events`)
    reason:       why nothing is sent, when `events` is empty
    warnings:     what was dropped or adjusted, naming fields only, never values
    event_source: where the events go: "web" (the pixel) or "offline" (the offline event set);
                  the receiver builds the request's envelope from it
    state:        what to remember for the next delivery of the same object (a cart's lines),
                  JSON-able; None when nothing is to be remembered. Set also when nothing is sent.
    ignored:      when `events` is empty, why as a category (IGNORED_REASONS); None when sent

    `events` may be given as Event models or as MappedEvents (what the mappings give).
    """

    mapped: tuple[MappedEvent, ...]
    reason: str | None
    warnings: list[str]
    event_source: EventSource
    state: dict[str, Any] | None
    ignored: IgnoredReason | None

    def __init__(self, events: Iterable[Event | MappedEvent] = (), reason: str | None = None,
                 warnings: list[str] | None = None, event_source: EventSource = "web",
                 state: dict[str, Any] | None = None, ignored: IgnoredReason | None = None) -> None:
        mapped = tuple(e if isinstance(e, MappedEvent) else MappedEvent.of(e) for e in events)
        for name, value in (("mapped", mapped), ("reason", reason), ("warnings", [] if warnings is None else warnings),
                            ("event_source", event_source), ("state", state), ("ignored", ignored)):
            object.__setattr__(self, name, value)

    @property
    def events(self) -> list[Event]:
        return [event.model() for event in self.mapped]

    @property
    def wire_events(self) -> list[dict[str, Any]]:
        """The events in wire shape (what `Event.wire()` gives), without building the models."""
        return [event.wire for event in self.mapped]

    @property
    def sent(self) -> bool:
        return bool(self.mapped)


class Ignored(NamedTuple):
    """Why a delivery sends nothing: the report's category, and the reason in words."""

    category: IgnoredReason
    reason: str


def nothing(ignored: Ignored, warnings: list[str], state: dict[str, Any] | None = None) -> MappingResult:
    """The result of a delivery that sends nothing, for `ignored`'s reason."""
    return MappingResult([], ignored.reason, warnings, state=state, ignored=ignored.category)
