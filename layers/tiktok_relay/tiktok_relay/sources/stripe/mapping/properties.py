"""The `properties` block of a Stripe payment: value and currency (minor units converted per
currency), the line items when the payload holds them, the merchant's order reference.

Line items: a Checkout Session's `line_items` are not in its webhook (Stripe includes them only
when expanded, which a webhook never is); a payload that holds them, such as one a merchant's own
code forwards after retrieving the session with expand[]=line_items, has them read. The relay
makes no API call for them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from tiktok_relay.sources.common.contents import MAX_CONTENT_NAME, clear_text, collect_contents, content_item
from tiktok_relay.sources.common.values import as_token
from tiktok_relay.sources.stripe.mapping.objects import money, ref_id


def properties_block(obj: Mapping[str, Any], kind: str, warnings: list[str]) -> dict[str, Any]:
    """currency and value, contents, order_id (a session's client_reference_id); what is missing
    or unusable is left out."""
    props: dict[str, Any] = {}
    field, amount = ("amount_total", obj.get("amount_total")) if kind == "session" else _received(obj)
    currency, value, problem = money(amount, obj.get("currency"), field)
    if problem:
        warnings.append(f"value and currency omitted: {problem}")
    else:
        props["currency"] = currency
        props["value"] = value
    contents = _contents(obj.get("line_items"), obj.get("currency"), warnings)
    if contents:
        props["contents"] = contents
        props["content_type"] = "product"
    reference = obj.get("client_reference_id") if kind == "session" else None
    if reference is not None and (order_id := as_token(reference)):
        props["order_id"] = order_id
    elif reference is not None:
        warnings.append("client_reference_id ignored for order_id: not an id")
    return props


def _received(intent: Mapping[str, Any]) -> tuple[str, Any]:
    """(field, amount) of what a succeeded PaymentIntent took: amount_received, else amount."""
    received = intent.get("amount_received")
    return ("amount_received", received) if received is not None else ("amount", intent.get("amount"))


def _contents(line_items: Any, currency: Any, warnings: list[str]) -> list[dict[str, Any]]:
    """The contents of an expanded `line_items` list ({"object": "list", "data": [...]})."""
    if line_items is None:
        return []
    lines = line_items.get("data") if isinstance(line_items, dict) else line_items
    if not isinstance(lines, list):
        warnings.append("line_items ignored: not a list")
        return []
    contents, _ = collect_contents(lines, _line_reader(currency), "line_items.data[]", warnings)
    return contents


def _line_reader(currency: Any) -> Callable[..., tuple[dict[str, Any], int, list[str]]]:
    """One line item: content_id the product (price.product), else the price; content_name its
    description; price the price's unit_amount."""

    def read(line: Mapping[str, Any], quantity: int | None,
             note: Callable[[str], None]) -> tuple[dict[str, Any], int, list[str]]:
        raw_price = line.get("price")
        price_obj: Mapping[str, Any] = raw_price if isinstance(raw_price, dict) else {}
        identifier = ref_id(price_obj.get("product")) or ref_id(price_obj)
        name, name_note = clear_text(line.get("description"), MAX_CONTENT_NAME, "line_items.data[].description")
        price = None
        if price_obj.get("unit_amount") is not None:
            _, price, problem = money(price_obj.get("unit_amount"), currency, "price.unit_amount")
            if problem:
                note(f"line_items.data[] price ignored: {problem}")
        item, cost = content_item(identifier, name, None, price, quantity)
        return item, cost, [name_note] if name_note else []

    return read
