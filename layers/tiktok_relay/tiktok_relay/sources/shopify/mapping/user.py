"""The `user` block: every customer identifier a Shopify payload carries, hashed or checked for
clear text, each field read on its own (a bad one is named in a warning and left out)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, NamedTuple

from tiktok_relay.sources.common.customer import (
    TTCLID_NAMES,
    TTP_NAMES,
    PlaceFields,
    add_names,
    add_place,
    has_any,
    hash_emails,
    hash_phones,
    named_values,
    public_ip,
    stored_click_id,
    user_agent,
)
from tiktok_relay.sources.common.pages import url_ttclid
from tiktok_relay.sources.common.privacy import click_id
from tiktok_relay.sources.common.values import object_field
from tiktok_relay.sources.shopify.mapping.values import gid_tail, shopify_id
from tiktok_relay.sources.shopify.settings import ShopifySettings
from tiktok_relay.tiktok import normalize, phones

_NAME_FIELDS = ("first_name", "last_name")
_PLACE = PlaceFields(zip="zip", city="city", state=("province_code", "province"), country="country_code")
_PLACE_FIELDS = ("zip", "city", "province_code", "province", "country_code")
_LOCALE = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8}){0,4}", re.ASCII)


class _Parties(NamedTuple):
    """The records of a payload that describe the customer (None where absent or not objects)."""

    customer: Mapping[str, Any] | None
    billing: Mapping[str, Any] | None
    shipping: Mapping[str, Any] | None
    default_address: Mapping[str, Any] | None
    customer_path: str  # how warnings name the customer's fields: "" on customers/*, else "customer."


def user_block(kind: str, payload: Mapping[str, Any], settings: ShopifySettings,
               warnings: list[str], *, browser: bool = True) -> dict[str, Any]:
    """The user block of the event for a `kind` payload; fields with nothing usable are left out.
    `browser` False (offline events): no ip or user agent, which would be a shop device's."""
    parties = _parties(kind, payload, warnings)
    user: dict[str, Any] = {}
    emails = _emails(kind, payload, parties.customer, warnings)
    if emails:
        user["email"] = emails
    phone_hashes = _phones(kind, payload, parties, settings, warnings)
    if phone_hashes:
        user["phone"] = phone_hashes
    external_id = _external_id(parties, warnings)
    if external_id:
        user["external_id"] = [external_id]
    _add_names_and_place(user, kind, parties, warnings)
    if browser:
        _add_browser(user, payload, warnings)
    else:
        _add_locale(user, payload, warnings)
    _add_click_ids(user, payload, warnings)
    return user


def _parties(kind: str, payload: Mapping[str, Any], warnings: list[str]) -> _Parties:
    """customers/*: the payload itself and its default_address. Else: customer, billing_address,
    shipping_address and customer.default_address."""
    if kind == "customer":
        default_address = object_field(payload, "default_address", "default_address", warnings)
        return _Parties(payload, None, None, default_address, "")
    customer = object_field(payload, "customer", "customer", warnings)
    billing = object_field(payload, "billing_address", "billing_address", warnings)
    shipping = object_field(payload, "shipping_address", "shipping_address", warnings)
    default_address = (
        object_field(customer, "default_address", "customer.default_address", warnings) if customer else None
    )
    return _Parties(customer, billing, shipping, default_address, "customer.")


def _emails(kind: str, payload: Mapping[str, Any], customer: Mapping[str, Any] | None,
            warnings: list[str]) -> list[str]:
    """Every distinct address, hashed: email, then (except on customers/*, where the payload is
    the customer) contact_email and customer.email."""
    sources = [("email", payload.get("email"))]
    if kind != "customer":
        sources.append(("contact_email", payload.get("contact_email")))
        if customer:
            sources.append(("customer.email", customer.get("email")))
    return hash_emails(sources, warnings)


def _phones(kind: str, payload: Mapping[str, Any], parties: _Parties, settings: ShopifySettings,
            warnings: list[str]) -> list[str]:
    """Every distinct number, hashed: phone (not on customers/*), the customer's phone, and the
    phone of the billing, shipping and default address. An address's number is parsed with that
    address's country as region; the others with the first address country, else
    TIKTOK_PHONE_REGION."""
    addresses = [(path, address, _region(address)) for path, address in (
        ("billing_address", parties.billing), ("shipping_address", parties.shipping),
        (f"{parties.customer_path}default_address", parties.default_address)) if address]
    fallback_region = next((region for _, _, region in addresses if region), None) or phones.normalize_region(
        settings.phone_region)
    candidates: list[tuple[str, Any, str | None]] = []
    if kind != "customer":
        candidates.append(("phone", payload.get("phone"), fallback_region))
    if parties.customer:
        candidates.append((f"{parties.customer_path}phone", parties.customer.get("phone"), fallback_region))
    for path, address, region in addresses:
        candidates.append((f"{path}.phone", address.get("phone"), region or fallback_region))
    return hash_phones(candidates, warnings)


def _region(address: Mapping[str, Any]) -> str | None:
    return phones.normalize_region(address.get("country_code"))


def _external_id(parties: _Parties, warnings: list[str]) -> str | None:
    """The Shopify customer id (id, else the numeric tail of admin_graphql_api_id), hashed."""
    customer = parties.customer
    if not customer:
        return None
    customer_id = shopify_id(customer.get("id")) or gid_tail(customer.get("admin_graphql_api_id"), "Customer")
    if customer_id:
        return normalize.hash_external_id(customer_id)
    if customer.get("id") is not None:
        warnings.append(f"{parties.customer_path}id ignored: not a numeric id")
    return None


def _add_names_and_place(user: dict[str, Any], kind: str, parties: _Parties, warnings: list[str]) -> None:
    """Adds first_name, last_name, zip_code (hashed), city, state and country, all from one source:
    the first of billing address, shipping address and customer (with its default address for
    the place) that has any of them. On customers/*: the customer and its default address."""
    if kind == "customer":
        sources: tuple[tuple[str, Mapping[str, Any] | None, Mapping[str, Any] | None, str], ...] = (
            ("", parties.customer, parties.default_address, "default_address"),)
    else:
        sources = (("billing_address.", parties.billing, parties.billing, "billing_address"),
                   ("shipping_address.", parties.shipping, parties.shipping, "shipping_address"),
                   ("customer.", parties.customer, parties.default_address, "customer.default_address"))
    for names_prefix, names, place, place_path in sources:
        if has_any(names, _NAME_FIELDS) or has_any(place, _PLACE_FIELDS):
            add_names(user, names, names_prefix, warnings)
            add_place(user, place, place_path, _PLACE, warnings)
            return


def _add_browser(user: dict[str, Any], payload: Mapping[str, Any], warnings: list[str]) -> None:
    """Adds ip, user_agent and locale: what the customer's browser told the shop (orders carry it).
    The IP is browser_ip, else client_details.browser_ip, if it is a public address."""
    client = object_field(payload, "client_details", "client_details", warnings)
    ip = public_ip((("browser_ip", payload.get("browser_ip")),
                    ("client_details.browser_ip", client.get("browser_ip") if client else None)), warnings)
    if ip:
        user["ip"] = ip
    agent = user_agent(client.get("user_agent"), "client_details.user_agent", warnings) if client else None
    if agent:
        user["user_agent"] = agent
    _add_locale(user, payload, warnings)


def _add_locale(user: dict[str, Any], payload: Mapping[str, Any], warnings: list[str]) -> None:
    locale = _locale(payload, warnings)
    if locale:
        user["locale"] = locale


def _locale(payload: Mapping[str, Any], warnings: list[str]) -> str | None:
    """customer_locale, when it is a language tag ('en', 'pt-BR')."""
    locale = payload.get("customer_locale")
    if locale is None:
        return None
    text = locale.strip() if isinstance(locale, str) else None
    if text and _LOCALE.fullmatch(text):
        return text
    if text != "":
        warnings.append("customer_locale ignored: not a language tag")
    return None


def _add_click_ids(user: dict[str, Any], payload: Mapping[str, Any], warnings: list[str]) -> None:
    """Adds ttclid and ttp, as the storefront stored them: in the cart attributes (note_attributes),
    else in a line item's properties (where some checkouts put cart attributes); a ttclid also
    from the landing page's query when none was stored."""
    attributes = named_values(payload.get("note_attributes"), "note_attributes", warnings)
    line_attributes = _line_item_attributes(payload, warnings)
    ttclid = (stored_click_id(attributes, TTCLID_NAMES, "note_attributes", warnings)
              or stored_click_id(line_attributes, TTCLID_NAMES, "line_items[].properties", warnings))
    if ttclid is None:
        ttclid = click_id(url_ttclid(payload.get("landing_site")), "landing_site ttclid", warnings)
    if ttclid:
        user["ttclid"] = ttclid
    ttp = (stored_click_id(attributes, TTP_NAMES, "note_attributes", warnings)
           or stored_click_id(line_attributes, TTP_NAMES, "line_items[].properties", warnings))
    if ttp:
        user["ttp"] = ttp


def _line_item_attributes(payload: Mapping[str, Any], warnings: list[str]) -> dict[str, Any]:
    """The click id attributes among the line items' properties; the first line's of each counts."""
    lines = payload.get("line_items")
    found: dict[str, Any] = {}
    if not isinstance(lines, list):
        return found
    for line in lines:
        if isinstance(line, dict) and line.get("properties"):
            for name, value in named_values(line["properties"], "line_items[].properties", warnings).items():
                found.setdefault(name, value)
    return found
