"""The buyer's tracking consent, as the storefront recorded it, and what SHOPIFY_CONSENT makes of it.

No field of a Shopify webhook carries the visitor's tracking consent. The storefront snippet
(tiktok_relay/storefront, README "Consent") writes what Shopify's Customer Privacy API says into
two cart attributes, `_tt_marketing` and `_tt_sale_of_data`, each `granted` or `denied`. They
reach orders and checkouts as `note_attributes` (some checkouts copy cart attributes into line
item properties instead, so those count too) and carts as their attributes when a payload carries
them (carts/* webhooks usually carry none).

Reading, the safe way: an attribute name is matched in any case; a value is `granted` or
`denied` in any case, trimmed. Anything else present under the name (another word, a blank, a
list, a number, both values in two places) is unreadable and read as `denied`: the buyer's
refusal must never be lost to a typo or a duplicate. Pure; reasons name attributes and settings,
never values.

    SHOPIFY_CONSENT  marketing denied   sale of data denied      nothing recorded
    respect          nothing sent       limited_data_use: true   sent as before
    require          nothing sent       limited_data_use: true   nothing sent
    ignore           sent as before     sent as before           sent as before
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

from tiktok_relay.sources.shopify.settings import ConsentMode

MARKETING = "_tt_marketing"
SALE_OF_DATA = "_tt_sale_of_data"
GRANTED: Final = "granted"
DENIED: Final = "denied"
# Where a payload may hold cart attributes: webhook note_attributes ([{name, value}]); the
# Storefront and Web Pixel form ([{key, value}]) or an object ({name: value}) under attributes.
_CONTAINERS = ("note_attributes", "attributes")

Recorded = Literal["granted", "denied", "unreadable"]


@dataclass(frozen=True)
class Consent:
    """What the payload records for each purpose; None when nothing is recorded."""

    marketing: Recorded | None = None
    sale_of_data: Recorded | None = None


@dataclass(frozen=True)
class ConsentDecision:
    """reason: why nothing may be sent (None: send); limited_data_use: flag the event for
    TikTok's Limited Data Use (the buyer opted out of the sale or sharing of their data)."""

    reason: str | None = None
    limited_data_use: bool = False


SEND = ConsentDecision()


def consent_decision(mode: ConsentMode, payload: Mapping[str, Any]) -> ConsentDecision:
    """What SHOPIFY_CONSENT=`mode` allows for this payload (see the module docstring)."""
    if mode == "ignore":
        return SEND
    consent = recorded_consent(payload)
    if consent.marketing in (DENIED, "unreadable"):
        return ConsentDecision(reason=_refusal(consent.marketing))
    if mode == "require" and consent.marketing is None:
        return ConsentDecision(reason=(
            f"consent: SHOPIFY_CONSENT=require and no marketing consent is recorded (no cart attribute {MARKETING}; "
            "the storefront snippet records it)"))
    return ConsentDecision(limited_data_use=consent.sale_of_data in (DENIED, "unreadable"))


def recorded_consent(payload: Mapping[str, Any]) -> Consent:
    """The consent the payload's cart attributes record (the safe reading of the module docstring)."""
    values: dict[str, list[Any]] = {MARKETING: [], SALE_OF_DATA: []}
    for name, value in _attribute_pairs(payload):
        if isinstance(name, str) and (key := name.strip().lower()) in values:
            values[key].append(value)
    return Consent(marketing=_reading(values[MARKETING]), sale_of_data=_reading(values[SALE_OF_DATA]))


def _refusal(recorded: Recorded) -> str:
    if recorded == DENIED:
        return f"consent: the buyer declined marketing (cart attribute {MARKETING} is denied), so nothing is sent"
    return (f"consent: the cart attribute {MARKETING} is unreadable or contradictory and is read as denied, so "
            "nothing is sent")


def _reading(values: list[Any]) -> Recorded | None:
    if not values:
        return None
    words = {value.strip().lower() if isinstance(value, str) else None for value in values}
    if words == {GRANTED}:
        return GRANTED
    return DENIED if words == {DENIED} else "unreadable"


def _attribute_pairs(payload: Mapping[str, Any]) -> Iterator[tuple[Any, Any]]:
    """(name, value) of every cart attribute the payload carries, wherever it carries them."""
    for container in _CONTAINERS:
        yield from _pairs(payload.get(container))
    lines = payload.get("line_items")
    if isinstance(lines, list):
        for line in lines:
            if isinstance(line, dict):
                yield from _pairs(line.get("properties"))


def _pairs(raw: Any) -> Iterable[tuple[Any, Any]]:
    if isinstance(raw, dict):
        return raw.items()
    if isinstance(raw, list):
        return ((item.get("name", item.get("key")), item.get("value")) for item in raw if isinstance(item, dict))
    return ()
