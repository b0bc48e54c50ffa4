"""One WooCommerce delivery to at most one validated Purchase: which deliveries count, the
checks that refuse one, the channel it goes to (see the package docstring for the rules)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from tiktok_relay.sources.common.events import mapped_event
from tiktok_relay.sources.common.result import Ignored, MappingResult, nothing
from tiktok_relay.sources.common.timing import event_time, parse_time
from tiktok_relay.sources.common.values import as_id, shown
from tiktok_relay.sources.woocommerce.mapping.meta import order_meta, page_block
from tiktok_relay.sources.woocommerce.mapping.properties import properties_block
from tiktok_relay.sources.woocommerce.mapping.user import user_block
from tiktok_relay.sources.woocommerce.settings import WooCommerceSettings, status_slug
from tiktok_relay.sources.woocommerce.store import host_of, links_host
from tiktok_relay.sources.woocommerce.topics import KNOWN_TOPICS, ORDER_TOPICS
from tiktok_relay.tiktok.fields import EventSource

EVENT_NAME = "Purchase"
# What the receiver remembers about an order once its Purchase is queued (state_key): later
# deliveries of the same order send nothing, whatever their status.
SENT = {"purchase": "sent"}
# Orders staff create in the admin carry no shopper's browser: they are offline sales.
OFFLINE_CREATED_VIA = frozenset({"admin"})
# Times WooCommerce documents as UTC ("GMT"), first usable wins: when the order was paid, else created.
TIME_FIELDS = ("date_paid_gmt", "date_created_gmt")
_SLUG = re.compile(r"[a-z0-9_-]{1,40}", re.ASCII)  # what a status may be quoted as in a reason


def map_webhook(topic: str, payload: dict, store: str, settings: WooCommerceSettings, *, now: int,
                previous_state: Mapping[str, Any] | None = None) -> MappingResult:
    """The events one WooCommerce delivery becomes: a Purchase the first time an order is
    delivered in a paid status, nothing otherwise. Pure; never raises for a dict payload.

    `store` is the delivery's store (tiktok_relay.sources.woocommerce.store.store_id of its
    X-WC-Webhook-Source); `previous_state` what the receiver remembers of the order (state_key)."""
    warnings: list[str] = []
    order_id = _order(topic, payload)
    if isinstance(order_id, Ignored):
        return nothing(order_id, warnings)
    refusal = _refusal(payload, store, settings, previous_state)
    if refusal is not None:
        return nothing(refusal, warnings)
    channel: EventSource = "web"
    if _created_via(payload) in OFFLINE_CREATED_VIA:
        if not settings.offline_event_set_id:
            return nothing(Ignored("channel", "an order staff created in the admin (created_via: admin) is an offline "
                                              "sale; set TIKTOK_OFFLINE_EVENT_SET_ID to send such orders to your "
                                              "offline event set"), warnings)
        channel = "offline"
    data = _event_data(payload, order_id, store, settings, now, warnings, channel)
    event, problem = mapped_event(data, warnings)
    if event is None:
        return nothing(Ignored("unmappable", problem or "could not build a valid event"), warnings)
    return MappingResult([event], None, warnings, event_source=channel, state=dict(SENT))


def event_id_for(store: str, order_id: str) -> str:
    """The Purchase's event_id: the store and the order id (what a storefront pixel sends too)."""
    return f"woocommerce-{store}-order-{order_id}"


def state_key(topic: str, payload: Any, store: str, settings: WooCommerceSettings | None = None) -> str | None:
    """Under which key the receiver remembers that an order's Purchase was sent: order topics,
    by store and order id; None for anything else (whatever the settings)."""
    order_id = _order(topic, payload)
    if isinstance(order_id, Ignored):
        return None
    return f"woocommerce:{str(store).strip().lower()}:order:{order_id}"


def _order(topic: Any, payload: Any) -> str | Ignored:
    """The order's id, or why the delivery is not an order the mapping reads."""
    name = topic.strip().lower() if isinstance(topic, str) else ""
    if name not in ORDER_TOPICS:
        quoted = shown(name) if name in KNOWN_TOPICS or name.startswith("action.") else "of this delivery"
        return Ignored("no_event_for_topic", f"WooCommerce topic {quoted} is not mapped: only order.created and "
                                             "order.updated carry an order")
    if not isinstance(payload, dict):
        return Ignored("unmappable", "the payload is not a JSON object")
    if "order_key" not in payload and "line_items" not in payload:
        return Ignored("unmappable", "the body is not a WooCommerce order (it has neither order_key nor line_items): "
                                     "a body that does not fit its topic sends nothing")
    order_id = as_id(payload.get("id"))
    if order_id is None:
        return Ignored("unmappable", "the order has no usable id: an event without a stable event_id could be "
                                     "counted twice")
    return order_id


def _refusal(payload: Mapping[str, Any], store: str, settings: WooCommerceSettings,
             previous_state: Mapping[str, Any] | None) -> Ignored | None:
    """Why an order is not sent, if it is not: not paid (yet), already sent, or its body names
    another store than the header does."""
    raw = payload.get("status")
    status = status_slug(raw) if isinstance(raw, str) else ""
    if status not in settings.paid_statuses:
        quoted = repr(status) if _SLUG.fullmatch(status) else "missing or not a status"
        return Ignored("other", f"order status is {quoted}, not one of WOOCOMMERCE_PAID_STATUSES "
                                f"({','.join(settings.paid_statuses)}): the Purchase is sent when the order is "
                                "delivered in a paid status")
    if previous_state is not None and previous_state.get("purchase") == "sent":
        return Ignored("other", "a Purchase was already sent for this order: only its first delivery in a paid status "
                                "counts (a later order.updated, such as completed after processing, sends nothing)")
    linked = links_host(payload)
    if linked is not None and _bare(linked) != _bare(host_of(store)):
        return Ignored("other", "the order's own link (_links.self) is on another host than X-WC-Webhook-Source: a "
                                "body signed for one store, delivered as another's, is not counted again")
    return None


def _bare(host: str) -> str:
    return host.removeprefix("www.")


def _created_via(payload: Mapping[str, Any]) -> str | None:
    value = payload.get("created_via")
    return value.strip().lower() if isinstance(value, str) else None


def _event_data(payload: Mapping[str, Any], order_id: str, store: str, settings: WooCommerceSettings, now: int,
                warnings: list[str], channel: EventSource) -> dict[str, Any]:
    """The Event's fields: an offline sale has no page and no ip or user agent (the staff's)."""
    meta = order_meta(payload, warnings)
    data: dict[str, Any] = {
        "event": EVENT_NAME,
        "event_time": event_time(payload, TIME_FIELDS, int(now), warnings, parse=_utc_time),
        "event_id": event_id_for(store, order_id),
    }
    user = user_block(payload, meta, settings, warnings, browser=channel == "web")
    if user:
        data["user"] = user
    data["properties"] = properties_block(payload, order_id, settings, warnings)
    page = page_block(meta, warnings) if channel == "web" else None
    if page:
        data["page"] = page
    return data


def _utc_time(value: Any) -> tuple[int | None, str | None]:
    return parse_time(value, utc=True)
