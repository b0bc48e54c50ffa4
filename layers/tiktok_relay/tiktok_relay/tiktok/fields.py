"""What each field of an Events API 2.0 event accepts, as plain functions: no pydantic here.

The models (tiktok/models.py) validate with these rules, and so does the fast path that builds
wire JSON without them (tiktok/encode.py): one definition of each rule for both. The names and
limits the mappings need (event sources, the deprecated events, MAX_COUNT...) live here too, so
that a mapping imports no pydantic (tiktok/models.py re-exports them). Each function
takes a raw value and returns its normalized form or raises ValueError with a message that
names the problem, never the value.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Container, Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any, Literal

from tiktok_relay.errors import DeprecatedEventWarning
from tiktok_relay.tiktok import phones
from tiktok_relay.tiktok.currencies import ACCEPTED_CURRENCIES

MAX_EVENTS_PER_REQUEST = 1000
# TikTok documents no maximum for counts and amounts. Assumed: counts (quantity, num_items) are
# 32-bit signed integers, as in most ads back ends; amounts (value, price) stay below 10^15, where
# a double still holds whole units exactly (2^53 is about 9 x 10^15). Beyond them an event is
# refused by the models (a mapping drops or clamps the field and says so): a number no back end
# reads correctly, or none json.dumps can write (a sum of two 4,300-digit quantities), never a 5xx.
MAX_COUNT = 2**31 - 1
MAX_AMOUNT = 1e15

STANDARD_EVENTS = frozenset(
    {
        "AddPaymentInfo", "AddToCart", "AddToWishlist", "ApplicationApproval",
        "CompleteRegistration", "Contact", "CustomizeProduct", "Download", "FindLocation",
        "InitiateCheckout", "Lead", "Purchase", "Schedule", "Search", "StartTrial",
        "SubmitApplication", "Subscribe", "ViewContent",
    }
)
# Names TikTok renamed or soft-deprecated in 2025 but still accepts (converted on its side).
LEGACY_EVENTS = frozenset({"CompletePayment", "PlaceAnOrder", "SubmitForm", "ClickButton"})
# Of those, the soft-deprecated ones (TikTok's standard events update, effective 2025-05-01): out
# of the docs, working until their sunset in 2027, their history not carried over. Accepted with
# a DeprecatedEventWarning.
DEPRECATED_EVENTS: Mapping[str, str] = MappingProxyType({
    "PlaceAnOrder": "Purchase", "ClickButton": "a custom event or Contact"})
_KNOWN_BY_LOWER = {name.lower(): name for name in STANDARD_EVENTS | LEGACY_EVENTS}

EventSource = Literal["web", "app", "offline", "crm"]
EVENT_SOURCES: tuple[EventSource, ...] = ("web", "app", "offline", "crm")
# A request's envelope (what its events share), in wire order: models.Envelope's fields.
ENVELOPE_FIELDS = ("event_source", "event_source_id", "test_event_code", "partner_name")
CONTENT_TYPES = ("product", "product_group")
DELIVERY_CATEGORIES = ("in_store", "curbside", "home_delivery")
ATT_STATUSES = ("AUTHORIZED", "DENIED", "NOT_DETERMINED", "RESTRICTED", "NOT_APPLICABLE")

# Unix seconds before 2001-09-09 or after 2286 are almost surely a unit mistake.
_MIN_EPOCH, _MAX_EPOCH = 1_000_000_000, 9_999_999_999

# What a custom parameter (a key of properties or of a contents item that the schema does not
# name) may hold: what TikTok's own integrations send (GTM: gtm_version, event_trigger_source and
# user-defined properties; its WooCommerce plugin: description, availability, sale_price, on_sale).
CUSTOM_VALUE_TYPES = "a string, a number, a boolean, or a flat list of those"


def str_id(value: Any) -> Any:
    """Ids are strings on the wire; numbers (even beyond 2^53, given as int) become exact strings."""
    if isinstance(value, str):  # the usual case first (a str is neither a bool nor an int)
        return value.strip() or None
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return str(value)
    return value


def money(value: Any) -> Any:
    """Money and quantities are numbers on the wire; decimal strings are accepted as input."""
    if type(value) is float and math.isfinite(value):  # the usual case, decided at once
        return value
    if isinstance(value, bool):  # pydantic's lax mode would turn true into 1.0
        raise ValueError("must be a number, not a boolean")
    if isinstance(value, str):
        text = value.strip()
        try:
            value = float(text)
        except ValueError:
            raise ValueError("must be a number") from None
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("must be a finite number")
    return value


def not_bool(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("must be a whole number, not a boolean")
    return value


def quantity(value: Any) -> Any:
    """A number of items, whole or not ('2', 2, 1.5): TikTok types quantity as a number."""
    if type(value) is int and value >= 0:  # the usual case, decided at once
        return value
    if isinstance(value, str):
        text = value.strip()
        try:
            value = int(text) if text.isdecimal() else float(text)
        except ValueError:
            raise ValueError("must be a number") from None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError("must be a number")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("must be a finite number")
    if value < 0:
        raise ValueError("must not be negative")
    return value


def custom_scalar(value: Any) -> Any:
    """A custom parameter's value, or an item of its list. Text that hides an email address or is
    written like a phone number is refused (tiktok/cleartext.py, imported on first use: html and
    urllib.parse take ~3 ms to import)."""
    if isinstance(value, str):
        if _looks_personal(value):
            raise ValueError("looks like an email address or a phone number, which a custom parameter would send "
                             "in clear; hash it into user.email or user.phone instead")
        return value
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("must be a finite number")
    if isinstance(value, (bool, int, float)):
        return value
    raise ValueError(f"a custom parameter must be {CUSTOM_VALUE_TYPES}")


def custom_value(value: Any) -> Any:
    """A custom parameter's value, passed through unchanged once checked."""
    if isinstance(value, list):
        for item in value:
            if isinstance(item, (list, dict)):
                raise ValueError(f"a custom parameter must be {CUSTOM_VALUE_TYPES}")
            custom_scalar(item)
        return value
    return custom_scalar(value)


def custom_names(data: Any, known: Container[str]) -> Any:
    """A custom parameter's name (a key of `data` that is none of the `known` field names) is sent
    in clear too: it must not be an email or a phone."""
    if isinstance(data, dict):
        for key in data:
            if key not in known and isinstance(key, str) and _looks_personal(key):
                raise ValueError("a custom parameter's name looks like an email address or a phone number")
    return data


def _looks_personal(text: str) -> bool:
    from tiktok_relay.tiktok.cleartext import has_email, looks_like_phone

    return has_email(text) or looks_like_phone(text)


def one_or_many(value: Any) -> Any:
    """content_ids as one id or a list: one becomes a list of one (TikTok documents an array)."""
    return [value] if isinstance(value, (str, int)) and not isinstance(value, bool) else value


def currency(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    code = value.strip().upper() or None
    if code is not None and code not in ACCEPTED_CURRENCIES:
        raise ValueError("not a currency TikTok accepts (tiktok_relay.tiktok.currencies)")
    return code


def phone_region(value: Any) -> Any:
    """The input-only hint for national phone numbers: a known ISO alpha-2 region, uppercased."""
    if value is None or value == "":
        return None
    region = phones.normalize_region(value)
    if region is None:
        raise ValueError("not a known ISO 3166-1 alpha-2 region code")
    return region


def region_for_phones(*hints: object) -> str | None:
    """The first of `hints` (phone_region, then the user's country, then the caller's default)
    that is a known region."""
    for hint in hints:
        if hint is not None and (region := phones.normalize_region(hint)):
            return region
    return None


def unix_seconds(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("must be unix seconds, a datetime or an ISO 8601 string")
    if isinstance(value, str):
        text = value.strip()
        if text.isdecimal():  # not isdigit(): int() refuses digits like '²' with a message echoing them
            value = int(text)
        else:
            try:
                value = datetime.fromisoformat(text.replace("Z", "+00:00"))
            except ValueError:
                raise ValueError("must be unix seconds or an ISO 8601 date-time") from None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("date-time has no timezone; add one (e.g. +00:00) or give unix seconds")
        try:
            value = int(value.timestamp())  # then range-checked below like any unix time
        except (OverflowError, OSError, ValueError):
            raise ValueError("is not a plausible unix time in seconds") from None
    if isinstance(value, float) and math.isfinite(value):
        value = int(value)
    if isinstance(value, int):
        if value > _MAX_EPOCH * 100:
            raise ValueError("looks like milliseconds; give unix seconds")
        if not _MIN_EPOCH <= value <= _MAX_EPOCH:
            raise ValueError("is not a plausible unix time in seconds")
    return value


def event_name(value: Any) -> Any:
    """A standard event's exact name or a custom one (trimmed); a standard name in the wrong case
    is refused. See warn_if_deprecated for the soft-deprecated names."""
    if not isinstance(value, str):
        return value
    name = value.strip()
    if not name:
        raise ValueError("event name is empty")
    known = _KNOWN_BY_LOWER.get(name.lower())
    if known and known != name:
        raise ValueError(f"event names are case-sensitive: use {known!r}")
    return name


def warn_if_deprecated(name: Any, stacklevel: int = 3) -> None:
    """A DeprecatedEventWarning for an event accepted under a soft-deprecated name."""
    if isinstance(name, str) and name in DEPRECATED_EVENTS:
        warnings.warn(DeprecatedEventWarning(deprecation_notice(name)), stacklevel=stacklevel)


def deprecation_notice(event: str) -> str:
    """What to tell whoever sends `event`, one of DEPRECATED_EVENTS (no customer data)."""
    return (f"TikTok soft-deprecated the event {event!r} in 2025 (sunset in 2027, its history not carried "
            f"over); use {DEPRECATED_EVENTS[event]} instead")


def wire_event_problem(event: Mapping[str, Any]) -> str | None:
    """What a request in wire shape needs of each of its events, as the client relies on it (the
    rest was validated when the event was built): None, or the problem, naming the field."""
    if not isinstance(event.get("event"), str) or not event["event"]:
        return "event: missing or not a string"
    event_time = event.get("event_time")
    if not isinstance(event_time, int) or isinstance(event_time, bool):
        return "event_time: missing or not unix seconds"
    if not isinstance(event.get("event_id", ""), str):
        return "event_id: not a string"
    return None


def trimmed(value: Any) -> Any:
    """Text without its surrounding whitespace, and empty means absent: the envelope's fields and
    what user fields send in clear (never hashed: ttclid, ttp, user_agent, ...)."""
    return (value.strip() or None) if isinstance(value, str) else value
