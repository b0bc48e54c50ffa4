"""What any store's mapping returns for one webhook delivery."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple, get_args

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
    ignored:      when `events` is empty, why as a category (IGNORED_REASONS); None when sent
    """

    events: list[Event] = field(default_factory=list)
    reason: str | None = None
    warnings: list[str] = field(default_factory=list)
    event_source: EventSource = "web"
    state: dict[str, Any] | None = None
    ignored: IgnoredReason | None = None

    @property
    def sent(self) -> bool:
        return bool(self.events)


class Ignored(NamedTuple):
    """Why a delivery sends nothing: the report's category, and the reason in words."""

    category: IgnoredReason
    reason: str


def nothing(ignored: Ignored, warnings: list[str], state: dict[str, Any] | None = None) -> MappingResult:
    """The result of a delivery that sends nothing, for `ignored`'s reason."""
    return MappingResult([], ignored.reason, warnings, state=state, ignored=ignored.category)
