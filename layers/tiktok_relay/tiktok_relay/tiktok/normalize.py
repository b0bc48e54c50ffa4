"""Normalization and SHA-256 hashing of customer identifiers, as TikTok's Events API expects.

Pure functions, no I/O. Each `hash_*` function takes one raw value and returns either
the lowercase hex SHA-256 of its normalized form, or None when nothing is left to send
(an empty value is left out: the hash of "" matches nobody). A value that already is a
64-hex SHA-256 passes through lowercased and is never hashed twice.

Invalid values raise ValueError with a message that names the problem, never the value.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
import unicodedata
from collections.abc import Callable, Iterable

from tiktok_relay.tiktok import phones

_HEX64 = re.compile(r"[0-9a-fA-F]{64}")
_WHITESPACE = re.compile(r"\s")  # for str patterns, exactly the characters str.isspace() accepts
# Exactly the strings ipaddress.IPv4Address accepts (four decimal octets 0-255, no leading zeros),
# which are also their own canonical form.
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_CANONICAL_IPV4 = re.compile(rf"(?:{_OCTET}\.){{3}}{_OCTET}")
_ASCII_NAME_DROP = str.maketrans("", "", " \t\r\n!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
_ZIP_DROP = str.maketrans("", "", " -\t\u00a0\u2010\u2011\u2012\u2013\u2014")


def sha256_hex(text: str) -> str:
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError:
        # Lone surrogates. The codec's error holds the whole string (its repr shows it): a
        # ValueError that names the problem only, as everywhere else in this module.
        raise ValueError("not valid Unicode text") from None
    return hashlib.sha256(data).hexdigest()


def is_sha256_hex(value: str) -> bool:
    return len(value) == 64 and _HEX64.fullmatch(value) is not None


def _prehashed(value: str) -> str | None:
    """The value itself, lowercased, if it already is a SHA-256 hex digest."""
    return value.lower() if is_sha256_hex(value) else None


def _text(value: object, what: str) -> str:
    if isinstance(value, str):
        if not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:  # a lone surrogate, e.g. from JSON "\ud800"
                raise ValueError(f"{what} is not valid Unicode text") from None
        return value.strip()
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise ValueError(f"{what} must be a string")


# --- email ----------------------------------------------------------------------------------


def normalize_email(value: str) -> str:
    """Trimmed and lowercased. It must look like an address: one '@' with text on both sides."""
    email = value.strip().lower()
    local, at, domain = email.rpartition("@")
    if not at or not local or not domain or _WHITESPACE.search(email):
        raise ValueError("not an email address")
    return email


def hash_email(value: object) -> str | None:
    text = _text(value, "email")
    if not text:
        return None
    if len(text) == 64 and is_sha256_hex(text):  # (the length first: this runs for every event)
        return text.lower()
    return sha256_hex(normalize_email(text))


# --- phone ----------------------------------------------------------------------------------

def hash_phone(value: object, region: str | None = None) -> str | None:
    """SHA-256 of the number in E.164 (phones.normalize_phone reads it; `region` for national numbers)."""
    text = _text(value, "phone")
    if not text:
        return None
    if len(text) == 64 and is_sha256_hex(text):
        return text.lower()
    return sha256_hex(phones.normalize_phone(text, region))


# --- other hashed identifiers -----------------------------------------------------------------


def hash_external_id(value: object) -> str | None:
    """Trimmed only: case and inner spaces are kept, so it matches what the pixel sends."""
    text = _text(value, "external_id")
    if not text:
        return None
    if len(text) == 64 and is_sha256_hex(text):
        return text.lower()
    return sha256_hex(text)


def normalize_name(value: str) -> str:
    """Lowercased, with whitespace, punctuation and symbols (emoji included) removed."""
    if value.isascii():
        return value.lower().translate(_ASCII_NAME_DROP)
    text = unicodedata.normalize("NFC", value).lower()
    # Keep letters, marks and digits; drop separators, punctuation, symbols and controls.
    return "".join(ch for ch in text if unicodedata.category(ch)[0] in "LMN")


def hash_name(value: object) -> str | None:
    text = _text(value, "name")
    if not text:
        return None
    prehashed = _prehashed(text)
    if prehashed:
        return prehashed
    name = normalize_name(text)
    return sha256_hex(name) if name else None


def normalize_zip(value: str) -> str:
    """Lowercased, without spaces or dashes ('SW1A 1AA' -> 'sw1a1aa', '94107-1234' -> '941071234')."""
    return value.lower().translate(_ZIP_DROP)


def hash_zip(value: object) -> str | None:
    text = _text(value, "zip_code")
    if not text:
        return None
    prehashed = _prehashed(text)
    if prehashed:
        return prehashed
    zip_code = normalize_zip(text)
    return sha256_hex(zip_code) if zip_code else None


# --- sent in clear, normalized ------------------------------------------------------------------


def normalize_place(value: object) -> str | None:
    """City, state and country are sent unhashed: lowercased, letters and digits only.

    TikTok documents no exact rule; this is what Segment and PostHog send ('New York' -> 'newyork').
    """
    text = _text(value, "place")
    if not text:
        return None
    return normalize_name(text) or None


def normalize_ip(value: object) -> str | None:
    """IPv4 or IPv6 in canonical form (IPv6 compressed). Never hashed."""
    text = _text(value, "ip")
    if not text:
        return None
    if _CANONICAL_IPV4.fullmatch(text):
        return text  # what str(ipaddress.ip_address(text)) gives, without its cost
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        raise ValueError("not an IPv4 or IPv6 address") from None


def hash_each(values: object, hasher: Callable[[object], str | None]) -> list[str] | None:
    """One value or a list of values, each hashed, empties dropped, duplicates removed (order kept)."""
    if isinstance(values, str):  # the usual case, without the list machinery below
        digest = hasher(values)
        return None if digest is None else [digest]
    items: Iterable[object] = values if isinstance(values, (list, tuple)) else (values,)
    seen: dict[str, None] = {}
    for item in items:
        if item is None:
            continue
        digest = hasher(item)
        if digest is not None:
            seen[digest] = None
    return list(seen) or None
