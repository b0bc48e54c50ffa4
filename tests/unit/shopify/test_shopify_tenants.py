"""Shopify deliveries for many shops (ShopifySource over a tenants document) and through
Shopify's EventBridge partner event source: the shop's domain picks the tenant, only that
tenant's secrets are tried, the signature comes first, and the queue message names the tenant
but never its token. The receiver here is the real one, over in-memory ports."""

from __future__ import annotations

import copy
import json

import pytest

from tiktok_relay.errors import DeliveryRejected
from tiktok_relay.local.apigw import shopify_event
from tiktok_relay.local.eventbridge import partner_event
from tiktok_relay.local.lambda_context import FakeLambdaContext
from tiktok_relay.local.memory import MemoryIdempotencyStore, MemoryQueue
from tiktok_relay.pipeline.messages import QueuedDelivery
from tiktok_relay.pipeline.receive import Receiver
from tiktok_relay.pipeline.runtime import StaticSecret
from tiktok_relay.pipeline.tenants import DocumentTenants
from tiktok_relay.sources.shopify.eventbridge import is_partner_event, read_partner_event
from tiktok_relay.sources.shopify.receiver import ShopifySource
from tiktok_relay.sources.shopify.settings import ShopifySettings

ACME, BETA = "acme.myshopify.com", "beta.myshopify.com"
SECRET_A, SECRET_B, NEW_SECRET_A = "secret-acme-2e7a", "secret-beta-91c0", "secret-acme-rotated-77d1"
TOKEN_A, TOKEN_B = "token-acme-5f1e", "token-beta-0c3d"
ORDER = {"id": 4401, "email": "ada.lovelace@example.com", "currency": "GBP", "total_price": "12.50",
         "financial_status": "paid", "source_name": "web", "line_items": [], "created_at": "2026-11-20T09:58:02+00:00"}


def tenants_document(acme_secret: str = SECRET_A) -> dict:
    return {"shops": {
        ACME: {"pixel_id": "CACMEPIXEL", "access_token": TOKEN_A, "webhook_secret": acme_secret},
        BETA: {"pixel_id": "CBETAPIXEL", "access_token": TOKEN_B, "webhook_secret": SECRET_B,
               "settings": {"TIKTOK_TEST_EVENT_CODE": "TESTBETA"}},
    }}


class Document:
    """The document's text as a secret store would hand it over, with what was asked recorded."""

    def __init__(self, document: dict):
        self.text = json.dumps(document)
        self.reads: list[bool] = []

    def __call__(self, refresh: bool) -> str:
        self.reads.append(refresh)
        return self.text


@pytest.fixture
def document():
    return Document(tenants_document())


@pytest.fixture
def queue():
    return MemoryQueue()


@pytest.fixture
def receiver(document, queue):
    source = ShopifySource(tenants=DocumentTenants(document, "the tenants document"))
    return Receiver(source=source, queue=queue, idempotency_store=MemoryIdempotencyStore())


def deliver(receiver: Receiver, shop: str, secret: str | None, body: dict | bytes = ORDER, topic: str = "orders/paid"):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    event = shopify_event(topic, raw, secret, shop=shop)
    return receiver.handle(event["headers"], event["body"], event["isBase64Encoded"], FakeLambdaContext())


def queued(queue: MemoryQueue) -> list[QueuedDelivery]:
    return [QueuedDelivery.parse(message.body) for message in queue.sent]


def test_each_shop_is_verified_with_its_secret_and_sent_with_its_pixel_and_settings(receiver, queue):
    assert deliver(receiver, ACME, SECRET_A).status == 202
    assert deliver(receiver, BETA, SECRET_B, {**ORDER, "id": 4402}).status == 202

    acme, beta = queued(queue)
    assert (acme.tenant, acme.shop, acme.request.event_source_id, acme.request.test_event_code) == (
        ACME, ACME, "CACMEPIXEL", None)
    assert (beta.tenant, beta.request.event_source_id, beta.request.test_event_code) == (BETA, "CBETAPIXEL", "TESTBETA")
    for message in queue.sent:  # the message names its tenant, never its token or secret
        for value in (TOKEN_A, TOKEN_B, SECRET_A, SECRET_B):
            assert value not in message.body


def test_a_body_for_one_shop_signed_with_another_shops_secret_is_refused(receiver, queue, document):
    reply = deliver(receiver, ACME, SECRET_B)

    assert (reply.status, reply.outcome) == (401, "rejected")
    assert reply.reason == ("X-Shopify-Hmac-Sha256 matches no configured secret (the shop's webhook_secret in the "
                            "tenants document)")
    assert queue.sent == []
    assert document.reads[-1] is True  # the document was read afresh once before refusing (a rotation?)


def test_an_unknown_shop_is_refused_with_a_reason_that_names_no_secret(receiver, queue, document):
    unknown = "no tenant is configured for the shop this delivery names; add it to the tenants document"
    no_shop = ("X-Shopify-Shop-Domain is missing or not a myshopify.com domain: the shop whose secret signs the "
               "delivery is unknown")
    for shop, reason in (("gamma.myshopify.com", unknown), ("acme.example.com", no_shop), ("", no_shop)):
        reply = deliver(receiver, shop, SECRET_A)
        assert (reply.status, reply.outcome, reply.reason) == (401, "rejected", reason), shop
    assert queue.sent == []


def test_the_signature_is_checked_before_the_body_is_read(receiver, queue):
    # Not JSON, and not signed by the shop: the signature decides (401), not the body (400).
    assert deliver(receiver, ACME, SECRET_B, b'{"id": ').status == 401
    assert deliver(receiver, ACME, SECRET_A, b'{"id": ').status == 400
    assert queue.sent == []


def test_a_rotated_secret_takes_effect_at_the_next_delivery(receiver, document):
    document.text = json.dumps(tenants_document(acme_secret=f"{NEW_SECRET_A},{SECRET_A}"))
    assert deliver(receiver, ACME, NEW_SECRET_A).status == 202
    document.text = json.dumps(tenants_document(acme_secret=NEW_SECRET_A))
    assert deliver(receiver, ACME, SECRET_A, {**ORDER, "id": 4403}).status == 401


def test_a_shop_whose_entry_is_broken_is_misconfigured_and_the_others_are_not(document, receiver):
    broken = tenants_document()
    del broken["shops"][BETA]["access_token"]
    document.text = json.dumps(broken)

    reply = deliver(receiver, BETA, SECRET_B)
    assert (reply.status, reply.outcome) == (500, "misconfigured")  # Shopify retries it once fixed
    assert reply.reason == "the tenants document, shop beta.myshopify.com: access_token is missing"
    assert deliver(receiver, ACME, SECRET_A).status == 202


def test_without_tenants_the_queue_message_is_exactly_as_before():
    queue = MemoryQueue()
    source = ShopifySource(secrets=StaticSecret(SECRET_A), settings=ShopifySettings(), pixel_id="CONEPIXEL")
    receiver = Receiver(source=source, queue=queue)
    assert deliver(receiver, "any-shop.myshopify.com", SECRET_A).status == 202
    [message] = queue.sent
    assert list(json.loads(message.body)) == ["v", "source", "webhook_id", "shop", "topic", "request"]


# --- EventBridge -------------------------------------------------------------------------------


def test_an_eventbridge_event_runs_the_same_mapping_and_names_its_tenant(receiver, queue):
    event = partner_event("orders/paid", ORDER, shop=BETA, webhook_id="wh-eb-1")
    reply = receiver.handle_event(event, FakeLambdaContext())

    assert (reply.status, reply.outcome, reply.events) == (202, "queued", 1)
    [message] = queued(queue)
    assert (message.tenant, message.webhook_id, message.request.event_source_id) == (BETA, "wh-eb-1", "CBETAPIXEL")
    assert message.request.data[0]["event_id"] == "shopify-order-4401"  # as over HTTPS: TikTok deduplicates


def test_an_eventbridge_event_checks_no_signature(receiver, queue):
    event = partner_event("orders/paid", ORDER, shop=ACME, secret="not-the-shops-secret")
    assert receiver.handle_event(event, FakeLambdaContext()).status == 202


def test_an_eventbridge_event_seen_twice_is_a_duplicate(receiver, queue):
    event = partner_event("orders/paid", ORDER, shop=ACME)
    again = copy.deepcopy(event)
    again["id"] = "another-eventbridge-id"
    again["detail"]["payload"] = dict(reversed(list(ORDER.items())))  # same payload, keys in another order
    assert receiver.handle_event(event, FakeLambdaContext()).status == 202
    assert receiver.handle_event(again, FakeLambdaContext()).outcome == "duplicate"
    assert len(queue.sent) == 1


def test_an_eventbridge_event_for_a_shop_the_document_lacks_is_kept_for_a_retry(receiver, queue):
    reply = receiver.handle_event(partner_event("orders/paid", ORDER, shop="gamma.myshopify.com"), FakeLambdaContext())
    # Only Shopify puts events on its partner event source: a shop missing from the document is a
    # configuration gap (retried, then dead-lettered), not a forgery, and its name may be given.
    assert (reply.status, reply.outcome) == (500, "misconfigured")
    assert reply.reason == ("no tenant is configured for the shop gamma.myshopify.com; add it to the tenants "
                            "document")
    assert queue.sent == []


def test_an_eventbridge_event_without_a_webhook_id_is_named_by_eventbridges_id(receiver, queue):
    event = partner_event("orders/paid", ORDER, shop=ACME, eventbridge_id="eb-5d4c3b2a")
    del event["detail"]["metadata"]["X-Shopify-Webhook-Id"]
    assert receiver.handle_event(event, FakeLambdaContext()).status == 202
    assert queued(queue)[0].webhook_id == "eb-5d4c3b2a"


def test_metadata_names_are_read_in_any_case_and_without_the_x_prefix(receiver, queue):
    event = partner_event("orders/paid", ORDER, shop=ACME)
    metadata = event["detail"]["metadata"]
    event["detail"]["metadata"] = {"shopify-topic": metadata["X-Shopify-Topic"],
                                   "SHOPIFY-SHOP-DOMAIN": metadata["X-Shopify-Shop-Domain"],
                                   "x-shopify-webhook-id": "wh-lower"}
    assert receiver.handle_event(event, FakeLambdaContext()).status == 202


def _without(path: str):
    def change(event):
        *parents, last = path.split(".")
        node = event
        for part in parents:
            node = node[part]
        del node[last]
        return event
    return change


def _set(path: str, value):
    def change(event):
        *parents, last = path.split(".")
        node = event
        for part in parents:
            node = node[part]
        node[last] = value
        return event
    return change


@pytest.mark.parametrize(("change", "expected"), [
    (_set("detail-type", "Object Created"), "not a Shopify webhook event"),
    (_set("source", "aws.partner/example.com/1/x"), "not a Shopify webhook event"),
    (_set("source", 7), "not a Shopify webhook event"),
    (_without("detail"), "not an EventBridge event"),
    (_set("detail", "text"), "detail.metadata must be an object"),
    (_without("detail.metadata"), "detail.metadata must be an object"),
    (_without("detail.payload"), "detail.payload must be a JSON object (the webhook body), not missing"),
    (_set("detail.payload", [1, 2]), "not a list"),
    (_set("detail.payload", {"id": float("nan")}), "detail.payload cannot be read as JSON"),
    (_without("detail.metadata.X-Shopify-Topic"), "missing detail.metadata header(s): x-shopify-topic"),
    (_without("detail.metadata.X-Shopify-Shop-Domain"), "missing detail.metadata header(s): x-shopify-shop-domain"),
    (_set("detail.metadata.X-Shopify-Shop-Domain", "acme.example.com"), "not a myshopify.com domain"),
    (_set("detail.metadata.X-Shopify-Topic", "orders/paid\n"), None),  # trimmed, as a header would be
    (_set("detail.metadata.X-Shopify-Topic", "orders/" + "p" * 200), "longer than 128 characters"),
])
def test_an_event_that_is_not_what_shopify_sends_is_refused_by_name(receiver, queue, change, expected):
    event = change(partner_event("orders/paid", ORDER, shop=ACME))
    reply = receiver.handle_event(event, FakeLambdaContext())
    if expected is None:
        assert reply.status == 202
        return
    assert (reply.status, reply.outcome) == (400, "rejected")
    assert expected in reply.reason
    assert "ada.lovelace" not in reply.reason and queue.sent == []


def test_only_eventbridge_events_are_taken_for_eventbridge_events():
    api_gateway = shopify_event("orders/paid", b"{}", SECRET_A)
    assert not is_partner_event(api_gateway) and not is_partner_event([]) and not is_partner_event(None)
    assert is_partner_event(partner_event("orders/paid", ORDER))
    with pytest.raises(DeliveryRejected, match="not an EventBridge event"):
        read_partner_event(api_gateway)


def test_the_payload_is_serialized_the_same_way_whatever_its_key_order():
    one = read_partner_event(partner_event("orders/paid", {"b": 1, "a": "é"}))
    two = read_partner_event(partner_event("orders/paid", {"a": "é", "b": 1}))
    assert one.body == two.body == b'{"a":"\\u00e9","b":1}'
