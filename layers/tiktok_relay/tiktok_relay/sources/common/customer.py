"""A `user` block's fields from whatever records a store's payload has: each identifier hashed
(emails, phones, names, the postcode) or checked for clear text (city, state, country, the IP,
the user agent, click ids), each read on its own. A bad value is named in a warning (its field,
never the value) and left out. Every store's mapping builds its user block from these.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from tiktok_relay.sources.common.privacy import attempt, click_id
from tiktok_relay.sources.common.values import as_text
from tiktok_relay.tiktok import normalize, phones
from tiktok_relay.tiktok.cleartext import has_email

MAX_USER_AGENT = 512
MAX_PLACE = 100  # city / state, before normalization
# Where storefronts store TikTok's click id and cookie (cart attributes, order meta, payment
# metadata), in order of preference.
TTCLID_NAMES = ("ttclid", "_ttclid")
TTP_NAMES = ("_ttp", "ttp", "__ttp")
CLICK_ID_NAMES = frozenset(TTCLID_NAMES + TTP_NAMES)
NAME_FIELDS = ("first_name", "last_name")


@dataclass(frozen=True)
class PlaceFields:
    """What a store calls the parts of an address the user block takes."""

    zip: str
    city: str
    state: tuple[str, ...]  # first usable wins (a code, then a name)
    country: str  # an ISO 3166-1 alpha-2 code


def hashed(hasher: Callable[[object], str | None], value: Any, path: str, warnings: list[str]) -> str | None:
    """hasher(value) for a string or int (the forms identifiers come in); None when `value` is
    absent or unusable (a warning names `path`)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        warnings.append(f"{path} ignored: not a string")
        return None
    return attempt(hasher, path, warnings, value)


def hash_emails(candidates: Iterable[tuple[str, Any]], warnings: list[str]) -> list[str]:
    """Every distinct address among (path, value) candidates, hashed, in order; one that differs
    only in case or spaces from an earlier one is not read again."""
    emails: dict[str, None] = {}
    tried: set[str] = set()
    for path, value in candidates:
        if isinstance(value, str):
            key = value.strip().lower()  # what hash_email hashes: the same address in other case
            if key in tried:
                continue
            tried.add(key)
        digest = hashed(normalize.hash_email, value, path, warnings)
        if digest is not None:
            emails[digest] = None
    return list(emails)


def hash_phones(candidates: Iterable[tuple[str, Any, str | None]], warnings: list[str]) -> list[str]:
    """SHA-256 of each distinct number in E.164 among (path, value, region hint) candidates.

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


def has_any(obj: Mapping[str, Any] | None, keys: Iterable[str]) -> bool:
    """Whether `obj` holds a non-blank string or an int under any of `keys`."""
    if not obj:
        return False
    for key in keys:
        value = obj.get(key)
        if (isinstance(value, str) and value.strip()) or (isinstance(value, int) and not isinstance(value, bool)):
            return True
    return False


def add_names(user: dict[str, Any], names: Mapping[str, Any] | None, prefix: str, warnings: list[str],
              fields: tuple[str, str] = NAME_FIELDS) -> None:
    """Adds first_name and last_name (from `fields` of `names`), hashed."""
    if not names:
        return
    for key, field in zip(NAME_FIELDS, fields, strict=True):
        digest = hashed(normalize.hash_name, names.get(field), f"{prefix}{field}", warnings)
        if digest is not None:
            user[key] = digest


def add_place(user: dict[str, Any], place: Mapping[str, Any] | None, path: str, fields: PlaceFields,
              warnings: list[str]) -> None:
    """Adds zip_code (hashed: a US ZIP+4 as its first five digits), city, state and country of an
    address whose parts are called `fields`."""
    if not place:
        return
    for key, names in (("city", (fields.city,)), ("state", fields.state)):
        name = place_name(place, names, path, warnings)
        if name:
            user[key] = name
    code = country(place.get(fields.country), f"{path}.{fields.country}", warnings)
    if code:
        user["country"] = code
    zip_code = hashed(lambda v: normalize.hash_zip(v, code), place.get(fields.zip), f"{path}.{fields.zip}", warnings)
    if zip_code is not None:
        user["zip_code"] = zip_code


def place_name(place: Mapping[str, Any], fields: tuple[str, ...], path: str, warnings: list[str]) -> str | None:
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


def country(value: Any, path: str, warnings: list[str]) -> str | None:
    """An ISO 3166-1 alpha-2 country code, lowercased."""
    if value is None:
        return None
    code = value.strip() if isinstance(value, str) else ""
    if len(code) == 2 and code.isascii() and code.isalpha():
        try:
            return normalize.normalize_country(code)
        except ValueError:
            pass
    if code or not isinstance(value, str):
        warnings.append(f"{path} ignored: not an ISO 3166-1 two-letter country code")
    return None


def public_ip(candidates: Iterable[tuple[str, Any]], warnings: list[str]) -> str | None:
    """The first (path, value) candidate that is a public IP address, in canonical form (a
    private, loopback or documentation address is nobody's public address: dropped, named)."""
    for path, value in candidates:
        if value is None or value == "":
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


def user_agent(raw: Any, path: str, warnings: list[str]) -> str | None:
    """A user agent, bounded; dropped if it carries an email address (it is sent in clear)."""
    text, cut = as_text(raw, MAX_USER_AGENT)
    if text and has_email(text):
        warnings.append(f"{path} dropped: it contains what looks like an email address")
        return None
    if text:
        if cut:
            warnings.append(f"{path} truncated to {MAX_USER_AGENT} characters")
        return text
    if raw is not None and not isinstance(raw, str):
        warnings.append(f"{path} ignored: not a string")
    return None


def named_values(raw: Any, path: str, warnings: list[str], *, key: str = "name", value: str = "value",
                 wanted: frozenset[str] = CLICK_ID_NAMES) -> dict[str, Any]:
    """The `wanted` entries of `raw` ([{key, value}] pairs, or a {name: value} object), by
    lowercased name; the first of each counts."""
    found: dict[str, Any] = {}
    if raw is None:
        return found
    pairs: Iterable[tuple[Any, Any]]
    if isinstance(raw, list):
        pairs = ((item.get(key), item.get(value)) for item in raw if isinstance(item, dict))
    elif isinstance(raw, dict):  # {name: value} instead of [{name, value}]
        pairs = raw.items()
    else:
        warnings.append(f"{path} ignored: not a list")
        return found
    for name, item in pairs:
        if isinstance(name, str):
            lowered = name.strip().lower()
            if lowered in wanted and lowered not in found:
                found[lowered] = item
    return found


def stored_click_id(attributes: Mapping[str, Any], names: tuple[str, ...], where: str,
                    warnings: list[str]) -> str | None:
    """The first usable value among the attributes `names` (found in `where`)."""
    for name in names:
        if name in attributes:
            value = click_id(attributes[name], f"{where}.{name}", warnings)
            if value:
                return value
    return None
