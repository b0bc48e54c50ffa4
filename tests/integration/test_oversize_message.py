"""A delivery whose queue message would be too large for SQS: the receiver queues its events
without their line items and says so, rather than losing the conversion (pipeline/receive.py).

The shipped mappings cap line items well below the limit, so the delivery here comes through a
store's own WebhookSource (the port a library user implements) whose mapping has no cap."""

from __future__ import annotations

import json
from typing import Any

from tiktok_relay.local.apigw import shopify_headers
from tiktok_relay.local.memory import MemoryQueue
from tiktok_relay.pipeline.messages import MAX_MESSAGE_BYTES, QueuedDelivery
from tiktok_relay.pipeline.ports import Delivery
from tiktok_relay.pipeline.receive import Receiver
from tiktok_relay.pipeline.runtime import StaticSecret
from tiktok_relay.sources.common.events import mapped_event
from tiktok_relay.sources.common.result import MappingResult
from tiktok_relay.sources.shopify.receiver import ShopifySource
from tiktok_relay.sources.shopify.settings import ShopifySettings

SECRET = "oversize-test-secret"
NOW = 1_795_600_000


class UncappedSource(ShopifySource):
    """Every line item of the order, however many (the shipped mapping keeps at most a few hundred)."""

    def map(self, delivery: Delivery, payload: dict[str, Any], *, now: int,
            previous_state: dict[str, Any] | None = None) -> MappingResult:
        warnings: list[str] = []
        contents = [{"content_id": str(item["id"]), "content_name": item["title"], "price": 1.5, "quantity": 1}
                    for item in payload["line_items"]]
        event, problem = mapped_event({"event": "Purchase", "event_time": now, "event_id": f"order-{payload['id']}",
                                       "user": {"email": payload["email"]},
                                       "properties": {"currency": "EUR", "value": 99.0, "contents": contents}},
                                      warnings)
        assert event is not None, problem
        return MappingResult([event], None, warnings)


def test_a_message_over_the_queues_limit_is_queued_without_line_items_and_says_so():
    queue = MemoryQueue()
    receiver = Receiver(source=UncappedSource(secrets=StaticSecret(SECRET), settings=ShopifySettings(),
                                              pixel_id="CPIXEL1"), queue=queue, clock=lambda: NOW)
    order = {"id": 42, "email": "jane@example.com",
             "line_items": [{"id": n, "title": f"Tea {n} " + "x" * 200} for n in range(1500)]}
    body = json.dumps(order).encode()
    reply = receiver.handle(shopify_headers("orders/paid", body, SECRET, shop="tea.myshopify.com"), body.decode())

    assert (reply.status, reply.outcome, reply.events) == (202, "queued", 1)
    assert reply.warnings == ("properties.contents: dropped to fit the queue's message size",)
    [message] = queue.sent
    assert len(message.body.encode()) <= MAX_MESSAGE_BYTES
    queued = QueuedDelivery.parse(message.body)
    [event] = queued.request.data
    assert event["properties"] == {"currency": "EUR", "value": 99.0}
    assert event["event_id"] == "order-42" and len(event["user"]["email"][0]) == 64
    assert "jane@example.com" not in message.body


def test_a_message_within_the_limit_keeps_its_line_items():
    queue = MemoryQueue()
    receiver = Receiver(source=UncappedSource(secrets=StaticSecret(SECRET), settings=ShopifySettings(),
                                              pixel_id="CPIXEL1"), queue=queue, clock=lambda: NOW)
    order = {"id": 43, "email": "jane@example.com", "line_items": [{"id": n, "title": f"Tea {n}"} for n in range(10)]}
    body = json.dumps(order).encode()
    reply = receiver.handle(shopify_headers("orders/paid", body, SECRET, shop="tea.myshopify.com"), body.decode())

    assert (reply.status, reply.warnings) == (202, ())
    [event] = QueuedDelivery.parse(queue.sent[0].body).request.data
    assert len(event["properties"]["contents"]) == 10
