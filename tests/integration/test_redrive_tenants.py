"""Redrive with a tenants document: a redriven message keeps naming its tenant, and the events
of a dead-letter file are posted with each tenant's own token. The fake TikTok takes each token
for its own pixel only."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime

import pytest

from tests.support import clean_env, console_script
from tests.support.dead_letters import RECENT, purchase, rejected
from tiktok_relay.cli import main
from tiktok_relay.local.apigw import shopify_event
from tiktok_relay.local.lambda_context import FakeLambdaContext
from tiktok_relay.pipeline.messages import QueuedDelivery
from tiktok_relay.tiktok.models import WireRequest

TENANTS_SECRET = "tiktok-relay/tenants"
ACME, BETA = "acme-teas.myshopify.com", "beta-mugs.myshopify.com"
PIXEL_A, PIXEL_B = "CACMEPIXEL00001", "CBETAPIXEL00002"
TOKEN_A, TOKEN_B = "tiktok-token-acme-8d2c", "tiktok-token-beta-41fa"
SECRET_A, SECRET_B = "shopify-secret-acme-1b9e", "shopify-secret-beta-c07d"
DOCUMENT = json.dumps({"shops": {
    ACME: {"pixel_id": PIXEL_A, "access_token": TOKEN_A, "webhook_secret": SECRET_A},
    BETA: {"pixel_id": PIXEL_B, "access_token": TOKEN_B, "webhook_secret": SECRET_B},
}})


@pytest.fixture
def tenants(aws, fake_tiktok, monkeypatch):
    """The stack with TenantsSecretName set and TikTok's 48 h stale limit."""
    import boto3

    from tiktok_relay.pipeline import runtime

    boto3.client("secretsmanager").create_secret(Name=TENANTS_SECRET, SecretString=DOCUMENT)
    for name in ("TIKTOK_PIXEL_ID", "SHOPIFY_WEBHOOK_SECRET_NAME", "TIKTOK_ACCESS_TOKEN_SECRET_NAME"):
        monkeypatch.delenv(name)
    monkeypatch.setenv("TENANTS_SECRET_NAME", TENANTS_SECRET)
    monkeypatch.setenv("TIKTOK_API_BASE_URL", fake_tiktok.base_url)
    monkeypatch.setenv("TIKTOK_MAX_EVENT_AGE", "48h")
    fake_tiktok.allow_token(TOKEN_A, pixels={PIXEL_A})
    fake_tiktok.allow_token(TOKEN_B, pixels={PIXEL_B})
    runtime.install()
    return aws


def order(order_id: int) -> dict:
    return {"id": order_id, "email": "ada.lovelace@example.com", "currency": "GBP", "total_price": "24.00",
            "financial_status": "paid", "source_name": "web",
            "created_at": datetime.fromtimestamp(RECENT, UTC).isoformat(),
            "line_items": [{"variant_id": 4455, "product_id": 81, "quantity": 2, "price": "12.00", "title": "Tea"}]}


def test_a_refused_event_redriven_from_the_queue_goes_back_to_its_tenant(tenants, receiver_app, sender_app,
                                                                         fake_tiktok, capsys):
    for shop, secret, order_id in ((ACME, SECRET_A, 1001), (BETA, SECRET_B, 2001)):
        event = shopify_event("orders/paid", json.dumps(order(order_id)).encode(), secret, shop=shop)
        assert receiver_app.lambda_handler(event, FakeLambdaContext(function_name="receiver"))["statusCode"] == 202
    fake_tiktok.reject_events({"shopify-order-2001"})
    tenants.poll_and_send(sender_app)
    [letter] = [json.loads(m["Body"]) for m in tenants.sqs.receive_message(
        QueueUrl=tenants.dlq_url, MaxNumberOfMessages=10, VisibilityTimeout=0).get("Messages", [])]
    assert (letter["reason"], letter["tenant"], letter["shop"]) == ("rejected by TikTok", BETA, BETA)
    fake_tiktok.reset()
    fake_tiktok.allow_token(TOKEN_A, pixels={PIXEL_A})
    fake_tiktok.allow_token(TOKEN_B, pixels={PIXEL_B})

    assert main(["redrive", "--queue-url", tenants.dlq_url, "--include-rejected", "--json"]) == 0
    assert json.loads(capsys.readouterr().out.splitlines()[-1])["redriven"] == 1  # after the handlers' EMF lines
    [requeued] = [json.loads(m["Body"]) for m in tenants.sqs.receive_message(
        QueueUrl=tenants.queue_url, MaxNumberOfMessages=10, VisibilityTimeout=0).get("Messages", [])]
    assert (requeued["tenant"], requeued["shop"]) == (BETA, BETA)
    assert tenants.poll_and_send(sender_app) == {"records": 1, "failed": []}
    assert fake_tiktok.accepted_ids() == ["shopify-order-2001"] and fake_tiktok.accepted_tokens == [TOKEN_B]


def tenant_letter(shop: str, pixel: str, event_id: str) -> str:
    request = WireRequest(event_source="web", event_source_id=pixel, data=[purchase(event_id)])
    return rejected(QueuedDelivery(webhook_id=f"wh-{event_id}", shop=shop, topic="orders/paid", tenant=shop,
                                   request=request))


def test_a_dead_letter_file_is_posted_with_each_tenants_token(fake_tiktok, tmp_path):
    document = tmp_path / "tenants.json"
    document.write_text(DOCUMENT)
    path = tmp_path / "dead-letters.ndjson"
    lost = tenant_letter("gone-shop.myshopify.com", "CGONEPIXEL00003", "o-gone")
    path.write_text("".join(line + "\n" for line in (tenant_letter(ACME, PIXEL_A, "o-a"),
                                                      tenant_letter(BETA, PIXEL_B, "o-b"), lost)))
    fake_tiktok.allow_token(TOKEN_A, pixels={PIXEL_A})
    fake_tiktok.allow_token(TOKEN_B, pixels={PIXEL_B})

    done = subprocess.run(console_script() + ["redrive", "--dead-letter", str(path), "--include-rejected", "--json"],
                          capture_output=True, text=True, timeout=120,
                          env=clean_env(TIKTOK_RELAY_TENANTS=str(document), TIKTOK_API_BASE_URL=fake_tiktok.base_url))

    assert done.returncode == 1, done.stderr  # the shop no longer in the document: its letter stays
    report = json.loads(done.stdout)
    assert (report["redriven"], report["failed"]) == (2, 1)
    assert report["problems"] == ["line 3 kept: tenant gone-shop.myshopify.com is not in the tenants document (any more)"]
    sent = sorted(zip(fake_tiktok.accepted_ids(), fake_tiktok.accepted_tokens, strict=True))
    assert sent == [("o-a", TOKEN_A), ("o-b", TOKEN_B)]
    assert path.read_text() == lost + "\n"
    assert TOKEN_A not in done.stdout + done.stderr and TOKEN_B not in done.stdout + done.stderr
