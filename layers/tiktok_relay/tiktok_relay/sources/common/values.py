"""Total coercion of store payload values: each function returns None (or names the problem)
for anything unusable and never raises, whatever JSON the store sent.

The usual case comes first in each (`type(value) is int`, ASCII text): every delivery runs
these for each of its line items.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from tiktok_relay.sources.common.privacy import scrub_surrogates
from tiktok_relay.tiktok.currencies import ACCEPTED_CURRENCIES
from tiktok_relay.tiktok.fields import MAX_AMOUNT, MAX_COUNT

_TOKEN = re.compile(r"[A-Za-z0-9._:=+/~-]{1,128}", re.ASCII)
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?", re.ASCII)


def object_field(container: Mapping[str, Any], key: str, path: str, warnings: list[str]) -> dict[str, Any] | None:
    """container[key] if it is a JSON object; None (with a warning naming `path` if it is
    something else) otherwise."""
    value = container.get(key)
    if value is None or isinstance(value, dict):
        return value
    warnings.append(f"{path} ignored: not an object")
    return None


def as_id(value: Any) -> str | None:
    """A positive integer id as exact decimal text (ints of any size, digit strings)."""
    if type(value) is int:  # the usual case, first
        return str(value) if value > 0 else None
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value) if value > 0 else None
    if isinstance(value, str):
        text = value.strip()
        if text.isascii() and text.isdigit() and len(text) <= 30:
            number = int(text)
            return str(number) if number > 0 else None
        return None
    if isinstance(value, float) and value.is_integer() and 0 < value < 2**53:
        return str(int(value))  # exact below 2^53; larger floats already lost digits
    return None


def as_token(value: Any) -> str | None:
    """A token or id fit for an event_id: bounded, no spaces, no query part."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value) if value > 0 else None
    if not isinstance(value, str):
        return None
    text = value.strip().split("?", 1)[0]  # a token may carry "?key=..." (newer Shopify cart tokens do)
    return text if _TOKEN.fullmatch(text) else None


def as_text(value: Any, limit: int | None = None) -> tuple[str | None, bool]:
    """(clean text or None, whether it was truncated). Non-strings give (None, False)."""
    if type(value) is not str:
        if not isinstance(value, str):
            return None, False
        value = str(value)
    text = value.strip()
    if not text:
        return None, False
    cut = False
    if limit is not None and len(text) > limit:
        text, cut = text[:limit].rstrip() or text[:limit], True
    return (text if text.isascii() else scrub_surrogates(text)), cut


def as_quantity(value: Any) -> int | None:
    """A whole number of items from 0 to MAX_COUNT (ints, integral floats, digit strings)."""
    if type(value) is int:  # the usual case, first
        return value if 0 <= value <= MAX_COUNT else None
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 <= value <= MAX_COUNT else None
    if isinstance(value, float) and value.is_integer() and 0 <= value <= MAX_COUNT:
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        if text.isascii() and text.isdigit() and len(text) <= 18 and int(text) <= MAX_COUNT:
            return int(text)
    return None


def as_amount(value: Any) -> tuple[float | None, str | None]:
    """(amount, problem). Money arrives as decimal strings; numbers are accepted too."""
    if value is None:
        return None, "missing"
    if type(value) is str or isinstance(value, str):
        text = value.strip()
        # float() alone would also take '1_000', 'nan', 'infinity' and non-ASCII digits.
        if not text.isascii() or not _DECIMAL.fullmatch(text):
            return None, "not a number"
        number = float(text)
    elif isinstance(value, bool) or not isinstance(value, (int, float)):
        return None, "not a number"
    else:
        try:
            number = float(value)
        except OverflowError:
            return None, "not a finite number"
    if not math.isfinite(number):
        return None, "not a finite number"
    if number < 0:
        return None, "negative"
    if number > MAX_AMOUNT:
        return None, "beyond what TikTok accepts (10^15)"
    return number + 0.0, None  # + 0.0 turns -0.0 into 0.0


def as_decimal(value: Any) -> Decimal | None:
    """What as_amount accepts, as an exact Decimal (for sums of price * quantity)."""
    amount, problem = as_amount(value)
    if problem:
        return None
    try:
        return Decimal(value.strip()) if isinstance(value, str) else Decimal(repr(amount))
    except (InvalidOperation, ValueError):
        return None


def as_currency(value: Any) -> tuple[str | None, str | None]:
    """(ISO 4217 code TikTok accepts, problem)."""
    if value is None:
        return None, "missing"
    if not isinstance(value, str):
        return None, "not a string"
    code = value.strip().upper()
    if code in ACCEPTED_CURRENCIES:
        return code, None
    return None, "not a currency TikTok accepts"


def from_minor_units(value: Any, exponent: int) -> tuple[float | None, str | None]:
    """(amount, problem) of an integer amount in a currency's minor units (Stripe's cents, or
    whole yen for a zero-decimal currency): value / 10**exponent. Only JSON integers are minor
    units: 12.5 or "1250" is not what a store sends."""
    if type(value) is not int:
        if value is None:
            return None, "missing"
        if isinstance(value, bool) or not isinstance(value, int):
            return None, "not a whole number of minor units"
    if value < 0:
        return None, "negative"
    amount = float(Decimal(value).scaleb(-exponent))  # exact decimal shift: 1999 / 100 is 19.99, not 19.990000000000002
    if not math.isfinite(amount) or amount > MAX_AMOUNT:
        return None, "beyond what TikTok accepts (10^15)"
    return amount, None


def shown(text: str, limit: int = 80) -> str:
    """An identifier (a topic, a source_name), safe to quote in a reason: printable ASCII, bounded."""
    cleaned = "".join(ch if " " <= ch <= "~" else "?" for ch in text[:limit])
    return repr(cleaned + ("..." if len(text) > limit else ""))
