"""The `properties` block of a WooCommerce order: value and currency (the order's total, in the
order's currency), its line items as contents, and its id."""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping
from typing import Any

from tiktok_relay.sources.common.contents import (
    MAX_CONTENT_ID,
    MAX_CONTENT_NAME,
    clear_text,
    collect_contents,
    content_id,
    content_item,
)
from tiktok_relay.sources.common.values import as_amount, as_currency
from tiktok_relay.sources.woocommerce.settings import WooCommerceSettings

_ID_CUT = f"line_items[] content_id truncated to {MAX_CONTENT_ID} characters"


def properties_block(payload: Mapping[str, Any], order_id: str, settings: WooCommerceSettings,
                     warnings: list[str]) -> dict[str, Any]:
    """contents, value and currency, order_id; what is missing or unusable is left out."""
    props: dict[str, Any] = {}
    lines = payload.get("line_items")
    if lines is not None and not isinstance(lines, list):
        warnings.append("line_items ignored: not a list")
        lines = None
    contents, _ = collect_contents(lines or [], _line_reader(settings.content_id_fields), "line_items[]", warnings)
    if contents:
        props["contents"] = contents
        props["content_type"] = "product"
    currency, currency_problem = as_currency(payload.get("currency"))
    value, value_problem = as_amount(payload.get("total"))
    if currency_problem or value_problem:
        problems = [f"{path} {problem}" for path, problem in (("currency", currency_problem), ("total", value_problem))
                    if problem]
        warnings.append(f"value and currency omitted: {'; '.join(problems)}")
    else:
        props["currency"] = currency
        props["value"] = value
    props["order_id"] = order_id
    return props


def _line_reader(fields: tuple[str, ...]) -> Callable[..., tuple[dict[str, Any], int, list[str]]]:
    """How one line item becomes a contents item (common/contents.py's LineReader): content_id
    from `fields` (variation_id, product_id, sku: a variation id of 0 means none), the name as
    the shopper saw it (WooCommerce sends it with HTML entities: "Shirt &ndash; Black"), the
    unit price after discounts (`price`), the quantity."""

    def read(line: Mapping[str, Any], quantity: int | None,
             note: Callable[[str], None]) -> tuple[dict[str, Any], int, list[str]]:
        cuts = []
        identifier, id_cut = content_id(line, fields)
        if id_cut:
            cuts.append(_ID_CUT)
        raw_name = line.get("name")
        name, name_note = clear_text(html.unescape(raw_name) if isinstance(raw_name, str) else raw_name,
                                     MAX_CONTENT_NAME, "line_items[].name")
        if name_note:
            cuts.append(name_note)
        price = None
        if line.get("price") is not None:
            price, problem = as_amount(line.get("price"))
            if problem:
                note(f"line_items[].price ignored: {problem}")
        item, cost = content_item(identifier, name, None, price, quantity)
        return item, cost, cuts

    return read
