"""Normalization and SHA-256 hashing of customer identifiers, as TikTok's Events API expects.

Pure functions, no I/O. Each `hash_*` function takes one raw value and returns either
the lowercase hex SHA-256 of its normalized form, or None when nothing is left to send
(an empty value is left out: the hash of "" matches nobody, and a pre-hashed SHA-256 of ""
is dropped too). A value that already is a 64-hex SHA-256 passes through lowercased and is
never hashed twice. The README's "Normalization" table lists every rule and says which are
TikTok's own words and which are assumptions.

Invalid values raise ValueError with a message that names the problem, never the value.
"""

from __future__ import annotations

import functools
import hashlib
import re
import unicodedata
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from tiktok_relay.tiktok import phones

if TYPE_CHECKING:
    from ipaddress import IPv4Network, IPv6Network

_HEX64 = re.compile(r"[0-9a-fA-F]{64}")
_WHITESPACE = re.compile(r"\s")  # for str patterns, exactly the characters str.isspace() accepts
# Exactly the strings ipaddress.IPv4Address accepts (four decimal octets 0-255, no leading zeros),
# which are also their own canonical form.
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_CANONICAL_IPV4 = re.compile(rf"(?:{_OCTET}\.){{3}}{_OCTET}")
_ASCII_NAME_DROP = str.maketrans("", "", " \t\r\n!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
_ZIP_DROP = str.maketrans("", "", " -\t\u00a0\u2010\u2011\u2012\u2013\u2014")
# A US ZIP+4 ('94103-1234'): hashed as its first five digits, Meta's documented rule (TikTok
# documents none). Without the dash, nine digits are read so only for a US address.
_ZIP_PLUS4 = re.compile(r"([0-9]{5})\s*[-\u2010\u2011\u2013]?\s*[0-9]{4}")
# What an address in clear may be written with: a mailto: link ('mailto:jane@example.com?subject=hi').
_MAILTO = "mailto:"
# SHA-256 of "": what a caller that hashed an empty field sends. It matches nobody.
EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


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
    """The value itself, lowercased, if it already is a SHA-256 hex digest ("" if it is that of "")."""
    if not is_sha256_hex(value):
        return None
    digest = value.lower()
    return "" if digest == EMPTY_SHA256 else digest


def prehashed(value: str) -> str | None:
    """A pre-hashed value as it is sent: lowercased; None for the SHA-256 of "" (dropped). Only
    call it for values that are 64 hex digits (is_sha256_hex)."""
    digest = value.lower()
    return None if digest == EMPTY_SHA256 else digest


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
    """Trimmed and lowercased (TikTok's words), after NFKC (fullwidth 'ａ＠' are 'a@'), without
    zero-width and bidi controls (Unicode format characters, which copy-paste brings along) and
    without a 'mailto:' prefix. It must look like an address: one '@' with text on both sides."""
    email = value
    if not email.isascii():
        email = unicodedata.normalize("NFKC", email)
        email = "".join(ch for ch in email if unicodedata.category(ch) != "Cf")
    email = email.strip().lower()
    if email.startswith(_MAILTO):
        email = email[len(_MAILTO):].split("?", 1)[0].strip()
    local, at, domain = email.rpartition("@")
    if not at or not local or not domain or _WHITESPACE.search(email):
        raise ValueError("not an email address")
    return email


def hash_email(value: object) -> str | None:
    text = _text(value, "email")
    if not text:
        return None
    if len(text) == 64 and is_sha256_hex(text):  # (the length first: this runs for every event)
        return prehashed(text)
    return sha256_hex(normalize_email(text))


# --- phone ----------------------------------------------------------------------------------

def hash_phone(value: object, region: str | None = None) -> str | None:
    """SHA-256 of a valid number in E.164, +86 without its country code (phones.normalize_phone
    reads it, `region` for national numbers; phones.tiktok_form)."""
    text = _text(value, "phone")
    if not text:
        return None
    if len(text) == 64 and is_sha256_hex(text):
        return prehashed(text)
    return phone_digest(phones.normalize_phone(text, region))


def phone_digest(e164: str) -> str:
    """What TikTok gets for a number phones.normalize_phone gave: the SHA-256 of its tiktok_form."""
    return sha256_hex(phones.tiktok_form(e164))


# --- other hashed identifiers -----------------------------------------------------------------


def hash_external_id(value: object) -> str | None:
    """Trimmed only: case and inner spaces are kept, so it matches what the pixel sends."""
    text = _text(value, "external_id")
    if not text:
        return None
    if len(text) == 64 and is_sha256_hex(text):
        return prehashed(text)
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
    digest = _prehashed(text)
    if digest is not None:
        return digest or None
    name = normalize_name(text)
    return sha256_hex(name) if name else None


def normalize_zip(value: str, country: str | None = None) -> str:
    """Lowercased, without spaces or dashes ('SW1A 1AA' -> 'sw1a1aa'); a US ZIP+4 is its first
    five digits ('94107-1234' -> '94107'), for an address in the US or of unknown country (only
    the US writes postal codes as 5 and 4 digits; nine bare digits only with `country` 'us')."""
    text = value.strip()
    if country in (None, "us") and (match := _ZIP_PLUS4.fullmatch(text)) and (country or not text.isdigit()):
        return match.group(1)
    return text.lower().translate(_ZIP_DROP)


def hash_zip(value: object, country: str | None = None) -> str | None:
    """SHA-256 of normalize_zip (`country`: the address's, ISO alpha-2 lower case)."""
    text = _text(value, "zip_code")
    if not text:
        return None
    digest = _prehashed(text)
    if digest is not None:
        return digest or None
    zip_code = normalize_zip(text, country)
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


def normalize_country(value: object) -> str | None:
    """ISO 3166-1 alpha-2, lower case: 'US', 'usa', 'United States', 'Côte d'Ivoire' -> 'us', 'ci'.
    TikTok documents no form; Meta requires these codes and TikTok's WooCommerce plugin sends
    them (an assumption). Raises ValueError for what is neither a code nor a known name."""
    text = _text(value, "country")
    if not text:
        return None
    from tiktok_relay.tiktok import places  # ~1 ms of tables, only once a country is seen

    key = places.fold(text)
    if len(key) == 2 and key in places.COUNTRY_CODES:
        return key
    code = places.ALPHA3_CODES.get(key) if len(key) == 3 else None
    code = code or places.COUNTRY_NAMES.get(key)
    if code is None:
        raise ValueError("not an ISO 3166-1 country code or a country name tiktok-relay knows")
    return code


def normalize_state(value: object, country: str | None = None) -> str | None:
    """A US state's two-letter code, lower case ('California' -> 'ca'), when `country` is 'us' or
    unknown; otherwise, and for names that are no US state, normalize_place's form."""
    text = _text(value, "state")
    if not text:
        return None
    if country in (None, "us"):
        from tiktok_relay.tiktok import places

        key = places.fold(text)
        if key in places.US_STATE_CODES:
            return key
        if code := places.US_STATE_NAMES.get(key):
            return code
    return normalize_name(text) or None


def normalize_ip(value: object) -> str | None:
    """IPv4 or IPv6 in canonical form (IPv6 compressed). Never hashed."""
    text = _text(value, "ip")
    if not text:
        return None
    if _CANONICAL_IPV4.fullmatch(text):
        return text  # what str(ipaddress.ip_address(text)) gives, without its cost
    import ipaddress  # ~2 ms to import: only for what the pattern leaves over

    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        raise ValueError("not an IPv4 or IPv6 address") from None


# Addresses that are nobody's public address: private, shared (CGNAT), loopback, link-local,
# documentation, benchmarking, multicast, reserved and "this network" ranges (IANA special-
# purpose registries). Written out rather than ipaddress's is_global, which changed between
# Python 3.11 and 3.13. IPv6 outside 2000::/3 (global unicast) is never public.


@functools.cache
def _not_public() -> tuple[tuple[IPv4Network, ...], IPv6Network, tuple[IPv6Network, ...]]:
    """(IPv4 ranges, IPv6 global unicast, IPv6 ranges within it that are not public), built on
    first use: importing ipaddress costs ~2 ms, which `build` of one event need not pay."""
    import ipaddress

    v4 = tuple(ipaddress.IPv4Network(n) for n in (
        "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
        "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16", "198.18.0.0/15",
        "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4"))
    v6 = tuple(ipaddress.IPv6Network(n) for n in ("2001::/23", "2001:db8::/32", "2002::/16", "3fff::/20"))
    return v4, ipaddress.IPv6Network("2000::/3"), v6


def is_public_ip(address: str) -> bool:
    """Whether a canonical address (normalize_ip's) can be a buyer's public address. An IPv4 address
    mapped into IPv6 (::ffff:a.b.c.d) is judged as the IPv4 address it holds."""
    import ipaddress

    not_public_v4, global_unicast_v6, not_public_v6 = _not_public()
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        else:
            return ip in global_unicast_v6 and not any(ip in net for net in not_public_v6)
    return not any(ip in net for net in not_public_v4)


def public_ip(value: object) -> str | None:
    """normalize_ip's address, if it is public; ValueError naming the problem otherwise."""
    ip = normalize_ip(value)
    if ip is not None and not is_public_ip(ip):
        raise ValueError("not a public IP address (private, loopback, link-local, reserved or documentation range)")
    return ip


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
