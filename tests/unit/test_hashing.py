"""Hashing and normalization of user identifiers (reference §2.3 and §5).

Expected digests are either the published test vectors or computed here with hashlib from
a normalized string written out by hand, never taken from the library's own output.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tiktok_relay.errors import EventValidationError
from tiktok_relay.tiktok import normalize
from tiktok_relay.tiktok.models import Event, User

# Reference §5 test vectors (they match Segment's fixtures).
EMAIL_VECTOR = "eb9869a32b532840dd6aa714f7a872d21d6f650fc5aa933d9feefc64708969c7"  # coreytest1231@gmail.com
PHONE_VECTOR = "910a625c4ba147b544e6bd2f267e130ae14c591b6ba9c25cb8573322dedbebd0"  # +15555555555
# TikTok's own E.164 example ("example for US: +12133734253"): a valid number, unlike the 555 one.
TIKTOK_PHONE = "+12133734253"
EXTERNAL_ID_VECTOR = "481f202262e9c5ccc48d24e60798fadaa5f6ff1f8369f7ab927c04c3aa682a7f"  # testid123
DIGITS_VECTOR = "065f45b37b5dad20b5a67158468161cdf35b1ae3cda2a666e7852feab7424897"  # 1231231234
EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

T = 1_700_000_000


def sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def user_wire(**fields) -> dict:
    """The `user` object as it goes on the wire."""
    return Event(event="Purchase", event_time=T, user=fields).wire()["user"]


def test_reference_vectors_are_what_sha256_gives():
    # Guards the constants above: if one were mistyped every test below would be meaningless.
    assert sha("coreytest1231@gmail.com") == EMAIL_VECTOR
    assert sha("+15555555555") == PHONE_VECTOR
    assert sha("testid123") == EXTERNAL_ID_VECTOR
    assert sha("1231231234") == DIGITS_VECTOR
    assert sha("") == EMPTY_SHA256


# --- the published vectors through the public functions and the model -----------------------


@pytest.mark.parametrize(
    "raw", ["coreytest1231@gmail.com", "  coreytest1231@gmail.com\t", "CoreyTest1231@GMAIL.com", " COREYTEST1231@GMAIL.COM "]
)
def test_email_is_trimmed_and_lowercased_then_hashed(raw):
    assert normalize.hash_email(raw) == EMAIL_VECTOR
    assert user_wire(email=raw) == {"email": [EMAIL_VECTOR]}


@pytest.mark.parametrize("raw", ["+1213-373-4253", "+1 213 373 4253", "+1 (213) 373-4253", "+12133734253"])
def test_phone_hashes_e164_with_the_plus(raw):
    assert normalize.hash_phone(raw) == sha(TIKTOK_PHONE)
    assert user_wire(phone=raw) == {"phone": [sha(TIKTOK_PHONE)]}


def test_phone_in_national_format_needs_a_region():
    assert normalize.hash_phone("(213) 373-4253", "US") == sha(TIKTOK_PHONE)
    assert user_wire(phone="213-373-4253", phone_region="US") == {"phone": [sha(TIKTOK_PHONE)]}


@pytest.mark.parametrize("raw", ["+1555-555-5555", "+1 (555) 555-5555", "+15555555555"])
def test_the_reference_555_vector_is_no_valid_number_and_is_refused(raw):
    # Segment's fixture hashes it (PHONE_VECTOR); no 555 area code exists, so it matches nobody.
    with pytest.raises(ValueError, match="not a valid phone number"):
        normalize.hash_phone(raw)
    with pytest.raises(EventValidationError, match="user.phone"):
        user_wire(phone=raw)


@pytest.mark.parametrize("raw", ["testid123", "  testid123 ", "\ttestid123\n"])
def test_external_id_is_trimmed_only(raw):
    assert normalize.hash_external_id(raw) == EXTERNAL_ID_VECTOR
    assert user_wire(external_id=raw) == {"external_id": [EXTERNAL_ID_VECTOR]}


def test_external_id_keeps_case_and_inner_spaces():
    assert normalize.hash_external_id("TestId123") == sha("TestId123")
    assert normalize.hash_external_id("TestId123") != EXTERNAL_ID_VECTOR
    assert normalize.hash_external_id(" cust 42 ") == sha("cust 42")


def test_external_id_digits_vector_from_string_and_int():
    assert normalize.hash_external_id("1231231234") == DIGITS_VECTOR
    assert normalize.hash_external_id(1231231234) == DIGITS_VECTOR
    assert user_wire(external_id=1231231234) == {"external_id": [DIGITS_VECTOR]}


# --- names, zip, places ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, normalized",
    [
        ("Jane", "jane"),
        ("  JANE  ", "jane"),
        ("Mary-Jane", "maryjane"),
        ("O'Brien", "obrien"),
        ("Van der Berg", "vanderberg"),
        ("St. John-Smith, Jr.", "stjohnsmithjr"),
        ("José", "josé"),
        ("Zoë", "zoë"),
        ("Ng\u00fay\u1ec5n", "ngúyễn"),
        ("François-Xavier", "françoisxavier"),
        ("Łukasz", "łukasz"),
        ("Jane 🎉", "jane"),
    ],
)
def test_names_are_lowercased_without_spaces_or_punctuation(raw, normalized):
    expected = sha(unicodedata.normalize("NFC", normalized))
    assert normalize.hash_name(raw) == expected
    assert user_wire(first_name=raw, last_name=raw) == {"first_name": expected, "last_name": expected}


def test_decomposed_and_composed_accents_hash_the_same():
    composed = "Zo\u00eb"
    decomposed = "Zoe\u0308"
    assert composed != decomposed
    assert normalize.hash_name(decomposed) == normalize.hash_name(composed) == sha("zo\u00eb")


@pytest.mark.parametrize(
    "raw, normalized",
    [
        ("94107", "94107"),
        ("94107-1234", "94107"),  # a US ZIP+4: its first five digits
        (" 94107 - 1234 ", "94107"),
        ("SW1A 1AA", "sw1a1aa"),
        ("sw1a1aa", "sw1a1aa"),
        ("75008", "75008"),
        ("K1A 0B1", "k1a0b1"),
        ("100-0001", "1000001"),
    ],
)
def test_zip_code_without_spaces_or_dashes_then_hashed(raw, normalized):
    assert normalize.hash_zip(raw) == sha(normalized)
    assert user_wire(zip_code=raw) == {"zip_code": sha(normalized)}


def test_zip_code_given_as_int_is_hashed_as_its_digits():
    assert user_wire(zip_code=94107) == {"zip_code": sha("94107")}


@pytest.mark.parametrize(
    "field, raw, expected",
    [
        ("city", "New York", "newyork"),
        ("city", "  San Francisco ", "sanfrancisco"),
        ("city", "São Paulo", "sãopaulo"),
        ("city", "Saint-Étienne", "saintétienne"),
        ("state", "CA", "ca"),
        ("state", "New South Wales", "newsouthwales"),
        ("country", "US", "us"),
        ("country", "gb", "gb"),
    ],
)
def test_city_state_country_are_normalized_but_not_hashed(field, raw, expected):
    assert user_wire(**{field: raw}) == {field: expected}


@pytest.mark.parametrize(
    "field, raw",
    [
        ("ip", "203.0.113.7"),
        ("user_agent", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)"),
        ("ttclid", "E.C.P.CqgBa1b2c3d4e5f6.extra.dots"),
        ("ttp", "2F7h37YkS1j57AYSKTI7IHhJPYH"),
        ("locale", "en-US"),
    ],
)
def test_ip_user_agent_ttclid_ttp_locale_are_never_hashed(field, raw):
    assert user_wire(**{field: raw}) == {field: raw}
    # Surrounding whitespace goes, the value itself is untouched (case included).
    assert user_wire(**{field: f"  {raw} "}) == {field: raw}


def test_a_64_hex_ttp_is_not_mistaken_for_anything_and_sent_as_is():
    value = "A" * 64
    assert user_wire(ttp=value) == {"ttp": value}


# --- pre-hashed input -------------------------------------------------------------------------

PREHASHED = sha("someone@example.com")


@pytest.mark.parametrize("field", ["email", "phone", "external_id"])
@pytest.mark.parametrize("given", [PREHASHED, PREHASHED.upper(), f"  {PREHASHED.upper()} "])
def test_prehashed_list_identifiers_pass_through_lowercased(field, given):
    assert user_wire(**{field: given}) == {field: [PREHASHED]}


@pytest.mark.parametrize("field", ["first_name", "last_name", "zip_code"])
@pytest.mark.parametrize("given", [PREHASHED, PREHASHED.upper()])
def test_prehashed_single_identifiers_pass_through_lowercased(field, given):
    assert user_wire(**{field: given}) == {field: PREHASHED}


def test_prehashed_detection_functions():
    assert normalize.is_sha256_hex(PREHASHED)
    assert normalize.is_sha256_hex(PREHASHED.upper())
    assert not normalize.is_sha256_hex(PREHASHED[:-1])
    assert not normalize.is_sha256_hex(PREHASHED + "0")
    assert not normalize.is_sha256_hex(PREHASHED[:-1] + "g")
    for hasher in (normalize.hash_email, normalize.hash_phone, normalize.hash_external_id,
                   normalize.hash_name, normalize.hash_zip):
        assert hasher(PREHASHED.upper()) == PREHASHED


def test_almost_a_hash_is_treated_as_raw_and_hashed():
    not_quite = PREHASHED[:63]
    assert normalize.hash_external_id(not_quite) == sha(not_quite)
    too_long = PREHASHED + "a"
    assert normalize.hash_external_id(too_long) == sha(too_long)


def test_mixed_raw_and_prehashed_in_one_list():
    raw_hash = sha("jane@example.com")
    assert user_wire(email=["Jane@Example.com", raw_hash.upper()]) == {"email": [raw_hash]}
    assert user_wire(email=["Jane@Example.com", PREHASHED]) == {"email": [raw_hash, PREHASHED]}


# --- lists, empties, duplicates -----------------------------------------------------------------


def test_one_value_or_a_list_both_become_a_list():
    assert user_wire(email="coreytest1231@gmail.com") == {"email": [EMAIL_VECTOR]}
    assert user_wire(email=["coreytest1231@gmail.com"]) == {"email": [EMAIL_VECTOR]}
    assert user_wire(email=("coreytest1231@gmail.com",)) == {"email": [EMAIL_VECTOR]}


def test_list_is_deduplicated_after_normalization_keeping_order():
    wire = user_wire(email=["b@example.com", "coreytest1231@gmail.com", " B@Example.COM", "COREYTEST1231@gmail.com"])
    assert wire == {"email": [sha("b@example.com"), EMAIL_VECTOR]}
    wire = user_wire(phone=["+1213-373-4253", "+1 (213) 373 4253", "+44 20 7946 0958"])
    assert wire == {"phone": [sha(TIKTOK_PHONE), sha("+442079460958")]}


def test_empty_values_are_dropped_from_lists():
    wire = user_wire(external_id=["", "  ", None, "testid123", ""])
    assert wire == {"external_id": [EXTERNAL_ID_VECTOR]}


@pytest.mark.parametrize(
    "field, empty",
    [(f, e) for f in ("email", "phone", "external_id") for e in ("", "   ", [], [""], ["", "  "], [None], None)]
    + [(f, e) for f in ("first_name", "last_name", "zip_code") for e in ("", "   ", "\t\n", None)],
)
def test_empty_identifier_is_omitted_never_the_hash_of_empty(field, empty):
    event = Event(event="Purchase", event_time=T, user={field: empty}, properties={"value": 1})
    wire = event.wire()
    assert "user" not in wire  # the whole block goes when nothing is left
    assert EMPTY_SHA256 not in event.model_dump_json()


@pytest.mark.parametrize("field", ["first_name", "last_name", "zip_code"])
def test_single_value_identifiers_refuse_a_list(field):
    # TikTok takes one string for these (reference §2.3); a list is an input mistake.
    with pytest.raises(EventValidationError) as caught:
        User(**{field: ["Jane", "Janet"]})
    assert caught.value.problems[0].loc == field
    assert "Jane" not in str(caught.value)


@pytest.mark.parametrize("field", ["first_name", "last_name", "zip_code"])
def test_value_that_normalizes_to_nothing_is_omitted(field):
    raw = "!!! --- ..." if field != "zip_code" else " - - "
    wire = Event(event="Purchase", event_time=T, user={field: raw, "ttp": "abc"}).wire()
    assert wire["user"] == {"ttp": "abc"}


def test_hash_functions_never_return_hash_of_empty():
    for hasher in (normalize.hash_email, normalize.hash_phone, normalize.hash_external_id,
                   normalize.hash_name, normalize.hash_zip):
        assert hasher("") is None
        assert hasher("   ") is None
    assert normalize.hash_name("-- '' --") is None
    assert normalize.hash_each(["", None, "  "], normalize.hash_email) is None


def test_every_hashed_field_is_sent_hashed_in_one_event():
    wire = user_wire(
        email="Jane.Doe@Example.com",
        phone="+44 20 7946 0958",
        external_id="Cust-42",
        first_name="Jane",
        last_name="Doe-Smith",
        zip_code="SW1A 1AA",
        city="London",
        country="GB",
        ip="2001:db8::1",
    )
    assert wire == {
        "country": "gb",
        "city": "london",
        "email": [sha("jane.doe@example.com")],
        "phone": [sha("+442079460958")],
        "external_id": [sha("Cust-42")],
        "first_name": sha("jane"),
        "last_name": sha("doesmith"),
        "zip_code": sha("sw1a1aa"),
        "ip": "2001:db8::1",
    }


# --- IP addresses -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("203.0.113.7", "203.0.113.7"),
        (" 8.8.8.8 ", "8.8.8.8"),
        ("0.0.0.0", "0.0.0.0"),
        ("2001:db8::1", "2001:db8::1"),
        ("2001:0db8:0000:0000:0000:ff00:0042:8329", "2001:db8::ff00:42:8329"),
        ("2001:DB8::ABCD", "2001:db8::abcd"),
        ("::1", "::1"),
    ],
)
def test_ipv4_and_ipv6_are_accepted_in_canonical_form(raw, expected):
    assert user_wire(ip=raw) == {"ip": expected}


def test_ipv4_mapped_ipv6_is_accepted():
    # Python 3.13 prints it dotted (RFC 5952 section 5), 3.11 in hex; both name the same address.
    assert user_wire(ip="::FFFF:192.0.2.128")["ip"] in ("::ffff:192.0.2.128", "::ffff:c000:280")


@pytest.mark.parametrize("raw", ["256.1.1.1", "1.2.3", "2001:db8::g", "2001:db8:::1", "localhost", "1.2.3.4:80"])
def test_invalid_ip_is_an_error(raw):
    with pytest.raises(EventValidationError) as caught:
        User(ip=raw)
    assert [p.loc for p in caught.value.problems] == ["ip"]
    assert raw not in str(caught.value)


# --- invalid emails -----------------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["janedoe.example.com", "@example.com", "janedoe@", "jane doe@example.com"])
def test_invalid_email_is_an_error_without_the_value(raw):
    with pytest.raises(EventValidationError) as caught:
        User(email=raw)
    assert caught.value.problems[0].loc == "email"
    assert "janedoe" not in str(caught.value) and "jane doe" not in str(caught.value)


@pytest.mark.parametrize("field", ["email", "external_id", "first_name", "zip_code", "city"])
def test_lone_surrogates_are_a_validation_error_that_does_not_echo_them(field):
    """JSON can carry "\\ud800"; it cannot be encoded, so it is refused like any invalid value."""
    from tiktok_relay.errors import EventValidationError
    from tiktok_relay.tiktok.models import User

    value = "broken\ud800value@example.com"
    with pytest.raises(EventValidationError) as caught:
        User(**{field: value})
    assert field in str(caught.value) and "\ud800" not in str(caught.value) and "broken" not in str(caught.value)


@settings(max_examples=300, deadline=None)
@given(value=st.one_of(st.text(max_size=70), st.from_regex(r"\s*[0-9a-fA-F]{64}\s*", fullmatch=True),
                       st.integers(), st.sampled_from(["a@b.co", "+1 415 555 2671", "SW1A 1AA", "94103-1234", "Zoë"])),
       region=st.sampled_from([None, "US", "GB"]), country=st.sampled_from([None, "us", "gb"]))
def test_every_hasher_gives_64_lowercase_hex_digits_or_nothing(value, region, country):
    """What the models' pattern for hashes checks, and what tiktok/encode.py relies on unchecked."""
    hashers = (normalize.hash_email, normalize.hash_external_id, normalize.hash_name,
               lambda v: normalize.hash_phone(v, region), lambda v: normalize.hash_zip(v, country))
    for hasher in hashers:
        try:
            digest = hasher(value)
        except ValueError:
            continue
        assert digest is None or re.fullmatch(r"[0-9a-f]{64}", digest)
