"""receiver Lambda -> SQS (moto, with its redrive policy) -> sender Lambda -> fake TikTok."""

from __future__ import annotations

import json

from tests.support import event_file


def receive(app, name):
    from tiktok_relay.local.lambda_context import FakeLambdaContext

    return app.lambda_handler(event_file(name), FakeLambdaContext(function_name="receiver"))["statusCode"]


def test_every_mapped_delivery_reaches_tiktok_once(relay, receiver_app, sender_app, fake_tiktok):
    names = ["shopify/orders_paid.json", "shopify/orders_paid_redelivered.json", "shopify/checkouts_create.json",
             "shopify/carts_update.json", "shopify/customers_create.json", "shopify/refunds_create.json",
             "shopify/negative_bad_signature.json"]
    statuses = [receive(receiver_app, name) for name in names]
    assert statuses == [202, 200, 202, 202, 202, 200, 401]

    assert relay.poll_and_send(sender_app) == {"records": 4, "failed": []}
    assert relay.poll_and_send(sender_app)["records"] == 0
    assert sorted(fake_tiktok.accepted_ids()) == sorted([
        "shopify-order-5829310123456", "shopify-checkout-f3a9c2d1e0b4a5968778695a4b3c2d1e",
        "shopify-customer-7394618230841",
        next(e["event_id"] for e in fake_tiktok.events if e["event"] == "AddToCart"),
    ])
    assert len(fake_tiktok.accepted) == 1  # one batch, one request


def test_a_record_that_keeps_failing_reaches_the_dlq_after_max_receive_count(relay, receiver_app, sender_app,
                                                                              fake_tiktok):
    # The conftest queue has maxReceiveCount 3 and visibility 0, so redelivery is immediate.
    fake_tiktok.fail_randomly(1.0, ["40001"])  # TikTok refuses the account: retried, never "bad data"
    assert receive(receiver_app, "shopify/orders_paid.json") == 202

    rounds = [relay.poll_and_send(sender_app) for _ in range(5)]

    assert [r["records"] for r in rounds] == [1, 1, 1, 0, 0]
    assert all(r["failed"] for r in rounds[:3])
    [dead] = relay.messages(relay.dlq_url)
    assert json.loads(dead["Body"])["webhook_id"] == event_file("shopify/orders_paid.json")["headers"][
        "x-shopify-webhook-id"]
    assert dead["Attributes"]["ApproximateReceiveCount"] in ("3", "4")
    assert fake_tiktok.accepted == []
