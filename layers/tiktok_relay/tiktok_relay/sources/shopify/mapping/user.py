"""The `user` block: every customer identifier a Shopify payload carries, hashed or checked for
clear text, each field read on its own (a bad one is named in a warning and left out)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, NamedTuple
from urllib.parse import parse_qsl

from tiktok_relay.sources.common.privacy import KEPT_QUERY_PARAMETERS, attempt, click_id, url_has_email
from tiktok_relay.sources.common.values import as_text, object_field
from tiktok_relay.sources.shopify.mapping.values import gid_tail, shopify_id
from tiktok_relay.sources.shopify.settings import ShopifySettings
from tiktok_relay.tiktok import normalize, phones
from tiktok_relay.tiktok.cleartext import has_email

MAX_USER_AGENT = 512
MAX_PLACE = 100  # city / state, before normalization
# Where storefronts store TikTok's click id and cookie as cart attributes, in order of preference.
_TTCLID_NAMES = ("ttclid", "_ttclid")
_TTP_NAMES = ("_ttp", "ttp", "__ttp")
_ATTRIBUTE_NAMES = frozenset(_TTCLID_NAMES + _TTP_NAMES)
_NAME_FIELDS = ("first_name", "last_name")
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


def _hashed(hasher: Callable[[object], str | None], value: Any, path: str, warnings: list[str]) -> str | None:
    """hasher(value) for a string or int (the forms identifiers come in); None when `value` is
    absent or unusable (a warning names `path`)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        warnings.append(f"{path} ignored: not a string")
        return None
    return attempt(hasher, path, warnings, value)


def _emails(kind: str, payload: Mapping[str, Any], customer: Mapping[str, Any] | None,
            warnings: list[str]) -> list[str]:
    """Every distinct address, hashed: email, then (except on customers/*, where the payload is
    the customer) contact_email and customer.email."""
    sources = [("email", payload.get("email"))]
    if kind != "customer":
        sources.append(("contact_email", payload.get("contact_email")))
        if customer:
            sources.append(("customer.email", customer.get("email")))
    emails: dict[str, None] = {}
    tried: set[str] = set()
    for path, value in sources:
        if isinstance(value, str):
            key = value.strip().lower()  # what hash_email hashes: the same address in other case
            if key in tried:
                continue
            tried.add(key)
        digest = _hashed(normalize.hash_email, value, path, warnings)
        if digest is not None:
            emails[digest] = None
    return list(emails)


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
    return _hash_phones(candidates, warnings)


def _region(address: Mapping[str, Any]) -> str | None:
    return phones.normalize_region(address.get("country_code"))


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
            if digest := normalize.prehashed(text):
                hashes[digest] = None
            continue
        if phones.without_separators(text) in seen:
            continue  # '+' and the same digits as a number already hashed
        e164 = attempt(phones.normalize_phone, path, warnings, text, region)
        if e164 is not None and e164 not in seen:
            seen.add(e164)
            hashes[normalize.phone_digest(e164)] = None
    return list(hashes)


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
        if _has_any(names, _NAME_FIELDS) or _has_any(place, _PLACE_FIELDS):
            _add_names(user, names, names_prefix, warnings)
            _add_place(user, place, place_path, warnings)
            return


def _has_any(obj: Mapping[str, Any] | None, keys: tuple[str, ...]) -> bool:
    if not obj:
        return False
    for key in keys:
        value = obj.get(key)
        if (isinstance(value, str) and value.strip()) or (isinstance(value, int) and not isinstance(value, bool)):
            return True
    return False


def _add_names(user: dict[str, Any], names: Mapping[str, Any] | None, prefix: str, warnings: list[str]) -> None:
    """Adds first_name and last_name of `names`, hashed."""
    if not names:
        return
    for key in _NAME_FIELDS:
        digest = _hashed(normalize.hash_name, names.get(key), f"{prefix}{key}", warnings)
        if digest is not None:
            user[key] = digest


def _add_place(user: dict[str, Any], place: Mapping[str, Any] | None, path: str, warnings: list[str]) -> None:
    """Adds zip_code (hashed: a US ZIP+4 as its first five digits), city, state (province_code,
    else province) and country of an address."""
    if not place:
        return
    for key, fields in (("city", ("city",)), ("state", ("province_code", "province"))):
        name = _place_name(place, fields, path, warnings)
        if name:
            user[key] = name
    country = _country(place.get("country_code"), f"{path}.country_code", warnings)
    if country:
        user["country"] = country
    zip_code = _hashed(lambda v: normalize.hash_zip(v, country), place.get("zip"), f"{path}.zip", warnings)
    if zip_code is not None:
        user["zip_code"] = zip_code


def _place_name(place: Mapping[str, Any], fields: tuple[str, ...], path: str, warnings: list[str]) -> str | None:
    """The first of `fields` that normalizes to something (sent in clear: letters and digits only)."""
    for name in fields:
        value = place.get(name)
        if value is None:
            continue
        text, _ = as_text(value, MAX_PLACE)
        if text is None:
            if not isinstance(value, str):
                warnings.append(f"{path}.{name} ignored: not a string")
            continue
        normalized = normalize.normalize_place(text)
        if normalized:
            return normalized
    return None


def _country(value: Any, path: str, warnings: list[str]) -> str | None:
    """An ISO 3166-1 alpha-2 country code, lowercased."""
    if value is None:
        return None
    code = value.strip() if isinstance(value, str) else ""
    if len(code) == 2 and code.isascii() and code.isalpha():
        try:
            return normalize.normalize_country(code)
        except ValueError:
            pass
    warnings.append(f"{path} ignored: not an ISO 3166-1 two-letter country code")
    return None


def _add_browser(user: dict[str, Any], payload: Mapping[str, Any], warnings: list[str]) -> None:
    """Adds ip, user_agent and locale: what the customer's browser told the shop (orders carry it)."""
    client = object_field(payload, "client_details", "client_details", warnings)
    ip = _browser_ip(payload, client, warnings)
    if ip:
        user["ip"] = ip
    user_agent = _user_agent(client, warnings)
    if user_agent:
        user["user_agent"] = user_agent
    _add_locale(user, payload, warnings)


def _add_locale(user: dict[str, Any], payload: Mapping[str, Any], warnings: list[str]) -> None:
    locale = _locale(payload, warnings)
    if locale:
        user["locale"] = locale


def _browser_ip(payload: Mapping[str, Any], client: Mapping[str, Any] | None, warnings: list[str]) -> str | None:
    """browser_ip, else client_details.browser_ip, in canonical form, if it is a public address
    (a private, loopback or documentation address is nobody's public address: dropped, named)."""
    for path, value in (("browser_ip", payload.get("browser_ip")),
                        ("client_details.browser_ip", client.get("browser_ip") if client else None)):
        if value is None:
            continue
        if not isinstance(value, str):
            warnings.append(f"{path} ignored: not a string")
            continue
        try:
            ip = normalize.public_ip(value)
        except ValueError as exc:
            warnings.append(f"{path} dropped: {exc}")
            continue
        if ip:
            return ip
    return None


def _user_agent(client: Mapping[str, Any] | None, warnings: list[str]) -> str | None:
    """client_details.user_agent, bounded; dropped if it carries an email address (sent in clear)."""
    if not client:
        return None
    raw = client.get("user_agent")
    user_agent, cut = as_text(raw, MAX_USER_AGENT)
    if user_agent and has_email(user_agent):
        warnings.append("client_details.user_agent dropped: it contains what looks like an email address")
        return None
    if user_agent:
        if cut:
            warnings.append(f"client_details.user_agent truncated to {MAX_USER_AGENT} characters")
        return user_agent
    if raw is not None and not isinstance(raw, str):
        warnings.append("client_details.user_agent ignored: not a string")
    return None


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
    attributes = _note_attributes(payload.get("note_attributes"), "note_attributes", warnings)
    line_attributes = _line_item_attributes(payload, warnings)
    ttclid = (_stored_click_id(attributes, _TTCLID_NAMES, "note_attributes", warnings)
              or _stored_click_id(line_attributes, _TTCLID_NAMES, "line_items[].properties", warnings))
    if ttclid is None:
        ttclid = click_id(_landing_ttclid(payload.get("landing_site")), "landing_site ttclid", warnings)
    if ttclid:
        user["ttclid"] = ttclid
    ttp = (_stored_click_id(attributes, _TTP_NAMES, "note_attributes", warnings)
           or _stored_click_id(line_attributes, _TTP_NAMES, "line_items[].properties", warnings))
    if ttp:
        user["ttp"] = ttp


def _stored_click_id(attributes: Mapping[str, Any], names: tuple[str, ...], where: str,
                     warnings: list[str]) -> str | None:
    """The first usable value among the attributes `names` (found in `where`)."""
    for name in names:
        if name in attributes:
            value = click_id(attributes[name], f"{where}.{name}", warnings)
            if value:
                return value
    return None


def _line_item_attributes(payload: Mapping[str, Any], warnings: list[str]) -> dict[str, Any]:
    """The click id attributes among the line items' properties; the first line's of each counts."""
    lines = payload.get("line_items")
    found: dict[str, Any] = {}
    if not isinstance(lines, list):
        return found
    for line in lines:
        if isinstance(line, dict) and line.get("properties"):
            for name, value in _note_attributes(line["properties"], "line_items[].properties", warnings).items():
                found.setdefault(name, value)
    return found


def _note_attributes(raw: Any, path: str, warnings: list[str]) -> dict[str, Any]:
    """The click id attributes among `raw` ([{name, value}] or {name: value}), by lowercased name;
    the first of each counts."""
    found: dict[str, Any] = {}
    if raw is None:
        return found
    pairs: Iterable[tuple[Any, Any]]
    if isinstance(raw, list):
        pairs = ((item.get("name"), item.get("value")) for item in raw if isinstance(item, dict))
    elif isinstance(raw, dict):  # {name: value} instead of [{name, value}]
        pairs = raw.items()
    else:
        warnings.append(f"{path} ignored: not a list")
        return found
    for name, value in pairs:
        if isinstance(name, str):
            key = name.strip().lower()
            if key in _ATTRIBUTE_NAMES and key not in found:
                found[key] = value
    return found


def _landing_ttclid(landing: Any) -> Any:
    """The ttclid query parameter of landing_site, if any."""
    if not isinstance(landing, str) or "ttclid" not in landing:
        return None
    if url_has_email(landing, keep=KEPT_QUERY_PARAMETERS):  # a split address's local part (&#64;)
        return None
    query = landing.partition("?")[2].partition("#")[0]
    try:
        for name, value in parse_qsl(query, max_num_fields=1000):
            if name == "ttclid" and value.strip():
                return value
    except ValueError:
        return None
    return None
