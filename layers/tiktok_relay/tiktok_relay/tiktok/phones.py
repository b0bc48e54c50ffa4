"""Phone numbers to E.164, the form TikTok's Events API hashes. Pure functions, no I/O.

Every phone number the relay sends is read here. `normalize_phone` gives exactly what
phonenumbers' `parse` + `is_valid_number` + `format_number(E164)` give: only numbers the
library's metadata considers valid (a 555 number, 123-123-1234, an Indian mobile read as
+1 990... are not). `fast_e164` is its one fast path, which reads the common input (with '+'
and a country code, or national digits with a region) the way the parser does, from the
installed library's metadata, without the parser's cost; `is_valid` is `is_valid_number` for
what it reads, from the same metadata. tests/unit/test_phone_fast_path.py holds both to the
library for every country calling code and every region.

`tiktok_form` is the text TikTok hashes: E.164, except that China's numbers (+86) go without
their country code, as TikTok's own server-side GTM template says.

Invalid values raise ValueError with a message that names the problem, never the value.
"""

from __future__ import annotations

import re
from typing import Any

# Characters that separate digit groups in a phone number as people type it. All are punctuation
# phonenumbers ignores between digits and none can start an extension; a tab is not among them
# (the parser refuses a number with a tab inside), so such input takes the parser's path.
SEPARATORS = " -.()/\u00a0"
_SEPARATOR_TABLE = str.maketrans("", "", SEPARATORS)
_ASCII_SEPARATORS = SEPARATORS.encode("ascii", "ignore")  # the same, for bytes.translate (faster) on ASCII text
# The parser's bounds (phonenumberutil): input longer than 250 characters is refused, and a
# national significant number has 2 to 17 digits.
_MAX_INPUT = 250
_MIN_NATIONAL, _MAX_NATIONAL = 2, 17
# TikTok's GTM template (tiktok/gtm-template-eapi, the phone field's help text): "If the country
# code is 86, then do not include country code (example: 13800000000). Otherwise include country
# code with +".
_CHINA = "+86"

_phonenumbers: Any = None


def phone_library() -> Any:
    """The phonenumbers module. It costs ~40 ms to import: loaded on the first phone, not at import."""
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


def without_separators(text: str) -> str:
    """`text` without the characters that separate digit groups ('+44 7911-123456' -> '+447911123456')."""
    return text.translate(_SEPARATOR_TABLE)


class _Plan:
    """What parsing needs from one region's metadata (a country code's main region, or the
    region a national number is read in), its patterns compiled once."""

    __slots__ = ("country_code", "general", "international", "lengths", "possible", "prefix", "transform")

    def __init__(self, metadata: Any) -> None:
        general = metadata.general_desc
        pattern = general.national_number_pattern if general is not None else None
        prefix, international = metadata.national_prefix_for_parsing, metadata.international_prefix
        self.country_code: int = metadata.country_code
        self.prefix = re.compile(prefix) if prefix else None
        self.transform: str | None = metadata.national_prefix_transform_rule or None
        self.general = re.compile(pattern) if pattern else None
        self.possible = frozenset(general.possible_length) if pattern else frozenset()
        self.international = re.compile(international) if international else None
        # national length -> (possible: is_possible_number would say so,
        #                     keeps_stripped: parse() keeps a number stripped of its prefix);
        # filled for country code plans only
        self.lengths: dict[int, tuple[bool, bool]] = {}


_CODE_PLANS: dict[int, _Plan | None] = {}  # country calling code -> its main region's plan
_REGION_PLANS: dict[str, _Plan | None] = {}  # supported region code -> its plan (None: leave it to the parser)


def _code_plan(lib: Any, country_code: int) -> _Plan | None:
    region = lib.region_code_for_country_code(country_code)
    metadata = lib.PhoneMetadata.metadata_for_region_or_calling_code(country_code, region)
    plan = _CODE_PLANS[country_code] = _Plan(metadata) if metadata is not None else None
    return plan


def _region_plan(lib: Any, region: str) -> _Plan | None:
    if region not in lib.SUPPORTED_REGIONS:  # (the parser refuses such a region for national input)
        return None
    metadata = lib.PhoneMetadata.metadata_for_region(region)
    usable = metadata is not None and metadata.country_code
    plan = _REGION_PLANS[region] = _Plan(metadata) if usable else None
    return plan


def _length_check(lib: Any, plan: _Plan, length: int) -> tuple[bool, bool]:
    # The length test of parse() and is_possible_number(), which "only checks the length" (its
    # documentation), so it is asked once per country code and length of national number.
    number = lib.PhoneNumber(country_code=plan.country_code, national_number=int("1" * length))
    result = lib.is_possible_number_with_reason(number)
    valid = lib.ValidationResult
    check = plan.lengths[length] = (
        result in (valid.IS_POSSIBLE, valid.IS_POSSIBLE_LOCAL_ONLY),
        result in (valid.IS_POSSIBLE, valid.TOO_LONG),
    )
    return check


def _digits(text: str) -> str:
    """`text` without separators if only ASCII digits remain, else ''."""
    if text.isascii():
        raw = text.encode().translate(None, _ASCII_SEPARATORS)
        return raw.decode() if raw.isdigit() else ""  # bytes.isdigit(): ASCII digits only
    digits = text.translate(_SEPARATOR_TABLE)
    return digits if digits.isascii() and digits.isdigit() else ""


def fast_e164(text: str, region: str | None = None) -> str | None:
    """E.164 for a stripped phone number whenever that is certain without the parser, else None.

    Two kinds of input are read (separators allowed): '+<country code><number>', where the
    parser ignores `region`, and national digits read in `region` (a supported ISO alpha-2
    code). The result is exactly what `phonenumbers.parse` + `is_possible_number` +
    `format_number(E164)` give, at a tenth of their cost; both steps follow the parser's own
    (phonenumberutil.parse, _maybe_strip_national_prefix_carrier_code, _test_number_length).
    None hands everything else to the parser, which also gives the errors.
    """
    found = _fast(text, region)
    return None if found is None else f"+{found[0]}{found[1]}"


def _fast(text: str, region: str | None) -> tuple[int, str] | None:
    """(country code, national number) of what fast_e164 reads, else None."""
    if len(text) > _MAX_INPUT:
        return None
    if text[:1] == "+":
        found = _after_country_code(_digits(text[1:]))
    elif region is not None:
        found = _in_region(_digits(text), region)
    else:
        return None
    if found is None:
        return None
    plan, national = found
    if not _MIN_NATIONAL <= len(national) <= _MAX_NATIONAL:
        return None
    check = plan.lengths.get(len(national)) or _length_check(_phonenumbers, plan, len(national))
    return (plan.country_code, national) if check[0] else None


def _after_country_code(digits: str) -> tuple[_Plan, str] | None:
    """(country code plan, national number) for the digits after '+'.

    The parser takes the country code (the first 1-3 digits that are a known code; none if they
    start with 0), strips a national prefix as the region's metadata says (a trunk '0', '(0)'
    included) when what remains still has a possible length, and checks the length.
    """
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
    plan = _CODE_PLANS[cc] if cc in _CODE_PLANS else _code_plan(lib, cc)
    if plan is None:
        return None
    national = _without_national_prefix(lib, plan, digits[cc_len:])
    return None if national is None else (plan, national)


def _without_national_prefix(lib: Any, plan: _Plan, national: str) -> str | None:
    """`national` after the parser's national prefix step; None if the step is the parser's business."""
    prefix = plan.prefix
    match = prefix.match(national) if prefix is not None else None
    if prefix is None or match is None:
        return national
    general = plan.general
    viable = general is not None and general.fullmatch(national) is not None
    groups = match.groups()
    if plan.transform is None or groups[-1:] == (None,):
        stripped = national[match.end():]
    elif groups:
        stripped = prefix.sub(plan.transform, national, count=1)
    else:
        return None  # a transform rule without groups: the parser's own business
    if not stripped:
        return None
    if not (viable and (general is None or general.fullmatch(stripped) is None)):
        check = plan.lengths.get(len(stripped)) or _length_check(lib, plan, len(stripped))
        if check[1]:
            return stripped
    return national


def _in_region(digits: str, region: str) -> tuple[_Plan, str] | None:
    """(country code plan, national number) for national digits read in `region`.

    The parser's reading of such input, for the common case only: no international call
    prefix, not starting with the country code, a national prefix that is plain (no carrier
    code, no rewrite), a remaining number that fits the region's general pattern and possible
    lengths, no leading zero. Then parse + format_number(E164) give "+<country code><rest>".
    """
    if not digits:
        return None
    lib = _phonenumbers or phone_library()
    plan = _REGION_PLANS[region] if region in _REGION_PLANS else _region_plan(lib, region)
    if plan is None or plan.general is None:
        return None
    cc, general = plan.country_code, plan.general
    if digits.startswith(str(cc)) or (plan.international is not None and plan.international.match(digits)):
        return None
    national = digits
    match = plan.prefix.match(digits) if plan.prefix is not None else None
    if match is not None:
        if any(group is not None for group in match.groups()):
            return None  # carrier codes and rewrites
        national = digits[match.end():]
    if not national or national[0] == "0" or len(national) not in plan.possible or not general.fullmatch(national):
        return None
    # is_possible_number judges by the country code's main region, not by `region`
    code_plan = _CODE_PLANS[cc] if cc in _CODE_PLANS else _code_plan(lib, cc)
    return None if code_plan is None else (code_plan, national)


def normalize_phone(value: str, region: str | None = None) -> str:
    """E.164 ('+' and digits) of a valid number. National numbers need `region` (ISO alpha-2)."""
    text = value.strip()
    fast = _fast(text, region)
    if fast is not None:
        if not is_valid(*fast):
            raise ValueError(_INVALID)
        return f"+{fast[0]}{fast[1]}"
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
    if not lib.is_valid_number(number):
        raise ValueError(_INVALID)
    return lib.format_number(number, lib.PhoneNumberFormat.E164)


_INVALID = "not a valid phone number (no such number range in libphonenumber's metadata)"


def tiktok_form(e164: str) -> str:
    """The text TikTok hashes for an E.164 number: '+8613800000000' -> '13800000000'; others as they are."""
    return e164[len(_CHINA):] if e164.startswith(_CHINA) else e164


# --- validity: phonenumbers' is_valid_number, from the same metadata, its patterns compiled once --


class _Ranges:
    """One region's number ranges: the general description and every number type's, each as
    (possible lengths, compiled pattern), and the leading digits that pick the region."""

    __slots__ = ("general", "leading", "types")

    def __init__(self, metadata: Any) -> None:
        self.general = _desc(metadata.general_desc)
        leading = metadata.leading_digits
        self.leading = re.compile(leading) if leading else None
        # Any match makes a number valid, so the likeliest types go first: a buyer's number is
        # mobile or fixed line (a 3-number order then costs 3 pattern matches rather than 30).
        kinds = [metadata.fixed_line]
        if not metadata.same_mobile_and_fixed_line_pattern:  # the library skips mobile then
            kinds.append(metadata.mobile)
        kinds += [metadata.premium_rate, metadata.toll_free, metadata.shared_cost, metadata.voip,
                  metadata.personal_number, metadata.pager, metadata.uan, metadata.voicemail]
        self.types = tuple(d for d in map(_desc, kinds) if d is not None)

    def matches(self, national: str) -> bool:
        """What `_number_type_helper(...) != UNKNOWN` says."""
        if not _matches(self.general, national):
            return False
        length = len(national)
        for lengths, pattern in self.types:  # (_matches inlined: this runs for every phone number)
            if (not lengths or length in lengths) and pattern.fullmatch(national) is not None:
                return True
        return False


_Desc = tuple[frozenset[int], "re.Pattern[str]"]
_RANGES: dict[tuple[int, str], _Ranges | None] = {}  # non-geographic codes all share region "001"


def _desc(desc: Any) -> _Desc | None:
    pattern = desc.national_number_pattern if desc is not None else None
    return (frozenset(desc.possible_length or ()), re.compile(pattern)) if pattern else None


def _matches(desc: _Desc | None, national: str) -> bool:
    if desc is None:
        return False
    lengths, pattern = desc
    return (not lengths or len(national) in lengths) and pattern.fullmatch(national) is not None


def _ranges(lib: Any, country_code: int, region: str) -> _Ranges | None:
    key = (country_code, region)
    if key in _RANGES:
        return _RANGES[key]
    metadata = lib.PhoneMetadata.metadata_for_region_or_calling_code(country_code, region)
    ranges = _RANGES[key] = _Ranges(metadata) if metadata is not None else None
    return ranges


def is_valid(country_code: int, national: str) -> bool:
    """What phonenumbers.is_valid_number says of +<country_code><national>: the region is the
    one its leading digits pick, else the first whose ranges hold the number (the library's
    region_code_for_number), and the number lies in one of that region's number ranges."""
    lib = _phonenumbers or phone_library()
    regions = lib.COUNTRY_CODE_TO_REGION_CODE.get(country_code)
    if not regions:
        return False
    if len(regions) == 1:
        ranges = _ranges(lib, country_code, regions[0])
        return ranges is not None and ranges.matches(national)
    for region in regions:  # ranges built as needed: +1 alone has 25 regions
        ranges = _ranges(lib, country_code, region)
        if ranges is None:
            continue
        if ranges.leading is not None:
            if ranges.leading.match(national):
                return ranges.matches(national)
        elif ranges.matches(national):
            return True
    return False
