"""WooCommerce stores in a tenants document: X-WC-Webhook-Source picks the tenant, only its
secrets are tried, its settings and pixel apply, and the queue message names it. Stripe has no
tenant kind (its deliveries name no store before the signature): a stack with tenants does not
receive it, and says why. The receiver here is the real one, over in-memory ports."""

from __future__ import annotations

import json

import pytest

from tests.support.stores import woo_order
from tiktok_relay.local.apigw import woocommerce_headers
from tiktok_relay.local.lambda_context import FakeLambdaContext
from tiktok_relay.local.memory import MemoryIdempotencyStore, MemoryQueue, MemoryStateStore
from tiktok_relay.pipeline import runtime
from tiktok_relay.pipeline.messages import QueuedDelivery
from tiktok_relay.pipeline.receive import Receiver
from tiktok_relay.pipeline.tenants import DocumentTenants, parse_document
from tiktok_relay.sources.woocommerce.receiver import WooCommerceSource

TEA, OTHER = "https://Tea.Example.co.uk/", "https://example.com/shop/"
SECRET_TEA, SECRET_OTHER = "wc-secret-tea-4b1f", "wc-secret-other-9e20"
DOCUMENT = {"shops": {
    TEA: {"pixel_id": "CTEAPIXEL", "access_token": "token-tea", "webhook_secret": f"old-one,{SECRET_TEA}",
          "settings": {"WOOCOMMERCE_PAID_STATUSES": "on-hold,processing", "TIKTOK_TEST_EVENT_CODE": "TESTTEA"}},
    OTHER: {"pixel_id": "COTHERPIXEL", "access_token": "token-other", "webhook_secret": SECRET_OTHER},
    "acme.myshopify.com": {"pixel_id": "CACMEPIXEL", "access_token": "token-acme", "webhook_secret": "s"},
}}


@pytest.fixture
def queue():
    return MemoryQueue()


@pytest.fixture
def receiver(queue):
    tenants = DocumentTenants(lambda refresh: json.dumps(DOCUMENT), "the tenants document")
    return Receiver(source=WooCommerceSource(tenants=tenants), queue=queue, idempotency_store=MemoryIdempotencyStore(),
                    state_store=MemoryStateStore())


def deliver(receiver: Receiver, source: str | None, secret: str, order: dict | None = None):
    body = json.dumps(order or woo_order(_links={})).encode()
    headers = woocommerce_headers("order.updated", body, secret, source=source or "")
    if source is None:
        del headers["x-wc-webhook-source"]
    return receiver.handle(headers, body.decode(), False, FakeLambdaContext())


def test_a_woocommerce_store_is_keyed_by_its_home_url_and_reads_its_own_settings():
    directory = parse_document(json.dumps(DOCUMENT), "doc")
    tea = directory.tenants["tea.example.co.uk"]
    assert tea.platform == "woocommerce" and tea.parsed["woocommerce"].paid_statuses == ("on-hold", "processing")
    assert directory.tenants["example.com/shop"].platform == "woocommerce"
    assert directory.tenants["acme.myshopify.com"].platform == "shopify"


@pytest.mark.parametrize(("key", "settings", "problem"), [
    ("shop.example.com", {}, "not a shop identity"),  # a bare host would be a typo'd Shopify shop
    ("https://acme.myshopify.com/", {}, "not a shop identity"),
    ("https://shop.example.com/", {"SHOPIFY_CURRENCY": "shop"}, "unknown setting 'SHOPIFY_CURRENCY'"),
    ("https://shop.example.com/", {"WOOCOMMERCE_PAID_STATUSES": "refunded"}, "never means an order was paid"),
])
def test_a_broken_woocommerce_entry_is_reported_naming_the_key(key, settings, problem):
    entry = {"pixel_id": "CPIXEL", "access_token": "t", "webhook_secret": "s", "settings": settings}
    directory = parse_document(json.dumps({"shops": {key: entry}}), "doc")
    assert directory.tenants == {} and problem in " ".join(directory.report())


def test_each_store_is_verified_with_its_own_secret_and_sent_with_its_pixel_and_settings(receiver, queue):
    on_hold = woo_order(_links={}, status="on-hold")
    assert deliver(receiver, TEA, SECRET_TEA, on_hold).status == 202  # on-hold counts for this store only
    assert deliver(receiver, OTHER, SECRET_OTHER, on_hold).status == 200
    [message] = [QueuedDelivery.parse(m.body) for m in queue.sent]
    assert (message.source, message.shop, message.tenant) == ("woocommerce", "tea.example.co.uk", "tea.example.co.uk")
    assert message.request.event_source_id == "CTEAPIXEL" and message.request.test_event_code == "TESTTEA"
    assert message.request.data[0]["event_id"] == "woocommerce-tea.example.co.uk-order-4817"
    assert "token-tea" not in queue.sent[0].body


def test_another_stores_secret_or_an_unknown_store_is_a_401(receiver, queue):
    assert deliver(receiver, TEA, SECRET_OTHER).status == 401
    unknown = deliver(receiver, "https://unknown.example/", SECRET_TEA)
    assert (unknown.status, unknown.outcome) == (401, "rejected") and "no tenant" in unknown.reason
    missing = deliver(receiver, None, SECRET_TEA)
    assert missing.status == 401 and "X-WC-Webhook-Source is missing" in missing.reason
    assert queue.sent == []


def test_a_stack_with_tenants_refuses_stripe_with_a_404_reason(monkeypatch):
    runtime.install()
    monkeypatch.setenv("RECEIVER_PLATFORMS", "shopify,woocommerce,stripe")
    assert runtime.not_received("stripe") is None
    monkeypatch.setenv("TENANTS_SECRET_NAME", "tiktok-relay/tenants")
    reason = runtime.not_received("stripe")
    assert reason and "tenants document" in reason and "Stripe" in reason
    assert runtime.not_received("woocommerce") is None
