"""The `user` block of a WooCommerce order: the billing and shipping contacts, the customer's
account, the browser that placed the order and the click ids the storefront saved, each field
read on its own (a bad one is named in a warning and left out)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tiktok_relay.sources.common.customer import (
    NAME_FIELDS,
    PlaceFields,
    add_names,
    add_place,
    has_any,
    hash_emails,
    hash_phones,
    public_ip,
    user_agent,
)
from tiktok_relay.sources.common.values import as_id, object_field
from tiktok_relay.sources.woocommerce.mapping.meta import USER_AGENT_KEY, click_ids
from tiktok_relay.sources.woocommerce.settings import WooCommerceSettings
from tiktok_relay.tiktok import normalize, phones

# WooCommerce's address fields (the REST API's billing and shipping objects).
_PLACE = PlaceFields(zip="postcode", city="city", state=("state",), country="country")
_PLACE_FIELDS = ("postcode", "city", "state", "country")


def user_block(payload: Mapping[str, Any], meta: Mapping[str, Any], settings: WooCommerceSettings,
               warnings: list[str], *, browser: bool = True) -> dict[str, Any]:
    """The user block; fields with nothing usable are left out. `browser` False (an order staff
    made in the admin): no ip or user agent, which would be the staff member's."""
    billing = object_field(payload, "billing", "billing", warnings)
    shipping = object_field(payload, "shipping", "shipping", warnings)
    user: dict[str, Any] = {}
    emails = hash_emails([("billing.email", billing.get("email") if billing else None)], warnings)
    if emails:
        user["email"] = emails
    numbers = _phones(billing, shipping, settings, warnings)
    if numbers:
        user["phone"] = numbers
    customer = as_id(payload.get("customer_id"))  # 0: a guest
    if customer:
        user["external_id"] = [normalize.hash_external_id(customer)]
    _add_names_and_place(user, billing, shipping, warnings)
    if browser:
        _add_browser(user, payload, meta, warnings)
    ttclid, ttp = click_ids(meta, warnings)
    if ttclid:
        user["ttclid"] = ttclid
    if ttp:
        user["ttp"] = ttp
    return user


def _phones(billing: Mapping[str, Any] | None, shipping: Mapping[str, Any] | None, settings: WooCommerceSettings,
            warnings: list[str]) -> list[str]:
    """The billing phone, parsed with the billing country as region, and the shipping phone
    (WooCommerce 5.6+) with the shipping country; else TIKTOK_PHONE_REGION."""
    fallback = phones.normalize_region(settings.phone_region)
    candidates: list[tuple[str, Any, str | None]] = []
    for path, address in (("billing", billing), ("shipping", shipping)):
        if address:
            region = phones.normalize_region(address.get("country")) or fallback
            candidates.append((f"{path}.phone", address.get("phone"), region))
    return hash_phones(candidates, warnings)


def _add_names_and_place(user: dict[str, Any], billing: Mapping[str, Any] | None,
                         shipping: Mapping[str, Any] | None, warnings: list[str]) -> None:
    """first_name, last_name, zip_code (hashed), city, state and country, all from one address:
    billing, else shipping (an order of downloads only may have an empty shipping address)."""
    for path, address in (("billing", billing), ("shipping", shipping)):
        if has_any(address, NAME_FIELDS) or has_any(address, _PLACE_FIELDS):
            add_names(user, address, f"{path}.", warnings)
            add_place(user, address, path, _PLACE, warnings)
            return


def _add_browser(user: dict[str, Any], payload: Mapping[str, Any], meta: Mapping[str, Any],
                 warnings: list[str]) -> None:
    """ip and user_agent of the browser that placed the order (core checkout and the Store API
    record them; REST and admin orders leave them empty); the order attribution's user agent
    when the order has none."""
    ip = public_ip((("customer_ip_address", payload.get("customer_ip_address")),), warnings)
    if ip:
        user["ip"] = ip
    agent = (user_agent(payload.get("customer_user_agent"), "customer_user_agent", warnings)
             or user_agent(meta.get(USER_AGENT_KEY), f"meta_data.{USER_AGENT_KEY}", warnings))
    if agent:
        user["user_agent"] = agent
