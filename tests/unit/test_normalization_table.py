"""The README's normalization table, rule by rule: countries and US states as codes, ZIP+4 as
five digits, the SHA-256 of "" dropped, emails cleaned of what copy-paste brings along, +86
without its country code, only public IPs from the mapping; and what `properties` and
`contents[]` accept: custom parameters, `status`, `device`, `content_ids` as one or many,
quantities that are numbers, never a value that looks like an email or a phone."""

from __future__ import annotations

import hashlib
import json
import warnings

import pytest

from tiktok_relay.errors import DeprecatedEventWarning, EventValidationError
from tiktok_relay.tiktok import encode, normalize
from tiktok_relay.tiktok.currencies import ACCEPTED_CURRENCIES
from tiktok_relay.tiktok.models import Event, Properties, User

T = 1_700_000_000


def sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def user(**fields) -> dict:
    return User(**fields).wire()


@pytest.mark.parametrize(("written", "code"), [
    ("United States", "us"), ("united states of america", "us"), ("USA", "us"), ("U.S.", "us"), ("US", "us"),
    ("us", "us"), ("United Kingdom", "gb"), ("UK", "gb"), ("Great Britain", "gb"), ("GBR", "gb"),
    ("Deutschland", None), ("Germany", "de"), ("Côte d'Ivoire", "ci"), ("Cote dIvoire", "ci"), ("South Korea", "kr"),
    ("Korea, Republic of", "kr"), ("Viet Nam", "vn"), ("Vietnam", "vn"), ("Türkiye", "tr"), ("Turkey", "tr"),
    ("  France ", "fr"), ("ＵＳ", "us"),
])
def test_countries_become_iso_alpha_2_in_lower_case(written, code):
    if code is None:  # a name in another language is not guessed
        with pytest.raises(ValueError, match="not an ISO 3166-1 country"):
            normalize.normalize_country(written)
        return
    assert normalize.normalize_country(written) == code
    assert user(country=written) == {"country": code}


@pytest.mark.parametrize("written", ["Atlantis", "XX", "ZZZ", "12"])
def test_an_unknown_country_is_an_error_naming_the_field_not_the_value(written):
    with pytest.raises(EventValidationError) as caught:
        User(country=written)
    assert str(caught.value).startswith("country: not an ISO 3166-1 country code")
    assert written not in str(caught.value)


@pytest.mark.parametrize(("state", "country", "sent"), [
    ("California", "US", "ca"), ("CA", "US", "ca"), ("new york", "United States", "ny"), ("New York", None, "ny"),
    ("District of Columbia", "US", "dc"), ("Puerto Rico", "US", "pr"),
    ("Ontario", "CA", "ontario"), ("Bayern", "DE", "bayern"), ("California", "MX", "california"),
    ("Victoria", None, "victoria"),
])
def test_us_states_become_their_two_letter_codes_and_others_stay_normalized_text(state, country, sent):
    fields = {"state": state, **({"country": country} if country else {})}
    assert user(**fields)["state"] == sent


@pytest.mark.parametrize(("zip_code", "country", "hashed"), [
    ("94103-1234", None, "94103"), ("94103-1234", "US", "94103"), ("94103 1234", "US", "94103"),
    ("941031234", "US", "94103"), ("941031234", None, "941031234"), ("94103", "US", "94103"),
    ("12345-678", "BR", "12345678"), ("SW1A 1AA", "GB", "sw1a1aa"), ("100-0001", "JP", "1000001"),
    ("94103-1234", "DE", "941031234"),
])
def test_a_us_zip_plus_4_is_hashed_as_its_first_five_digits(zip_code, country, hashed):
    fields = {"zip_code": zip_code, **({"country": country} if country else {})}
    assert user(**fields)["zip_code"] == sha(hashed)


@pytest.mark.parametrize("field", ["email", "phone", "external_id", "first_name", "last_name", "zip_code"])
def test_a_prehashed_empty_string_is_dropped(field):
    for digest in (normalize.EMPTY_SHA256, normalize.EMPTY_SHA256.upper()):
        assert user(**{field: digest}) == {}
    kept = sha("x")
    assert user(**{field: kept})[field] in (kept, [kept])


def test_the_empty_hash_is_dropped_from_a_list_and_the_rest_kept():
    assert user(email=[normalize.EMPTY_SHA256, "a@example.com"]) == {"email": [sha("a@example.com")]}


@pytest.mark.parametrize("written", [
    "jane@example.com", " Jane@Example.COM ", "mailto:jane@example.com", "MAILTO:Jane@example.com?subject=Hi",
    "jane\u200b@example.com", "\u200ejane@example.com\u200f", "jane@exa\u200dmple.com", "\ufeffjane@example.com",
    "ｊａｎｅ＠ｅｘａｍｐｌｅ．ｃｏｍ", "jane\u00ad@example.com", "\u202ajane@example.com\u202c",
])
def test_emails_are_cleaned_of_what_copy_paste_brings_then_trimmed_and_lowercased(written):
    assert normalize.hash_email(written) == sha("jane@example.com")


def test_china_is_hashed_without_its_country_code_as_tiktok_says():
    assert user(phone="+86 138 0013 8000") == {"phone": [sha("13800138000")]}
    assert user(phone="138 0013 8000", phone_region="CN") == {"phone": [sha("13800138000")]}
    assert user(phone="+852 5123 4567") == {"phone": [sha("+85251234567")]}  # Hong Kong keeps its +852


@pytest.mark.parametrize("written", ["555-555-5555", "123-123-1234", "(990) 110-9922"])
def test_a_phone_with_only_a_possible_length_is_an_error_naming_the_field(written):
    with pytest.raises(EventValidationError, match="^phone: not a valid phone number"):
        User(phone=written, phone_region="US")


@pytest.mark.parametrize(("address", "public"), [
    ("8.8.8.8", True), ("81.2.69.160", True), ("2a00:1450:4009:80b::200e", True), ("::ffff:8.8.8.8", True),
    ("192.168.0.1", False), ("10.1.2.3", False), ("172.16.5.4", False), ("127.0.0.1", False), ("169.254.1.1", False),
    ("100.64.0.1", False), ("0.0.0.0", False), ("192.0.2.10", False), ("198.51.100.7", False),
    ("203.0.113.9", False), ("198.18.0.1", False), ("224.0.0.1", False), ("240.0.0.1", False),
    ("255.255.255.255", False), ("::1", False), ("::", False), ("fe80::1", False), ("fd00::1", False),
    ("2001:db8::1", False), ("ff02::1", False), ("::ffff:192.168.0.1", False), ("2002:c0a8:1::1", False),
    ("3fff::1", False), ("64:ff9b::808:808", False),
])
def test_only_public_addresses_count_as_a_buyers(address, public):
    assert normalize.is_public_ip(normalize.normalize_ip(address)) is public
    if public:
        assert normalize.public_ip(address) == normalize.normalize_ip(address)
    else:
        with pytest.raises(ValueError, match="not a public IP address"):
            normalize.public_ip(address)


def test_currencies_tiktok_does_not_list_are_errors_and_listed_ones_pass():
    assert {"USD", "EUR", "GBP", "JPY"} <= ACCEPTED_CURRENCIES and "XXX" not in ACCEPTED_CURRENCIES
    assert Properties(currency=" eur ").wire() == {"currency": "EUR"}
    for code in ("XXX", "BTC", "USDT"):
        with pytest.raises(EventValidationError, match="^currency: not a currency TikTok accepts"):
            Properties(currency=code)


# --- properties and contents[] --------------------------------------------------------------------


def test_custom_parameters_pass_through_unchanged():
    props = Properties(
        gtm_version="s2s_0_2_01", event_trigger_source="GoogleTagManagerServer", on_sale=True, sale_price=9.5,
        tags=["tea", 2, False, 1.5], status="paid",
        contents=[{"content_id": 7, "description": "Loose leaf", "availability": "in stock", "quantity": 1}],
    ).wire()
    assert props == {
        "contents": [{"content_id": "7", "quantity": 1, "description": "Loose leaf", "availability": "in stock"}],
        "status": "paid", "gtm_version": "s2s_0_2_01", "event_trigger_source": "GoogleTagManagerServer",
        "on_sale": True, "sale_price": 9.5, "tags": ["tea", 2, False, 1.5]}


def test_a_properties_block_of_custom_parameters_alone_is_sent_not_dropped():
    # (it used to go as an empty block: only the schema's own fields were looked at)
    line = '{"event":"ViewContent","event_time":1700000000,"properties":{"gtm_version":"s2s_0_2_01","on_sale":true}}'
    expected = {"event": "ViewContent", "event_time": 1700000000,
                "properties": {"gtm_version": "s2s_0_2_01", "on_sale": True}}
    assert Event.model_validate_json(line).wire() == expected
    assert json.loads(encode.event_encoder()(line)[1]) == expected  # build's path without the models
    for empty in ({}, {"contents": []}, {"value": None}):
        assert "properties" not in Event(event="ViewContent", event_time=1700000000, properties=empty).wire()


@pytest.mark.parametrize(("key", "value"), [
    ("note", "jane@example.com"), ("note", "write to Jane <jane.doe@example.com>"), ("note", "+1 415 555 2671"),
    ("note", "(415) 555-2671"), ("note", ["ok", "020 7946 0018"]), ("contact", "jane%40example.com"),
])
def test_a_custom_value_that_looks_like_an_email_or_phone_is_refused_naming_the_key(key, value):
    for build in (lambda: Properties(**{key: value}), lambda: Properties(contents=[{key: value}])):
        with pytest.raises(EventValidationError) as caught:
            build()
        text = str(caught.value)
        assert f"{key}: looks like an email address or a phone number" in text
        for raw in ([value] if isinstance(value, str) else value):
            assert raw not in text or raw == "ok"


@pytest.mark.parametrize("value", ["2024-05-01", "01.05.2024", "12345678", "SKU-123-456", "v1.2.3", "19.99", 12345678901])
def test_values_that_merely_hold_digits_are_not_taken_for_phones(value):
    assert Properties(note=value).wire() == {"note": value}


@pytest.mark.parametrize("value", [{"a": 1}, [[1]], [{"a": 1}], None, float("nan"), float("inf")])
def test_a_custom_value_that_is_not_a_flat_scalar_is_refused(value):
    with pytest.raises(EventValidationError, match="^note: "):
        Properties(note=value)


def test_a_custom_parameter_whose_name_is_an_email_is_refused_without_naming_it():
    with pytest.raises(EventValidationError) as caught:
        Properties(**{"jane@example.com": 1})
    assert "jane" not in str(caught.value) and "name looks like an email address" in str(caught.value)


def test_content_ids_may_be_one_or_many_and_quantities_any_number():
    assert Properties(content_ids="sku-1").wire() == {"content_ids": ["sku-1"]}
    assert Properties(content_ids=[1, "b"]).wire() == {"content_ids": ["1", "b"]}
    contents = Properties(contents=[{"quantity": 1.5}, {"quantity": "2"}, {"quantity": "0.25"}, {"quantity": 3}]).wire()
    assert [c["quantity"] for c in contents["contents"]] == [1.5, 2, 0.25, 3]
    for bad in (-1, "two", True, float("nan")):
        with pytest.raises(EventValidationError, match="contents.0.quantity"):
            Properties(contents=[{"quantity": bad}])


def test_the_device_block_and_status_are_modelled():
    device = {"architecture": "arm", "bitness": "64", "mobile": True, "model": "Pixel 8", "platform": "Android",
              "platform_version": "14.0.0", "browser_version_list": [{"brand": "Chromium", "version": "124.0"}]}
    wire = Event(event="Purchase", event_time=T, device=device, properties={"status": "paid"}).wire()
    assert wire["device"] == device and wire["properties"] == {"status": "paid"}
    assert "device" not in Event(event="Purchase", event_time=T, device={}).wire()
    with pytest.raises(EventValidationError, match="device.mobile"):
        Event(event="Purchase", event_time=T, device={"mobile": "maybe"})


@pytest.mark.parametrize(("name", "instead"), [("PlaceAnOrder", "Purchase"), ("ClickButton", "custom event")])
def test_deprecated_event_names_are_accepted_with_a_warning_of_their_own(name, instead):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        event = Event(event=name, event_time=T)
    assert event.event == name
    [warning] = caught
    assert warning.category is DeprecatedEventWarning and issubclass(DeprecatedEventWarning, FutureWarning)
    assert "soft-deprecated" in str(warning.message) and instead in str(warning.message)


def test_current_names_give_no_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Event(event="Purchase", event_time=T)
        Event(event="CompletePayment", event_time=T)  # renamed, converted by TikTok: not deprecated
