"""The receiver Lambda (tiktok_relay/handlers/receiver.py, what functions/receiver/app.py hands
to Lambda) with the events/ files, moto SQS, DynamoDB
idempotency and Secrets Manager, and a fake Lambda context."""

from __future__ import annotations

import json

import pytest

from tests.support import DUPLICATE_REASON, event_file, json_lines
from tests.support.aws import PIXEL_ID, SHOPIFY_SECRET_NAME

RAW_PII = ("ada.lovelace@example.com", "07400 900123", "+447400900456", "Lovelace", "SW1A 1AA", "Analytical Row")


def invoke(app, event):
    from tiktok_relay.local.lambda_context import FakeLambdaContext

    response = app.lambda_handler(event, FakeLambdaContext(function_name="receiver"))
    return response["statusCode"], json.loads(response["body"])


def test_orders_paid_is_queued_with_only_hashed_data(aws, receiver_app, powertools_stdout):
    status, body = invoke(receiver_app, event_file("shopify/orders_paid.json"))

    assert (status, body["status"], body["events"]) == (202, "queued", 1)
    [message] = aws.messages()
    queued = json.loads(message["Body"])
    assert queued["webhook_id"] == event_file("shopify/orders_paid.json")["headers"]["x-shopify-webhook-id"]
    assert queued["topic"] == "orders/paid"
    request = queued["request"]
    assert request["event_source"] == "web" and request["event_source_id"] == PIXEL_ID
    [event] = request["data"]
    assert event["event"] == "Purchase" and event["event_id"] == "shopify-order-5829310123456"
    assert all(len(h) == 64 for h in event["user"]["email"] + event["user"]["phone"])
    assert message["MessageAttributes"]["topic"]["StringValue"] == "orders/paid"
    for raw in RAW_PII:
        assert raw not in message["Body"]
    out = powertools_stdout.readouterr().out
    for raw in RAW_PII:
        assert raw not in out


def test_logs_carry_webhook_id_shop_and_topic(aws, receiver_app, powertools_stdout):
    event = event_file("shopify/orders_paid.json")
    invoke(receiver_app, event)
    logs = [line for line in json_lines(powertools_stdout.readouterr().out) if "level" in line]
    queued = [line for line in logs if line.get("message") == "delivery queued"]
    assert queued, logs
    assert queued[0]["correlation_id"] == event["headers"]["x-shopify-webhook-id"]
    assert queued[0]["shop"] == "tiktok-relay-demo.myshopify.com"
    assert queued[0]["topic"] == "orders/paid"


def test_metrics_count_received_and_enqueued(aws, receiver_app, powertools_stdout):
    invoke(receiver_app, event_file("shopify/orders_paid.json"))
    emf = [line for line in json_lines(powertools_stdout.readouterr().out) if "_aws" in line]
    names = {m["Name"] for doc in emf for d in doc["_aws"]["CloudWatchMetrics"] for m in d["Metrics"]}
    assert {"WebhooksReceived", "EventsEnqueued"} <= names
    enqueued = next(doc for doc in emf if "EventsEnqueued" in doc)
    assert enqueued["EventsEnqueued"] == [1.0]


def match_key_metrics(out: str) -> list[dict[str, float]]:
    """Per EMF document that holds EventsEnqueued: the EventsWith<Key> metrics beside it."""
    emf = [doc for doc in json_lines(out) if "_aws" in doc and "EventsEnqueued" in doc]
    return [{m["Name"]: doc[m["Name"]] for d in doc["_aws"]["CloudWatchMetrics"] for m in d["Metrics"]
             if m["Name"].startswith("EventsWith")} for doc in emf]


def test_each_queued_delivery_counts_its_events_carrying_each_match_key(aws, receiver_app, powertools_stdout):
    invoke(receiver_app, event_file("shopify/orders_paid.json"))  # every key
    invoke(receiver_app, event_file("shopify/checkouts_create.json"))  # no ip or user agent
    invoke(receiver_app, event_file("shopify/carts_create.json"))  # a cart: no customer at all
    invoke(receiver_app, event_file("shopify/orders_paid_redelivered.json"))  # a duplicate: nothing counted again

    order, checkout, cart = match_key_metrics(powertools_stdout.readouterr().out)
    every = ("EventsWithEmail", "EventsWithPhone", "EventsWithExternalId", "EventsWithIp", "EventsWithUserAgent",
             "EventsWithTtclid", "EventsWithTtp")
    assert order == dict.fromkeys(every, [1.0])
    assert checkout == {**dict.fromkeys(every, [1.0]), "EventsWithIp": [0.0], "EventsWithUserAgent": [0.0]}
    assert cart == dict.fromkeys(every, [0.0])  # zeros are written too: coverage never has gaps


def metric_dimensions(out: str, name: str) -> list[dict]:
    """Each EMF document that holds `name`, as {dimension: value}."""
    docs = [doc for doc in json_lines(out) if "_aws" in doc and name in doc]
    return [{d: doc[d] for dims in doc["_aws"]["CloudWatchMetrics"] for ds in dims["Dimensions"] for d in ds}
            for doc in docs]


def test_refused_deliveries_count_as_rejected_and_retried_answers_as_failed(aws, receiver_app, powertools_stdout,
                                                                            monkeypatch):
    from tiktok_relay.pipeline import runtime

    invoke(receiver_app, event_file("shopify/negative_bad_signature.json"))
    invoke(receiver_app, event_file("shopify/negative_malformed_body.json"))
    monkeypatch.setenv("EVENTS_QUEUE_URL", aws.queue_url.replace("tiktok-relay-events", "no-such-queue"))
    runtime.install()
    invoke(receiver_app, event_file("shopify/orders_paid.json"))
    out = powertools_stdout.readouterr().out
    assert [d["reason"] for d in metric_dimensions(out, "WebhooksRejected")] == ["401", "400"]
    assert [d["reason"] for d in metric_dimensions(out, "WebhooksFailed")] == ["unavailable"]


def test_metrics_disabled_silences_every_metric_line(aws, receiver_app, powertools_stdout, monkeypatch):
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    invoke(receiver_app, event_file("shopify/negative_bad_signature.json"))
    invoke(receiver_app, event_file("shopify/orders_paid.json"))
    assert [doc for doc in json_lines(powertools_stdout.readouterr().out) if "_aws" in doc] == []


@pytest.mark.parametrize(("method", "path"), [("POST", "/nowhere"), ("GET", "/webhooks/shopify"), ("GET", "/")])
def test_any_other_route_gets_a_json_404_with_a_status(aws, receiver_app, method, path):
    from tiktok_relay.local.apigw import http_api_event

    status, body = invoke(receiver_app, http_api_event(method, path, {"content-type": "application/json"}, b"{}"))
    assert status == 404
    assert body == {"status": "not_found", "reason": "no such route; webhooks go to POST /webhooks/shopify, "
                                                     "POST /webhooks/woocommerce, POST /webhooks/stripe"}
    assert aws.messages() == []


def test_duplicate_delivery_is_acknowledged_once(aws, receiver_app):
    first = invoke(receiver_app, event_file("shopify/orders_paid.json"))
    second = invoke(receiver_app, event_file("shopify/orders_paid_redelivered.json"))

    assert first[0] == 202
    assert second == (200, {"status": "duplicate", "reason": DUPLICATE_REASON})
    assert len(aws.messages()) == 1


@pytest.mark.parametrize(
    ("name", "status", "outcome"),
    [
        ("shopify/negative_bad_signature.json", 401, "rejected"),
        ("shopify/negative_malformed_body.json", 400, "rejected"),
        ("shopify/refunds_create.json", 200, "ignored"),
        ("shopify/orders_create.json", 200, "ignored"),
        ("shopify/customers_create_guest.json", 200, "ignored"),
        ("shopify/orders_paid_test_order.json", 200, "ignored"),
    ],
)
def test_what_is_not_sent_gets_its_documented_status_and_nothing_is_queued(aws, receiver_app, name, status, outcome):
    got_status, body = invoke(receiver_app, event_file(name))

    assert (got_status, body["status"]) == (status, outcome)
    assert body["reason"]
    assert aws.messages() == []


@pytest.mark.parametrize(
    "name",
    ["shopify/checkouts_create.json", "shopify/checkouts_update.json", "shopify/carts_create.json",
     "shopify/carts_update.json", "shopify/customers_create.json", "shopify/customers_create_base64_body.json"],
)
def test_every_mapped_topic_is_queued(aws, receiver_app, name):
    status, body = invoke(receiver_app, event_file(name))
    assert (status, body["status"]) == (202, "queued")
    assert len(aws.messages()) == 1


def test_rejected_signature_is_not_remembered_by_idempotency(aws, receiver_app):
    """A forged request carrying a real delivery's webhook id must not block that delivery."""
    forged = event_file("shopify/negative_bad_signature.json")
    real = event_file("shopify/orders_paid.json")
    forged["headers"]["x-shopify-webhook-id"] = real["headers"]["x-shopify-webhook-id"]

    assert invoke(receiver_app, forged)[0] == 401
    assert invoke(receiver_app, real)[0] == 202


def test_queue_outage_answers_5xx_and_the_retry_gets_through(aws, receiver_app, monkeypatch):
    from tiktok_relay.pipeline import runtime

    monkeypatch.setenv("EVENTS_QUEUE_URL", aws.queue_url.replace("tiktok-relay-events", "no-such-queue"))
    runtime.install()
    status, body = invoke(receiver_app, event_file("shopify/orders_paid.json"))
    assert status == 503 and body["status"] == "unavailable"
    assert aws.messages() == []

    # Shopify retries the same delivery; the failed attempt must not count as "already received".
    monkeypatch.setenv("EVENTS_QUEUE_URL", aws.queue_url)
    runtime.install()
    status, body = invoke(receiver_app, event_file("shopify/orders_paid.json"))
    assert (status, body["status"]) == (202, "queued")
    assert len(aws.messages()) == 1


def test_rotated_secrets_are_both_accepted(aws, receiver_app):
    import boto3

    from tiktok_relay.local.harness import LOCAL_WEBHOOK_SECRET
    from tiktok_relay.pipeline import runtime

    boto3.client("secretsmanager").put_secret_value(
        SecretId=SHOPIFY_SECRET_NAME, SecretString=f"brand-new-secret, {LOCAL_WEBHOOK_SECRET}")
    runtime.install()  # a new receiver reads the secret afresh (each one caches what it read)
    assert invoke(receiver_app, event_file("shopify/orders_paid.json"))[0] == 202


def test_missing_secret_is_a_clear_5xx_not_a_crash(aws, receiver_app, monkeypatch):
    from tiktok_relay.pipeline import runtime

    monkeypatch.setenv("SHOPIFY_WEBHOOK_SECRET_NAME", "tiktok-relay/does-not-exist")
    runtime.install()
    status, body = invoke(receiver_app, event_file("shopify/orders_paid.json"))
    assert status == 500 and body["status"] == "misconfigured"
    assert "SHOPIFY_WEBHOOK_SECRET_NAME" in body["reason"]


def test_missing_pixel_id_names_the_variable(aws, receiver_app, monkeypatch):
    from tiktok_relay.pipeline import runtime

    monkeypatch.delenv("TIKTOK_PIXEL_ID")
    runtime.install()
    status, body = invoke(receiver_app, event_file("shopify/orders_paid.json"))
    assert status == 500
    assert "TIKTOK_PIXEL_ID" in body["reason"]


@pytest.mark.filterwarnings("ignore:No application metrics to publish")  # no route ran, so no metrics
def test_unknown_route_is_404_not_5xx(aws, receiver_app):
    event = event_file("shopify/orders_paid.json")
    event["rawPath"] = event["requestContext"]["http"]["path"] = "/webhooks/bigcommerce"
    event["routeKey"] = event["requestContext"]["routeKey"] = "POST /webhooks/bigcommerce"
    from tiktok_relay.local.lambda_context import FakeLambdaContext

    response = receiver_app.lambda_handler(event, FakeLambdaContext())
    assert response["statusCode"] == 404


def test_a_bug_while_mapping_is_a_5xx_so_shopify_retries_and_nothing_is_lost(aws, receiver_app, monkeypatch,
                                                                               powertools_stdout):
    import tiktok_relay.sources.shopify.receiver as receive

    def broken_mapping(*args, **kwargs):  # a bug whose message quotes customer data
        raise TypeError("cannot handle 'ada.lovelace@example.com'")

    working_mapping = receive.map_webhook
    monkeypatch.setattr(receive, "map_webhook", broken_mapping)
    status, body = invoke(receiver_app, event_file("shopify/orders_paid.json"))
    assert (status, body["status"]) == (500, "internal_error")
    assert "TypeError" in body["reason"] and "ada.lovelace" not in body["reason"]
    assert "ada.lovelace" not in powertools_stdout.readouterr().out
    assert aws.messages() == []

    # The fix is deployed; Shopify's retry of the same delivery goes through.
    monkeypatch.setattr(receive, "map_webhook", working_mapping)
    status, body = invoke(receiver_app, event_file("shopify/orders_paid.json"))
    assert (status, body["status"]) == (202, "queued")
    assert len(aws.messages()) == 1
