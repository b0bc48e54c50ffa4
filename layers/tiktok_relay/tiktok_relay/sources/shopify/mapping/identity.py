"""Which Shopify delivery this is: its event_id (see the package docstring for the rules) and
the payload fields its event_time is read from."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from tiktok_relay.sources.common.values import as_quantity, as_text, as_token
from tiktok_relay.sources.shopify.mapping.values import gid_tail, shopify_id

MAX_LINE_KEY = 100  # a sku as a line's key, at most (the cart state stores keys)


def event_id_for(kind: str, payload: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """(event_id, reason when there is none) of a `kind` payload."""
    if kind == "order":
        key = shopify_id(payload.get("id")) or gid_tail(payload.get("admin_graphql_api_id"), "Order")
        if key:
            return f"shopify-order-{key}", None
        return None, "the order has no usable id (id, admin_graphql_api_id)"
    if kind == "checkout":
        # Only the token: API 2026-04 removed `id` from checkout webhooks, and the token is what a
        # Web Pixel's checkout carries too (checkout.token), so both sides derive the same event_id.
        key = as_token(payload.get("token"))
        if key:
            return f"shopify-checkout-{key}", None
        return None, "the checkout has no usable token"
    if kind == "cart":
        key = as_token(payload.get("token")) or as_token(payload.get("id"))
        if key:
            return f"shopify-cart-{key}-{_cart_digest(payload.get('line_items'))}", None
        return None, "the cart has no usable token or id"
    key = shopify_id(payload.get("id")) or gid_tail(payload.get("admin_graphql_api_id"), "Customer")
    if key:
        return f"shopify-customer-{key}", None
    return None, "the customer has no usable id (id, admin_graphql_api_id)"


def line_key(line: Mapping[str, Any]) -> str:
    """What identifies a cart line: variant_id, else product_id, else sku (as text), else ""."""
    key = shopify_id(line.get("variant_id")) or shopify_id(line.get("product_id"))
    if key is None:
        sku = line.get("sku")
        key = as_text(sku, MAX_LINE_KEY)[0] if isinstance(sku, str) else shopify_id(sku)
    return key or ""


def _cart_digest(lines: Any) -> str:
    """12 hex digits that change with the cart's contents (the rule is in the package docstring)."""
    pairs: list[tuple[str, int]] = []
    if isinstance(lines, list):
        for line in lines:
            if not isinstance(line, dict):
                continue
            quantity = as_quantity(line.get("quantity"))
            pairs.append((line_key(line), -1 if quantity is None else quantity))
    pairs.sort()
    text = json.dumps(pairs, separators=(",", ":"))  # ensure_ascii: always encodable
    return hashlib.sha256(text.encode("ascii")).hexdigest()[:12]


def time_fields(kind: str, topic: str) -> tuple[str, ...]:
    """The payload fields event_time is read from, first usable wins: when an order was
    processed; when a checkout, cart or customer was updated (on */update) or created."""
    if kind == "order":
        return ("processed_at", "created_at")
    if topic.endswith("/update"):
        return ("updated_at", "created_at")
    return ("created_at", "updated_at")
