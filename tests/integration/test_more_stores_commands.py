"""The local tools for WooCommerce and Stripe as users run them: `replay` end to end over the
events/ samples, `sign` (an event file, or a curl command `serve` accepts), `map`, `serve` and
`snippet woocommerce`."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from tests.support import ROOT, clean_env, console_script
from tests.support.serve import free_port, wait_until_listening
from tests.support.stores import PII, assert_no_pii

WOO_ORDER = str(ROOT / "examples" / "woocommerce" / "order_created.json")
STRIPE_EVENT = str(ROOT / "examples" / "stripe" / "checkout_session_completed.json")
WOO_EVENTS = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "events" / "woocommerce").glob("*.json"))
STRIPE_EVENTS = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "events" / "stripe").glob("*.json"))
RAW = ("ada.lovelace@example.com", "grace.hopper@example.com", "+447400900456", "07400 900123", "Lovelace")


def run(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(console_script() + list(args), env=clean_env(**env), capture_output=True, text=True,
                          timeout=120, cwd=ROOT)


def rows(stdout: str) -> tuple[dict[str, tuple[int, str]], dict]:
    lines = [json.loads(line) for line in stdout.splitlines()]
    *files, summary = lines
    return {row["file"].rsplit("/", 1)[1]: (row["status"], row["body"]["status"]) for row in files}, summary["summary"]


def test_replay_runs_the_woocommerce_and_stripe_samples_end_to_end(tmp_path):
    done = run("replay", "--json", "--dead-letter", str(tmp_path / "dl.ndjson"), *WOO_EVENTS, *STRIPE_EVENTS)
    assert done.returncode == 0, done.stderr
    got, summary = rows(done.stdout)
    assert got == {
        "negative_bad_signature.json": (401, "rejected"),  # the Stripe one overwrites the WooCommerce one
        "order_created.json": (202, "queued"), "order_created_guest.json": (202, "queued"),
        "order_created_pending.json": (200, "ignored"),
        "order_updated_completed.json": (200, "ignored"),  # that order's Purchase was sent already
        "order_updated_refunded.json": (200, "ignored"), "ping.json": (200, "ignored"),
        "charge_refunded.json": (200, "ignored"),
        "checkout_session_async_payment_succeeded.json": (202, "queued"),
        "checkout_session_completed.json": (202, "queued"), "checkout_session_completed_jpy.json": (202, "queued"),
        "checkout_session_completed_redelivered.json": (200, "duplicate"),
        "checkout_session_completed_unpaid.json": (200, "ignored"),
        "negative_expired_signature.json": (401, "rejected"),
        "payment_intent_succeeded.json": (200, "ignored"),
    }
    keys = summary.pop("match_keys")
    assert summary == {"webhooks": 16, "events": 5, "requests_sent": 1, "delivered": 5, "dead_lettered": 0}
    # Every delivered Purchase has an email and an IP; the guest order no account, phone or click ids,
    # and only WooCommerce's checkout records the browser (Stripe's samples put no user_agent in the metadata).
    assert keys == {"email": 5, "phone": 4, "external_id": 4, "ip": 5, "user_agent": 1, "ttclid": 4, "ttp": 4}
    for raw in RAW + PII:
        assert raw.lower() not in (done.stdout + done.stderr).lower(), raw


def test_a_wrong_woocommerce_secret_is_named_when_every_delivery_is_refused():
    signed = [name for name in WOO_EVENTS if "ping" not in name]
    done = run("replay", *signed, WOOCOMMERCE_WEBHOOK_SECRET="not-the-secret-they-were-signed-with")
    assert "every delivery was refused with 401" in done.stdout
    assert "unset WOOCOMMERCE_WEBHOOK_SECRET to replay them" in done.stdout
    assert "not-the-secret" not in done.stdout + done.stderr


def test_sign_woocommerce_gives_an_event_that_replays_as_a_purchase(tmp_path):
    signed = run("sign", "--platform", "woocommerce", "--topic", "Order.Created", WOO_ORDER,
                 WOOCOMMERCE_WEBHOOK_SECRET="wc_secret_mine")
    assert signed.returncode == 0, signed.stderr
    assert "WOOCOMMERCE_WEBHOOK_SECRET (1 secret)" in signed.stderr and "wc_secret_mine" not in signed.stderr
    event = json.loads(signed.stdout)
    assert event["rawPath"] == "/webhooks/woocommerce"
    headers = event["headers"]
    # The store defaults to the order's own (its _links.self): the event_id names it.
    assert (headers["x-wc-webhook-topic"], headers["x-wc-webhook-source"]) == ("order.created",
                                                                              "https://tiktok-relay-demo.example/")
    path = tmp_path / "woo.json"
    path.write_text(signed.stdout)
    replayed = run("replay", "--json", str(path), WOOCOMMERCE_WEBHOOK_SECRET="wc_secret_mine")
    row = json.loads(replayed.stdout.splitlines()[0])
    assert (row["status"], row["request"]["data"][0]["event_id"]) == (
        202, "woocommerce-tiktok-relay-demo.example-order-4817")


def test_sign_woocommerce_needs_a_topic_and_knows_the_topics():
    missing = run("sign", "--platform", "woocommerce", WOO_ORDER)
    assert missing.returncode == 2 and "--topic is required for WooCommerce" in missing.stderr
    typo = run("sign", "--platform", "woocommerce", "--topic", "orders/paid", WOO_ORDER)
    assert typo.returncode == 2 and "order.updated" in typo.stderr


def test_sign_stripe_reads_the_type_from_the_event_and_replays(tmp_path):
    signed = run("sign", "--platform", "stripe", STRIPE_EVENT)
    assert signed.returncode == 0, signed.stderr
    assert "signed checkout.session.completed with the local development secret" in signed.stderr
    assert ") at t=" in signed.stderr and "accepts it for 5 minutes" in signed.stderr
    event = json.loads(signed.stdout)
    t = int(event["headers"]["stripe-signature"].split(",")[0].removeprefix("t="))
    assert event["requestContext"]["timeEpoch"] == t * 1000  # recorded when signed: replay checks it so
    path = tmp_path / "stripe.json"
    path.write_text(signed.stdout)
    row = json.loads(run("replay", "--json", str(path)).stdout.splitlines()[0])
    assert (row["status"], row["request"]["data"][0]["event_id"]) == (202, "stripe-pi_3QdemoPaymentIntent0001")


@pytest.mark.parametrize(("args", "message"), [
    (("--topic", "payment_intent.succeeded"), "is not the body's type"),
    (("--webhook-id", "evt_mine"), "do not apply to Stripe"),
    (("--shop-domain", "acct_1"), "do not apply to Stripe"),
])
def test_sign_stripe_refuses_what_the_event_itself_names(args, message):
    done = run("sign", "--platform", "stripe", *args, STRIPE_EVENT)
    assert done.returncode == 2 and message in done.stderr and done.stdout == ""


def test_sign_stripe_refuses_a_body_that_is_no_event(tmp_path):
    path = tmp_path / "order.json"
    path.write_text(json.dumps({"id": 1}))
    done = run("sign", "--platform", "stripe", str(path))
    assert done.returncode == 2 and "not a Stripe event" in done.stderr


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed (make test installs it)")
def test_the_curl_commands_are_accepted_by_serve(fake_tiktok):
    port = free_port()
    env = clean_env(TIKTOK_ACCESS_TOKEN=fake_tiktok.access_token, TIKTOK_API_BASE_URL=fake_tiktok.base_url,
                    TIKTOK_PIXEL_ID="CSERVEPIXEL", WOOCOMMERCE_WEBHOOK_SECRET="wc_s", STRIPE_WEBHOOK_SECRET="whsec_s")
    server = subprocess.Popen(console_script() + ["serve", "--live", "--port", str(port)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
    try:
        wait_until_listening(port, server)
        answers = []
        for platform, extra, file in (("woocommerce", ["--topic", "order.created"], WOO_ORDER),
                                      ("stripe", [], STRIPE_EVENT)):
            command = subprocess.run(console_script() + ["sign", "--platform", platform, *extra, "--curl",
                                                         f"http://127.0.0.1:{port}/webhooks/{platform}", file],
                                     env=env, capture_output=True, text=True, timeout=60, cwd=ROOT)
            assert command.returncode == 0, command.stderr
            posted = subprocess.run(["sh", "-c", command.stdout], capture_output=True, text=True, timeout=60)
            answers.append(json.loads(posted.stdout))
        ping = subprocess.run(["curl", "-sS", "-d", "webhook_id=5", f"http://127.0.0.1:{port}/webhooks/woocommerce"],
                              capture_output=True, text=True, timeout=60)
    finally:
        server.terminate()
        _, err = server.communicate(timeout=10)
    assert answers == [{"status": "queued", "events": 1}, {"status": "queued", "events": 1}]
    assert json.loads(ping.stdout)["status"] == "ignored"
    err = err.decode()
    assert "POST /webhooks/woocommerce -> 200 ignored (WooCommerce's ping" in err
    assert "receiver listening on" in err and "/webhooks/stripe (Stripe)" in err
    assert "signatures checked with STRIPE_WEBHOOK_SECRET (1 secret)" in err
    # --live without SHOPIFY_WEBHOOK_SECRET: the Shopify route refuses, it never takes the public secret.
    assert "refused: SHOPIFY_WEBHOOK_SECRET is not set" in err
    assert "wc_s" not in err and "whsec_s" not in err
    assert_no_pii(err)


def test_map_shows_the_request_a_woocommerce_order_and_a_stripe_event_become():
    woo = run("map", "--platform", "woocommerce", "--topic", "order.updated", WOO_ORDER, TIKTOK_PIXEL_ID="CMAPPIXEL")
    assert woo.returncode == 0, woo.stderr
    [purchase] = json.loads(woo.stdout)["data"]
    assert purchase["event_id"] == "woocommerce-tiktok-relay-demo.example-order-4817"
    stripe = run("map", "--platform", "stripe", STRIPE_EVENT, TIKTOK_PIXEL_ID="CMAPPIXEL")
    body = json.loads(stripe.stdout)
    assert body["event_source_id"] == "CMAPPIXEL" and body["data"][0]["properties"]["value"] == 48.95
    assert_no_pii(woo.stdout, woo.stderr, stripe.stdout, stripe.stderr)


def test_map_says_why_nothing_is_sent_and_exits_0():
    done = run("map", "--platform", "stripe", STRIPE_EVENT, STRIPE_EVENTS="payment_intent.succeeded")
    assert done.returncode == 0 and json.loads(done.stdout)["data"] == []
    assert "nothing to send: Stripe event type 'checkout.session.completed' is not mapped" in done.stderr
    bad = run("map", "--platform", "woocommerce", "--topic", "order.created", "--shop-domain", "not a url", WOO_ORDER)
    assert bad.returncode == 2 and "--shop-domain must be the store's home URL" in bad.stderr
    setting = run("map", "--platform", "woocommerce", "--topic", "order.created", WOO_ORDER,
                  WOOCOMMERCE_PAID_STATUSES="processing,refunded")
    assert setting.returncode == 2 and "WOOCOMMERCE_PAID_STATUSES: 'refunded' never means an order was paid" in \
        setting.stderr


def test_snippet_woocommerce_prints_the_plugin():
    done = run("snippet", "woocommerce")
    assert done.returncode == 0 and done.stdout.startswith("<?php\n/**\n * Plugin Name: tiktok-relay attribution")
    assert "update_meta_data( $meta_key, $value )" in done.stdout
    assert "'_ttclid' => TIKTOK_RELAY_TTCLID_COOKIE" in done.stdout and "'_ttp'    => '_ttp'" in done.stdout


def test_replay_with_a_tenants_document_sends_each_woocommerce_store_with_its_own_token(tmp_path):
    """The store's X-WC-Webhook-Source picks its entry: its secret verifies, its pixel and token
    send (the embedded fake takes a tenant's token for its pixel only). Stripe is not received."""
    document = tmp_path / "tenants.json"
    document.write_text(json.dumps({"shops": {"https://tiktok-relay-demo.example/": {
        "pixel_id": "CWOOPIXEL", "access_token": "woo-store-token", "webhook_secret": "tiktok-relay-local-dev-secret",
        "settings": {"WOOCOMMERCE_PAID_STATUSES": "processing"}}}}))
    done = run("replay", "--json", "--dead-letter", str(tmp_path / "dl.ndjson"), "events/woocommerce/order_created.json",
               "events/woocommerce/order_updated_completed.json", "events/stripe/checkout_session_completed.json",
               TIKTOK_RELAY_TENANTS=str(document))
    assert done.returncode == 0, done.stderr
    *files, summary = (json.loads(line) for line in done.stdout.splitlines())
    by_name = {row["file"].rsplit("/", 1)[1]: row for row in files}
    order = by_name["order_created.json"]
    assert order["status"] == 202 and order["request"]["event_source_id"] == "CWOOPIXEL"
    assert by_name["order_updated_completed.json"]["body"]["status"] == "ignored"
    stripe = by_name["checkout_session_completed.json"]
    assert stripe["status"] == 404 and "tenants document" in stripe["body"]["reason"]
    assert summary["summary"]["delivered"] == 1
    assert "woo-store-token" not in done.stdout + done.stderr
