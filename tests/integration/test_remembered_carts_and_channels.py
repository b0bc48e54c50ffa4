"""Through the real receiver handler, with DynamoDB and SQS in moto: carts remembered between
deliveries (the state table, its TTL), a duplicate delivery that touches no state, a state store
that is down (503, nothing lost, never for bad input), and offline orders enveloped for the
offline event set. The same receiver with the in-memory store is what replay and serve run."""

from __future__ import annotations

import copy
import json

import pytest

from tests.support.aws import LOCAL_WEBHOOK_SECRET
from tiktok_relay.local.apigw import shopify_event
from tiktok_relay.local.memory import MemoryQueue, MemoryStateStore
from tiktok_relay.pipeline import runtime
from tiktok_relay.pipeline.aws import STATE_TTL_SECONDS, DynamoDBStateStore
from tiktok_relay.pipeline.ports import StateError
from tiktok_relay.pipeline.receive import Receiver
from tiktok_relay.pipeline.runtime import StaticSecret
from tiktok_relay.sources.shopify.receiver import ShopifySource
from tiktok_relay.sources.shopify.settings import ShopifySettings

SHOP = "tea-shop.myshopify.com"
TOKEN = "Z2NwLXVzLWVhc3QxOjAxSkNBUlRUT0tFTg"
OFFLINE_SET = "OFFLINESET0000000001"


def cart(*lines: tuple[int, int, str]) -> dict:
    return {
        "id": TOKEN, "token": TOKEN, "note": None, "updated_at": "2026-11-20T10:00:00.000Z",
        "created_at": "2026-11-20T09:58:00.000Z",
        "line_items": [{"id": variant, "variant_id": variant, "product_id": 900 + variant, "quantity": quantity,
                        "price": price, "title": f"Tea {variant}", "vendor": "Leaf & Co",
                        "price_set": {"shop_money": {"amount": price, "currency_code": "GBP"},
                                      "presentment_money": {"amount": price, "currency_code": "GBP"}}}
                       for variant, quantity, price in lines],
    }


def delivery(topic: str, payload: dict, **options) -> dict:
    return shopify_event(topic, json.dumps(payload).encode(), LOCAL_WEBHOOK_SECRET, shop=SHOP, **options)


def invoke(app, event):
    from tiktok_relay.local.lambda_context import FakeLambdaContext

    response = app.lambda_handler(event, FakeLambdaContext(function_name="receiver"))
    return response["statusCode"], json.loads(response["body"])


def queued_events(aws) -> list[dict]:
    return [event for message in aws.messages() for event in json.loads(message["Body"])["request"]["data"]]


def test_a_cart_is_remembered_in_dynamodb_and_each_update_carries_only_what_was_added(aws, receiver_app):
    assert invoke(receiver_app, delivery("carts/create", cart((1, 1, "4.50"))))[0] == 202
    assert invoke(receiver_app, delivery("carts/update", cart((1, 3, "4.50"), (2, 1, "12.00"))))[0] == 202
    status, body = invoke(receiver_app, delivery("carts/update", cart((1, 1, "4.50"))))  # removals only
    assert (status, body["status"]) == (200, "ignored") and "adds nothing" in body["reason"]
    assert invoke(receiver_app, delivery("carts/update", cart((1, 1, "4.50"), (2, 2, "12.00"))))[0] == 202
    values = [event["properties"]["value"] for event in queued_events(aws)]
    assert values == [4.5, 2 * 4.5 + 12.0, 24.0]
    item = aws.dynamodb().get_item(TableName="tiktok-relay-state",
                                   Key={"id": {"S": f"shopify:{SHOP}:cart:{TOKEN}"}})["Item"]
    assert json.loads(item["state"]["S"]) == {"lines": {"1": 1, "2": 2}}
    assert int(item["expiration"]["N"]) > 0  # the table's TTL attribute


def test_a_duplicate_delivery_is_answered_from_the_idempotency_record_and_touches_no_state(aws, receiver_app):
    first = delivery("carts/update", cart((1, 2, "4.50")), webhook_id="dup-cart-1")
    assert invoke(receiver_app, first)[0] == 202
    # The cart changes meanwhile (a later delivery), then Shopify redelivers the first one.
    assert invoke(receiver_app, delivery("carts/update", cart((1, 5, "4.50"))))[0] == 202
    status, body = invoke(receiver_app, first)
    assert (status, body["status"]) == (200, "duplicate")
    item = aws.dynamodb().get_item(TableName="tiktok-relay-state",
                                   Key={"id": {"S": f"shopify:{SHOP}:cart:{TOKEN}"}})["Item"]
    assert json.loads(item["state"]["S"]) == {"lines": {"1": 5}}  # not set back to 2


def test_offline_orders_go_to_the_offline_event_set(aws, receiver_app, monkeypatch):
    monkeypatch.setenv("TIKTOK_OFFLINE_EVENT_SET_ID", OFFLINE_SET)
    runtime.install()
    payload = json.loads(json.dumps(_order()))
    payload.update(source_name="pos", location_id=4455, browser_ip="81.2.69.160")
    status, body = invoke(receiver_app, delivery("orders/paid", payload))
    assert (status, body["status"]) == (202, "queued")
    [message] = aws.messages()
    request = json.loads(message["Body"])["request"]
    assert (request["event_source"], request["event_source_id"]) == ("offline", OFFLINE_SET)
    assert "ip" not in request["data"][0]["user"] and "page" not in request["data"][0]


def test_a_web_and_an_offline_request_leave_in_one_sender_batch(relay, receiver_app, sender_app, fake_tiktok,
                                                              monkeypatch):
    monkeypatch.setenv("TIKTOK_OFFLINE_EVENT_SET_ID", OFFLINE_SET)
    runtime.install()
    web, pos = _order(), {**_order(), "id": 5829310999999, "source_name": "pos"}
    for payload in (web, pos):
        assert invoke(receiver_app, delivery("orders/paid", payload))[0] == 202
    relay.poll_and_send(sender_app)
    sources = sorted((b.body["event_source"], b.body["event_source_id"]) for b in fake_tiktok.received if b.body)
    assert sources == [("offline", OFFLINE_SET), ("web", "CTESTPIXEL0000000000")]


def _order() -> dict:
    from tests.support import event_file

    return json.loads(event_file("shopify/orders_paid.json")["body"])


# --- the state port's failures -------------------------------------------------------------------------------


class FlakyStates(MemoryStateStore):
    def __init__(self, fail_get: bool = False, fail_put: bool = False):
        super().__init__()
        self.fail_get, self.fail_put = fail_get, fail_put

    def get(self, key):
        if self.fail_get:
            raise StateError("ProvisionedThroughputExceededException")
        return super().get(key)

    def put(self, key, state):
        if self.fail_put:
            raise StateError("ProvisionedThroughputExceededException")
        super().put(key, state)


def receiver(states, queue=None) -> tuple[Receiver, MemoryQueue]:
    from tiktok_relay.local.memory import MemoryIdempotencyStore

    queue = queue or MemoryQueue()
    source = ShopifySource(secrets=StaticSecret(LOCAL_WEBHOOK_SECRET), settings=ShopifySettings(), pixel_id="CPIXEL")
    return Receiver(source=source, queue=queue, idempotency_store=MemoryIdempotencyStore(), state_store=states), queue


def handle(rec: Receiver, event: dict):
    from tiktok_relay.local.lambda_context import FakeLambdaContext

    return rec.handle(event["headers"], event["body"], event["isBase64Encoded"], FakeLambdaContext())


@pytest.mark.parametrize("failing", ["get", "put"])
def test_a_state_store_that_is_down_answers_503_and_the_retry_delivers(failing):
    states = FlakyStates(fail_get=failing == "get", fail_put=failing == "put")
    rec, queue = receiver(states)
    event = delivery("carts/update", cart((1, 2, "4.50")), webhook_id="retry-me")
    reply = handle(rec, event)
    assert (reply.status, reply.outcome) == (503, "unavailable") and "remembered state" in reply.reason
    assert "Throughput" in reply.reason and "4.50" not in reply.reason
    states.fail_get = states.fail_put = False
    again = handle(rec, event)  # Shopify's retry, same webhook id: processed afresh
    assert (again.status, again.outcome) == (202, "queued")
    ids = {json.loads(m.body)["request"]["data"][0]["event_id"] for m in queue.sent}
    assert len(ids) == 1  # queued twice when put failed, under one event_id: TikTok keeps one


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]"])
def test_bad_input_is_a_400_even_when_the_state_store_is_down(body):
    rec, _ = receiver(FlakyStates(fail_get=True, fail_put=True))
    event = shopify_event("carts/update", body, LOCAL_WEBHOOK_SECRET, shop=SHOP)
    assert handle(rec, event).status == 400


def test_an_ignored_empty_cart_is_remembered_so_that_the_next_add_counts_from_nothing():
    states = MemoryStateStore()
    rec, queue = receiver(states)
    handle(rec, delivery("carts/update", cart((1, 2, "4.50"))))
    assert handle(rec, delivery("carts/update", cart())).outcome == "ignored"
    handle(rec, delivery("carts/update", cart((1, 1, "4.50"))))
    assert [json.loads(m.body)["request"]["data"][0]["properties"]["value"] for m in queue.sent] == [9.0, 4.5]


def test_orders_and_checkouts_neither_read_nor_write_state():
    states = MemoryStateStore()
    rec, _ = receiver(states)
    handle(rec, delivery("orders/paid", _order()))
    assert states.puts == 0 and len(states) == 0


def test_the_dynamodb_adapter_expires_and_translates_errors(aws):
    now = [1_800_000_000.0]
    store = DynamoDBStateStore("tiktok-relay-state", clock=lambda: now[0])
    store.put("k", {"lines": {"1": 2}})
    assert store.get("k") == {"lines": {"1": 2}} and store.get("missing") is None
    now[0] += STATE_TTL_SECONDS + 1  # DynamoDB deletes expired items late: the adapter ignores them
    assert store.get("k") is None
    broken = DynamoDBStateStore("no-such-table")
    with pytest.raises(StateError) as caught:
        broken.get("k")
    assert str(caught.value) == "ResourceNotFoundException"
    with pytest.raises(StateError):
        broken.put("k", copy.deepcopy({"lines": {}}))
