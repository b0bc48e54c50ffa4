"""The `properties` block: value and currency, and the line items as contents."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from tiktok_relay.sources.common.values import as_amount, as_currency, as_decimal, as_quantity, as_text
from tiktok_relay.sources.shopify.mapping.values import line_price, money_field, shopify_id
from tiktok_relay.sources.shopify.settings import ShopifySettings
from tiktok_relay.tiktok.cleartext import has_email
from tiktok_relay.tiktok.models import MAX_AMOUNT, MAX_COUNT

MAX_CONTENTS = 250
MAX_CONTENT_ID = 100
MAX_CONTENT_NAME = 150
MAX_BRAND = 100
# Estimated worst-case JSON bytes (ASCII-escaped) for properties.contents. With the other
# capped fields, one delivery's request stays well under the 256 KiB SQS message limit.
CONTENTS_BUDGET = 140_000
_ITEM_OVERHEAD = 130  # keys, price, quantity, content_type of one contents item
_ID_CUT = f"line_items[] content_id truncated to {MAX_CONTENT_ID} characters"
_NAME_CUT = f"line_items[].title truncated to {MAX_CONTENT_NAME} characters"
_BRAND_CUT = f"line_items[].vendor truncated to {MAX_BRAND} characters"
# Sent in clear: a title or vendor with an email address in it (a personalised item, a
# marketplace seller's contact) must not leave.
_NAME_EMAIL = "line_items[].title dropped: it contains what looks like an email address"
_BRAND_EMAIL = "line_items[].vendor dropped: it contains what looks like an email address"


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


def _content_id(line: Mapping[str, Any], fields: tuple[str, ...]) -> tuple[str | None, bool]:
    """(the first of `fields` that holds an id, whether it was truncated): variant and product
    ids as numbers, a sku as text."""
    for name in fields:
        value = line.get(name)
        if value is None:
            continue
        if name == "sku":
            if isinstance(value, int) and not isinstance(value, bool):
                value = str(value)
            text, cut = as_text(value, MAX_CONTENT_ID)
            if text:
                return text, cut
        else:
            text = shopify_id(value)
            if text:
                return text, False
    return None, False


def _contents(lines: list[Any], money_key: str, settings: ShopifySettings,
              warnings: list[str]) -> tuple[list[dict[str, Any]], int]:
    """(contents items, total quantity) of the line items: at most MAX_CONTENTS items within
    CONTENTS_BUDGET, while the quantity counts every line. Problems are summed up per kind."""
    contents: list[dict[str, Any]] = []
    counts: dict[str, int] = {}  # warning -> number of line items it concerns, in first-seen order
    total_quantity = 0
    budget = CONTENTS_BUDGET
    lines_seen = 0
    over_budget = False
    fields = tuple(settings.content_id_fields) or ("variant_id", "product_id", "sku")

    def note(what: str) -> None:
        counts[what] = counts.get(what, 0) + 1

    for line in lines:
        if not isinstance(line, dict):
            note("line_items[] ignored: not an object")
            continue
        lines_seen += 1
        quantity = as_quantity(line.get("quantity"))
        if quantity is not None:
            total_quantity += quantity
        elif line.get("quantity") is not None:
            note(f"line_items[].quantity ignored: not a whole number from 0 to {MAX_COUNT}")
        if len(contents) >= MAX_CONTENTS or over_budget:
            continue
        item, cost, cuts = _content(line, quantity, fields, money_key, note)
        if not item:
            note("line_items[] ignored: nothing usable")
            continue
        if cost > budget:
            over_budget = True
            continue
        budget -= cost
        item["content_type"] = "product"  # the model would copy it in anyway, more slowly
        contents.append(item)
        for what in cuts:
            note(what)
    for what, count in counts.items():
        warnings.append(f"{what} ({count} line item{'s' if count != 1 else ''})")
    if lines_seen > len(contents) and (len(contents) >= MAX_CONTENTS or over_budget):
        limit = "the size limit" if over_budget else f"the {MAX_CONTENTS}-item limit"
        warnings.append(f"properties.contents: {lines_seen} line items, sent the first {len(contents)} ({limit})")
    return contents, total_quantity


def _content(line: Mapping[str, Any], quantity: int | None, fields: tuple[str, ...], money_key: str,
             note: Callable[[str], None]) -> tuple[dict[str, Any], int, list[str]]:
    """(contents item, its JSON cost estimate, the truncation notes that count only if the item
    is kept) for one line item; a price problem is noted at once."""
    content_id, name, brand, cuts = _content_texts(line, fields)
    item: dict[str, Any] = {}
    if content_id:
        item["content_id"] = content_id
    if name:
        item["content_name"] = name
    raw_price = line_price(line, money_key)
    if raw_price is not None:
        price, problem = as_amount(raw_price)
        if problem:
            note(f"line_items[] price ignored: {problem}")
        else:
            item["price"] = price
    if quantity is not None:
        item["quantity"] = quantity
    if brand:
        item["brand"] = brand
    cost = (_ITEM_OVERHEAD + (_json_cost(content_id) if content_id else 0) + (_json_cost(name) if name else 0)
            + (_json_cost(brand) if brand else 0))
    return item, cost, cuts


def _content_texts(line: Mapping[str, Any],
                   fields: tuple[str, ...]) -> tuple[str | None, str | None, str | None, list[str]]:
    """(content_id, content_name from title else name, brand from vendor, truncation notes)."""
    content_id, id_cut = _content_id(line, fields)
    name = line.get("title")
    if type(name) is str and 0 < len(name) <= MAX_CONTENT_NAME and name.isascii() and name.strip() == name:
        name_cut = False  # the usual case, without the general helper
    else:
        name, name_cut = as_text(name, MAX_CONTENT_NAME)
        if name is None:
            name, name_cut = as_text(line.get("name"), MAX_CONTENT_NAME)
    brand = line.get("vendor")
    if type(brand) is str and 0 < len(brand) <= MAX_BRAND and brand.isascii() and brand.strip() == brand:
        brand_cut = False
    else:
        brand, brand_cut = as_text(brand, MAX_BRAND)
    cuts = []
    if id_cut:
        cuts.append(_ID_CUT)
    if name and has_email(name):
        name, name_cut = None, False
        cuts.append(_NAME_EMAIL)
    if name_cut:
        cuts.append(_NAME_CUT)
    if brand and has_email(brand):
        brand, brand_cut = None, False
        cuts.append(_BRAND_EMAIL)
    if brand_cut:
        cuts.append(_BRAND_CUT)
    return content_id, name, brand, cuts


def _json_cost(text: str) -> int:
    """Upper bound of the bytes `text` takes in ASCII-escaped JSON (what json.dumps writes)."""
    if text.isascii() and text.isprintable() and '"' not in text and "\\" not in text:
        return len(text)
    return 12 * len(text)  # \uXXXX, twice for characters outside the BMP
