"""One Shopify delivery to at most one validated Event: which topics count, the checks that
refuse a delivery, the channel it goes to, and the request body."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from tiktok_relay.sources.common.events import mapped_event
from tiktok_relay.sources.common.result import Ignored, MappingResult, nothing
from tiktok_relay.sources.common.timing import event_time
from tiktok_relay.sources.common.values import shown
from tiktok_relay.sources.shopify.mapping.carts import cart_delta
from tiktok_relay.sources.shopify.mapping.channels import channel_reason, order_channel
from tiktok_relay.sources.shopify.mapping.consent import ConsentDecision, consent_decision
from tiktok_relay.sources.shopify.mapping.identity import event_id_for, time_fields
from tiktok_relay.sources.shopify.mapping.page import page_block
from tiktok_relay.sources.shopify.mapping.properties import properties_block
from tiktok_relay.sources.shopify.mapping.user import user_block
from tiktok_relay.sources.shopify.settings import ALLOWED_TOPIC_EVENTS, ShopifySettings
from tiktok_relay.sources.shopify.topics import rest_form
from tiktok_relay.tiktok.fields import DEPRECATED_EVENTS, EventSource, deprecation_notice

# The kind of payload each topic family carries (orders/paid -> an order).
_KINDS = {"orders": "order", "checkouts": "checkout", "carts": "cart", "customers": "customer"}
# The states Shopify sends; a reason quotes only these (anything else could be anything).
_CUSTOMER_STATES = ("enabled", "disabled", "invited", "declined")
# Who a checkout's buyer is: an InitiateCheckout is sent only with one of these (README "Checkouts").
_IDENTITY = ("email", "phone", "external_id")
ANONYMOUS_CHECKOUT = (
    "the checkout carries no email, phone or customer yet: TikTok keeps only the first event of an event_id, so an "
    "anonymous InitiateCheckout would stand for the identified ones that follow (the storefront pixel covers the "
    "anonymous start, under the same event_id)"
)
# What gives a body's kind away, whatever topic it came under: the resource in its GraphQL id,
# else a top-level field only that kind of payload has (checked in this order: a completed
# checkout may carry order-ish fields, an order never a checkout's recovery URL). HMAC signs
# the body only, so a signed order body can be replayed under a checkouts or carts topic.
_GID_KINDS = {"Order": "order", "Checkout": "checkout", "Customer": "customer", "Cart": "cart", "Refund": "refund",
              "DraftOrder": "draft order", "Product": "product"}
_KIND_FIELDS = (("checkout", ("abandoned_checkout_url",)), ("customer", ("verified_email", "orders_count")),
                ("order", ("financial_status", "order_number", "order_status_url", "checkout_token")),
                ("refund", ("refund_line_items",)))


class _Delivery(NamedTuple):
    """What a delivery is, once it is certain to be mapped."""

    topic: str
    kind: str
    event_name: str
    event_id: str


def map_webhook(topic: str, payload: dict, shop_domain: str, settings: ShopifySettings, *, now: int,
                previous_state: Mapping[str, Any] | None = None) -> MappingResult:
    """The events one Shopify webhook delivery becomes. Pure; never raises for a dict payload.

    `previous_state` is what the previous delivery of the same object asked to be remembered
    (MappingResult.state; for carts, their lines), None for a first delivery: `map` passes None.

    Should it ever raise anyway (a bug), the exception propagates on purpose: the receiver then
    answers 5xx so that Shopify retries the delivery, instead of acknowledging a lost conversion.
    """
    warnings: list[str] = []
    delivery = _delivery(topic, payload, settings, warnings)
    if isinstance(delivery, Ignored):
        return nothing(delivery, warnings)
    if delivery.kind == "cart":
        return _map_cart(delivery, payload, settings, int(now), previous_state, warnings)
    channel: EventSource = "web"
    if delivery.kind == "order":
        decided, key = order_channel(payload, settings)
        if (reason := channel_reason(decided, key, settings)) is not None:
            return nothing(Ignored("channel", reason), warnings)
        channel = "offline" if decided == "offline" else "web"
    consent = consent_decision(settings.consent, payload)
    if consent.reason is not None:
        return nothing(Ignored("consent", consent.reason), warnings)
    data = _with_consent(_event_data(delivery, payload, settings, int(now), warnings, channel), consent)
    if delivery.kind == "checkout" and not any(key in data.get("user", {}) for key in _IDENTITY):
        return nothing(Ignored("other", ANONYMOUS_CHECKOUT), warnings)
    event, problem = mapped_event(data, warnings)
    if event is None:
        return nothing(Ignored("unmappable", problem or "could not build a valid event"), warnings)
    return MappingResult([event], None, warnings, event_source=channel)


def state_key(topic: str, payload: Any, shop_domain: str, settings: ShopifySettings) -> str | None:
    """Under which key the receiver remembers what a delivery's mapping asks to (MappingResult.state):
    carts/* deliveries of a mapped topic, by shop and cart token; None for anything else."""
    name = _normalize_topic(topic)
    if name is None or not name.startswith("carts/") or not settings.event_for(name) or not isinstance(payload, dict):
        return None
    event_id, _ = event_id_for("cart", payload)
    if event_id is None:
        return None
    token = event_id.removeprefix("shopify-cart-").rsplit("-", 1)[0]
    return f"shopify:{str(shop_domain).strip().lower()}:cart:{token}"


def _delivery(topic: Any, payload: Any, settings: ShopifySettings, warnings: list[str]) -> _Delivery | Ignored:
    """What the delivery is, or why it is not mapped at all."""
    name = _normalize_topic(topic)
    if name is None:
        return Ignored("no_event_for_topic", "the webhook topic is missing")
    if not isinstance(payload, dict):
        return Ignored("unmappable", "the payload is not a JSON object")
    event_name = settings.event_for(name)
    if not event_name:
        return Ignored("no_event_for_topic", _unmapped(name))
    kind = _KINDS.get(name.partition("/")[0])
    if kind is None:
        return Ignored("no_event_for_topic", f"Shopify topic {shown(name)} has no mapping rules in tiktok-relay")
    refusal = _refusal(kind, payload, settings)
    if refusal is not None:
        return refusal
    event_id, missing = event_id_for(kind, payload)
    if event_id is None:
        return Ignored("unmappable", f"{missing}: an event without a stable event_id could be counted twice")
    if event_name in DEPRECATED_EVENTS:
        warnings.append(f"{deprecation_notice(event_name)} (SHOPIFY_TOPIC_EVENTS maps {name} to it)")
    return _Delivery(name, kind, event_name, event_id)


def _map_cart(delivery: _Delivery, payload: dict, settings: ShopifySettings, now: int, previous_state: Any,
              warnings: list[str]) -> MappingResult:
    """An AddToCart of what the delivery added to the cart since the remembered state (carts.py)."""
    delta = cart_delta(payload.get("line_items"), previous_state, warnings)
    if delta.reason is not None:
        return nothing(Ignored("other", delta.reason), warnings, delta.state)
    consent = consent_decision(settings.consent, payload)
    if consent.reason is not None:
        return nothing(Ignored("consent", consent.reason), warnings, delta.state)
    data = _with_consent(_event_data(delivery, {**payload, "line_items": delta.added}, settings, now, warnings, "web"),
                         consent)
    event, problem = mapped_event(data, warnings)
    if event is None:
        return nothing(Ignored("unmappable", problem or "could not build a valid event"), warnings, delta.state)
    return MappingResult([event], None, warnings, state=delta.state)


def _normalize_topic(topic: Any) -> str | None:
    """'orders/paid' for ' Orders/Paid ' and for the GraphQL form ORDERS_PAID; None if missing."""
    if not isinstance(topic, str) or not topic.strip():
        return None
    return rest_form(topic)


def _unmapped(topic: str) -> str:
    """Why a topic that maps to no TikTok event sends nothing, and how to change that."""
    reason = f"Shopify topic {shown(topic)} is not mapped to a TikTok event"
    if topic == "orders/create":
        reason += (" by default (orders/paid is the purchase); set SHOPIFY_TOPIC_EVENTS="
                   "orders/create=Purchase to send it")
    elif topic in ALLOWED_TOPIC_EVENTS:
        reason += " (SHOPIFY_TOPIC_EVENTS maps it to none)"
    return reason


def _refusal(kind: str, payload: Mapping[str, Any], settings: ShopifySettings) -> Ignored | None:
    """Why a delivery of a mapped topic is not sent, if it is not: a body that is another kind
    of payload than its topic's, a test order without a test event code, a customer who holds
    no account."""
    shape = _shape(payload)
    if shape is not None and shape[0] != kind:
        article = "an" if kind[0] in "aeiou" else "a"
        return Ignored("unmappable", f"the body is a Shopify {shape[0]} payload (it has {shape[1]}), not "
                                      f"{article} {kind}: a body that does not fit its topic sends nothing")
    if _is_test(payload) and not settings.test_event_code:
        return Ignored("test", "test order (test: true) not sent; set TIKTOK_TEST_EVENT_CODE to send test orders "
                                "as TikTok test events")
    if kind == "customer":
        state = payload.get("state")
        if state != "enabled":
            shown = repr(state) if state in _CUSTOMER_STATES else "missing or unknown"
            return Ignored("other", f"customer state is {shown}, not 'enabled': only account holders count as a "
                                     "registration (a guest checkout creates a 'disabled' customer)")
    return None


def _shape(payload: Mapping[str, Any]) -> tuple[str, str] | None:
    """(the kind of payload the body is, the field that says so), when anything says."""
    gid = payload.get("admin_graphql_api_id")
    if isinstance(gid, str) and gid.startswith("gid://shopify/"):
        kind = _GID_KINDS.get(gid[len("gid://shopify/"):].split("/", 1)[0])
        if kind is not None:
            return kind, "admin_graphql_api_id"
    for kind, fields in _KIND_FIELDS:
        for name in fields:
            if name in payload:
                return kind, name
    return None


def _is_test(payload: Mapping[str, Any]) -> bool:
    """Whether Shopify marks the payload as a test (test: true, or "true")."""
    flag = payload.get("test")
    return flag is True or (isinstance(flag, str) and flag.strip().lower() == "true")


def _event_data(delivery: _Delivery, payload: Mapping[str, Any], settings: ShopifySettings, now: int,
                warnings: list[str], channel: EventSource) -> dict[str, Any]:
    """The Event's fields: event, event_time, event_id, and the user, properties and page
    blocks where they hold anything (customers/* have no properties or page). An offline
    event has no page and no ip or user agent: those would be the shop device's or staff's."""
    kind = delivery.kind
    data: dict[str, Any] = {
        "event": delivery.event_name,
        "event_time": event_time(payload, time_fields(kind, delivery.topic), now, warnings),
        "event_id": delivery.event_id,
    }
    user = user_block(kind, payload, settings, warnings, browser=channel == "web")
    if user:
        data["user"] = user
    if kind != "customer":
        order_id = delivery.event_id.removeprefix("shopify-order-") if kind == "order" else None
        properties = properties_block(kind, delivery.event_name, payload, order_id, settings, warnings)
        if properties:
            data["properties"] = properties
        page = page_block(payload, settings, warnings) if channel == "web" else None
        if page:
            data["page"] = page
    return data


def _with_consent(data: dict[str, Any], consent: ConsentDecision) -> dict[str, Any]:
    """The event's fields, flagged for Limited Data Use when the buyer opted out of the sale of data."""
    if consent.limited_data_use:
        data["limited_data_use"] = True
    return data
