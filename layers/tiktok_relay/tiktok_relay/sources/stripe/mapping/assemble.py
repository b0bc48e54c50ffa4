"""One Stripe event to at most one validated Purchase: which events count, the checks that
refuse one, the payment it is about (see the package docstring for the rules)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, NamedTuple

from tiktok_relay.sources.common.events import mapped_event
from tiktok_relay.sources.common.result import Ignored, MappingResult, nothing
from tiktok_relay.sources.common.timing import event_time, unix_time
from tiktok_relay.sources.common.values import as_token, object_field, shown
from tiktok_relay.sources.stripe.mapping.objects import metadata, ref_id
from tiktok_relay.sources.stripe.mapping.properties import properties_block
from tiktok_relay.sources.stripe.mapping.user import user_block
from tiktok_relay.sources.stripe.settings import PAYMENT_INTENT_SUCCEEDED, StripeSettings

EVENT_NAME = "Purchase"
# What the receiver remembers about a payment once its Purchase is queued (state_key): another
# event about the same payment sends nothing.
SENT = {"purchase": "sent"}
_TYPE = re.compile(r"[a-z_]{1,40}(?:\.[a-z_]{1,40}){1,4}", re.ASCII)  # what an event type may be quoted as
_OBJECTS = {"session": "checkout.session", "payment_intent": "payment_intent"}


class _Payment(NamedTuple):
    """What an event is about, once it is certain to be mapped."""

    kind: str  # "session" or "payment_intent"
    obj: Mapping[str, Any]  # data.object
    key: str  # the payment: its PaymentIntent's id when known, else the session's


def map_webhook(topic: str, payload: dict, account: str, settings: StripeSettings, *, now: int,
                previous_state: Mapping[str, Any] | None = None) -> MappingResult:
    """The events one Stripe event (the whole webhook body: {id, type, created, data: {object}})
    becomes: a Purchase for a paid payment, once. Pure; never raises for a dict payload.
    `previous_state` is what the receiver remembers of the payment (state_key)."""
    warnings: list[str] = []
    payment = _payment(topic, payload, settings)
    if isinstance(payment, Ignored):
        return nothing(payment, warnings)
    if previous_state is not None and previous_state.get("purchase") == "sent":
        return nothing(Ignored("other", "a Purchase was already sent for this payment (its Checkout Session or its "
                                        "PaymentIntent counted first)"), warnings)
    meta = metadata(payment.obj, "data.object", warnings)
    data: dict[str, Any] = {
        "event": EVENT_NAME,
        "event_time": event_time(payload, ("created",), int(now), warnings, parse=unix_time),
        "event_id": _event_id(payment, meta, warnings),
    }
    user = user_block(payment.obj, payment.kind, meta, settings, warnings)
    if user:
        data["user"] = user
    data["properties"] = properties_block(payment.obj, payment.kind, warnings)
    event, problem = mapped_event(data, warnings)
    if event is None:
        return nothing(Ignored("unmappable", problem or "could not build a valid event"), warnings)
    return MappingResult([event], None, warnings, state=dict(SENT))


def state_key(topic: str, payload: Any, account: str, settings: StripeSettings) -> str | None:
    """Under which key the receiver remembers that a payment's Purchase was sent: mapped events,
    by account and payment; None for anything else."""
    payment = _payment(topic, payload, settings)
    if isinstance(payment, Ignored):
        return None
    return f"stripe:{str(account).strip().lower()}:payment:{payment.key}"


def _payment(topic: Any, payload: Any, settings: StripeSettings) -> _Payment | Ignored:
    """What the event is about, or why it is not mapped."""
    name = topic.strip().lower() if isinstance(topic, str) else ""
    if not isinstance(payload, dict):
        return Ignored("unmappable", "the payload is not a JSON object")
    if name not in settings.events:
        quoted = shown(name) if _TYPE.fullmatch(name) else "of this delivery"
        return Ignored("no_event_for_topic",
                       f"Stripe event type {quoted} is not mapped (STRIPE_EVENTS lists {', '.join(settings.events)})")
    data = object_field(payload, "data", "data", [])
    obj = object_field(data, "object", "data.object", []) if data else None
    kind = "payment_intent" if name == PAYMENT_INTENT_SUCCEEDED else "session"
    if not obj or obj.get("object") != _OBJECTS[kind]:
        return Ignored("unmappable", f"the event's data.object is not a {_OBJECTS[kind]}: an event that does not "
                                     "fit its type sends nothing")
    refusal = _refusal(kind, obj, payload, settings)
    if refusal is not None:
        return refusal
    key = ref_id(obj.get("payment_intent")) if kind == "session" else None
    key = key or as_token(obj.get("id"))
    if key is None:
        return Ignored("unmappable", f"the {_OBJECTS[kind]} has no usable id: an event without a stable event_id "
                                     "could be counted twice")
    return _Payment(kind, obj, key)


def _refusal(kind: str, obj: Mapping[str, Any], payload: Mapping[str, Any],
             settings: StripeSettings) -> Ignored | None:
    """Why a payment event is not sent, if it is not: a test-mode event without a test event
    code, a session that took no payment (yet), a payment intent that did not succeed."""
    if payload.get("livemode") is False and not settings.test_event_code:
        return Ignored("test", "test-mode event (livemode: false) not sent; set TIKTOK_TEST_EVENT_CODE to send "
                               "test-mode payments as TikTok test events")
    if kind == "payment_intent":
        succeeded = obj.get("status") == "succeeded"
        return None if succeeded else Ignored("other", "the payment intent's status is not succeeded")
    if obj.get("mode") == "setup":
        return Ignored("other", "a Checkout Session in setup mode takes no payment")
    status = obj.get("payment_status")
    if status == "paid":
        return None
    if status == "unpaid":
        return Ignored("other", "payment_status is unpaid (a delayed payment method): the Purchase is sent on "
                                "checkout.session.async_payment_succeeded, once the payment succeeds")
    if status == "no_payment_required":
        return Ignored("other", "payment_status is no_payment_required: nothing was paid")
    return Ignored("other", "payment_status is missing or unknown: only a paid session counts")


def _event_id(payment: _Payment, meta: Mapping[str, Any], warnings: list[str]) -> str:
    """The merchant's own event_id from the metadata (what their pixel sent for the same
    purchase), else `stripe-` and the payment's PaymentIntent id (else the session's id): a
    session and its payment intent give the same event_id."""
    given = meta.get("event_id")
    if given is not None:
        token = as_token(given)
        if token:
            return token
        warnings.append("metadata.event_id ignored: not an id (letters, digits and ._:=+/~-, at most 128)")
    return f"stripe-{payment.key}"

