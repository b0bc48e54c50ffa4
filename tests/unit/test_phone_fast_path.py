"""The phone fast path must give exactly what the full parser gives.

`phones.fast_e164` reads '+<country code>...' numbers, and national numbers with a region,
without `phonenumbers.parse` (a tenth of its cost), following the parser's steps with the
installed library's metadata. These tests compare it with the parser on numbers of every
country calling code and every region, with and without national (trunk) prefixes, so a
phonenumbers upgrade that changed the parser's rules would fail here rather than silently
change hashes. `phones.is_valid` is held to `phonenumbers.is_valid_number` the same way.
"""

from __future__ import annotations

import random

import phonenumbers
import pytest

from tiktok_relay.tiktok import phones

TYPES = (
    phonenumbers.PhoneNumberType.FIXED_LINE,
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.TOLL_FREE,
    phonenumbers.PhoneNumberType.VOIP,
)


def parser_e164(text: str, region: str | None = None) -> str | None:
    """What normalize_phone's full path accepts, in E.164; None where it raises."""
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def parser_valid_e164(text: str, region: str | None = None) -> str | None:
    """What normalize_phone gives: the parser's E.164, only for numbers the library calls valid."""
    e164 = parser_e164(text, region)
    if e164 is None or not phonenumbers.is_valid_number(phonenumbers.parse(e164, None)):
        return None
    return e164


def candidates(seed: int):
    """'+' numbers for every country code: example numbers, mangled, behind national prefixes."""
    rng = random.Random(seed)
    for cc, regions in sorted(phonenumbers.COUNTRY_CODE_TO_REGION_CODE.items()):
        nationals = set()
        for region in regions:
            for kind in TYPES:
                if region == "001":
                    example = phonenumbers.example_number_for_non_geo_entity(cc)
                else:
                    example = phonenumbers.example_number_for_type(region, kind)
                if example is not None:
                    nationals.add(phonenumbers.national_significant_number(example))
        main = phonenumbers.PhoneMetadata.metadata_for_region_or_calling_code(
            cc, phonenumbers.region_code_for_country_code(cc)
        )
        trunk = (main.national_prefix or "") if main is not None else ""
        for national in sorted(nationals) or ["2345678"]:
            variants = [national, national[:-1], national + "5", national[: len(national) // 2]]
            variants.append("".join(rng.choice("0123456789") for _ in national))
            for body in variants:
                for prefix in sorted({"", "0", "00", "1", "8", "9", "15", "90", trunk}):
                    digits = f"{cc}{prefix}{body}"
                    yield "+" + digits
                    spaced = " ".join(digits[i : i + rng.randint(1, 4)] for i in range(0, len(digits), 3))
                    yield "+" + spaced
                    yield f"+{cc} ({prefix or '0'}) {body[:3]}-{body[3:]}"


def test_fast_path_equals_the_parser_for_every_country_code():
    checked = taken = 0
    mismatches = []
    for text in candidates(seed=2024):
        fast = phones.fast_e164(text)
        checked += 1
        if fast is None:
            continue
        taken += 1
        expected = parser_e164(text)
        if fast != expected:
            mismatches.append((text, fast, expected))
    assert not mismatches[:20]
    assert checked > 20_000 and taken > checked // 4  # the comparison covers the fast path well


def test_validity_equals_the_library_for_every_country_code_and_region():
    checked = valid = 0
    mismatches = []
    for text in candidates(seed=7):
        try:
            number = phonenumbers.parse(text, None)
        except phonenumbers.NumberParseException:
            continue
        national = phonenumbers.national_significant_number(number)
        expected = phonenumbers.is_valid_number(number)
        checked += 1
        valid += expected
        if phones.is_valid(number.country_code, national) != expected:
            mismatches.append((text, expected))
    assert not mismatches[:20]
    assert checked > 20_000 and checked // 20 < valid < checked  # both answers are well covered


@pytest.mark.parametrize(("text", "region"), [
    ("555-555-5555", "US"), ("+1 555 555 5555", None), ("123-123-1234", "US"), ("9901109922", "US"),
    ("+1 990 110 9922", None),
])
def test_numbers_that_only_have_a_possible_length_are_refused(text, region):
    assert parser_e164(text, region) is not None  # possible: the old rule hashed them
    with pytest.raises(ValueError, match="not a valid phone number"):
        phones.normalize_phone(text, region)


def test_china_is_hashed_without_its_country_code_and_others_with_it():
    assert phones.tiktok_form(phones.normalize_phone("+86 138 0000 0000")) == "13800000000"
    assert phones.tiktok_form(phones.normalize_phone("138 0000 0000", "CN")) == "13800000000"
    assert phones.tiktok_form(phones.normalize_phone("+1 213 373 4253")) == "+12133734253"
    assert phones.tiktok_form(phones.normalize_phone("+852 5123 4567")) == "+85251234567"  # Hong Kong keeps it


def national_candidates(seed: int):
    """(national number, region) for every region: example numbers as people write them, mangled."""
    rng = random.Random(seed)
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
        trunk = metadata.national_prefix or ""
        for kind in TYPES:
            example = phonenumbers.example_number_for_type(region, kind)
            if example is None:
                continue
            national = phonenumbers.national_significant_number(example)
            written = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.NATIONAL)
            yield written, region
            yield written.replace(" ", "-"), region
            random_body = "".join(rng.choice("0123456789") for _ in national)
            for body in (national, national[:-1], national + "5", random_body):
                for prefix in sorted({"", "0", "00", "1", "8", "011", str(metadata.country_code), trunk}):
                    yield prefix + body, region
                    yield f"({prefix or '0'}) {body[:3]} {body[3:]}", region


def test_fast_path_equals_the_parser_for_national_numbers_in_every_region():
    checked = taken = 0
    mismatches = []
    for text, region in national_candidates(seed=2024):
        fast = phones.fast_e164(text, region)
        checked += 1
        if fast is None:
            continue
        taken += 1
        expected = parser_e164(text, region)
        if fast != expected:
            mismatches.append((text, region, fast, expected))
    assert not mismatches[:20]
    assert checked > 20_000 and taken > checked // 8  # most mangled numbers are the parser's to refuse


@pytest.mark.parametrize(
    "text, region",
    [
        ("07911 123456", "GB"),  # trunk 0 stripped
        ("07911" + " " * 250 + "123456", "GB"),  # longer than the parser reads
        ("011 44 7911 123456", "US"),  # an international call prefix: the parser's business
        ("447911123456", "GB"),  # starts with the country code
        ("06 6982 1234", "IT"),  # Italy keeps its leading zero
        ("07911 123456", "gb"),  # not a region code the parser takes
    ],
)
def test_normalize_phone_agrees_with_the_parser_on_tricky_national_input(text, region):
    expected = parser_valid_e164(text.strip(), region)
    if expected is None:
        with pytest.raises(ValueError):
            phones.normalize_phone(text, region)
    else:
        assert phones.normalize_phone(text, region) == expected


@pytest.mark.parametrize(
    "text",
    [
        "+014155552671",  # a leading 0 is no country code: the parser refuses it
        "+1\t4155552671",  # a tab inside is not a separator the parser knows
        "+1" + " " * 300 + "4155552671",  # longer than the parser reads
        "+44 (0)20 7946 0958",  # trunk prefix in brackets: stripped
        "+54 11 15 1234 5678",  # Argentina's mobile '15' is rewritten to a leading 9
        "+39 06 6982 1234",  # Italy keeps its leading zero
        "+7 8 495 123-45-67",  # Russia's trunk 8
        "+999 1234 5678",  # no such country code
    ],
)
def test_normalize_phone_agrees_with_the_parser_on_tricky_input(text):
    expected = parser_valid_e164(text.strip())
    if expected is None:
        with pytest.raises(ValueError):
            phones.normalize_phone(text)
    else:
        assert phones.normalize_phone(text) == expected
