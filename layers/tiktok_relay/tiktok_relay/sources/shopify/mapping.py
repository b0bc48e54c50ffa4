"""Shopify webhook payload -> TikTok Events API 2.0 events. Pure: no I/O, no clock reads.

    result = map_webhook("orders/paid", payload, "shop.myshopify.com", settings, now=int(time.time()))
    body = to_request_body(result, pixel_id=..., test_event_code=settings.test_event_code)

`map_webhook` never raises for a dict payload: each field is validated on its own, what is
invalid is left out and named in `result.warnings`, and when nothing can be sent
`result.reason` says why. Warnings and reasons name fields, never values (values can be
emails, phones, names).

Topics (defaults; SHOPIFY_TOPIC_EVENTS overrides, see settings.py):

    orders/paid                        Purchase
    orders/create                      nothing (set Purchase or PlaceAnOrder to send it)
    checkouts/create, checkouts/update InitiateCheckout
    carts/create, carts/update         AddToCart
    customers/create                   CompleteRegistration, only when state == "enabled"
    anything else                      nothing

event_id (TikTok deduplicates the same event + event_id within 48 h, also against the pixel):

    orders     shopify-order-{id}           (else the numeric tail of admin_graphql_api_id)
    checkouts  shopify-checkout-{token}     (else the checkout id)
    carts      shopify-cart-{token}-{digest} (else the cart id instead of the token)
    customers  shopify-customer-{id}        (else the numeric tail of admin_graphql_api_id)

The cart digest is the first 12 hex digits of SHA-256 over the compact JSON (ASCII) of the
cart's lines as sorted `[key, quantity]` pairs, key = variant_id, else product_id, else sku
(as a string, "" if none), quantity an int (-1 if missing). Updates that change the cart's
contents get a new event_id; re-deliveries of the same contents keep theirs. Without any
stable id the delivery is skipped: an event without one could be counted twice.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl

from tiktok_relay.errors import ConfigurationError, EventValidationError
from tiktok_relay.sources.common.privacy import (
    KEPT_QUERY_PARAMETERS,
    attempt,
    click_id,
    has_email,
    scrub_surrogates,
    without_private_query,
)
from tiktok_relay.sources.common.timing import event_time
from tiktok_relay.sources.common.values import (
    as_amount,
    as_currency,
    as_decimal,
    as_id,
    as_quantity,
    as_text,
    as_token,
    object_field,
)
from tiktok_relay.sources.shopify.settings import ALLOWED_TOPIC_EVENTS, ShopifySettings
from tiktok_relay.tiktok import normalize, phones
from tiktok_relay.tiktok.currencies import ACCEPTED_CURRENCIES
from tiktok_relay.tiktok.models import Event

__all__ = ["ACCEPTED_CURRENCIES", "MappingResult", "map_webhook", "to_request_body"]

MAX_CONTENTS = 250
MAX_CONTENT_ID = 100
MAX_CONTENT_NAME = 150
MAX_BRAND = 100
MAX_URL = 2048
MAX_USER_AGENT = 512
MAX_PLACE = 100  # city / state, before normalization
# Estimated worst-case JSON bytes (ASCII-escaped) for properties.contents. With the other
# capped fields, one delivery's request stays well under the 256 KiB SQS message limit.
CONTENTS_BUDGET = 140_000
_ITEM_OVERHEAD = 130  # keys, price, quantity, content_type of one contents item

_KINDS = {"orders": "order", "checkouts": "checkout", "carts": "cart", "customers": "customer"}
_CUSTOMER_STATES = ("enabled", "disabled", "invited", "declined")
_TTCLID_NAMES = ("ttclid", "_ttclid")
_TTP_NAMES = ("_ttp", "ttp", "__ttp")
_ATTRIBUTE_NAMES = frozenset(_TTCLID_NAMES + _TTP_NAMES)
_GID = re.compile(r"gid://shopify/([A-Za-z]+)/([0-9]{1,30})(?:[/?#].*)?", re.ASCII)
_LOCALE = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8}){0,4}", re.ASCII)
_HOST = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?(?::[0-9]{1,5})?", re.ASCII)
_ABSOLUTE_URL = re.compile(r"https?://[^/?#\s]+", re.ASCII | re.IGNORECASE)


@dataclass(frozen=True)
class MappingResult:
    """What one webhook delivery becomes.

    events:   validated Events API events (empty when nothing is sent)
    reason:   why nothing is sent, when `events` is empty
    warnings: what was dropped or adjusted, naming fields only, never values
    """

    events: list[Event] = field(default_factory=list)
    reason: str | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def sent(self) -> bool:
        return bool(self.events)


def to_request_body(result: MappingResult, *, pixel_id: str, test_event_code: str | None) -> dict[str, Any]:
    """The Events API request body (wire dict) for `result`; `data` is [] when nothing is sent.

    `map`, the Lambda receiver and the local replay all build the body here.
    """
    if not isinstance(pixel_id, str) or not pixel_id.strip():
        raise ConfigurationError("TIKTOK_PIXEL_ID is not set; it is your pixel code (event_source_id)")
    body: dict[str, Any] = {"event_source": "web", "event_source_id": pixel_id.strip()}
    if isinstance(test_event_code, str) and test_event_code.strip():
        body["test_event_code"] = test_event_code.strip()
    body["data"] = [event.wire() for event in result.events]
    return body


# --- small, total helpers: each returns None for anything unusable ----------------------------


def _shown(text: str, limit: int = 80) -> str:
    """A topic or similar identifier, safe to quote in a reason (printable ASCII, bounded)."""
    cleaned = "".join(ch if " " <= ch <= "~" else "?" for ch in text[:limit])
    return repr(cleaned + ("..." if len(text) > limit else ""))


def _id_text(value: Any) -> str | None:
    """A Shopify id as exact decimal text: what as_id takes, and GraphQL gids of any resource."""
    number = as_id(value)
    if number is None and isinstance(value, str):
        return _gid_number(value.strip(), None)
    return number


def _gid_tail(value: Any, resource: str) -> str | None:
    """The id in a gid of `resource` (admin_graphql_api_id: 'gid://shopify/Order/123')."""
    return _gid_number(value.strip(), resource) if isinstance(value, str) else None


def _gid_number(text: str, resource: str | None) -> str | None:
    match = _GID.fullmatch(text)
    if match is None or (resource is not None and match.group(1) != resource):
        return None
    number = int(match.group(2))
    return str(number) if number > 0 else None


def _money(obj: Any, money_key: str, field_name: str = "amount") -> Any:
    """obj[money_key][field_name] for Shopify `*_set` objects, None if any level is missing."""
    if type(obj) is not dict and not isinstance(obj, dict):
        return None
    money = obj.get(money_key)
    return money.get(field_name) if type(money) is dict or isinstance(money, dict) else None


def _json_cost(text: str) -> int:
    """Upper bound of the bytes `text` takes in ASCII-escaped JSON (what json.dumps writes)."""
    if text.isascii() and text.isprintable() and '"' not in text and "\\" not in text:
        return len(text)
    return 12 * len(text)  # \uXXXX, twice for characters outside the BMP


def _time_fields(kind: str, topic: str) -> tuple[str, ...]:
    if kind == "order":
        return ("processed_at", "created_at")
    if topic.endswith("/update"):
        return ("updated_at", "created_at")
    return ("created_at", "updated_at")


# --- event_id ----------------------------------------------------------------------------------


def _cart_digest(lines: Any) -> str:
    pairs: list[tuple[str, int]] = []
    if isinstance(lines, list):
        for line in lines:
            if not isinstance(line, dict):
                continue
            key = _id_text(line.get("variant_id")) or _id_text(line.get("product_id"))
            if key is None:
                sku = line.get("sku")
                key = as_text(sku)[0] if isinstance(sku, str) else _id_text(sku)
            quantity = as_quantity(line.get("quantity"))
            pairs.append((key or "", -1 if quantity is None else quantity))
    pairs.sort()
    text = json.dumps(pairs, separators=(",", ":"))  # ensure_ascii: always encodable
    return hashlib.sha256(text.encode("ascii")).hexdigest()[:12]


def _event_id(kind: str, payload: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """(event_id, reason when there is none)."""
    if kind == "order":
        key = _id_text(payload.get("id")) or _gid_tail(payload.get("admin_graphql_api_id"), "Order")
        if key:
            return f"shopify-order-{key}", None
        return None, "the order has no usable id (id, admin_graphql_api_id)"
    if kind == "checkout":
        key = as_token(payload.get("token")) or as_token(payload.get("id"))
        if key:
            return f"shopify-checkout-{key}", None
        return None, "the checkout has no usable token or id"
    if kind == "cart":
        key = as_token(payload.get("token")) or as_token(payload.get("id"))
        if key:
            return f"shopify-cart-{key}-{_cart_digest(payload.get('line_items'))}", None
        return None, "the cart has no usable token or id"
    key = _id_text(payload.get("id")) or _gid_tail(payload.get("admin_graphql_api_id"), "Customer")
    if key:
        return f"shopify-customer-{key}", None
    return None, "the customer has no usable id (id, admin_graphql_api_id)"


# --- user ----------------------------------------------------------------------------------------


def _hash_into(seen: dict[str, None], hasher, value: Any, path: str, warnings: list[str]) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        warnings.append(f"{path} ignored: not a string")
        return
    digest = attempt(hasher, path, warnings, value)
    if digest is not None:
        seen[digest] = None


def _hash_phones(candidates: list[tuple[str, Any, str | None]], warnings: list[str]) -> list[str]:
    """SHA-256 of each distinct number in E.164; each parsed with its own region hint.

    Same result as `normalize.hash_phone(value, region)` per value, but a number already seen
    in another format (billing '07911 123456', shipping '+44 7911 123456') is hashed once.
    """
    seen: set[str] = set()
    hashes: dict[str, None] = {}
    for path, value, region in candidates:
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            warnings.append(f"{path} ignored: not a string")
            continue
        text = value.strip() if isinstance(value, str) else str(value)
        if not text:
            continue
        if normalize.is_sha256_hex(text):
            hashes[text.lower()] = None
            continue
        if phones.without_separators(text) in seen:
            continue  # '+' and the same digits as a number already hashed
        e164 = attempt(phones.normalize_phone, path, warnings, text, region)
        if e164 is None:
            continue
        if e164 not in seen:
            seen.add(e164)
            hashes[normalize.sha256_hex(e164)] = None
    return list(hashes)


def _region(address: Mapping[str, Any] | None) -> str | None:
    return phones.normalize_region(address.get("country_code")) if address else None


def _user(kind: str, payload: Mapping[str, Any], settings: ShopifySettings, warnings: list[str]) -> dict[str, Any]:
    user: dict[str, Any] = {}
    if kind == "customer":
        customer: dict[str, Any] | None = payload  # type: ignore[assignment]
        billing = shipping = None
        default_address = object_field(payload, "default_address", "default_address", warnings)
        customer_path = ""
    else:
        customer = object_field(payload, "customer", "customer", warnings)
        billing = object_field(payload, "billing_address", "billing_address", warnings)
        shipping = object_field(payload, "shipping_address", "shipping_address", warnings)
        default_address = (
            object_field(customer, "default_address", "customer.default_address", warnings) if customer else None
        )
        customer_path = "customer."

    # email: every distinct address
    emails: dict[str, None] = {}
    sources = [("email", payload.get("email"))]
    if kind != "customer":
        sources.append(("contact_email", payload.get("contact_email")))
        if customer:
            sources.append(("customer.email", customer.get("email")))
    tried: set[str] = set()
    for path, value in sources:
        if isinstance(value, str):
            key = value.strip().lower()  # what hash_email hashes: the same address in other case
            if key in tried:
                continue
            tried.add(key)
        _hash_into(emails, normalize.hash_email, value, path, warnings)
    if emails:
        user["email"] = list(emails)

    # phone: every distinct number, each parsed with its own address's country as region
    addresses = [(path, address, _region(address)) for path, address in (
        ("billing_address", billing), ("shipping_address", shipping),
        (f"{customer_path}default_address", default_address)) if address]
    fallback_region = next((region for _, _, region in addresses if region), None) or phones.normalize_region(
        settings.phone_region)
    candidates: list[tuple[str, Any, str | None]] = []
    if kind != "customer":
        candidates.append(("phone", payload.get("phone"), fallback_region))
    if customer:
        candidates.append((f"{customer_path}phone", customer.get("phone"), fallback_region))
    for path, address, region in addresses:
        candidates.append((f"{path}.phone", address.get("phone"), region or fallback_region))
    phone_hashes = _hash_phones(candidates, warnings)
    if phone_hashes:
        user["phone"] = phone_hashes

    # external_id: the Shopify customer id
    if customer:
        customer_id = _id_text(customer.get("id")) or _gid_tail(customer.get("admin_graphql_api_id"), "Customer")
        if customer_id:
            user["external_id"] = [normalize.hash_external_id(customer_id)]
        elif customer.get("id") is not None:
            warnings.append(f"{customer_path}id ignored: not a numeric id")

    # name, zip and place: one source, the first with anything usable
    if kind == "customer":
        sources = (("", customer, default_address, "default_address"),)
    else:
        sources = (("billing_address.", billing, billing, "billing_address"),
                   ("shipping_address.", shipping, shipping, "shipping_address"),
                   ("customer.", customer, default_address, "customer.default_address"))
    for names_prefix, names, place, place_path in sources:
        if _has_any(names, ("first_name", "last_name")) or _has_any(
            place, ("zip", "city", "province_code", "province", "country_code")
        ):
            _names_and_place(user, names, place, names_prefix, place_path, warnings)
            break

    # browser data (orders only carry it)
    client = object_field(payload, "client_details", "client_details", warnings)
    for path, value in (("browser_ip", payload.get("browser_ip")),
                        ("client_details.browser_ip", client.get("browser_ip") if client else None)):
        if value is None:
            continue
        if not isinstance(value, str):
            warnings.append(f"{path} ignored: not a string")
            continue
        try:
            ip = normalize.normalize_ip(value)
        except ValueError:
            warnings.append(f"{path} dropped: not an IPv4 or IPv6 address")
            continue
        if ip:
            user["ip"] = ip
            break
    if client:
        user_agent, cut = as_text(client.get("user_agent"), MAX_USER_AGENT)
        if user_agent and has_email(user_agent):  # sent in clear: no customer data
            warnings.append("client_details.user_agent dropped: it contains what looks like an email address")
        elif user_agent:
            user["user_agent"] = user_agent
            if cut:
                warnings.append(f"client_details.user_agent truncated to {MAX_USER_AGENT} characters")
        elif client.get("user_agent") is not None and not isinstance(client.get("user_agent"), str):
            warnings.append("client_details.user_agent ignored: not a string")
    locale = payload.get("customer_locale")
    if locale is not None:
        text = locale.strip() if isinstance(locale, str) else None
        if text and _LOCALE.fullmatch(text):
            user["locale"] = text
        elif text != "":
            warnings.append("customer_locale ignored: not a language tag")

    # ttclid / ttp: stored by the storefront as cart attributes (note_attributes)
    attributes = _note_attributes(payload, warnings)
    for name in _TTCLID_NAMES:
        if name in attributes and (ttclid := click_id(attributes[name], f"note_attributes.{name}", warnings)):
            user["ttclid"] = ttclid
            break
    else:  # no stored ttclid: the landing page's query, when it had one
        if ttclid := click_id(_landing_ttclid(payload.get("landing_site")), "landing_site ttclid", warnings):
            user["ttclid"] = ttclid
    for name in _TTP_NAMES:
        if name in attributes and (ttp := click_id(attributes[name], f"note_attributes.{name}", warnings)):
            user["ttp"] = ttp
            break
    return user


def _has_any(obj: Mapping[str, Any] | None, keys: tuple[str, ...]) -> bool:
    if not obj:
        return False
    for key in keys:
        value = obj.get(key)
        if (isinstance(value, str) and value.strip()) or (isinstance(value, int) and not isinstance(value, bool)):
            return True
    return False


def _names_and_place(user: dict[str, Any], names: Mapping[str, Any] | None, place: Mapping[str, Any] | None,
                     names_prefix: str, place_path: str, warnings: list[str]) -> None:
    if names:
        for key in ("first_name", "last_name"):
            digest: dict[str, None] = {}
            _hash_into(digest, normalize.hash_name, names.get(key), f"{names_prefix}{key}", warnings)
            if digest:
                user[key] = next(iter(digest))
    if not place:
        return
    digest = {}
    _hash_into(digest, normalize.hash_zip, place.get("zip"), f"{place_path}.zip", warnings)
    if digest:
        user["zip_code"] = next(iter(digest))
    for key, sources in (("city", ("city",)), ("state", ("province_code", "province"))):
        for source in sources:
            value = place.get(source)
            if value is None:
                continue
            text, _ = as_text(value, MAX_PLACE)
            if text is None:
                if not isinstance(value, str):
                    warnings.append(f"{place_path}.{source} ignored: not a string")
                continue
            normalized = normalize.normalize_place(text)
            if normalized:
                user[key] = normalized
                break
    country = place.get("country_code")
    if country is not None:
        code = country.strip() if isinstance(country, str) else ""
        if len(code) == 2 and code.isascii() and code.isalpha():
            user["country"] = code.lower()
        else:
            warnings.append(f"{place_path}.country_code ignored: not a two-letter country code")


def _note_attributes(payload: Mapping[str, Any], warnings: list[str]) -> dict[str, Any]:
    raw = payload.get("note_attributes")
    found: dict[str, Any] = {}
    if raw is None:
        return found
    if isinstance(raw, list):
        pairs = ((item.get("name"), item.get("value")) for item in raw if isinstance(item, dict))
    elif isinstance(raw, dict):  # {name: value} instead of [{name, value}]
        pairs = iter(raw.items())
    else:
        warnings.append("note_attributes ignored: not a list")
        return found
    for name, value in pairs:
        if isinstance(name, str):
            key = name.strip().lower()
            if key in _ATTRIBUTE_NAMES and key not in found:
                found[key] = value
    return found


def _landing_ttclid(landing: Any) -> Any:
    if not isinstance(landing, str) or "ttclid" not in landing:
        return None
    query = landing.partition("?")[2].partition("#")[0]
    try:
        for name, value in parse_qsl(query, max_num_fields=1000):
            if name == "ttclid" and value.strip():
                return value
    except ValueError:
        return None
    return None


# --- properties ----------------------------------------------------------------------------------


def _properties(kind: str, event_name: str, payload: Mapping[str, Any], order_id: str | None,
                settings: ShopifySettings, warnings: list[str]) -> dict[str, Any]:
    props: dict[str, Any] = {}
    money_key = "presentment_money" if settings.currency == "presentment" else "shop_money"
    lines = payload.get("line_items")
    if lines is not None and not isinstance(lines, list):
        warnings.append("line_items ignored: not a list")
        lines = None
    lines = lines or []

    currency = value = None
    if kind == "cart":
        currency, value = _cart_money(lines, money_key, warnings)
    else:
        if money_key == "presentment_money":
            raw_currency = payload.get("presentment_currency")
            raw_value = _money(payload.get("total_price_set"), "presentment_money")
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
            currency = value = None

    contents, total_quantity = _contents(lines, money_key, settings, warnings)
    if contents:
        props["contents"] = contents
        props["content_type"] = "product"
    if currency is not None and value is not None:
        props["currency"] = currency
        props["value"] = value
    if event_name == "InitiateCheckout" and total_quantity:
        props["num_items"] = total_quantity
    if order_id is not None:
        props["order_id"] = order_id
    return props


def _line_price(line: Mapping[str, Any], money_key: str) -> Any:
    price = _money(line.get("price_set"), money_key)
    if price is None and money_key == "shop_money":
        price = line.get("price")  # the REST field, in the shop currency
    return price


def _cart_money(lines: list[Any], money_key: str, warnings: list[str]) -> tuple[str | None, float | None]:
    """Carts carry no currency field: take it from the lines' money sets; value = sum(price * qty)."""
    codes: set[str] = set()
    total = Decimal(0)
    complete = bool(lines)
    for line in lines:
        if not isinstance(line, dict):
            complete = False
            continue
        code = _money(line.get("price_set"), money_key, "currency_code")
        if isinstance(code, str) and code.strip():
            codes.add(code.strip().upper())
        price = as_decimal(_line_price(line, money_key))
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
    if not math.isfinite(value):
        warnings.append("value and currency omitted: cart total is not a finite number")
        return None, None
    return currency, value


def _content_id(line: Mapping[str, Any], fields: tuple[str, ...]) -> tuple[str | None, bool]:
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
            text = _id_text(value)
            if text:
                return text, False
    return None, False


def _contents(lines: list[Any], money_key: str, settings: ShopifySettings,
              warnings: list[str]) -> tuple[list[dict[str, Any]], int]:
    contents: list[dict[str, Any]] = []
    counts: dict[str, int] = {}
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
            note("line_items[].quantity ignored: not a non-negative integer")
        if len(contents) >= MAX_CONTENTS or over_budget:
            continue
        item: dict[str, Any] = {}
        cuts: list[str] = []  # notes that count only if the item is kept
        content_id, cut = _content_id(line, fields)
        if content_id:
            item["content_id"] = content_id
            if cut:
                cuts.append(f"line_items[] content_id truncated to {MAX_CONTENT_ID} characters")
        name = line.get("title")
        if type(name) is str and 0 < len(name) <= MAX_CONTENT_NAME and name.isascii() and name.strip() == name:
            cut = False  # the usual case, without the general helper
        else:
            name, cut = as_text(name, MAX_CONTENT_NAME)
            if name is None:
                name, cut = as_text(line.get("name"), MAX_CONTENT_NAME)
        if name:
            item["content_name"] = name
            if cut:
                cuts.append(f"line_items[].title truncated to {MAX_CONTENT_NAME} characters")
        raw_price = _line_price(line, money_key)
        if raw_price is not None:
            price, problem = as_amount(raw_price)
            if problem:
                note(f"line_items[] price ignored: {problem}")
            else:
                item["price"] = price
        if quantity is not None:
            item["quantity"] = quantity
        brand = line.get("vendor")
        if type(brand) is str and 0 < len(brand) <= MAX_BRAND and brand.isascii() and brand.strip() == brand:
            cut = False
        else:
            brand, cut = as_text(brand, MAX_BRAND)
        if brand:
            item["brand"] = brand
            if cut:
                cuts.append(f"line_items[].vendor truncated to {MAX_BRAND} characters")
        if not item:
            note("line_items[] ignored: nothing usable")
            continue
        cost = _ITEM_OVERHEAD
        for text in (content_id, name, brand):
            if text:
                cost += _json_cost(text)
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


# --- page ------------------------------------------------------------------------------------------


def _absolute(url: str) -> bool:
    """An http(s) URL with a host."""
    return _ABSOLUTE_URL.match(url) is not None


def _page(payload: Mapping[str, Any], shop_domain: Any, warnings: list[str]) -> dict[str, Any]:
    page: dict[str, Any] = {}
    url = None
    landing = payload.get("landing_site")
    if isinstance(landing, str) and landing.strip():
        text = landing.strip()
        if text.startswith("//"):
            text = "https:" + text
        if text.startswith("/"):
            host = shop_domain.strip().lower() if isinstance(shop_domain, str) else ""
            if _HOST.fullmatch(host):
                url = f"https://{host}{text}"
            else:
                warnings.append("landing_site ignored: the shop domain is not a host name")
        elif _absolute(text):
            url = text
        else:
            warnings.append("landing_site ignored: neither a path nor an absolute URL")
    elif landing is not None and not isinstance(landing, str):
        warnings.append("landing_site ignored: not a string")
    if url is None:
        status = payload.get("order_status_url")
        if isinstance(status, str) and _absolute(status.strip()):
            # Without its query: the `key` parameter opens the order status page (an access key).
            url = status.strip().split("?", 1)[0].split("#", 1)[0]
    if url:
        url, removed = without_private_query(url, keep=KEPT_QUERY_PARAMETERS)
        if removed:
            warnings.append("page.url: query parameters other than ttclid and utm_* removed (they can hold "
                            "customer data)")
        if has_email(url):
            warnings.append("page.url dropped: it contains what looks like an email address")
            url = None
    if url:
        page["url"] = scrub_surrogates(url[:MAX_URL])
        if len(url) > MAX_URL:
            warnings.append(f"page.url truncated to {MAX_URL} characters")
    referrer = payload.get("referring_site")
    if isinstance(referrer, str) and referrer.strip():
        # Another site's query string is none of TikTok's business (search terms, email links).
        text, _ = without_private_query(referrer.strip(), keep=frozenset())
        if _absolute(text) and has_email(text):
            warnings.append("referring_site dropped: it contains what looks like an email address")
        elif _absolute(text):
            page["referrer"] = scrub_surrogates(text[:MAX_URL])
            if len(text) > MAX_URL:
                warnings.append(f"page.referrer truncated to {MAX_URL} characters")
        else:
            warnings.append("referring_site ignored: not an absolute URL")
    elif referrer is not None and not isinstance(referrer, str):
        warnings.append("referring_site ignored: not a string")
    return page


# --- assembly ----------------------------------------------------------------------------------


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


def _normalize_topic(topic: Any) -> str | None:
    if not isinstance(topic, str) or not topic.strip():
        return None
    text = topic.strip().lower()
    if "/" not in text and "_" in text:  # GraphQL enum form, e.g. ORDERS_PAID
        head, _, tail = text.rpartition("_")
        text = f"{head}/{tail}"
    return text


def _is_test(payload: Mapping[str, Any]) -> bool:
    flag = payload.get("test")
    return flag is True or (isinstance(flag, str) and flag.strip().lower() == "true")


def map_webhook(topic: str, payload: dict, shop_domain: str, settings: ShopifySettings, *, now: int) -> MappingResult:
    """The events one Shopify webhook delivery becomes. Pure; never raises for a dict payload.

    Should it ever raise anyway (a bug), the exception propagates on purpose: the receiver then
    answers 5xx so that Shopify retries the delivery, instead of acknowledging a lost conversion.
    """
    return _map(topic, payload, shop_domain, settings, int(now), [])


def _map(topic: Any, payload: Any, shop_domain: Any, settings: ShopifySettings, now: int,
         warnings: list[str]) -> MappingResult:
    name = _normalize_topic(topic)
    if name is None:
        return MappingResult([], "the webhook topic is missing", warnings)
    if not isinstance(payload, dict):
        return MappingResult([], "the payload is not a JSON object", warnings)
    event_name = settings.event_for(name)
    if not event_name:
        reason = f"Shopify topic {_shown(name)} is not mapped to a TikTok event"
        if name == "orders/create":
            reason += (" by default (orders/paid is the purchase); set SHOPIFY_TOPIC_EVENTS="
                       "orders/create=Purchase or orders/create=PlaceAnOrder to send it")
        elif name in ALLOWED_TOPIC_EVENTS:
            reason += " (SHOPIFY_TOPIC_EVENTS maps it to none)"
        return MappingResult([], reason, warnings)
    kind = _KINDS.get(name.partition("/")[0])
    if kind is None:
        return MappingResult([], f"Shopify topic {_shown(name)} has no mapping rules in tiktok-relay", warnings)
    if _is_test(payload) and not settings.test_event_code:
        return MappingResult(
            [], "test order (test: true) not sent; set TIKTOK_TEST_EVENT_CODE to send test orders as TikTok "
                "test events", warnings)
    if kind == "customer":
        state = payload.get("state")
        if state != "enabled":
            shown = repr(state) if state in _CUSTOMER_STATES else "missing or unknown"
            return MappingResult(
                [], f"customer state is {shown}, not 'enabled': only account holders count as a registration "
                    "(a guest checkout creates a 'disabled' customer)", warnings)
    if kind == "cart":
        lines = payload.get("line_items")
        if not isinstance(lines, list) or not lines:
            return MappingResult([], "the cart has no line items: nothing was added", warnings)

    event_id, reason = _event_id(kind, payload)
    if event_id is None:
        return MappingResult([], f"{reason}: an event without a stable event_id could be counted twice", warnings)
    data: dict[str, Any] = {
        "event": event_name,
        "event_time": event_time(payload, _time_fields(kind, name), now, warnings),
        "event_id": event_id,
    }
    user = _user(kind, payload, settings, warnings)
    if user:
        data["user"] = user
    if kind != "customer":
        order_id = event_id.removeprefix("shopify-order-") if kind == "order" else None
        properties = _properties(kind, event_name, payload, order_id, settings, warnings)
        if properties:
            data["properties"] = properties
        page = _page(payload, shop_domain, warnings)
        if page:
            data["page"] = page
    event, reason = _build_event(data, warnings)
    if event is None:
        return MappingResult([], reason, warnings)
    return MappingResult([event], None, warnings)
