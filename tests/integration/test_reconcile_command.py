"""`tiktok-relay reconcile shopify` against the fake Admin API and the fake TikTok, over real
HTTP: orders delivered by their webhook (through the receiver and the sender, which records the
ledger) are not sent again; missed ones are, with the webhook path's event_ids; POS, test and
consent-refused orders are ignored with their reasons; old orders are reported, and sent with
--force; the JSON report's counts are exact; bad input is a clear exit 2."""

from __future__ import annotations

import contextlib
import copy
import io
import json
import os
import subprocess
import time
from datetime import UTC, datetime

import pytest

from tests.support.shopify import load
from tiktok_relay.local.apigw import shopify_headers
from tiktok_relay.local.memory import FileLedger, MemoryDeadLetters, MemoryQueue
from tiktok_relay.pipeline.ledger import ledger_key
from tiktok_relay.pipeline.receive import Receiver
from tiktok_relay.pipeline.runtime import StaticSecret
from tiktok_relay.pipeline.send import QueueSender
from tiktok_relay.sources.shopify.mapping import map_webhook
from tiktok_relay.sources.shopify.receiver import ShopifySource
from tiktok_relay.sources.shopify.settings import ShopifySettings
from tiktok_relay.testing.fake_shopify_admin import FakeShopifyAdmin
from tiktok_relay.tiktok.client import TikTokClient

SHOP = "tea-shop.myshopify.com"
PIXEL = "CRECONCILEPIXEL01"
SECRET = "reconcile-test-secret"
HOUR = 3600


def iso(seconds_ago: float) -> str:
    return datetime.fromtimestamp(time.time() - seconds_ago, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def order(order_id: int, hours_ago: float, **changes) -> dict:
    """The realistic GB order as order `order_id`, paid `hours_ago`."""
    payload = copy.deepcopy(load("order_paid_gb_10_items.json"))
    payload.update({"id": order_id, "admin_graphql_api_id": f"gid://shopify/Order/{order_id}",
                    "name": f"#{order_id}", "processed_at": iso(hours_ago * HOUR), "created_at": iso(hours_ago * HOUR),
                    "financial_status": "paid", **changes})
    return payload


DELIVERED = order(1001, 5)  # its webhook made it
MISSED = order(1002, 4)  # its webhook never arrived
POS = order(1003, 3, source_name="pos")
TEST = order(1004, 2, test=True)
REFUSED = order(1005, 1, note_attributes=[{"name": "_tt_marketing", "value": "denied"}])
OLD = order(1006, 60)  # missed, 60 h ago: past TikTok's 48 h deduplication window
UNPAID = order(1007, 1, financial_status="pending")  # not paid: not in the window's orders at all
ORDERS = [DELIVERED, MISSED, POS, TEST, REFUSED, OLD, UNPAID]


def deliver_by_webhook(payload: dict, ledger_path, fake_tiktok) -> None:
    """The webhook path: a signed orders/paid delivery through the receiver, its queue message
    through the sender, which records what TikTok accepted in the ledger."""
    source = ShopifySource(secrets=StaticSecret(SECRET), settings=ShopifySettings.from_env({}), pixel_id=PIXEL)
    queue = MemoryQueue()
    body = json.dumps(payload).encode()
    reply = Receiver(source=source, queue=queue).handle(shopify_headers("orders/paid", body, SECRET, shop=SHOP),
                                                        body.decode())
    assert reply.outcome == "queued", reply
    sender = QueueSender(client=lambda: TikTokClient(fake_tiktok.access_token, base_url=fake_tiktok.base_url),
                         dead_letters=MemoryDeadLetters(), ledger=FileLedger(ledger_path))
    assert sender.send_batch([m.as_sqs_record() for m in queue.receive(10)]).delivered == 1


@pytest.fixture
def shop():
    with FakeShopifyAdmin(orders=copy.deepcopy(ORDERS), shop=SHOP) as fake:
        yield fake


def reconcile(admin: FakeShopifyAdmin, fake_tiktok, *args: str, token: str | None = None, env: dict | None = None,
              sleeps: list | None = None) -> subprocess.CompletedProcess:
    """The command, run in this process as `main` runs it (backoff recorded in `sleeps`)."""
    from tiktok_relay.cli import main

    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SHOPIFY_", "TIKTOK_", "LEDGER_"))}
    clean.update({"SHOPIFY_ADMIN_BASE_URL": admin.base_url, "TIKTOK_PIXEL_ID": PIXEL,
                  "TIKTOK_ACCESS_TOKEN": fake_tiktok.access_token, "TIKTOK_API_BASE_URL": fake_tiktok.base_url})
    clean.update(env or {})
    given = [] if token == "" else ["--access-token", token or admin.access_token]  # "": none given
    argv = ["reconcile", "shopify", "--shop", SHOP, *given, *args]
    out, err, saved = io.StringIO(), io.StringIO(), dict(os.environ)
    try:
        os.environ.clear()
        os.environ.update(clean)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(argv, sleep=(sleeps if sleeps is not None else []).append)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return subprocess.CompletedProcess(argv, code, out.getvalue(), err.getvalue())


def report(result: subprocess.CompletedProcess) -> dict:
    [line] = result.stdout.splitlines()
    return json.loads(line)


def webhook_event(payload: dict) -> dict:
    """The event the webhook path makes of `payload`."""
    return map_webhook("orders/paid", payload, SHOP, ShopifySettings(), now=int(time.time())).events[0].wire()


def webhook_event_id(payload: dict) -> str:
    return webhook_event(payload)["event_id"]


def test_delivered_orders_are_not_sent_again_and_missed_ones_are_with_the_webhooks_event_id(shop, fake_tiktok,
                                                                                              tmp_path):
    ledger = tmp_path / "ledger.ndjson"
    deliver_by_webhook(DELIVERED, ledger, fake_tiktok)
    fake_tiktok.reset()

    result = reconcile(shop, fake_tiktok, "--since", "72h", "--ledger", str(ledger), "--json")

    assert result.returncode == 1, result.stderr  # the old order is still not at TikTok
    assert fake_tiktok.accepted_ids() == [webhook_event_id(MISSED)] == ["shopify-order-1002"]
    [sent] = fake_tiktok.events
    by_webhook = webhook_event(MISSED)
    assert sent["_request"]["event_source_id"] == PIXEL
    assert (sent["properties"], sent["event_time"], sent["page"]) == \
        (by_webhook["properties"], by_webhook["event_time"], by_webhook["page"])
    assert sent["user"] == {k: v for k, v in by_webhook["user"].items() if k != "user_agent"}
    data = report(result)
    assert {k: data[k] for k in ("orders", "delivered", "reconciled", "sent", "queued", "would_send", "old", "failed",
                                 "web_orders", "web_delivered_share")} == {
        "orders": 6, "delivered": 1, "reconciled": 0, "sent": 1, "queued": 0, "would_send": 0, "old": 1, "failed": 0,
        "web_orders": 3, "web_delivered_share": 0.3333}
    assert data["ignored"] == {"test": 1, "channel": 1, "consent": 1, "no_event_for_topic": 0, "unmappable": 0,
                               "other": 0}
    assert data["channels"]["pos"]["ignored"]["channel"] == 1 and data["channels"]["pos"]["orders"] == 1
    assert data["channels"]["web"]["orders"] == 5 and data["channels"]["web"]["delivered"] == 1
    missed = {o["id"]: o for o in data["missed"]}
    assert missed["1002"]["outcome"] == "sent" and missed["1002"]["event_id"] == "shopify-order-1002"
    assert missed["1006"]["outcome"] == "old" and "--force sends it" in missed["1006"]["reason"]
    reasons = {o["id"]: (o["ignored"], o["reason"]) for o in data["ignored_orders"]}
    assert reasons["1003"][0] == "channel" and "Point of Sale" in reasons["1003"][1]
    assert reasons["1004"][0] == "test" and reasons["1005"][0] == "consent"
    assert "1007" not in missed and "1007" not in reasons  # unpaid: not a paid order of the window
    # What the reconcile sent is in the ledger now, marked as its own.
    entry = FileLedger(ledger).entries()[ledger_key(PIXEL, "Purchase", "shopify-order-1002")]
    assert entry.via == "reconcile" and entry.shop == SHOP


def test_a_second_run_sends_nothing_and_tells_webhook_from_reconcile_deliveries(shop, fake_tiktok, tmp_path):
    ledger = tmp_path / "ledger.ndjson"
    deliver_by_webhook(DELIVERED, ledger, fake_tiktok)
    reconcile(shop, fake_tiktok, "--since", "72h", "--ledger", str(ledger))
    fake_tiktok.reset()

    again = report(reconcile(shop, fake_tiktok, "--since", "72h", "--ledger", str(ledger), "--json"))

    assert fake_tiktok.accepted == []
    assert (again["delivered"], again["reconciled"], again["sent"], again["old"]) == (1, 1, 0, 1)
    assert again["web_delivered_share"] == 0.3333  # the webhooks' share: a reconcile's delivery is not theirs


def test_force_sends_the_old_order_too(shop, fake_tiktok, tmp_path):
    ledger = tmp_path / "ledger.ndjson"
    result = reconcile(shop, fake_tiktok, "--since", "72h", "--ledger", str(ledger), "--json", "--force")
    assert result.returncode == 0, result.stderr
    assert sorted(fake_tiktok.accepted_ids()) == ["shopify-order-1001", "shopify-order-1002", "shopify-order-1006"]
    data = report(result)
    assert data["force"] is True and (data["sent"], data["old"]) == (3, 0)


def test_a_dry_run_sends_and_writes_nothing(shop, fake_tiktok, tmp_path):
    ledger = tmp_path / "ledger.ndjson"
    result = reconcile(shop, fake_tiktok, "--since", "72h", "--ledger", str(ledger), "--json", "--dry-run",
                       env={"TIKTOK_ACCESS_TOKEN": ""})  # no token needed to look
    assert result.returncode == 1
    assert fake_tiktok.accepted == [] and not ledger.exists()
    data = report(result)
    assert data["dry_run"] is True and (data["would_send"], data["sent"], data["old"]) == (2, 0, 1)


def test_the_window_selects_the_orders(shop, fake_tiktok, tmp_path):
    data = report(reconcile(shop, fake_tiktok, "--since", "4.5h", "--until", "1.5h", "--ledger",
                            str(tmp_path / "l.ndjson"), "--json", "--dry-run"))
    assert sorted(o["id"] for o in data["missed"] + data["ignored_orders"]) == ["1002", "1003", "1004"]
    until = datetime.fromisoformat(data["until"]).timestamp()
    assert abs(until - (time.time() - 1.5 * HOUR)) < 120


def test_the_text_report_is_a_table_per_channel_with_the_missed_orders(shop, fake_tiktok, tmp_path):
    result = reconcile(shop, fake_tiktok, "--since", "72h", "--ledger", str(tmp_path / "l.ndjson"))
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"{SHOP}: orders paid from ")
    header = lines[1].split()
    assert header == ["channel", "orders", "delivered", "reconciled", "sent", "old", "failed", "ignored"]
    rows = {line.split()[0]: line.split()[1:] for line in lines[2:5]}
    assert rows == {"pos": ["1", "0", "0", "0", "0", "0", "1"], "web": ["5", "0", "0", "2", "1", "0", "2"],
                    "all": ["6", "0", "0", "2", "1", "0", "3"]}
    assert "ignored on pos: channel 1" in lines and "ignored on web: test 1, consent 1" in lines
    assert "paid web orders delivered by their webhook: 0 of 3 (0.0%)" in lines
    assert any(line.startswith("  #1006  shopify-order-1006  web  old: ") for line in lines)
    blob = result.stdout + result.stderr
    for value in ("Ada", "Lovelace", "07911", "SW1Y", shop.access_token, fake_tiktok.access_token):
        assert value.lower() not in blob.lower()


def test_without_a_ledger_nothing_is_sent_and_the_message_says_where_one_is(shop, fake_tiktok):
    result = reconcile(shop, fake_tiktok, "--since", "24h")
    assert result.returncode == 2 and fake_tiktok.accepted == []
    assert "--ledger PATH" in result.stderr and "LEDGER_TABLE" in result.stderr


@pytest.mark.parametrize(("args", "message"), [
    (["--since", "yesterday"], "--since must be a duration such as 24h"),
    (["--since", "1h", "--until", "2h"], "--since must be before --until"),
    (["--since", "2h", "--until", "2099-01-01T00:00:00Z"], "--until is in the future"),
])
def test_an_unusable_window_is_refused_by_name(shop, fake_tiktok, tmp_path, args, message):
    result = reconcile(shop, fake_tiktok, *args, "--ledger", str(tmp_path / "l.ndjson"))
    assert result.returncode == 2 and message in result.stderr
    assert shop.calls == []


def test_a_refused_token_is_exit_2_and_never_printed(shop, fake_tiktok, tmp_path):
    result = reconcile(shop, fake_tiktok, "--since", "24h", "--ledger", str(tmp_path / "l.ndjson"),
                       token="shpat_wrong_token_value")
    assert result.returncode == 2 and "refused the access token (HTTP 401)" in result.stderr
    assert "shpat_wrong_token_value" not in result.stdout + result.stderr


def test_a_token_without_read_orders_is_exit_2_naming_the_scope(fake_tiktok, tmp_path):
    with FakeShopifyAdmin(scopes=["read_customers"], orders=ORDERS) as admin:
        result = reconcile(admin, fake_tiktok, "--since", "24h", "--ledger", str(tmp_path / "l.ndjson"))
    assert result.returncode == 2 and "`read_orders` access scope" in result.stderr


def test_a_shop_that_keeps_failing_is_exit_1_after_patient_retries(shop, fake_tiktok, tmp_path):
    shop.fail_next(*["http503"] * 5)
    sleeps: list[float] = []
    result = reconcile(shop, fake_tiktok, "--since", "24h", "--ledger", str(tmp_path / "l.ndjson"), sleeps=sleeps)
    assert result.returncode == 1 and "kept failing (HTTP 503, 5 attempts)" in result.stderr
    assert sleeps == [0.0, 0.0, 0.0, 0.0]  # the fake's Retry-After: 0, honoured
    assert fake_tiktok.accepted == []


def test_a_damaged_ledger_is_exit_2_and_nothing_is_sent(shop, fake_tiktok, tmp_path):
    ledger = tmp_path / "ledger.ndjson"
    ledger.write_text("not a ledger\n")
    result = reconcile(shop, fake_tiktok, "--since", "24h", "--ledger", str(ledger))
    assert result.returncode == 2 and "line 1 is not a ledger entry" in result.stderr
    assert fake_tiktok.accepted == []


def test_an_order_tiktok_refuses_is_failed_with_tiktoks_reason(shop, fake_tiktok, tmp_path):
    fake_tiktok.reject_events({"shopify-order-1002"}, message="Invalid value for currency.")
    data = report(reconcile(shop, fake_tiktok, "--since", "72h", "--ledger", str(tmp_path / "l.ndjson"), "--json"))
    failed = {o["id"]: o for o in data["missed"] if o["outcome"] == "failed"}
    assert list(failed) == ["1002"] and "Invalid value for currency." in failed["1002"]["reason"]
    assert data["sent"] == 1  # the other missed order still went


def test_with_an_offline_event_set_the_pos_order_is_sent_there_and_not_counted_as_web(shop, fake_tiktok, tmp_path):
    data = report(reconcile(shop, fake_tiktok, "--since", "72h", "--ledger", str(tmp_path / "l.ndjson"), "--json",
                            env={"TIKTOK_OFFLINE_EVENT_SET_ID": "OFFLINESET123"}))
    [pos] = [o for o in data["missed"] if o["id"] == "1003"]
    assert (pos["outcome"], pos["event_source"], pos["channel"]) == ("sent", "offline", "pos")
    offline = [body for body in fake_tiktok.accepted if body["event_source"] == "offline"]
    assert [(b["event_source_id"], [e["event_id"] for e in b["data"]]) for b in offline] == [
        ("OFFLINESET123", ["shopify-order-1003"])]
    assert data["web_orders"] == 3 and data["channels"]["pos"]["sent"] == 1


def test_with_a_tenants_document_the_shop_is_reconciled_with_its_own_pixel_tokens_and_settings(shop, fake_tiktok,
                                                                                                 tmp_path):
    document = tmp_path / "tenants.json"
    document.write_text(json.dumps({"shops": {
        SHOP: {"pixel_id": "CTENANTPIXEL0001", "access_token": "tenant-tiktok-token", "webhook_secret": "s",
               "admin_access_token": shop.access_token, "settings": {"SHOPIFY_CONSENT": "ignore"}},
        "other-shop.myshopify.com": {"pixel_id": "COTHERPIXEL00002", "access_token": "t2", "webhook_secret": "s2"},
    }}))
    fake_tiktok.allow_token("tenant-tiktok-token", pixels={"CTENANTPIXEL0001"})
    result = reconcile(shop, fake_tiktok, "--since", "72h", "--ledger", str(tmp_path / "l.ndjson"), "--json",
                       token="", env={"TIKTOK_RELAY_TENANTS": str(document), "TIKTOK_PIXEL_ID": "",
                                      "TIKTOK_ACCESS_TOKEN": ""})
    assert result.returncode == 1, result.stderr  # the old order
    data = report(result)
    # SHOPIFY_CONSENT=ignore is the tenant's: the refusing buyer's order is sent too.
    assert sorted(fake_tiktok.accepted_ids()) == ["shopify-order-1001", "shopify-order-1002", "shopify-order-1005"]
    assert {body["event_source_id"] for body in fake_tiktok.accepted} == {"CTENANTPIXEL0001"}
    assert data["ignored"]["consent"] == 0 and data["sent"] == 3
    entry = FileLedger(tmp_path / "l.ndjson").entries()[ledger_key("CTENANTPIXEL0001", "Purchase", "shopify-order-1002")]
    assert entry.shop == SHOP
