"""Reading Stripe objects: ids that may come expanded, metadata, money in minor units."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tiktok_relay.sources.common.values import as_currency, as_token, from_minor_units
from tiktok_relay.sources.stripe.currencies import minor_unit_exponent

# Stripe's metadata: at most 50 keys of 40 characters, values of 500 (docs.stripe.com/metadata).
MAX_METADATA_KEYS = 50


def ref_id(value: Any) -> str | None:
    """The id of a referenced object: the string itself (`"cus_123"`), or the `id` of the object
    when the payload carries it expanded; None when neither is a usable id."""
    if isinstance(value, dict):
        value = value.get("id")
    return as_token(value) if isinstance(value, str) else None


def metadata(obj: Mapping[str, Any], path: str, warnings: list[str]) -> dict[str, Any]:
    """The object's metadata by lowercased key ({} when there is none or it is not an object)."""
    raw = obj.get("metadata")
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        warnings.append(f"{path}.metadata ignored: not an object")
        return {}
    found: dict[str, Any] = {}
    for key, value in list(raw.items())[:MAX_METADATA_KEYS]:
        if isinstance(key, str):
            found.setdefault(key.strip().lower(), value)
    return found


def money(amount: Any, currency: Any, path: str) -> tuple[str | None, float | None, str | None]:
    """(currency code, amount in major units, problem naming `path` or the currency) of a Stripe
    amount: minor units divided per the currency's decimals (currencies.py)."""
    code, problem = as_currency(currency)
    if code is None:
        return None, None, f"currency {problem}"
    value, value_problem = from_minor_units(amount, minor_unit_exponent(code))
    if value is None:
        return code, None, f"{path} {value_problem}"
    return code, value, None
