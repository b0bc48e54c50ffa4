"""One Shopify delivery to at most one validated Event: which topics count, the checks that
refuse a delivery, and the request body."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tiktok_relay.errors import ConfigurationError, EventValidationError
from tiktok_relay.sources.common.result import MappingResult
from tiktok_relay.sources.common.timing import event_time
from tiktok_relay.sources.shopify.mapping.identity import event_id_for, time_fields
from tiktok_relay.sources.shopify.mapping.page import page_block
from tiktok_relay.sources.shopify.mapping.properties import properties_block
from tiktok_relay.sources.shopify.mapping.user import user_block
from tiktok_relay.sources.shopify.settings import ALLOWED_TOPIC_EVENTS, ShopifySettings
from tiktok_relay.tiktok.models import Envelope, Event

# The kind of payload each topic family carries (orders/paid -> an order).
_KINDS = {"orders": "order", "checkouts": "checkout", "carts": "cart", "customers": "customer"}
# The states Shopify sends; a reason quotes only these (anything else could be anything).
_CUSTOMER_STATES = ("enabled", "disabled", "invited", "declined")


def map_webhook(topic: str, payload: dict, shop_domain: str, settings: ShopifySettings, *, now: int) -> MappingResult:
    """The events one Shopify webhook delivery becomes. Pure; never raises for a dict payload.

    Should it ever raise anyway (a bug), the exception propagates on purpose: the receiver then
    answers 5xx so that Shopify retries the delivery, instead of acknowledging a lost conversion.
    """
    return _map(topic, payload, shop_domain, settings, int(now), [])


def envelope_for(*, pixel_id: str, test_event_code: str | None) -> Envelope:
    """Where a Shopify delivery's events go: web events of the pixel, as test events if a code is set."""
    if not isinstance(pixel_id, str) or not pixel_id.strip():
        raise ConfigurationError("TIKTOK_PIXEL_ID is not set; it is your pixel code (event_source_id)")
    return Envelope(event_source="web", event_source_id=pixel_id, test_event_code=test_event_code)


def to_request_body(result: MappingResult, *, pixel_id: str, test_event_code: str | None) -> dict[str, Any]:
    """The Events API request body (wire dict) for `result`; `data` is [] when nothing is sent:
    what `map` prints, the same body the receiver queues."""
    envelope = envelope_for(pixel_id=pixel_id, test_event_code=test_event_code)
    return {**envelope.header(), "data": [event.wire() for event in result.events]}


def _map(topic: Any, payload: Any, shop_domain: Any, settings: ShopifySettings, now: int,
         warnings: list[str]) -> MappingResult:
    """map_webhook's work, whatever the types of its arguments turn out to be."""
    name = _normalize_topic(topic)
    if name is None:
        return MappingResult([], "the webhook topic is missing", warnings)
    if not isinstance(payload, dict):
        return MappingResult([], "the payload is not a JSON object", warnings)
    event_name = settings.event_for(name)
    if not event_name:
        return MappingResult([], _unmapped(name), warnings)
    kind = _KINDS.get(name.partition("/")[0])
    if kind is None:
        return MappingResult([], f"Shopify topic {_shown(name)} has no mapping rules in tiktok-relay", warnings)
    refusal = _refusal(kind, payload, settings)
    if refusal is not None:
        return MappingResult([], refusal, warnings)
    event_id, missing = event_id_for(kind, payload)
    if event_id is None:
        return MappingResult([], f"{missing}: an event without a stable event_id could be counted twice", warnings)
    data = _event_data(kind, name, event_name, event_id, payload, shop_domain, settings, now, warnings)
    event, problem = _build_event(data, warnings)
    if event is None:
        return MappingResult([], problem, warnings)
    return MappingResult([event], None, warnings)


def _normalize_topic(topic: Any) -> str | None:
    """'orders/paid' for ' Orders/Paid ' and for the GraphQL form ORDERS_PAID; None if missing."""
    if not isinstance(topic, str) or not topic.strip():
        return None
    text = topic.strip().lower()
    if "/" not in text and "_" in text:  # GraphQL enum form, e.g. ORDERS_PAID
        head, _, tail = text.rpartition("_")
        text = f"{head}/{tail}"
    return text


def _unmapped(topic: str) -> str:
    """Why a topic that maps to no TikTok event sends nothing, and how to change that."""
    reason = f"Shopify topic {_shown(topic)} is not mapped to a TikTok event"
    if topic == "orders/create":
        reason += (" by default (orders/paid is the purchase); set SHOPIFY_TOPIC_EVENTS="
                   "orders/create=Purchase or orders/create=PlaceAnOrder to send it")
    elif topic in ALLOWED_TOPIC_EVENTS:
        reason += " (SHOPIFY_TOPIC_EVENTS maps it to none)"
    return reason


def _shown(text: str, limit: int = 80) -> str:
    """A topic or similar identifier, safe to quote in a reason (printable ASCII, bounded)."""
    cleaned = "".join(ch if " " <= ch <= "~" else "?" for ch in text[:limit])
    return repr(cleaned + ("..." if len(text) > limit else ""))


def _refusal(kind: str, payload: Mapping[str, Any], settings: ShopifySettings) -> str | None:
    """Why a delivery of a mapped topic is not sent, if it is not: a test order without a test
    event code, a customer who holds no account, a cart without line items."""
    if _is_test(payload) and not settings.test_event_code:
        return ("test order (test: true) not sent; set TIKTOK_TEST_EVENT_CODE to send test orders as TikTok "
                "test events")
    if kind == "customer":
        state = payload.get("state")
        if state != "enabled":
            shown = repr(state) if state in _CUSTOMER_STATES else "missing or unknown"
            return (f"customer state is {shown}, not 'enabled': only account holders count as a registration "
                    "(a guest checkout creates a 'disabled' customer)")
    if kind == "cart":
        lines = payload.get("line_items")
        if not isinstance(lines, list) or not lines:
            return "the cart has no line items: nothing was added"
    return None


def _is_test(payload: Mapping[str, Any]) -> bool:
    """Whether Shopify marks the payload as a test (test: true, or "true")."""
    flag = payload.get("test")
    return flag is True or (isinstance(flag, str) and flag.strip().lower() == "true")


def _event_data(kind: str, topic: str, event_name: str, event_id: str, payload: Mapping[str, Any],
                shop_domain: Any, settings: ShopifySettings, now: int, warnings: list[str]) -> dict[str, Any]:
    """The Event's fields: event, event_time, event_id, and the user, properties and page
    blocks where they hold anything (customers/* have no properties or page)."""
    data: dict[str, Any] = {
        "event": event_name,
        "event_time": event_time(payload, time_fields(kind, topic), now, warnings),
        "event_id": event_id,
    }
    user = user_block(kind, payload, settings, warnings)
    if user:
        data["user"] = user
    if kind != "customer":
        order_id = event_id.removeprefix("shopify-order-") if kind == "order" else None
        properties = properties_block(kind, event_name, payload, order_id, settings, warnings)
        if properties:
            data["properties"] = properties
        page = page_block(payload, shop_domain, warnings)
        if page:
            data["page"] = page
    return data


def _build_event(data: dict[str, Any], warnings: list[str]) -> tuple[Event | None, str | None]:
    """Event(**data); on validation errors drop the offending fields, then blocks, and retry."""
    for retry in range(3):
        try:
            return Event(**data), None
        except EventValidationError as exc:
            problems = exc.problems or []
            fixed = False
            for problem in problems:
                if _drop(data, problem.loc, coarse=retry > 0):
                    warnings.append(f"{problem.loc} dropped: {problem.problem}")
                    fixed = True
            if not fixed:
                return None, f"could not build a valid event: {exc}"
    return None, "could not build a valid event"


def _drop(data: dict[str, Any], loc: str, coarse: bool) -> bool:
    """Remove the field at dotted `loc` (or its whole top-level block). False if it cannot go."""
    parts = loc.split(".")
    top = parts[0]
    if top not in ("user", "properties", "page") or top not in data:
        return False
    if coarse or len(parts) == 1:
        del data[top]
        return True
    node: Any = data[top]
    try:
        for part in parts[1:-1]:
            node = node[int(part)] if isinstance(node, list) else node[part]
        last = parts[-1]
        if isinstance(node, list):
            del node[int(last)]
        else:
            del node[last]
    except (KeyError, IndexError, ValueError, TypeError):
        del data[top]
    return True
