"""The `properties` block: value and currency, and the line items as contents."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from tiktok_relay.sources.common.contents import (
    MAX_BRAND,
    MAX_CONTENT_ID,
    MAX_CONTENT_NAME,
    MAX_CONTENTS,
    clear_text,
    collect_contents,
    content_id,
    content_item,
)
from tiktok_relay.sources.common.values import as_amount, as_currency, as_decimal, as_quantity, as_text
from tiktok_relay.sources.shopify.mapping.values import line_price, money_field, shopify_id
from tiktok_relay.sources.shopify.settings import ShopifySettings
from tiktok_relay.tiktok.fields import MAX_AMOUNT, MAX_COUNT

__all__ = ["MAX_CONTENTS", "properties_block"]
_ID_CUT = f"line_items[] content_id truncated to {MAX_CONTENT_ID} characters"


def properties_block(kind: str, event_name: str, payload: Mapping[str, Any], order_id: str | None,
                     settings: ShopifySettings, warnings: list[str]) -> dict[str, Any]:
    """The properties block: contents, value and currency, num_items (InitiateCheckout only)
    and order_id; what is missing or unusable is left out."""
    money_key = "presentment_money" if settings.currency == "presentment" else "shop_money"
    lines = payload.get("line_items")
    if lines is not None and not isinstance(lines, list):
        warnings.append("line_items ignored: not a list")
        lines = None
    lines = lines or []
    if kind == "cart":
        money_key, currency, value = _cart_money(lines, money_key, warnings)
    else:
        money_key, currency, value = _order_money(payload, money_key, warnings)
    contents, total_quantity = _contents(lines, money_key, settings, warnings)
    props: dict[str, Any] = {}
    if contents:
        props["contents"] = contents
        props["content_type"] = "product"
    if currency is not None and value is not None:
        props["currency"] = currency
        props["value"] = value
    if event_name == "InitiateCheckout" and total_quantity:
        if total_quantity > MAX_COUNT:
            warnings.append(f"properties.num_items clamped to {MAX_COUNT}: the line items' quantities add up to more")
            total_quantity = MAX_COUNT
        props["num_items"] = total_quantity
    if order_id is not None:
        props["order_id"] = order_id
    return props


def _order_money(payload: Mapping[str, Any], money_key: str,
                 warnings: list[str]) -> tuple[str, str | None, float | None]:
    """(money key used, currency, value) of an order or checkout: presentment_currency and
    total_price_set.presentment_money when SHOPIFY_CURRENCY=presentment and both are there,
    else the shop currency (currency, total_price), else presentment after all when the shop
    currency is not one TikTok accepts and the buyer's is."""
    if money_key == "shop_money" and _unaccepted(payload.get("currency")):
        presentment = _presentment_money(payload)
        if presentment is not None:
            warnings.append("currency is not one TikTok accepts: value and currency from presentment_currency and "
                            "total_price_set.presentment_money (what the buyer paid in)")
            return "presentment_money", *presentment
    if money_key == "presentment_money":
        raw_currency = payload.get("presentment_currency")
        raw_value = money_field(payload.get("total_price_set"), "presentment_money")
        if raw_currency is None or raw_value is None:
            warnings.append(
                "presentment_currency or total_price_set.presentment_money missing; used the shop "
                "currency (currency, total_price)"
            )
            money_key = "shop_money"
    if money_key == "shop_money":
        raw_currency, raw_value = payload.get("currency"), payload.get("total_price")
        currency_path, value_path = "currency", "total_price"
    else:
        currency_path, value_path = "presentment_currency", "total_price_set.presentment_money.amount"
    currency, currency_problem = as_currency(raw_currency)
    value, value_problem = as_amount(raw_value)
    if currency_problem or value_problem:
        problems = []
        if currency_problem:
            problems.append(f"{currency_path} {currency_problem}")
        if value_problem:
            problems.append(f"{value_path} {value_problem}")
        warnings.append(f"value and currency omitted: {'; '.join(problems)}")
        return money_key, None, None
    return money_key, currency, value


def _unaccepted(currency: Any) -> bool:
    """A currency code that is there but not one TikTok accepts."""
    return isinstance(currency, str) and bool(currency.strip()) and as_currency(currency)[1] is not None


def _presentment_money(payload: Mapping[str, Any]) -> tuple[str, float] | None:
    """(currency, value) in the buyer's currency, if TikTok accepts it and the total is usable."""
    currency, problem = as_currency(payload.get("presentment_currency"))
    value, value_problem = as_amount(money_field(payload.get("total_price_set"), "presentment_money"))
    if problem or value_problem or currency is None or value is None:
        return None
    return currency, value


def _cart_money(lines: list[Any], money_key: str, warnings: list[str]) -> tuple[str, str | None, float | None]:
    """(money key used, currency, value) of a cart: carts carry no currency field, so it comes from
    the lines' money sets; value = sum(price * qty). Presentment money when the shop's currency is
    not one TikTok accepts and the buyer's is."""
    if money_key == "shop_money":
        shop_codes = _line_currencies(lines, "shop_money")
        buyer_codes = _line_currencies(lines, "presentment_money") if shop_codes else set()
        if shop_codes and all(map(_unaccepted, shop_codes)) and buyer_codes and not any(map(_unaccepted, buyer_codes)):
            warnings.append("the cart's currency is not one TikTok accepts: value, currency and prices from "
                            "price_set.presentment_money (what the buyer sees)")
            money_key = "presentment_money"
    return (money_key, *_cart_total(lines, money_key, warnings))


def _line_currencies(lines: list[Any], money_key: str) -> set[str]:
    return {code.strip().upper() for line in lines if isinstance(line, dict)
            for code in (money_field(line.get("price_set"), money_key, "currency_code"),)
            if isinstance(code, str) and code.strip()}


def _cart_total(lines: list[Any], money_key: str, warnings: list[str]) -> tuple[str | None, float | None]:
    """(currency, sum(price * qty)) of cart lines in `money_key`."""
    codes: set[str] = set()
    total = Decimal(0)
    complete = bool(lines)
    for line in lines:
        if not isinstance(line, dict):
            complete = False
            continue
        code = money_field(line.get("price_set"), money_key, "currency_code")
        if isinstance(code, str) and code.strip():
            codes.add(code.strip().upper())
        price = as_decimal(line_price(line, money_key))
        quantity = as_quantity(line.get("quantity"))
        if price is None or quantity is None:
            complete = False
        else:
            total += price * quantity
    if not codes:
        if lines:
            warnings.append(f"value and currency omitted: no line_items[].price_set.{money_key}.currency_code")
        return None, None
    if len(codes) > 1:
        warnings.append("value and currency omitted: cart lines disagree on the currency")
        return None, None
    currency, problem = as_currency(codes.pop())
    if problem:
        warnings.append(f"value and currency omitted: line_items[].price_set.{money_key}.currency_code {problem}")
        return None, None
    if not complete:
        warnings.append("value and currency omitted: some cart lines have no valid price or quantity")
        return None, None
    value = float(total)
    if not math.isfinite(value) or value > MAX_AMOUNT:
        warnings.append("value and currency omitted: cart total is beyond what TikTok accepts (10^15)")
        return None, None
    return currency, value


def _contents(lines: list[Any], money_key: str, settings: ShopifySettings,
              warnings: list[str]) -> tuple[list[dict[str, Any]], int]:
    """(contents items, total quantity) of the line items (common/contents.py's limits)."""
    fields = tuple(settings.content_id_fields) or ("variant_id", "product_id", "sku")

    def read(line: Mapping[str, Any], quantity: int | None,
             note: Callable[[str], None]) -> tuple[dict[str, Any], int, list[str]]:
        cuts = []
        identifier, id_cut = content_id(line, fields, id_of=shopify_id)
        if id_cut:
            cuts.append(_ID_CUT)
        title = line.get("title")
        if as_text(title)[0] is None:
            title = line.get("name")
        name, name_note = clear_text(title, MAX_CONTENT_NAME, "line_items[].title")
        brand, brand_note = clear_text(line.get("vendor"), MAX_BRAND, "line_items[].vendor")
        cuts += [what for what in (name_note, brand_note) if what]
        price = None
        raw_price = line_price(line, money_key)
        if raw_price is not None:
            price, problem = as_amount(raw_price)
            if problem:
                note(f"line_items[] price ignored: {problem}")
        item, cost = content_item(identifier, name, brand, price, quantity)
        return item, cost, cuts

    return collect_contents(lines, read, "line_items[]", warnings)
