"""WooCommerce deliveries: X-WC-Webhook-Signature (base64 HMAC-SHA256 of the raw body) with one or
several secrets, the headers naming the delivery, the unsigned ping, the store identity."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest

from tests.support.stores import woo_order
from tiktok_relay.errors import ConfigurationError, DeliveryRejected, SignatureError
from tiktok_relay.local.apigw import woocommerce_headers
from tiktok_relay.pipeline.runtime import StaticSecret
from tiktok_relay.sources.woocommerce.receiver import PING_REASON, WooCommerceSource
from tiktok_relay.sources.woocommerce.settings import WooCommerceSettings
from tiktok_relay.sources.woocommerce.signature import sign
from tiktok_relay.sources.woocommerce.store import store_id

SECRET = "wc-webhook-secret-1"
BODY = json.dumps(woo_order(), separators=(",", ":")).encode()


class CountingSecret:
    """A SecretSource that says how often it was read, and can change (a rotation)."""

    def __init__(self, value: str, fresh: str | None = None):
        self.value, self.fresh, self.reads = value, fresh, []

    def get(self, *, refresh: bool = False) -> str:
        self.reads.append(refresh)
        return self.fresh if refresh and self.fresh is not None else self.value


def source(secrets="wc-webhook-secret-1") -> WooCommerceSource:
    given = StaticSecret(secrets) if isinstance(secrets, str) else secrets
    return WooCommerceSource(secrets=given, settings=WooCommerceSettings(), pixel_id="CPIXEL")


def headers(body: bytes = BODY, secret: str | None = SECRET, **options) -> dict[str, str]:
    return woocommerce_headers("order.created", body, secret, source="https://tea.example.co.uk/", **options)


def test_the_signature_is_what_woocommerce_computes():
    # WC_Webhook::generate_signature: base64_encode(hash_hmac('sha256', $payload, $secret, true))
    expected = base64.b64encode(hmac.new(SECRET.encode(), BODY, hashlib.sha256).digest()).decode()
    assert sign(BODY, SECRET) == expected


def test_a_good_signature_gives_the_delivery_named_by_its_headers():
    sent = headers(delivery_id="3f2a9c")
    delivery = source().verify(sent, BODY)
    assert (delivery.webhook_id, delivery.topic, delivery.shop, delivery.body) == (
        "3f2a9c", "order.created", "tea.example.co.uk", BODY)
    assert delivery.signed_id is None  # the delivery id is an unsigned header: deduplicated on the body


def test_a_wrong_secret_is_refused_naming_the_setting_not_the_value():
    with pytest.raises(SignatureError) as refused:
        source().verify(headers(secret="another-secret"), BODY)
    assert "WOOCOMMERCE_WEBHOOK_SECRET" in str(refused.value) and SECRET not in str(refused.value)


def test_a_tampered_body_is_refused():
    with pytest.raises(SignatureError):
        source().verify(headers(), BODY.replace(b'"46.90"', b'"4690.00"'))


def test_any_of_several_secrets_verifies_each_store_webhook_or_a_rotation():
    for secret in ("old-secret", "new-secret"):
        assert source("new-secret, old-secret").verify(headers(secret=secret), BODY).topic == "order.created"


def test_a_rotated_secret_is_read_again_once_before_refusing():
    rotated = CountingSecret("old-secret", fresh="new-secret")
    assert source(rotated).verify(headers(secret="new-secret"), BODY).shop == "tea.example.co.uk"
    assert rotated.reads == [False, True]


def test_a_request_without_a_signature_is_refused_before_any_secret_is_read():
    unread = CountingSecret("")
    sent = headers(secret=None)
    with pytest.raises(SignatureError, match="X-WC-Webhook-Signature header is missing"):
        source(unread).verify(sent, BODY)
    assert unread.reads == []


def test_no_configured_secret_is_a_configuration_error():
    with pytest.raises(ConfigurationError, match="WOOCOMMERCE_WEBHOOK_SECRET is not set"):
        source(" , ").verify(headers(), BODY)


@pytest.mark.parametrize("value", ["not base64!", base64.b64encode(b"short").decode(), ""])
def test_a_signature_that_is_not_a_base64_digest_is_refused(value):
    with pytest.raises(SignatureError):
        source().verify({**headers(), "x-wc-webhook-signature": value}, BODY)


@pytest.mark.parametrize("missing", ["x-wc-webhook-topic", "x-wc-webhook-source", "x-wc-webhook-delivery-id"])
def test_a_missing_identity_header_is_a_bad_request_naming_it(missing):
    sent = {k: v for k, v in headers().items() if k != missing}
    with pytest.raises(DeliveryRejected, match=missing):
        source().verify(sent, BODY)


@pytest.mark.parametrize("url", ["not a url", "ftp://shop.example.com/", "https://user:pw@shop.example.com/",
                                 "https://shop.example.com/my shop/", "https://exa mple.com/"])
def test_a_source_header_that_is_no_store_url_is_a_bad_request(url):
    with pytest.raises(DeliveryRejected):
        source().verify({**headers(), "x-wc-webhook-source": url}, BODY)


@pytest.mark.parametrize(("url", "store"), [
    ("https://Shop.Example.com/", "shop.example.com"),
    ("http://shop.example.com", "shop.example.com"),
    ("https://shop.example.com:443/", "shop.example.com"),
    ("https://example.com/shop/", "example.com/shop"),
    ("http://localhost:8080/", "localhost:8080"),
])
def test_the_store_is_its_home_url_without_scheme_default_port_or_trailing_slash(url, store):
    assert store_id(url) == store


def test_the_ping_is_acknowledged_unsigned_and_nothing_else_is():
    ping_headers = {"user-agent": "WooCommerce/9.4.2 Hookshot (WordPress/6.7.1)",
                    "content-type": "application/x-www-form-urlencoded"}
    assert source().acknowledge_unsigned(ping_headers, b"webhook_id=12") == PING_REASON
    assert source().acknowledge_unsigned(ping_headers, b"webhook_id=12&x=1") is None
    assert source().acknowledge_unsigned(ping_headers, BODY) is None
    # A signed request is never taken for a ping, whatever its body.
    assert source().acknowledge_unsigned({**ping_headers, "x-wc-webhook-signature": "x"}, b"webhook_id=12") is None
