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

_HEX64 = re.compile(r"[0-9a-fA-F]{64}")
# Characters that separate digit groups in a phone number as people type it.
_PHONE_SEPARATORS = str.maketrans("", "", " -.()/\u00a0\t")
_ASCII_NAME_DROP = str.maketrans("", "", " \t\r\n!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
_ZIP_DROP = str.maketrans("", "", " -\t\u00a0\u2010\u2011\u2012\u2013\u2014")


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def is_sha256_hex(value: str) -> bool:
    return len(value) == 64 and _HEX64.fullmatch(value) is not None


def _prehashed(value: str) -> str | None:
    """The value itself, lowercased, if it already is a SHA-256 hex digest."""
    return value.lower() if is_sha256_hex(value) else None


def _text(value: object, what: str) -> str:
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise ValueError(f"{what} must be a string")


# --- email ----------------------------------------------------------------------------------


def normalize_email(value: str) -> str:
    """Trimmed and lowercased. It must look like an address: one '@' with text on both sides."""
    email = value.strip().lower()
    local, at, domain = email.rpartition("@")
    if not at or not local or not domain or any(ch.isspace() for ch in email):
        raise ValueError("not an email address")
    return email


def hash_email(value: object) -> str | None:
    text = _text(value, "email")
    if not text:
        return None
    return _prehashed(text) or sha256_hex(normalize_email(text))


# --- phone ----------------------------------------------------------------------------------

_phonenumbers = None


def _phone_lib():
    # phonenumbers costs ~40 ms to import; load it on the first phone, not at import.
    global _phonenumbers
    if _phonenumbers is None:
        import phonenumbers

        _phonenumbers = phonenumbers
    return _phonenumbers


def normalize_region(region: object) -> str | None:
    """An ISO 3166-1 alpha-2 region code that phone parsing knows, uppercased; else None."""
    if not isinstance(region, str):
        return None
    code = region.strip().upper()
    if len(code) != 2 or not code.isalpha():
        return None
    return code if code in _phone_lib().SUPPORTED_REGIONS else None


def _canonical_fast_path(text: str) -> str | None:
    """E.164 for input that already is '+<country code><number>' (separators allowed).

    Skips the full parser only when the result is certainly what the parser would give:
    no national trunk digit after the country code and a number valid for its region
    (phonenumbers never strips anything from a number that is already valid).
    """
    if not text.startswith("+") or "(0" in text:
        return None
    digits = text[1:].translate(_PHONE_SEPARATORS)
    if not (7 <= len(digits) <= 15 and digits.isascii() and digits.isdigit()):
        return None
    lib = _phone_lib()
    for cc_len in (1, 2, 3):
        cc = int(digits[:cc_len])
        if cc in lib.COUNTRY_CODE_TO_REGION_CODE:
            national = digits[cc_len:]
            if not national or national[0] == "0":
                return None
            number = lib.PhoneNumber(country_code=cc, national_number=int(national))
            return "+" + digits if lib.is_valid_number(number) else None
    return None


def normalize_phone(value: str, region: str | None = None) -> str:
    """E.164 ('+' and digits). National numbers need `region` (ISO alpha-2) to be parsed."""
    text = value.strip()
    fast = _canonical_fast_path(text)
    if fast is not None:
        return fast
    lib = _phone_lib()
    try:
        number = lib.parse(text, region)
    except lib.NumberParseException as exc:
        if exc.error_type == lib.NumberParseException.INVALID_COUNTRY_CODE:
            raise ValueError(
                "phone number has no country code; write it as +<country code>... "
                "or give a region (phone_region, the user's country, or --phone-region)"
            ) from None
        raise ValueError("not a phone number") from None
    if not lib.is_possible_number(number):
        raise ValueError("not a possible phone number for its country")
    return lib.format_number(number, lib.PhoneNumberFormat.E164)


def hash_phone(value: object, region: str | None = None) -> str | None:
    text = _text(value, "phone")
    if not text:
        return None
    return _prehashed(text) or sha256_hex(normalize_phone(text, region))


# --- other hashed identifiers -----------------------------------------------------------------


def hash_external_id(value: object) -> str | None:
    """Trimmed only: case and inner spaces are kept, so it matches what the pixel sends."""
    text = _text(value, "external_id")
    if not text:
        return None
    return _prehashed(text) or sha256_hex(text)


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
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        raise ValueError("not an IPv4 or IPv6 address") from None


def hash_each(values: object, hasher: Callable[[object], str | None]) -> list[str] | None:
    """One value or a list of values, each hashed, empties dropped, duplicates removed (order kept)."""
    items: Iterable[object] = values if isinstance(values, (list, tuple)) else (values,)
    seen: dict[str, None] = {}
    for item in items:
        if item is None:
            continue
        digest = hasher(item)
        if digest is not None:
            seen[digest] = None
    return list(seen) or None
