"""X-Shopify-Hmac-Sha256 verification: base64(HMAC-SHA256(raw body, secret)), constant time."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from tiktok_relay.errors import ConfigurationError, SignatureError, TikTokRelayError
from tiktok_relay.pipeline.receive import BodyEncodingError, raw_body_from_apigw
from tiktok_relay.sources.common.signing import header, parse_secrets
from tiktok_relay.sources.shopify.signature import (
    sign,
    verify_shopify_signature,
)

SECRET = "shpss_current_0123456789abcdef"
OLD_SECRET = "shpss_previous_fedcba9876543210"
BODY = b'{"id":5678901234567,"email":"ada@analytical.example","total_price":"412.50","note":"caf\xc3\xa9 \xf0\x9f\x8d\xb5"}'


def expected_signature(body: bytes, secret: str) -> str:
    # Independent of the code under test: the documented algorithm, spelled out.
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def test_sign_is_base64_hmac_sha256_of_the_raw_body():
    assert sign(BODY, SECRET) == expected_signature(BODY, SECRET)
    assert len(base64.b64decode(sign(BODY, SECRET))) == 32


def test_good_signature_passes():
    assert verify_shopify_signature({"X-Shopify-Hmac-Sha256": sign(BODY, SECRET)}, BODY, [SECRET]) is None


def test_wrong_secret_fails_and_says_no_secret_matched():
    headers = {"X-Shopify-Hmac-Sha256": sign(BODY, "some-other-secret")}
    with pytest.raises(SignatureError, match="matches no configured secret"):
        verify_shopify_signature(headers, BODY, [SECRET])


def test_missing_header_fails():
    with pytest.raises(SignatureError, match="missing"):
        verify_shopify_signature({"X-Shopify-Topic": "orders/paid"}, BODY, [SECRET])
    with pytest.raises(SignatureError, match="missing"):
        verify_shopify_signature({}, BODY, [SECRET])
    with pytest.raises(SignatureError, match="missing"):
        verify_shopify_signature({"X-Shopify-Hmac-Sha256": "   "}, BODY, [SECRET])


@pytest.mark.parametrize(
    "value",
    ["not base64 at all!", "@@@@", "abc", sign(BODY, SECRET)[:-2] + "*=", "ZZZZ" + sign(BODY, SECRET)],
)
def test_header_that_is_not_base64_or_not_a_digest_fails(value):
    with pytest.raises(SignatureError, match="base64") as info:
        verify_shopify_signature({"X-Shopify-Hmac-Sha256": value}, BODY, [SECRET])
    assert value not in str(info.value)


def test_base64_of_the_wrong_length_fails_as_garbled():
    short = base64.b64encode(b"0123456789").decode()
    with pytest.raises(SignatureError, match="wrong length"):
        verify_shopify_signature({"X-Shopify-Hmac-Sha256": short}, BODY, [SECRET])


def test_hex_digest_is_not_accepted_in_place_of_base64():
    hex_digest = hmac.new(SECRET.encode(), BODY, hashlib.sha256).hexdigest()
    with pytest.raises(SignatureError):
        verify_shopify_signature({"X-Shopify-Hmac-Sha256": hex_digest}, BODY, [SECRET])


@pytest.mark.parametrize("position", [0, 17, len(BODY) // 2, len(BODY) - 1])
def test_one_tampered_byte_fails(position):
    signature = sign(BODY, SECRET)
    tampered = bytearray(BODY)
    tampered[position] ^= 0x01
    with pytest.raises(SignatureError):
        verify_shopify_signature({"X-Shopify-Hmac-Sha256": signature}, bytes(tampered), [SECRET])


def test_reserialized_json_fails_so_callers_must_pass_the_raw_bytes():
    import json

    signature = sign(BODY, SECRET)
    reserialized = json.dumps(json.loads(BODY)).encode()
    assert reserialized != BODY
    with pytest.raises(SignatureError):
        verify_shopify_signature({"X-Shopify-Hmac-Sha256": signature}, reserialized, [SECRET])


def test_rotation_old_and_new_secret_both_accepted():
    secrets = parse_secrets(f"{SECRET}, {OLD_SECRET}")
    for secret in (SECRET, OLD_SECRET):
        verify_shopify_signature({"X-Shopify-Hmac-Sha256": sign(BODY, secret)}, BODY, secrets)
    with pytest.raises(SignatureError):
        verify_shopify_signature({"X-Shopify-Hmac-Sha256": sign(BODY, "third")}, BODY, secrets)


@pytest.mark.parametrize(
    "name",
    ["X-Shopify-Hmac-Sha256", "x-shopify-hmac-sha256", "X-SHOPIFY-HMAC-SHA256", "X-Shopify-Hmac-SHA256",
     "shopify-hmac-sha256", "Shopify-Hmac-Sha256"],
)
def test_header_name_is_case_insensitive_and_unprefixed_form_accepted(name):
    verify_shopify_signature({name: sign(BODY, SECRET)}, BODY, [SECRET])
    with pytest.raises(SignatureError):
        verify_shopify_signature({name: sign(BODY, "wrong")}, BODY, [SECRET])


def test_surrounding_whitespace_in_header_value_is_tolerated():
    verify_shopify_signature({"x-shopify-hmac-sha256": f"  {sign(BODY, SECRET)} \n"}, BODY, [SECRET])


def test_no_secret_configured_is_a_configuration_error_naming_the_variable():
    headers = {"X-Shopify-Hmac-Sha256": sign(BODY, SECRET)}
    for secrets in ([], [""], ["  "], parse_secrets(" , ,")):
        with pytest.raises(ConfigurationError, match="SHOPIFY_WEBHOOK_SECRET"):
            verify_shopify_signature(headers, BODY, secrets)


def test_a_plain_string_of_secrets_is_not_split_into_characters():
    headers = {"X-Shopify-Hmac-Sha256": sign(BODY, OLD_SECRET)}
    verify_shopify_signature(headers, BODY, f"{SECRET},{OLD_SECRET}")  # type: ignore[arg-type]
    with pytest.raises(SignatureError):
        verify_shopify_signature({"X-Shopify-Hmac-Sha256": sign(BODY, "s")}, BODY, "secret")  # type: ignore[arg-type]


def test_messages_never_contain_secrets_or_the_header_value():
    value = sign(BODY, "attacker")
    for headers, secrets in (({"X-Shopify-Hmac-Sha256": value}, [SECRET, OLD_SECRET]),
                             ({"X-Shopify-Hmac-Sha256": "garbled!!"}, [SECRET]),
                             ({}, [SECRET])):
        with pytest.raises(SignatureError) as info:
            verify_shopify_signature(headers, BODY, secrets)
        text = str(info.value) + repr(info.value)
        for secret in secrets:
            assert secret not in text
        assert value not in text and "garbled!!" not in text


def test_signature_error_is_a_library_error():
    assert issubclass(SignatureError, TikTokRelayError)


def test_empty_body_can_be_signed_and_verified():
    verify_shopify_signature({"X-Shopify-Hmac-Sha256": sign(b"", SECRET)}, b"", [SECRET])


def test_multi_value_header_list_uses_its_first_value():
    verify_shopify_signature({"X-Shopify-Hmac-Sha256": [sign(BODY, SECRET)]}, BODY, [SECRET])  # type: ignore[dict-item]


# --- helpers --------------------------------------------------------------------------------------


def test_parse_secrets_trims_and_drops_empties():
    assert parse_secrets(" a , b,,c ,") == ["a", "b", "c"]
    assert parse_secrets("") == [] and parse_secrets(None) == [] and parse_secrets(" , ") == []
    assert parse_secrets("only") == ["only"]


def test_header_getter():
    headers = {"X-Shopify-Topic": "orders/paid", "content-type": "application/json", "X-Empty": None}
    assert header(headers, "x-shopify-topic") == "orders/paid"
    assert header(headers, "Content-Type") == "application/json"
    assert header(headers, "X-Missing") is None and header(headers, "x-empty") is None
    assert header(None, "anything") is None and header({}, "anything") is None


# --- API Gateway bodies ---------------------------------------------------------------------------


def test_base64_body_from_api_gateway_is_decoded_before_verifying():
    encoded = base64.b64encode(BODY).decode()
    raw = raw_body_from_apigw(encoded, True)
    assert raw == BODY
    verify_shopify_signature({"x-shopify-hmac-sha256": sign(BODY, SECRET)}, raw, [SECRET])
    # Verifying the base64 text itself (a common mistake) fails.
    with pytest.raises(SignatureError):
        verify_shopify_signature({"x-shopify-hmac-sha256": sign(BODY, SECRET)}, encoded.encode(), [SECRET])


def test_text_body_from_api_gateway_is_its_utf8_bytes():
    assert raw_body_from_apigw(BODY.decode("utf-8"), False) == BODY
    assert raw_body_from_apigw(None, False) == b"" and raw_body_from_apigw(None, True) == b""
    assert raw_body_from_apigw("", True) == b""


@pytest.mark.parametrize("body", ["not base64!", "abc", "YWJj\nZGVm", "YWJjZA=", "ééé"])
def test_body_flagged_base64_but_invalid_is_a_clear_value_error(body):
    with pytest.raises(BodyEncodingError, match="base64") as info:
        raw_body_from_apigw(body, True)
    assert isinstance(info.value, ValueError) and isinstance(info.value, TikTokRelayError)
    assert body not in str(info.value)


def test_text_body_with_lone_surrogates_is_refused_cleanly():
    with pytest.raises(BodyEncodingError):
        raw_body_from_apigw('{"a":"\ud800"}', False)
