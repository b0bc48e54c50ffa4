"""The receiver Lambda (the real Powertools handler, a fake Lambda context) on its WooCommerce and
Stripe routes, with moto SQS, DynamoDB and Secrets Manager: the documented statuses, deduplication
on the delivery and on the body, one Purchase per order and per payment, logs and metrics as for
Shopify, no customer data anywhere; and through the sender to the fake TikTok."""

from __future__ import annotations

import json

import pytest

from tests.support import event_file, json_lines
from tests.support.aws import LOCAL_WEBHOOK_SECRET, PIXEL_ID
from tests.support.stores import PII, assert_no_pii
from tiktok_relay.local.apigw import stripe_event, woocommerce_event, woocommerce_ping_event

WOO_SECRET_NAME = "tiktok-relay/woocommerce-webhook-secret"
STRIPE_SECRET_NAME = "tiktok-relay/stripe-webhook-secret"
RAW = ("ada.lovelace@example.com", "grace.hopper@example.com", "07400 900123", "+447400900456", "Lovelace",
       "SW1A 1AA", "Analytical Row")


@pytest.fixture
def stores(aws, monkeypatch):
    """`aws`, receiving all three platforms, with the WooCommerce and Stripe secrets in Secrets Manager."""
    import boto3

    from tiktok_relay.pipeline import runtime

    secrets = boto3.client("secretsmanager")
    secrets.create_secret(Name=WOO_SECRET_NAME, SecretString=LOCAL_WEBHOOK_SECRET)
    secrets.create_secret(Name=STRIPE_SECRET_NAME, SecretString=f"whsec_rolled_out_one,{LOCAL_WEBHOOK_SECRET}")
    monkeypatch.setenv("RECEIVER_PLATFORMS", "shopify,woocommerce,stripe")
    monkeypatch.setenv("WOOCOMMERCE_WEBHOOK_SECRET_NAME", WOO_SECRET_NAME)
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET_NAME", STRIPE_SECRET_NAME)
    runtime.install()
    return aws


def invoke(app, event):
    from tiktok_relay.local.lambda_context import FakeLambdaContext

    response = app.lambda_handler(event, FakeLambdaContext(function_name="receiver"))
    return response["statusCode"], json.loads(response["body"])


def fresh_stripe(name: str, **changes) -> dict:
    """An events/stripe file's body, re-signed now (what Stripe's retry does), with top-level changes."""
    body = json.loads(event_file(name)["body"])
    body.update(changes)
    return stripe_event(json.dumps(body).encode(), LOCAL_WEBHOOK_SECRET)


def test_the_woocommerce_ping_gets_a_200_and_nothing_else_happens(stores, receiver_app):
    assert invoke(receiver_app, woocommerce_ping_event(3)) == (200, {
        "status": "ignored", "reason": "WooCommerce's ping on creating or activating the webhook (unsigned, "
                                      "webhook_id=N): answered 200, nothing verified or sent"})
    assert stores.messages() == []


def test_a_paid_woocommerce_order_is_queued_once_with_only_hashed_data(stores, receiver_app, powertools_stdout):
    event = event_file("woocommerce/order_created.json")
    status, body = invoke(receiver_app, event)
    assert (status, body) == (202, {"status": "queued", "events": 1})
    [message] = stores.messages()
    queued = json.loads(message["Body"])
    assert (queued["source"], queued["shop"], queued["topic"]) == ("woocommerce", "tiktok-relay-demo.example",
                                                                 "order.created")
    assert queued["webhook_id"] == event["headers"]["x-wc-webhook-delivery-id"]
    [purchase] = queued["request"]["data"]
    assert queued["request"]["event_source_id"] == PIXEL_ID
    assert purchase["event_id"] == "woocommerce-tiktok-relay-demo.example-order-4817"
    out = powertools_stdout.readouterr().out
    for raw in RAW:
        assert raw not in message["Body"] and raw not in out
    logs = [line for line in json_lines(out) if line.get("message") == "delivery queued"]
    assert logs[0]["platform"] == "woocommerce" and logs[0]["shop"] == "tiktok-relay-demo.example"
    assert logs[0]["correlation_id"] == event["headers"]["x-wc-webhook-delivery-id"]


def test_the_same_order_under_a_new_delivery_id_is_a_duplicate(stores, receiver_app):
    event = event_file("woocommerce/order_created.json")
    assert invoke(receiver_app, event)[0] == 202
    event["headers"]["x-wc-webhook-delivery-id"] = "another-delivery-of-the-same-body"
    status, body = invoke(receiver_app, event)
    assert (status, body["status"]) == (200, "duplicate") and "X-WC-Webhook-Delivery-ID" in body["reason"]
    assert len(stores.messages()) == 1


def test_a_later_update_of_a_sent_order_sends_nothing(stores, receiver_app):
    assert invoke(receiver_app, event_file("woocommerce/order_created.json"))[0] == 202
    status, body = invoke(receiver_app, event_file("woocommerce/order_updated_completed.json"))
    assert (status, body["status"]) == (200, "ignored") and "already sent" in body["reason"]
    assert len(stores.messages()) == 1


@pytest.mark.parametrize(("name", "status", "outcome"), [
    ("woocommerce/negative_bad_signature.json", 401, "rejected"),
    ("woocommerce/order_created_pending.json", 200, "ignored"),
    ("woocommerce/order_updated_refunded.json", 200, "ignored"),
    ("stripe/negative_bad_signature.json", 401, "rejected"),
    ("stripe/charge_refunded.json", 200, "ignored"),
    ("stripe/payment_intent_succeeded.json", 200, "ignored"),
    ("stripe/checkout_session_completed_unpaid.json", 200, "ignored"),
])
def test_what_is_not_sent_gets_its_documented_status_and_nothing_is_queued(stores, receiver_app, name, status,
                                                                           outcome):
    event = event_file(name) if name.startswith("woocommerce") or "negative" in name else fresh_stripe(name)
    got, body = invoke(receiver_app, event)
    assert (got, body["status"]) == (status, outcome) and body["reason"]
    assert stores.messages() == []


def test_a_woocommerce_delivery_without_its_headers_is_a_400_naming_them(stores, receiver_app):
    body = json.dumps({"id": 1, "status": "processing", "line_items": []}).encode()
    event = woocommerce_event("order.created", body, LOCAL_WEBHOOK_SECRET)
    del event["headers"]["x-wc-webhook-source"]
    assert invoke(receiver_app, event) == (400, {"status": "rejected",
                                                 "reason": "missing header(s): x-wc-webhook-source"})


def test_a_paid_stripe_session_is_queued_and_its_retry_is_a_duplicate(stores, receiver_app, powertools_stdout):
    first = fresh_stripe("stripe/checkout_session_completed.json")
    assert invoke(receiver_app, first) == (202, {"status": "queued", "events": 1})
    # Stripe's retry: the same event id, signed afresh, with another pending_webhooks count.
    retry = fresh_stripe("stripe/checkout_session_completed.json", pending_webhooks=0)
    assert invoke(receiver_app, retry) == (200, {"status": "duplicate",
                                                 "reason": "this Stripe event id was already received"})
    [message] = stores.messages()
    queued = json.loads(message["Body"])
    assert (queued["source"], queued["shop"], queued["webhook_id"]) == ("stripe", "stripe",
                                                                      "evt_1QdemoSessionCompleted0001")
    assert queued["request"]["data"][0]["event_id"] == "stripe-pi_3QdemoPaymentIntent0001"
    out = powertools_stdout.readouterr().out
    assert_no_pii(message["Body"], out)
    queued_logs = [line for line in json_lines(out) if line.get("message") == "delivery queued"]
    assert queued_logs[0]["platform"] == "stripe" and queued_logs[0]["correlation_id"] == "evt_1QdemoSessionCompleted0001"


def test_a_stripe_signature_older_than_five_minutes_is_refused(stores, receiver_app):
    body = event_file("stripe/checkout_session_completed.json")["body"].encode()
    import time

    stale = stripe_event(body, LOCAL_WEBHOOK_SECRET, timestamp=int(time.time()) - 301)
    status, reply = invoke(receiver_app, stale)
    assert status == 401 and "more than 5 minutes ago" in reply["reason"]
    assert stores.messages() == []


def test_a_session_and_its_payment_intent_give_one_purchase_when_both_are_configured(stores, receiver_app,
                                                                                    monkeypatch):
    from tiktok_relay.pipeline import runtime

    monkeypatch.setenv("STRIPE_EVENTS", "checkout.session.completed,payment_intent.succeeded")
    runtime.install()
    assert invoke(receiver_app, fresh_stripe("stripe/checkout_session_completed.json"))[0] == 202
    status, body = invoke(receiver_app, fresh_stripe("stripe/payment_intent_succeeded.json"))
    assert (status, body["status"]) == (200, "ignored") and "already sent for this payment" in body["reason"]
    assert len(stores.messages()) == 1


def test_unsigned_requests_are_401_even_where_no_secret_exists(aws, receiver_app, monkeypatch):
    """A scanner posting to a route whose secret was never created gets 401, not a 500 that pages."""
    from tiktok_relay.pipeline import runtime

    monkeypatch.setenv("RECEIVER_PLATFORMS", "shopify,woocommerce,stripe")
    monkeypatch.setenv("WOOCOMMERCE_WEBHOOK_SECRET_NAME", "no-such-secret")
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET_NAME", "no-such-secret")
    runtime.install()
    woo = woocommerce_event("order.created", b"{}", None)
    stripe = stripe_event(b"{}", None)
    assert invoke(receiver_app, woo)[0] == 401 and invoke(receiver_app, stripe)[0] == 401
    # A signed one meets the missing secret: misconfigured, retried, naming the setting.
    status, body = invoke(receiver_app, fresh_stripe("stripe/checkout_session_completed.json"))
    assert (status, body["status"]) == (500, "misconfigured") and "STRIPE_WEBHOOK_SECRET_NAME" in body["reason"]


@pytest.mark.filterwarnings("ignore:No application metrics to publish")
def test_a_platform_the_deployment_does_not_receive_is_a_404_never_a_5xx(aws, receiver_app, powertools_stdout):
    """RECEIVER_PLATFORMS defaults to shopify: the other routes say how to enable them."""
    status, body = invoke(receiver_app, event_file("woocommerce/order_created.json"))
    assert (status, body["status"]) == (404, "not_found")
    assert "add woocommerce to RECEIVER_PLATFORMS (the StorePlatforms parameter" in body["reason"]
    assert invoke(receiver_app, woocommerce_ping_event())[0] == 404
    emf = [line for line in json_lines(powertools_stdout.readouterr().out) if "_aws" in line]
    assert any("UnroutedRequests" in doc for doc in emf) and not any("WebhooksFailed" in doc for doc in emf)


def test_refusals_are_counted_as_for_shopify(stores, receiver_app, powertools_stdout):
    invoke(receiver_app, event_file("woocommerce/negative_bad_signature.json"))
    invoke(receiver_app, event_file("stripe/negative_expired_signature.json"))
    invoke(receiver_app, woocommerce_event("order.created", b"not json", LOCAL_WEBHOOK_SECRET))
    docs = [doc for doc in json_lines(powertools_stdout.readouterr().out) if "_aws" in doc]
    rejected = [doc["reason"] for doc in docs if "WebhooksRejected" in doc]
    assert rejected == ["401", "401", "400"]
    assert sum(1 for doc in docs if "WebhooksReceived" in doc) == 3


def test_woocommerce_and_stripe_purchases_reach_tiktok(relay, receiver_app, sender_app, fake_tiktok, monkeypatch):
    import boto3

    from tiktok_relay.pipeline import runtime

    secrets = boto3.client("secretsmanager")
    secrets.create_secret(Name=WOO_SECRET_NAME, SecretString=LOCAL_WEBHOOK_SECRET)
    secrets.create_secret(Name=STRIPE_SECRET_NAME, SecretString=LOCAL_WEBHOOK_SECRET)
    for name, value in (("RECEIVER_PLATFORMS", "woocommerce,stripe"), ("WOOCOMMERCE_WEBHOOK_SECRET_NAME",
                                                                       WOO_SECRET_NAME),
                        ("STRIPE_WEBHOOK_SECRET_NAME", STRIPE_SECRET_NAME)):
        monkeypatch.setenv(name, value)
    runtime.install()
    assert invoke(receiver_app, event_file("woocommerce/order_created.json"))[0] == 202
    assert invoke(receiver_app, fresh_stripe("stripe/checkout_session_completed_jpy.json"))[0] == 202
    relay.poll_and_send(sender_app)
    assert sorted(fake_tiktok.accepted_ids()) == ["stripe-pi_3QdemoYenIntent0003",
                                                  "woocommerce-tiktok-relay-demo.example-order-4817"]
    sent = json.dumps(fake_tiktok.accepted)
    for raw in PII + RAW:
        assert raw.lower() not in sent.lower()
    yen = next(e for body in fake_tiktok.accepted for e in body["data"] if e["event_id"].startswith("stripe"))
    assert yen["properties"] == {"currency": "JPY", "value": 4900.0, "order_id": "order-1044"}
