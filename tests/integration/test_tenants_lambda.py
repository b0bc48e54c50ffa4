"""Many shops in one stack, the Lambda path: the tenants document in Secrets Manager (moto), read
through Powertools Parameters; the real receiver, EventBridge intake and sender handlers; SQS
(moto) between them; the fake TikTok over HTTP, which takes each tenant's token for its own
pixel only (as TikTok answers 40001 for a pixel of another ad account)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from tests.support import json_lines
from tests.support.aws import RECENT
from tiktok_relay.local.apigw import shopify_event
from tiktok_relay.local.eventbridge import partner_event
from tiktok_relay.local.lambda_context import FakeLambdaContext

TENANTS_SECRET = "tiktok-relay/tenants"
ACME, BETA = "acme-teas.myshopify.com", "beta-mugs.myshopify.com"
PIXEL_A, PIXEL_B = "CACMEPIXEL00001", "CBETAPIXEL00002"
TOKEN_A, TOKEN_B = "tiktok-token-acme-8d2c", "tiktok-token-beta-41fa"
SECRET_A, SECRET_B = "shopify-secret-acme-1b9e", "shopify-secret-beta-c07d"
SECRETS = (TOKEN_A, TOKEN_B, SECRET_A, SECRET_B)
RAW_PII = ("ada.lovelace@example.com", "Lovelace")
PLACED = datetime.fromtimestamp(RECENT, UTC).isoformat()  # well inside TikTok's 48 h: sent, not stale


def order(order_id: int) -> dict:
    return {"id": order_id, "email": "ada.lovelace@example.com", "currency": "GBP", "total_price": "24.00",
            "financial_status": "paid", "source_name": "web", "created_at": PLACED,
            "billing_address": {"last_name": "Lovelace", "country_code": "GB"},
            "line_items": [{"variant_id": 4455, "product_id": 81, "quantity": 2, "price": "12.00", "title": "Tea"}]}


def document(token_a: str = TOKEN_A) -> str:
    return json.dumps({"shops": {
        ACME: {"pixel_id": PIXEL_A, "access_token": token_a, "webhook_secret": SECRET_A},
        BETA: {"pixel_id": PIXEL_B, "access_token": TOKEN_B, "webhook_secret": f"{SECRET_B},old-beta-secret",
               "settings": {"TIKTOK_TEST_EVENT_CODE": "TESTBETA1"}},
    }})


@pytest.fixture
def tenants(aws, fake_tiktok, monkeypatch):
    """The stack with TenantsSecretName set: the single-shop settings are gone (no pixel, no
    webhook secret, no access token secret), the document holds them per shop."""
    import boto3

    from tiktok_relay.pipeline import runtime

    boto3.client("secretsmanager").create_secret(Name=TENANTS_SECRET, SecretString=document())
    for name in ("TIKTOK_PIXEL_ID", "SHOPIFY_WEBHOOK_SECRET_NAME", "TIKTOK_ACCESS_TOKEN_SECRET_NAME"):
        monkeypatch.delenv(name)
    monkeypatch.setenv("TENANTS_SECRET_NAME", TENANTS_SECRET)
    monkeypatch.setenv("TIKTOK_API_BASE_URL", fake_tiktok.base_url)
    fake_tiktok.allow_token(TOKEN_A, pixels={PIXEL_A})
    fake_tiktok.allow_token(TOKEN_B, pixels={PIXEL_B})
    runtime.install()
    return aws


def receive(app, shop: str, secret: str, body: dict) -> tuple[int, dict]:
    event = shopify_event("orders/paid", json.dumps(body).encode(), secret, shop=shop)
    response = app.lambda_handler(event, FakeLambdaContext(function_name="receiver"))
    return response["statusCode"], json.loads(response["body"])


def peek(aws) -> list[dict]:
    """The events queue's messages, left on it (the test queue's visibility timeout is 0)."""
    got = aws.sqs.receive_message(QueueUrl=aws.queue_url, MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(m["Body"]) for m in got]


def test_each_tenants_events_reach_tiktok_with_its_own_pixel_and_token(tenants, receiver_app, sender_app,
                                                                       fake_tiktok, powertools_stdout):
    assert receive(receiver_app, ACME, SECRET_A, order(1001))[0] == 202
    assert receive(receiver_app, BETA, SECRET_B, order(2001))[0] == 202

    messages = peek(tenants)
    assert sorted((m["tenant"], m["shop"]) for m in messages) == [(ACME, ACME), (BETA, BETA)]
    for message in messages:
        for value in (*SECRETS, *RAW_PII):
            assert value not in json.dumps(message)
    assert tenants.poll_and_send(sender_app) == {"records": 2, "failed": []}

    sent = sorted(zip((body["event_source_id"] for body in fake_tiktok.accepted), fake_tiktok.accepted_tokens,
                      (body.get("test_event_code") for body in fake_tiktok.accepted), strict=True))
    assert sent == [(PIXEL_A, TOKEN_A, None), (PIXEL_B, TOKEN_B, "TESTBETA1")]
    assert sorted(fake_tiktok.accepted_ids()) == ["shopify-order-1001", "shopify-order-2001"]
    logs = [line for line in json_lines(powertools_stdout.readouterr().out) if "level" in line]
    assert {line["shop"] for line in logs if line.get("message") == "delivery queued"} == {ACME, BETA}
    [batch] = [line for line in logs if line.get("message") == "batch sent"]
    assert batch["shops"] == [ACME, BETA]
    for value in SECRETS:
        assert value not in json.dumps(logs)


def test_a_delivery_signed_with_another_shops_secret_gets_401(tenants, receiver_app):
    status, body = receive(receiver_app, ACME, SECRET_B, order(1002))
    assert (status, body["status"]) == (401, "rejected")
    assert body["reason"] == ("X-Shopify-Hmac-Sha256 matches no configured secret (the shop's webhook_secret in the "
                              "tenants document)")
    assert peek(tenants) == []


def test_an_unknown_shop_gets_401_with_a_reason_that_names_no_secret(tenants, receiver_app):
    status, body = receive(receiver_app, "gamma-hats.myshopify.com", SECRET_A, order(1003))
    assert (status, body) == (401, {"status": "rejected", "reason": "no tenant is configured for the shop this "
                                    "delivery names; add it to the tenants document"})
    assert peek(tenants) == []


def test_a_tenant_whose_token_tiktok_refuses_holds_back_no_other(tenants, receiver_app, sender_app, fake_tiktok):
    import boto3
    from aws_lambda_powertools.utilities import parameters

    from tiktok_relay.pipeline import runtime

    boto3.client("secretsmanager").put_secret_value(SecretId=TENANTS_SECRET,
                                                    SecretString=document(token_a="a-revoked-token"))
    parameters.clear_caches()
    runtime.install()
    assert receive(receiver_app, ACME, SECRET_A, order(1004))[0] == 202
    assert receive(receiver_app, BETA, SECRET_B, order(2004))[0] == 202
    acme_message = next(m["MessageId"] for m in tenants.sqs.receive_message(
        QueueUrl=tenants.queue_url, MaxNumberOfMessages=10)["Messages"] if json.loads(m["Body"])["tenant"] == ACME)

    result = tenants.poll_and_send(sender_app)

    assert result == {"records": 2, "failed": [acme_message]}  # retried by SQS, then its DLQ
    assert fake_tiktok.accepted_ids() == ["shopify-order-2004"] and fake_tiktok.accepted_tokens == [TOKEN_B]
    # Each tenant had its own request: TikTok refused the one token, took the other.
    assert sorted((r.body["event_source_id"], r.code) for r in fake_tiktok.received) == [(PIXEL_A, 40105),
                                                                                          (PIXEL_B, 0)]


def test_without_the_document_the_stack_fails_clearly_and_keeps_every_delivery(tenants, receiver_app, sender_app):
    import boto3
    from aws_lambda_powertools.utilities import parameters

    from tiktok_relay.pipeline import runtime

    boto3.client("secretsmanager").delete_secret(SecretId=TENANTS_SECRET, ForceDeleteWithoutRecovery=True)
    parameters.clear_caches()
    runtime.install()
    status, body = receive(receiver_app, ACME, SECRET_A, order(1005))
    assert (status, body["status"]) == (500, "misconfigured")  # Shopify retries it once fixed
    assert body["reason"] == ("cannot read the secret named by TENANTS_SECRET_NAME (ResourceNotFoundException); "
                              "check that it exists and that the function may read it")


def test_a_changed_document_takes_effect_within_the_cache_time(aws):
    """Powertools Parameters caches the secret; the relay reads it again once its max age has
    passed (as measured by the injected clock), and at once for a shop it does not know."""
    import boto3

    from tiktok_relay.pipeline.aws import ManagedSecret
    from tiktok_relay.pipeline.ports import UnknownTenant
    from tiktok_relay.pipeline.tenants import DocumentTenants

    secrets = boto3.client("secretsmanager")
    secrets.create_secret(Name=TENANTS_SECRET, SecretString=document())
    now = [1000.0]
    secret = ManagedSecret(TENANTS_SECRET, "TENANTS_SECRET_NAME", max_age=300, clock=lambda: now[0])
    tenants = DocumentTenants(secret.text, "the tenants document")
    assert tenants.find("shopify", ACME).access_token == TOKEN_A

    secrets.put_secret_value(SecretId=TENANTS_SECRET, SecretString=document(token_a="tiktok-token-acme-rotated"))
    now[0] += 299
    assert tenants.find("shopify", ACME).access_token == TOKEN_A  # cached
    now[0] += 2
    assert tenants.find("shopify", ACME).access_token == "tiktok-token-acme-rotated"  # past the cache time

    added = json.loads(document())
    added["shops"]["gamma-hats.myshopify.com"] = {"pixel_id": "CG", "access_token": "tg", "webhook_secret": "sg"}
    secrets.put_secret_value(SecretId=TENANTS_SECRET, SecretString=json.dumps(added))
    assert tenants.find("shopify", "gamma-hats.myshopify.com").pixel_id == "CG"  # a new shop: read at once
    now[0] += 30
    with pytest.raises(UnknownTenant):  # and a refresh is rate-limited: forged shops cost no more reads
        tenants.find("shopify", "delta-socks.myshopify.com")


# --- Shopify through EventBridge --------------------------------------------------------------


def intake(app, event: dict) -> dict:
    return app.lambda_handler(event, FakeLambdaContext(function_name="eventbridge"))


def test_eventbridge_events_reach_tiktok_as_each_tenant(tenants, eventbridge_app, sender_app, fake_tiktok,
                                                        powertools_stdout):
    for shop, order_id in ((ACME, 3001), (BETA, 3002)):
        response = intake(eventbridge_app, partner_event("orders/paid", order(order_id), shop=shop))
        assert (response["statusCode"], json.loads(response["body"])) == (202, {"status": "queued", "events": 1})
    assert tenants.poll_and_send(sender_app) == {"records": 2, "failed": []}

    assert sorted(zip((b["event_source_id"] for b in fake_tiktok.accepted), fake_tiktok.accepted_tokens,
                      strict=True)) == [(PIXEL_A, TOKEN_A), (PIXEL_B, TOKEN_B)]
    out = powertools_stdout.readouterr().out
    logs = [line for line in json_lines(out) if "level" in line]
    queued = [line for line in logs if line.get("message") == "delivery queued"]
    assert {line["shop"] for line in queued} == {ACME, BETA} and all(line["correlation_id"] for line in queued)
    emf = [doc for doc in json_lines(out) if "_aws" in doc and "EventsEnqueued" in doc]
    assert {doc["shop"] for doc in emf} == {ACME, BETA}  # metadata: a field of the record, not a dimension
    assert all("shop" not in dims for doc in emf for d in doc["_aws"]["CloudWatchMetrics"] for dims in d["Dimensions"])


def test_an_eventbridge_event_a_retry_may_fix_is_raised_for_lambda_to_retry(tenants, eventbridge_app):
    event = partner_event("orders/paid", order(3003), shop="gamma-hats.myshopify.com")
    with pytest.raises(eventbridge_app.DeliveryNotAccepted) as raised:
        intake(eventbridge_app, event)
    assert raised.value.reply.status == 500
    assert str(raised.value) == ("500 misconfigured: no tenant is configured for the shop gamma-hats.myshopify.com; "
                                 "add it to the tenants document")
    assert peek(tenants) == []


def test_an_eventbridge_event_no_retry_can_fix_is_answered_not_raised(tenants, eventbridge_app):
    event = partner_event("orders/paid", order(3004), shop=ACME)
    del event["detail"]["payload"]
    response = intake(eventbridge_app, event)  # Lambda would drop it; the logs and WebhooksRejected say why
    assert response["statusCode"] == 400
    assert json.loads(response["body"])["reason"].startswith("detail.payload must be a JSON object")


def test_a_single_shop_stack_takes_eventbridge_events_without_any_webhook_secret(aws, eventbridge_app, sender_app,
                                                                                 fake_tiktok, monkeypatch):
    from tiktok_relay.pipeline import runtime

    monkeypatch.delenv("SHOPIFY_WEBHOOK_SECRET_NAME")  # the intake's environment has none (template.yaml)
    monkeypatch.setenv("TIKTOK_API_BASE_URL", fake_tiktok.base_url)
    runtime.install()
    import boto3

    boto3.client("secretsmanager").put_secret_value(SecretId="tiktok-relay/tiktok-access-token",
                                                    SecretString=fake_tiktok.access_token)
    response = intake(eventbridge_app, partner_event("orders/paid", order(3005), shop="any-shop.myshopify.com"))
    assert response["statusCode"] == 202
    [message] = peek(aws)
    assert "tenant" not in message  # exactly as before tenants
    assert aws.poll_and_send(sender_app) == {"records": 1, "failed": []}
    assert fake_tiktok.accepted_ids() == ["shopify-order-3005"]


def test_the_sender_groups_by_tenant_and_settles_each_event_as_its_own(fake_tiktok):
    """Each tenant's events go in requests of their own; what TikTok says about an event of the
    second group is applied to that very event (not to one at the same place in the first)."""
    from tests.support.aws import purchase
    from tiktok_relay.config import TikTokSettings
    from tiktok_relay.local.memory import MemoryDeadLetters, MemoryQueue
    from tiktok_relay.pipeline.runtime import tenant_router
    from tiktok_relay.pipeline.send import QueueSender
    from tiktok_relay.pipeline.tenants import DocumentTenants

    fake_tiktok.allow_token(TOKEN_A, pixels={PIXEL_A})
    fake_tiktok.allow_token(TOKEN_B, pixels={PIXEL_B})
    fake_tiktok.reject_events({"beta-2"}, partial=True, layout="index")
    tenants = DocumentTenants(lambda refresh: document(), "the tenants document")
    settings = TikTokSettings(base_url=fake_tiktok.base_url)
    dead = MemoryDeadLetters()
    sender = QueueSender(router=tenant_router(settings, tenants, max_event_age=None), dead_letters=dead,
                         requeue=MemoryQueue())

    def message(n: int, tenant: str, pixel: str, *event_ids: str) -> dict:
        body = {"v": 1, "source": "shopify", "webhook_id": f"wh-{n}", "shop": tenant, "topic": "orders/paid",
                "tenant": tenant, "request": {"event_source": "web", "event_source_id": pixel,
                                              "data": [purchase(event_id) for event_id in event_ids]}}
        return {"messageId": f"m-{n}", "body": json.dumps(body), "attributes": {"ApproximateReceiveCount": "1"}}

    records = [message(1, ACME, PIXEL_A, "acme-1", "acme-2"), message(2, BETA, PIXEL_B, "beta-1"),
               message(3, ACME, PIXEL_A, "acme-3"), message(4, BETA, PIXEL_B, "beta-2", "beta-3")]
    report = sender.send_batch(records)

    assert (report.delivered, report.rejected, report.retry_message_ids) == (5, 1, set())
    assert sorted((b["event_source_id"], tuple(e["event_id"] for e in b["data"])) for b in fake_tiktok.accepted) == [
        (PIXEL_A, ("acme-1", "acme-2", "acme-3")), (PIXEL_B, ("beta-1", "beta-3"))]
    [letter] = dead.records
    assert (letter["webhook_id"], [e["event_id"] for e in letter["request"]["data"]]) == ("wh-4", ["beta-2"])
