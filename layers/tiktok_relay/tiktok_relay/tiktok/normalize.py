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
_WHITESPACE = re.compile(r"\s")  # for str patterns, exactly the characters str.isspace() accepts
# Exactly the strings ipaddress.IPv4Address accepts (four decimal octets 0-255, no leading zeros),
# which are also their own canonical form.
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_CANONICAL_IPV4 = re.compile(rf"(?:{_OCTET}\.){{3}}{_OCTET}")
# Characters that separate digit groups in a phone number as people type it. All are punctuation
# phonenumbers ignores between digits and none can start an extension; a tab is not among them
# (the parser refuses a number with a tab inside), so such input takes the parser's path.
_PHONE_SEPARATORS = str.maketrans("", "", " -.()/\u00a0")
_ASCII_PHONE_SEPARATORS = b" -.()/"  # the same, for bytes.translate (faster) on ASCII text
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

_phonenumbers = None


def phone_library():
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
    return code if code in phone_library().SUPPORTED_REGIONS else None


class _Plan:
    """What parsing '+<country code>...' needs from the metadata of that code's main region."""

    __slots__ = ("prefix", "transform", "general", "lengths")

    def __init__(self, metadata) -> None:
        prefix, general = metadata.national_prefix_for_parsing, metadata.general_desc
        pattern = general.national_number_pattern if general is not None else None
        self.prefix = re.compile(prefix) if prefix else None
        self.transform = metadata.national_prefix_transform_rule or None
        self.general = re.compile(pattern) if pattern else None
        # national length -> (possible: is_possible_number would say so,
        #                     keeps_stripped: parse() keeps a number stripped of its prefix)
        self.lengths: dict[int, tuple[bool, bool]] = {}


_PLANS: dict[int, _Plan | None] = {}  # country calling code -> its plan (None: leave it to the parser)


def _plan(lib, country_code: int) -> _Plan | None:
    region = lib.region_code_for_country_code(country_code)
    metadata = lib.PhoneMetadata.metadata_for_region_or_calling_code(country_code, region)
    plan = _PLANS[country_code] = _Plan(metadata) if metadata is not None else None
    return plan


def _length_check(lib, country_code: int, plan: _Plan, length: int) -> tuple[bool, bool]:
    # The length test of parse() and is_possible_number(), which "only checks the length" (its
    # documentation), so it is asked once per country code and length of national number.
    number = lib.PhoneNumber(country_code=country_code, national_number=int("1" * length))
    result = lib.is_possible_number_with_reason(number)
    valid = lib.ValidationResult
    check = plan.lengths[length] = (
        result in (valid.IS_POSSIBLE, valid.IS_POSSIBLE_LOCAL_ONLY),
        result in (valid.IS_POSSIBLE, valid.TOO_LONG),
    )
    return check


def _canonical_fast_path(text: str) -> str | None:
    """E.164 for input that already is '+<country code><number>' (separators allowed), else None.

    The result is exactly what `phonenumbers.parse` + `is_possible_number` + `format_number(E164)`
    give, at a tenth of their cost: for such input the parser only takes the country code (the
    first 1-3 digits that are a known code; none if they start with 0), strips a national prefix
    as the region's metadata says (a trunk '0', '(0)' included) when what remains still has a
    possible length, and checks the length. This follows it step by step
    (phonenumberutil.parse, _maybe_strip_national_prefix_carrier_code, _test_number_length).
    None hands everything else to the parser, which also gives the errors.
    """
    if len(text) > 250 or not text.startswith("+"):
        return None
    if text.isascii():
        raw = text[1:].encode().translate(None, _ASCII_PHONE_SEPARATORS)
        digits = raw.decode() if raw.isdigit() else ""  # bytes.isdigit(): ASCII digits only
    else:
        digits = text[1:].translate(_PHONE_SEPARATORS)
        if not (digits.isascii() and digits.isdigit()):
            return None
    if not 7 <= len(digits) <= 15 or digits[0] == "0":
        return None
    lib = _phonenumbers or phone_library()
    known = lib.COUNTRY_CODE_TO_REGION_CODE
    for cc_len in (1, 2, 3):
        cc = int(digits[:cc_len])
        if cc in known:
            break
    else:
        return None
    plan = _PLANS[cc] if cc in _PLANS else _plan(lib, cc)
    if plan is None:
        return None
    national = digits[cc_len:]
    match = plan.prefix.match(national) if plan.prefix is not None else None
    if match is not None:
        general = plan.general
        viable = general is not None and general.fullmatch(national) is not None
        groups = match.groups()
        if plan.transform is None or groups[-1:] == (None,):
            stripped = national[match.end():]
        elif groups:
            stripped = plan.prefix.sub(plan.transform, national, count=1)
        else:
            return None  # a transform rule without groups: the parser's own business
        if not stripped:
            return None
        if not (viable and (general is None or general.fullmatch(stripped) is None)):
            check = plan.lengths.get(len(stripped)) or _length_check(lib, cc, plan, len(stripped))
            if check[1]:
                national = stripped
    if not 2 <= len(national) <= 17:
        return None
    check = plan.lengths.get(len(national)) or _length_check(lib, cc, plan, len(national))
    return f"+{cc}{national}" if check[0] else None


def normalize_phone(value: str, region: str | None = None) -> str:
    """E.164 ('+' and digits). National numbers need `region` (ISO alpha-2) to be parsed."""
    text = value.strip()
    fast = _canonical_fast_path(text)
    if fast is not None:
        return fast
    lib = phone_library()
    try:
        number = lib.parse(text, region)
    except lib.NumberParseException as exc:
        if exc.error_type == lib.NumberParseException.INVALID_COUNTRY_CODE:
            raise ValueError(
                "phone number has no valid country code; write it as +<country code>... "
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
    if len(text) == 64 and is_sha256_hex(text):
        return text.lower()
    return sha256_hex(normalize_phone(text, region))


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
