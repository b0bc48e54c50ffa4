"""The `user` block: every customer identifier a Shopify payload carries, hashed or checked for
clear text, each field read on its own (a bad one is named in a warning and left out)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

from tiktok_relay.sources.common.privacy import attempt, click_id, has_email
from tiktok_relay.sources.common.values import as_text, object_field
from tiktok_relay.sources.shopify.mapping.values import gid_tail, shopify_id
from tiktok_relay.sources.shopify.settings import ShopifySettings
from tiktok_relay.tiktok import normalize, phones

MAX_USER_AGENT = 512


MAX_PLACE = 100  # city / state, before normalization


_TTCLID_NAMES = ("ttclid", "_ttclid")


_TTP_NAMES = ("_ttp", "ttp", "__ttp")


_ATTRIBUTE_NAMES = frozenset(_TTCLID_NAMES + _TTP_NAMES)


_LOCALE = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8}){0,4}", re.ASCII)


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


def user_block(kind: str, payload: Mapping[str, Any], settings: ShopifySettings, warnings: list[str]) -> dict[str, Any]:
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
        customer_id = shopify_id(customer.get("id")) or gid_tail(customer.get("admin_graphql_api_id"), "Customer")
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
