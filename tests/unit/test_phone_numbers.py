"""Phone numbers to E.164 (with the '+') before hashing, across regions and formats.

Each expected value was worked out from the country's numbering plan (country code, trunk
prefix dropped except in Italy, international prefixes 00/011) and checked against
`phonenumbers.parse`/`format_number(E164)` directly, not copied from the library's output.
"""

from __future__ import annotations

import hashlib
import json

import pytest

from tiktok_relay.errors import EventValidationError
from tiktok_relay.tiktok import phones
from tiktok_relay.tiktok.models import Event, User
from tiktok_relay.tiktok.ndjson import encode_lines

T = 1_700_000_000


def sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# (input, region hint or None, E.164)
PHONES = [
    # United States / Canada (+1, trunk prefix 1, international prefix 011)
    ("+1 415-555-2671", None, "+14155552671"),
    ("(415) 555-2671", "US", "+14155552671"),
    ("415.555.2671", "US", "+14155552671"),
    ("1-415-555-2671", "US", "+14155552671"),
    ("+1 213 373 4253", None, "+12133734253"),
    ("(416) 555-0123", "CA", "+14165550123"),
    ("+1 (604) 555-0199", None, "+16045550199"),
    ("011 44 20 7946 0958", "US", "+442079460958"),
    # United Kingdom (+44, trunk 0, IDD 00); "(0)" is the trunk prefix written in brackets
    ("+44 (0) 20 7946 0958", None, "+442079460958"),
    ("+44 0 20 7946 0958", None, "+442079460958"),
    ("+44 20 7946 0958", None, "+442079460958"),
    ("020 7946 0958", "GB", "+442079460958"),
    ("0044 20 7946 0958", "GB", "+442079460958"),
    ("07400 900123", "GB", "+447400900123"),
    # France (+33, trunk 0)
    ("+33 1 42 68 53 00", None, "+33142685300"),
    ("01 42 68 53 00", "FR", "+33142685300"),
    ("06 12 34 56 78", "FR", "+33612345678"),
    ("+33 (0)6 12 34 56 78", None, "+33612345678"),
    # Germany (+49, trunk 0)
    ("+49 30 901820", None, "+4930901820"),
    ("030 901820", "DE", "+4930901820"),
    ("0151 23456789", "DE", "+4915123456789"),
    # India (+91, trunk 0)
    ("+91 98765 43210", None, "+919876543210"),
    ("098765 43210", "IN", "+919876543210"),
    ("98765 43210", "IN", "+919876543210"),
    # Brazil (+55)
    ("+55 11 91234-5678", None, "+5511912345678"),
    ("(11) 91234-5678", "BR", "+5511912345678"),
    # Australia (+61, trunk 0)
    ("+61 2 9374 4000", None, "+61293744000"),
    ("0412 345 678", "AU", "+61412345678"),
    # Japan (+81, trunk 0)
    ("+81 3-1234-5678", None, "+81312345678"),
    ("03-1234-5678", "JP", "+81312345678"),
    ("090-1234-5678", "JP", "+819012345678"),
    # Mexico (+52)
    ("+52 55 1234 5678", None, "+525512345678"),
    ("55 1234 5678", "MX", "+525512345678"),
    # Italy (+39) keeps the leading zero of fixed lines in E.164
    ("+39 06 6982 1234", None, "+390669821234"),
    ("06 6982 1234", "IT", "+390669821234"),
    ("0039 06 6982 1234", "IT", "+390669821234"),
    ("+39 312 345 6789", None, "+393123456789"),
    # China (+86, trunk 0)
    ("+86 138 0013 8000", None, "+8613800138000"),
    ("138 0013 8000", "CN", "+8613800138000"),
    ("010 1234 5678", "CN", "+861012345678"),
    # South Africa (+27, trunk 0)
    ("+27 21 123 4567", None, "+27211234567"),
    ("021 123 4567", "ZA", "+27211234567"),
    # Netherlands (+31, trunk 0)
    ("+31 20 123 4567", None, "+31201234567"),
    ("020 123 4567", "NL", "+31201234567"),
    ("06 12345678", "NL", "+31612345678"),
    # Spain (+34, no trunk prefix)
    ("+34 912 34 56 78", None, "+34912345678"),
    ("912 34 56 78", "ES", "+34912345678"),
    # Singapore, Russia (trunk 8)
    ("+65 6123 4567", None, "+6561234567"),
    ("+7 495 123-45-67", None, "+74951234567"),
    ("8 (495) 123-45-67", "RU", "+74951234567"),
    # Extensions are not part of the number
    ("+1 415 555 2671 ext. 12", None, "+14155552671"),
    ("(415) 555-2671 x123", "US", "+14155552671"),
    ("020 7946 0958 ext 22", "GB", "+442079460958"),
    # A '+' number ignores the region hint
    ("+1 415 555 2671", "GB", "+14155552671"),
    ("+44 20 7946 0958", "US", "+442079460958"),
    # Full-width digits and a tel: URI
    ("\uff0b\uff11 \uff14\uff11\uff15 \uff15\uff15\uff15 \uff12\uff16\uff17\uff11", None, "+14155552671"),
    ("tel:+1-415-555-2671", None, "+14155552671"),
    # Surrounding whitespace
    ("   +49 30 901820\t", None, "+4930901820"),
]


def test_the_table_is_big_and_varied_enough():
    assert len(PHONES) >= 30
    regions = {e164[:3] for _, _, e164 in PHONES}
    assert len(regions) >= 15
    assert sum(1 for _, region, _ in PHONES if region is None) >= 10
    assert sum(1 for _, region, _ in PHONES if region is not None) >= 10


@pytest.mark.parametrize("raw, region, e164", PHONES)
def test_normalize_phone_gives_e164(raw, region, e164):
    assert phones.normalize_phone(raw, region) == e164


@pytest.mark.parametrize("raw, region, e164", PHONES)
def test_phone_in_an_event_is_the_hash_of_e164(raw, region, e164):
    user = {"phone": raw}
    if region:
        user["phone_region"] = region
    wire = Event(event="Purchase", event_time=T, user=user).wire()
    # TikTok's rule: China's numbers without their country code, every other with it.
    assert wire["user"] == {"phone": [sha(e164.removeprefix("+86"))]}
    assert "phone_region" not in wire["user"]  # an input-only hint, never sent


@pytest.mark.parametrize(
    "raw, region",
    [
        ("(415) 555-2671", None),  # national format without a region
        ("020 7946 0958", None),
        ("12345", None),
        ("call me maybe", None),
        ("call me maybe", "US"),
        ("+1 23", None),  # too short for +1
        ("123", "US"),
        ("+999 1234 5678", None),  # no such country code
        ("+44 20 7946 0958 0000 0000", None),  # far too long
        ("+", None),
        ("0", "GB"),
        ("john.smith@example.com", "US"),
    ],
)
def test_invalid_phone_raises_the_library_error(raw, region):
    with pytest.raises(ValueError):
        phones.normalize_phone(raw, region)
    user = {"phone": raw}
    if region:
        user["phone_region"] = region
    with pytest.raises(EventValidationError) as caught:
        Event(event="Purchase", event_time=T, user=user)
    assert [p.loc for p in caught.value.problems] == ["user.phone"]
    assert raw not in str(caught.value)


def test_national_number_without_region_explains_how_to_fix_it():
    with pytest.raises(EventValidationError) as caught:
        User(phone="(415) 555-2671")
    message = str(caught.value)
    assert "country code" in message and "region" in message
    assert "415" not in message


def test_one_bad_phone_in_a_list_fails_the_field():
    with pytest.raises(EventValidationError) as caught:
        User(phone=["+14155552671", "555"])
    assert caught.value.problems[0].loc == "phone"


# --- which region hint wins ----------------------------------------------------------------------
# "06 12 34 56 78" is a valid national number in NL, FR and DE, each giving a different E.164.
AMBIGUOUS = "06 12 34 56 78"
NL, FR, DE = "+31612345678", "+33612345678", "+49612345678"


def event_user(user: dict, context_region: str | None = None) -> dict:
    data = {"event": "Purchase", "event_time": T, "user": user}
    return Event.model_validate(data, context={"phone_region": context_region}).wire()["user"]


def test_user_phone_region_wins_over_country_and_context():
    user = event_user({"phone": AMBIGUOUS, "phone_region": "NL", "country": "FR"}, "DE")
    assert user["phone"] == [sha(NL)]
    assert user["country"] == "fr"


def test_user_country_is_next():
    assert event_user({"phone": AMBIGUOUS, "country": "FR"}, "DE")["phone"] == [sha(FR)]
    assert event_user({"phone": AMBIGUOUS, "country": " fr "}, "DE")["phone"] == [sha(FR)]


def test_context_phone_region_is_last():
    assert event_user({"phone": AMBIGUOUS}, "DE")["phone"] == [sha(DE)]
    assert event_user({"phone": AMBIGUOUS}, "de")["phone"] == [sha(DE)]


def test_a_country_name_is_read_as_its_code_and_so_is_a_region_hint():
    user = event_user({"phone": AMBIGUOUS, "country": "France"}, "DE")
    assert user["phone"] == [sha(FR)]
    assert user["country"] == "fr"


def test_a_country_that_is_no_country_is_an_error_naming_it():
    with pytest.raises(EventValidationError, match="user.country"):
        event_user({"phone": AMBIGUOUS, "country": "Atlantis"}, "DE")


def test_no_hint_at_all_is_an_error():
    with pytest.raises(EventValidationError):
        event_user({"phone": AMBIGUOUS})


def test_hint_does_not_change_a_plus_number():
    assert event_user({"phone": "+33 6 12 34 56 78", "phone_region": "NL"}, "DE")["phone"] == [sha(FR)]


def test_invalid_phone_region_is_an_error_naming_the_field():
    with pytest.raises(EventValidationError) as caught:
        User(phone="+14155552671", phone_region="XX")
    assert [p.loc for p in caught.value.problems] == ["phone_region"]


def test_empty_phone_region_is_ignored():
    assert User(phone="+14155552671", phone_region="").phone == [sha("+14155552671")]


def test_ndjson_encoding_passes_phone_region_as_the_context():
    # What `--phone-region` / TIKTOK_PHONE_REGION set.
    line = '{"event":"Purchase","event_time":1700000000,"user":{"phone":"06 12 34 56 78"}}'
    parsed = encode_lines([line], phone_region="NL")
    assert parsed.problems == []
    assert json.loads(parsed.events[0])["user"]["phone"] == [sha(NL)]
    parsed = encode_lines([line])
    assert [(p.line, p.problem.loc) for p in parsed.problems] == [(1, "user.phone")]


@pytest.mark.parametrize("region, expected", [("us", "US"), (" gb ", "GB"), ("XX", None), ("USA", None), ("", None), (None, None), (44, None)])
def test_normalize_region(region, expected):
    assert phones.normalize_region(region) == expected
