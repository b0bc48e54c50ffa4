"""The scheduled reconcile function (functions/reconcile/app.py) with moto: the shop's paid
orders from the fake Admin API (its token a Secrets Manager secret), the ledger the sender
writes (DynamoDB), the missed orders' events onto the events queue for the sender; its metrics
are the ones the template's alarms read; a shop it cannot check is reported, not a crash."""

from __future__ import annotations

import copy
import json
import time
from datetime import UTC, datetime

import pytest

from tests.infrastructure.test_template import RECONCILE_METRICS, _metric_stats, load_template, resources
from tests.support import json_lines
from tests.support.aws import LEDGER_TABLE, LOCAL_WEBHOOK_SECRET, PIXEL_ID
from tests.support.shopify import load
from tiktok_relay.local.apigw import shopify_event
from tiktok_relay.local.lambda_context import FakeLambdaContext
from tiktok_relay.pipeline.aws import DynamoDBLedger
from tiktok_relay.pipeline.ledger import ledger_key
from tiktok_relay.pipeline.messages import QueuedDelivery
from tiktok_relay.testing.fake_shopify_admin import FakeShopifyAdmin

SHOP = "tea-shop.myshopify.com"
ADMIN_SECRET_NAME = "tiktok-relay/shopify-admin-access-token"
HOUR = 3600


def order(order_id: int, hours_ago: float, **changes) -> dict:
    when = datetime.fromtimestamp(time.time() - hours_ago * HOUR, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    payload = copy.deepcopy(load("order_paid_gb_10_items.json"))
    payload.update({"id": order_id, "admin_graphql_api_id": f"gid://shopify/Order/{order_id}", "name": f"#{order_id}",
                    "processed_at": when, "created_at": when, "financial_status": "paid", **changes})
    return payload


DELIVERED, MISSED = order(2001, 5), order(2002, 4)
POS, TEST = order(2003, 3, source_name="pos"), order(2004, 2, test=True)
REFUSED = order(2005, 1, note_attributes=[{"name": "_tt_marketing", "value": "denied"}])
OLD = order(2006, 60)  # in the 3-day window, past TikTok's 48 h deduplication window
JUST_PAID = order(2007, 0.05)  # 3 minutes ago: its webhook may be on its way, the window ends 10 minutes ago


@pytest.fixture
def scheduled(relay, monkeypatch):
    """`relay` (moto, the fake TikTok), the fake Admin API holding the orders, its token in
    Secrets Manager, and the reconcile function's environment (what the template sets)."""
    import boto3

    from tiktok_relay.pipeline import runtime

    with FakeShopifyAdmin(orders=copy.deepcopy([DELIVERED, MISSED, POS, TEST, REFUSED, OLD, JUST_PAID]),
                          shop=SHOP) as admin:
        boto3.client("secretsmanager").create_secret(Name=ADMIN_SECRET_NAME, SecretString=admin.access_token)
        for name, value in {"SHOPIFY_SHOP": SHOP, "SHOPIFY_ADMIN_ACCESS_TOKEN_SECRET_NAME": ADMIN_SECRET_NAME,
                            "RECONCILE_WINDOW": "3d", "TIKTOK_MAX_EVENT_AGE": "48h",
                            "SHOPIFY_ADMIN_BASE_URL": admin.base_url}.items():
            monkeypatch.setenv(name, value)
        runtime.install()
        yield relay, admin


def invoke(app) -> dict:
    return app.lambda_handler({"version": "0", "detail-type": "Scheduled Event", "source": "aws.scheduler"},
                              FakeLambdaContext(function_name="reconcile", timeout_seconds=840))


def deliver_by_webhook(receiver_app, sender_app, relay, payload: dict) -> None:
    event = shopify_event("orders/paid", json.dumps(payload).encode(), LOCAL_WEBHOOK_SECRET, shop=SHOP)
    assert receiver_app.lambda_handler(event, FakeLambdaContext(function_name="receiver"))["statusCode"] == 202
    assert relay.poll_and_send(sender_app)["failed"] == []


def peek(relay) -> list[dict]:
    """What is on the events queue now, left there (its visibility timeout is 0)."""
    return relay.sqs.receive_message(QueueUrl=relay.queue_url, MaxNumberOfMessages=10).get("Messages", [])


def emf(lines: list[dict]) -> dict[tuple, float]:
    """(metric, dimension names and values) -> value, from the EMF documents the handler printed."""
    out: dict[tuple, float] = {}
    for line in lines:
        for directive in line.get("_aws", {}).get("CloudWatchMetrics", []):
            for metric in directive["Metrics"]:
                for names in directive["Dimensions"]:
                    value = line[metric["Name"]]
                    out[(metric["Name"], tuple((n, line[n]) for n in sorted(names)))] = \
                        value[0] if isinstance(value, list) else value
    return out


def test_missed_orders_are_queued_for_the_sender_and_the_rest_reported(scheduled, receiver_app, sender_app,
                                                                        reconcile_app, fake_tiktok, powertools_stdout):
    relay, admin = scheduled
    deliver_by_webhook(receiver_app, sender_app, relay, DELIVERED)
    fake_tiktok.reset()
    powertools_stdout.readouterr()

    result = invoke(reconcile_app)

    assert result == {"shops": [{"shop": SHOP, "reconciled": True, "skipped": False, "undelivered": 1}]}  # the old one
    [queued] = peek(relay)
    delivery = QueuedDelivery.parse(queued["Body"])
    assert delivery.webhook_id.startswith("reconcile-") and delivery.shop == SHOP and delivery.topic == "orders/paid"
    assert [e["event_id"] for e in delivery.request.data] == ["shopify-order-2002"]
    assert delivery.request.event_source_id == PIXEL_ID
    [call] = admin.calls_of("orders")
    window = call.variables["query"]
    assert "financial_status:paid" in window and "processed_at:<" in window
    lines = json_lines(powertools_stdout.readouterr().out)
    [logged] = [line for line in lines if line.get("message") == "shop reconciled"]
    assert (logged["shop"], logged["orders"], logged["delivered"], logged["queued"], logged["old"]) == (SHOP, 6, 1, 1, 1)
    assert logged["ignored"]["channel"] == logged["ignored"]["test"] == logged["ignored"]["consent"] == 1
    assert "Ada" not in json.dumps(lines) and admin.access_token not in json.dumps(lines)
    metrics = emf(lines)
    service = ("service", "tiktok-relay-tests")
    assert metrics[("WebOrdersDeliveredPercent", (service,))] == pytest.approx(33.33)
    assert metrics[("ReconcileFailures", (service,))] == 0
    assert metrics[("ReconciledOrders", (("channel", "web"), ("outcome", "queued"), service))] == 1
    assert metrics[("ReconciledOrders", (("channel", "web"), ("outcome", "old"), service))] == 1
    assert metrics[("IgnoredOrders", (("channel", "pos"), ("reason", "channel"), service))] == 1
    assert metrics[("PaidOrders", (("channel", "web"), service))] == 5

    # The sender delivers the queued event and records it as the reconcile's; the next run sends nothing.
    assert relay.poll_and_send(sender_app)["failed"] == []
    assert fake_tiktok.accepted_ids() == ["shopify-order-2002"]
    entry = DynamoDBLedger(LEDGER_TABLE).delivered([ledger_key(PIXEL_ID, "Purchase", "shopify-order-2002")])
    assert [e.via for e in entry.values()] == ["reconcile"]
    powertools_stdout.readouterr()
    invoke(reconcile_app)
    assert relay.messages() == []
    [again] = [line for line in json_lines(powertools_stdout.readouterr().out) if line.get("message") == "shop reconciled"]
    assert (again["delivered"], again["reconciled"], again["queued"]) == (1, 1, 0)


def test_the_alarms_read_the_metrics_the_function_writes(scheduled, reconcile_app, powertools_stdout):
    invoke(reconcile_app)
    written = {(name, tuple(n for n, _ in dims)) for name, dims in emf(json_lines(powertools_stdout.readouterr().out))}
    template = load_template()
    read = {(stat["MetricName"], tuple(sorted(stat["Dimensions"]))) for alarm in
            resources(template, "AWS::CloudWatch::Alarm").values() for stat in _metric_stats(alarm)
            if stat["MetricName"] in RECONCILE_METRICS}
    assert read == {("WebOrdersDeliveredPercent", ("service",)), ("ReconcileFailures", ("service",))}
    assert read <= written


def test_a_shop_whose_token_is_refused_is_reported_and_counted(scheduled, reconcile_app, powertools_stdout):
    import boto3

    relay, admin = scheduled
    boto3.client("secretsmanager").put_secret_value(SecretId=ADMIN_SECRET_NAME, SecretString="shpat_revoked")

    result = invoke(reconcile_app)

    assert result == {"shops": [{"shop": SHOP, "reconciled": False, "skipped": False, "undelivered": None}]}
    lines = json_lines(powertools_stdout.readouterr().out)
    [error] = [line for line in lines if line.get("message") == "shop not reconciled"]
    assert error["shop"] == SHOP and "refused the access token (HTTP 401)" in error["reason"]
    assert "shpat_revoked" not in json.dumps(lines)
    assert emf(lines)[("ReconcileFailures", (("service", "tiktok-relay-tests"),))] == 1
    assert relay.messages() == []


def test_a_window_longer_than_the_ledger_remembers_is_a_misconfiguration(scheduled, reconcile_app, monkeypatch,
                                                                       powertools_stdout):
    from tiktok_relay.errors import ConfigurationError
    from tiktok_relay.pipeline import runtime

    monkeypatch.setenv("RECONCILE_WINDOW", "30d")
    runtime.install()
    with pytest.raises(ConfigurationError, match="RECONCILE_WINDOW must be a duration such as 6h or 2d, at most 7d"):
        invoke(reconcile_app)
    [line] = [line for line in json_lines(powertools_stdout.readouterr().out) if line.get("message")
              == "relay misconfigured"]
    assert "RECONCILE_WINDOW" in line["reason"]


def test_the_events_queue_refusing_a_message_fails_that_order_only(scheduled, reconcile_app, monkeypatch,
                                                                   powertools_stdout):
    from tiktok_relay.pipeline import runtime

    relay, _ = scheduled
    monkeypatch.setenv("EVENTS_QUEUE_URL", relay.queue_url.replace("tiktok-relay-events", "gone"))
    runtime.install()
    result = invoke(reconcile_app)
    assert result["shops"][0]["reconciled"] is True and result["shops"][0]["undelivered"] == 3  # 2 failed, the old one
    [logged] = [line for line in json_lines(powertools_stdout.readouterr().out) if line.get("message")
                == "shop reconciled"]
    failed = [o for o in logged["missed"] if o["outcome"] == "failed"]
    assert [o["id"] for o in failed] == ["2001", "2002"]  # nothing delivered by webhook in this test
    assert all(o["reason"].startswith("not queued: the events queue did not take it (") for o in failed)


TENANTS_SECRET = "tiktok-relay/tenants"
ACME, BETA, GAMMA = "acme-teas.myshopify.com", "beta-mugs.myshopify.com", "gamma-pots.myshopify.com"
PIXEL_A, PIXEL_B = "CACMEPIXEL00001", "CBETAPIXEL00002"


def test_with_a_tenants_document_every_shop_with_an_admin_token_is_reconciled_with_its_own_pixel(
        scheduled, reconcile_app, sender_app, fake_tiktok, monkeypatch, powertools_stdout):
    """Each tenant's orders (the fake serves the same ones to both tokens' shops) are looked up
    under its own pixel and queued naming their tenant, so the sender posts them with its token;
    a tenant without admin_access_token is skipped (not a failure), a broken entry is one."""
    import boto3

    from tiktok_relay.pipeline import runtime

    relay, admin = scheduled
    entry = {"access_token": "tiktok-token", "webhook_secret": "s1", "admin_access_token": admin.access_token}
    boto3.client("secretsmanager").create_secret(Name=TENANTS_SECRET, SecretString=json.dumps({"shops": {
        ACME: {**entry, "pixel_id": PIXEL_A},
        BETA: {**entry, "pixel_id": PIXEL_B, "settings": {"TIKTOK_TEST_EVENT_CODE": "TESTBETA1"}},
        GAMMA: {"pixel_id": "CGAMMAPIXEL0003", "access_token": "t3", "webhook_secret": "s3"},
        "delta-cups.myshopify.com": {"pixel_id": "bad pixel!", "access_token": "t4", "webhook_secret": "s4"},
    }}))
    for name in ("TIKTOK_PIXEL_ID", "SHOPIFY_SHOP", "SHOPIFY_ADMIN_ACCESS_TOKEN_SECRET_NAME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TENANTS_SECRET_NAME", TENANTS_SECRET)
    runtime.install()

    result = invoke(reconcile_app)

    by_shop = {shop["shop"]: shop for shop in result["shops"]}
    assert (by_shop[ACME]["reconciled"], by_shop[BETA]["reconciled"]) == (True, True)
    assert by_shop[GAMMA] == {"shop": GAMMA, "reconciled": False, "skipped": True, "undelivered": None}
    assert by_shop["delta-cups.myshopify.com"]["skipped"] is False
    queued = [QueuedDelivery.parse(m["Body"]) for m in peek(relay)]
    assert sorted((q.tenant, q.request.event_source_id, q.request.test_event_code) for q in queued) == [
        (ACME, PIXEL_A, None), (ACME, PIXEL_A, None),  # 2001 and 2002: no ledger entry in this test
        # With a test event code the test order is sent too, and the 60 h old one (test events are never old).
        (BETA, PIXEL_B, "TESTBETA1"), (BETA, PIXEL_B, "TESTBETA1"), (BETA, PIXEL_B, "TESTBETA1"),
        (BETA, PIXEL_B, "TESTBETA1")]
    lines = json_lines(powertools_stdout.readouterr().out)
    [skipped] = [line for line in lines if line.get("message") == "shop skipped"]
    assert skipped["shop"] == GAMMA and "no admin_access_token" in skipped["reason"]
    [broken] = [line for line in lines if line.get("message") == "shop not reconciled"]
    assert broken["shop"] == "delta-cups.myshopify.com" and "pixel_id" in broken["reason"]
    assert emf(lines)[("ReconcileFailures", (("service", "tiktok-relay-tests"),))] == 1  # the broken one only
    assert admin.access_token not in json.dumps(lines) and "tiktok-token" not in json.dumps(lines)

    # The sender takes each queued message's tenant: its token, its pixel; the ledger records both shops'.
    fake_tiktok.allow_token("tiktok-token", pixels={PIXEL_A, PIXEL_B})
    fake_tiktok.reset()
    while relay.poll_and_send(sender_app)["records"]:
        pass
    assert sorted((e["_request"]["event_source_id"], e["event_id"]) for e in fake_tiktok.events) == sorted(
        [(PIXEL_A, "shopify-order-2001"), (PIXEL_A, "shopify-order-2002")]
        + [(PIXEL_B, f"shopify-order-{n}") for n in (2001, 2002, 2004, 2006)])
    ledger = DynamoDBLedger(LEDGER_TABLE).delivered([ledger_key(PIXEL_A, "Purchase", "shopify-order-2002"),
                                                     ledger_key(PIXEL_B, "Purchase", "shopify-order-2002")])
    assert sorted((e.shop, e.via) for e in ledger.values()) == [(ACME, "reconcile"), (BETA, "reconcile")]
