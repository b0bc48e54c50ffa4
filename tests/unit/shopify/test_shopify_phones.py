"""The mapping's phone hashing gives exactly `normalize.hash_phone(value, region)` per value.

The mapping parses a national number itself when that is certainly what phonenumbers' parser
would do (it is much cheaper), and parses a number seen in another format only once. These
tests hold it to the core normalizer over many numbers and every supported region, so a
change in either (or in phonenumbers' metadata) that makes them disagree fails here.
"""

from __future__ import annotations

import random

import phonenumbers
import pytest

from tests.support.shopify import sha
from tiktok_relay.sources.common.customer import hash_phones
from tiktok_relay.tiktok import normalize

HAND_PICKED = [
    "07911 123456", "07911\t123456", "+44 7911 123456", "+44 (0)20 7946 0018", "020 7946 0018", "(415) 555-2671",
    "1 415 555 2671", "14155552671", "415.555.2671", "06 12 34 56 78", "030 1234567", "06 1234 5678",
    "333 123 4567", "011 54 9 11 1234 5678", "15 1234 5678", "13800000000", "090-1234-5678", "0412 345 678",
    "8 912 345 67 89", "810 44 7911 123456", "00 44 7911 123456", "011 44 7911 123456", "555-555-SHIP",
    "123-123-1234", "555-555-5555", "0800 123 4567", "1800201234567", "180020 123456", "447911123456",
    "44 20 7946 0018", "7 912 345 6789", "89123456789", "07781 123456", "242 357 1234", "0 11 2345 6789",
    "+0523560697810", "+1", "0", "", "   ", "++44 7911 123456", "+44 7911 123456 ext. 12", "07911 123456 x12",
    "٠٧٩١١ ١٢٣٤٥٦", "tel:+44-7911-123456", "+44 7911 12345678901234", "0049 30 1234567", "+49 (0)30 1234567",
]
REGIONS = [None, "GB", "US", "CA", "DE", "FR", "IT", "BR", "AR", "MX", "IN", "CN", "JP", "AU", "RU", "KZ", "KR",
           "ES", "NL", "IE", "NZ", "ZA", "SG", "HK", "GG", "JE", "BS", "PL", "SE", "CH"]


def core(value, region):
    try:
        return normalize.hash_phone(value, region)
    except ValueError:
        return None


def mapped(value, region):
    warnings: list[str] = []
    hashes = hash_phones([("phone", value, region)], warnings)
    assert len(hashes) <= 1
    return hashes[0] if hashes else None, warnings


@pytest.mark.parametrize("region", REGIONS)
def test_same_hash_as_the_core_normalizer_for_hand_picked_numbers(region):
    for value in HAND_PICKED:
        result, warnings = mapped(value, region)
        assert result == core(value, region), (value, region)
        if result is None and value.strip():
            assert warnings and warnings[0].startswith("phone dropped")


def test_same_hash_as_the_core_normalizer_for_random_digits_in_every_region():
    rng = random.Random(20240503)
    samples = []
    for _ in range(120):
        digits = "".join(rng.choice("0123456789") for _ in range(rng.randint(4, 14)))
        samples.append(rng.choice(["", "0", "00", "1", "8", "7", "44", "9", "+", "+1", "+44"]) + digits)
    regions = sorted(phonenumbers.SUPPORTED_REGIONS)
    for value in samples:
        for region in regions:
            assert mapped(value, region)[0] == core(value, region), (value, region)


def test_distinct_numbers_are_each_hashed_once_in_order():
    candidates = [
        ("customer.phone", "+447400123456", "GB"),
        ("billing_address.phone", "07911 123456", "GB"),
        ("shipping_address.phone", "+44 7911 123456", "GB"),
        ("customer.default_address.phone", "07911-123-456", "GB"),
        ("phone", "(415) 555-2671", "US"),
    ]
    assert hash_phones(candidates, []) == [sha("+447400123456"), sha("+447911123456"), sha("+14155552671")]


def test_prehashed_phone_passes_through():
    digest = sha("+447911123456")
    assert hash_phones([("phone", digest.upper(), None)], []) == [digest]


def test_numbers_given_as_integers_and_wrong_types():
    warnings: list[str] = []
    assert hash_phones([("phone", 4155552671, "US"), ("customer.phone", 7.5, "US"),
                         ("billing_address.phone", {"n": 1}, "US")], warnings) == [sha("+14155552671")]
    assert warnings == ["customer.phone ignored: not a string", "billing_address.phone ignored: not a string"]


def test_uk_mobile_with_gb_billing_country():
    assert mapped("07911 123456", "GB")[0] == sha("+447911123456")
