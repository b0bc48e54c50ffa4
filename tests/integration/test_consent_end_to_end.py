"""The buyer's consent through the real handlers: receiver -> SQS (moto) -> sender -> fake TikTok.
A refusal is a 200 `ignored` whose reason says consent, and no value of the payload; an opt-out of
the sale of data reaches TikTok as `limited_data_use: true`; SHOPIFY_CONSENT comes from the
environment the template sets."""

from __future__ import annotations

import copy
import json

import pytest

from tests.support.aws import LOCAL_WEBHOOK_SECRET
from tests.support.shopify import load
from tiktok_relay.local.apigw import shopify_event
from tiktok_relay.pipeline import runtime

ORDER = load("order_paid_gb_10_items.json")


def order(order_id: int, **attributes: str) -> dict:
    payload = copy.deepcopy(ORDER)
    payload["id"] = order_id
    payload["note_attributes"] = [{"name": name, "value": value} for name, value in attributes.items()]
    return payload


def receive(app, payload: dict) -> tuple[int, dict]:
    from tiktok_relay.local.lambda_context import FakeLambdaContext

    event = shopify_event("orders/paid", json.dumps(payload).encode(), LOCAL_WEBHOOK_SECRET,
                          shop="tea-shop.myshopify.com")
    response = app.lambda_handler(event, FakeLambdaContext(function_name="receiver"))
    return response["statusCode"], json.loads(response["body"])


def test_consent_decides_what_reaches_tiktok_and_limited_data_use_is_on_the_wire(relay, receiver_app, sender_app,
                                                                                  fake_tiktok):
    declined = receive(receiver_app, order(1001, _tt_marketing="denied", _tt_sale_of_data="granted"))
    opted_out = receive(receiver_app, order(1002, _tt_marketing="granted", _tt_sale_of_data="denied"))
    granted = receive(receiver_app, order(1003, _tt_marketing="granted", _tt_sale_of_data="granted"))
    unrecorded = receive(receiver_app, order(1004))

    assert declined[0] == 200 and declined[1]["status"] == "ignored"
    assert declined[1]["reason"].startswith("consent: ") and "denied" in declined[1]["reason"]
    assert [opted_out[0], granted[0], unrecorded[0]] == [202, 202, 202]
    assert relay.poll_and_send(sender_app)["failed"] == []
    sent = {event["event_id"]: event for event in fake_tiktok.events}
    assert sorted(sent) == ["shopify-order-1002", "shopify-order-1003", "shopify-order-1004"]
    assert sent["shopify-order-1002"]["limited_data_use"] is True
    assert "limited_data_use" not in sent["shopify-order-1003"] and "limited_data_use" not in sent["shopify-order-1004"]


@pytest.mark.parametrize(("mode", "queued"), [("require", [1003]), ("ignore", [1001, 1003, 1004])])
def test_shopify_consent_from_the_environment(relay, receiver_app, monkeypatch, mode, queued):
    monkeypatch.setenv("SHOPIFY_CONSENT", mode)
    runtime.install()  # built again from this environment, as a new Lambda container would
    statuses = {order_id: receive(receiver_app, order(order_id, **attributes))[0] for order_id, attributes in (
        (1001, {"_tt_marketing": "denied"}), (1003, {"_tt_marketing": "granted"}), (1004, {}))}
    assert sorted(order_id for order_id, status in statuses.items() if status == 202) == queued
    request_ids = [event["event_id"] for message in relay.messages()
                   for event in json.loads(message["Body"])["request"]["data"]]
    assert sorted(request_ids) == [f"shopify-order-{order_id}" for order_id in queued]


def test_a_bad_shopify_consent_is_a_misconfiguration_naming_the_variable(relay, receiver_app, monkeypatch):
    monkeypatch.setenv("SHOPIFY_CONSENT", "sometimes")
    runtime.install()
    status, body = receive(receiver_app, order(1005))
    assert (status, body["status"]) == (500, "misconfigured") and "SHOPIFY_CONSENT" in body["reason"]
