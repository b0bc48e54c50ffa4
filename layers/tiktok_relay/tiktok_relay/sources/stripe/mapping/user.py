"""The `user` block of a Stripe payment: the buyer's contact details Stripe collected, the
customer id, and what the merchant's checkout put in the metadata (ttclid, ttp, ip, user_agent),
each field read on its own (a bad one is named in a warning and left out).

    Checkout Session   customer_details (email, phone, name, address), customer_email,
                       the shipping details (collected_information.shipping_details, else
                       shipping_details, else shipping, by API version), customer, metadata
    PaymentIntent      receipt_email, shipping, the charge's billing_details (latest_charge when
                       expanded, else charges.data[0] of older API versions), customer, metadata
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from tiktok_relay.sources.common.customer import (
    CLICK_ID_NAMES,
    TTCLID_NAMES,
    TTP_NAMES,
    PlaceFields,
    add_place,
    has_any,
    hash_emails,
    hash_phones,
    hashed,
    public_ip,
    stored_click_id,
    user_agent,
)
from tiktok_relay.sources.common.values import as_text, object_field
from tiktok_relay.sources.stripe.mapping.objects import ref_id
from tiktok_relay.sources.stripe.settings import StripeSettings
from tiktok_relay.tiktok import normalize, phones

# Stripe's address object.
_PLACE = PlaceFields(zip="postal_code", city="city", state=("state",), country="country")
_PLACE_FIELDS = ("postal_code", "city", "state", "country")
# Metadata keys a merchant's checkout may set for the browser (README "Stripe: what the checkout adds").
IP_KEYS = ("ip", "client_ip")
USER_AGENT_KEYS = ("user_agent",)
MAX_NAME = 200


def user_block(obj: Mapping[str, Any], kind: str, meta: Mapping[str, Any], settings: StripeSettings,
               warnings: list[str]) -> dict[str, Any]:
    """The user block of a "session" or "payment_intent" object; fields with nothing usable are left out."""
    contacts = _contacts(obj, kind, warnings)  # (path, {email, phone, name, address}) in order of preference
    user: dict[str, Any] = {}
    extra_emails = [("customer_email", obj.get("customer_email"))] if kind == "session" else \
        [("receipt_email", obj.get("receipt_email"))]
    emails = hash_emails([(f"{path}.email", contact.get("email")) for path, contact in contacts] + extra_emails,
                         warnings)
    if emails:
        user["email"] = emails
    numbers = hash_phones(_phone_candidates(contacts, settings, warnings), warnings)
    if numbers:
        user["phone"] = numbers
    customer = ref_id(obj.get("customer"))
    if customer:
        user["external_id"] = [normalize.hash_external_id(customer)]
    _add_name(user, contacts, warnings)
    for path, contact in contacts:
        address = object_field(contact, "address", f"{path}.address", warnings)
        if has_any(address, _PLACE_FIELDS):
            add_place(user, address, f"{path}.address", _PLACE, warnings)
            break
    _add_metadata_ids(user, meta, warnings)
    return user


def _contacts(obj: Mapping[str, Any], kind: str, warnings: list[str]) -> list[tuple[str, Mapping[str, Any]]]:
    """The objects holding the buyer's contact details, as (path, object), in order of preference."""
    paths: tuple[tuple[str, Any], ...]
    if kind == "session":
        collected = object_field(obj, "collected_information", "collected_information", warnings)
        paths = (("customer_details", obj.get("customer_details")),
                 ("collected_information.shipping_details",
                  collected.get("shipping_details") if collected else None),
                 ("shipping_details", obj.get("shipping_details")), ("shipping", obj.get("shipping")))
    else:
        paths = (("shipping", obj.get("shipping")),
                 ("latest_charge.billing_details", _billing(obj.get("latest_charge"))),
                 ("charges.data[0].billing_details", _billing(_first_charge(obj.get("charges")))))
    found: list[tuple[str, Mapping[str, Any]]] = []
    for path, contact in paths:
        if isinstance(contact, dict):
            found.append((path, contact))
        elif contact is not None:
            warnings.append(f"{path} ignored: not an object")
    return found


def _billing(charge: Any) -> Any:
    return charge.get("billing_details") if isinstance(charge, dict) else None


def _first_charge(charges: Any) -> Any:
    data = charges.get("data") if isinstance(charges, dict) else None
    return data[0] if isinstance(data, list) and data else None


def _phone_candidates(contacts: list[tuple[str, Mapping[str, Any]]], settings: StripeSettings,
                      warnings: list[str]) -> list[tuple[str, Any, str | None]]:
    """Each contact's phone, parsed with its address's country as region, else the first
    address country, else TIKTOK_PHONE_REGION."""
    regions = [phones.normalize_region(address.get("country")) if isinstance(address := contact.get("address"), dict)
               else None for _, contact in contacts]
    fallback = next((region for region in regions if region), None) or phones.normalize_region(settings.phone_region)
    return [(f"{path}.phone", contact.get("phone"), region or fallback)
            for (path, contact), region in zip(contacts, regions, strict=True)]


def _add_name(user: dict[str, Any], contacts: list[tuple[str, Mapping[str, Any]]], warnings: list[str]) -> None:
    """first_name and last_name, hashed, from the first contact with a name. Stripe keeps one
    `name`: its first word is taken as the first name and its last word as the last name (an
    assumption; a one-word name gives a first name only)."""
    for path, contact in contacts:
        raw = contact.get("name")
        text, _ = as_text(raw, MAX_NAME)
        if text is None:
            if raw is not None and not isinstance(raw, str):
                warnings.append(f"{path}.name ignored: not a string")
            continue
        words = text.split()
        first = hashed(normalize.hash_name, words[0], f"{path}.name", warnings)
        last = hashed(normalize.hash_name, words[-1], f"{path}.name", warnings) if len(words) > 1 else None
        if first:
            user["first_name"] = first
        if last:
            user["last_name"] = last
        if first or last:
            return


def _add_metadata_ids(user: dict[str, Any], meta: Mapping[str, Any], warnings: list[str]) -> None:
    """ttclid, ttp, ip and user_agent as the merchant's checkout stored them in the metadata."""
    clicks = {key: value for key, value in meta.items() if key in CLICK_ID_NAMES}
    ttclid = stored_click_id(clicks, TTCLID_NAMES, "metadata", warnings)
    if ttclid:
        user["ttclid"] = ttclid
    ttp = stored_click_id(clicks, TTP_NAMES, "metadata", warnings)
    if ttp:
        user["ttp"] = ttp
    ip = public_ip(_present(meta, IP_KEYS), warnings)
    if ip:
        user["ip"] = ip
    agent = next((found for path, value in _present(meta, USER_AGENT_KEYS)
                  if (found := user_agent(value, path, warnings))), None)
    if agent:
        user["user_agent"] = agent


def _present(meta: Mapping[str, Any], keys: Iterable[str]) -> list[tuple[str, Any]]:
    return [(f"metadata.{key}", meta[key]) for key in keys if key in meta]
