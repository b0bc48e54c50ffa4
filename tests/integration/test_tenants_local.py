"""Many shops outside AWS: TIKTOK_RELAY_TENANTS names the tenants document for `replay`, `serve`,
`map`, `sign`, and `tenants check` validates one; `replay` also takes Shopify's EventBridge
events (and the Lambda on-failure records that hold them). Each command runs as users run it:
the console script in a subprocess.

The embedded fake TikTok takes each tenant's token for that tenant's pixel (and offline event
set) only, so "delivered" in a replay's summary means each shop's events went with its own token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import subprocess
from pathlib import Path

import pytest

from tests.fixtures.make_events import SECOND_SHOP, SECOND_SHOP_SECRET, SHOP, TENANTS
from tests.support import EVENTS, ROOT, clean_env, console_script
from tests.support.serve import wait_for
from tiktok_relay.local.eventbridge import partner_event
from tiktok_relay.local.platforms import LOCAL_WEBHOOK_SECRET

EXAMPLE_TENANTS = ROOT / "examples" / "tenants.json"
EVENTBRIDGE_EVENTS = sorted(str(p.relative_to(ROOT)) for p in (EVENTS / "eventbridge").glob("*.json"))
TOKENS_AND_SECRETS = ("demo-shop-token", "second-shop-token", LOCAL_WEBHOOK_SECRET, SECOND_SHOP_SECRET)
RAW_PII = ("ada.lovelace@example.com", "Lovelace", "07400 900123")


def relay(*args: str, cwd: Path = ROOT, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(console_script() + list(args), cwd=cwd, env=clean_env(**env), capture_output=True,
                          text=True, timeout=120)


def with_tenants(*args: str, document: Path = EXAMPLE_TENANTS, **env: str) -> subprocess.CompletedProcess:
    return relay(*args, TIKTOK_RELAY_TENANTS=str(document), **env)


def rows(stdout: str) -> tuple[dict, dict]:
    *files, summary = (json.loads(line) for line in stdout.splitlines())
    return {Path(row["file"]).name: row for row in files}, summary["summary"]


def write(tmp_path: Path, document: dict) -> Path:
    path = tmp_path / "tenants.json"
    path.write_text(json.dumps(document))
    return path


def assert_nothing_secret(*texts: str) -> None:
    for value in TOKENS_AND_SECRETS + RAW_PII:
        for text in texts:
            assert value not in text, value


# --- tenants check -----------------------------------------------------------------------------


def test_tenants_check_passes_a_good_document_and_prints_no_secret():
    result = relay("tenants", "check", str(EXAMPLE_TENANTS))

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"ok      {SHOP}  pixel CLOCALDEVPIXEL0000000, 1 webhook secret",
        f"ok      {SECOND_SHOP}  pixel CSECONDSHOPPIXEL0000, 1 webhook secret, settings SHOPIFY_CURRENCY, "
        "TIKTOK_TEST_EVENT_CODE",
        f"tenants document ({EXAMPLE_TENANTS}): 2 shop(s), all valid",
    ]
    assert result.stderr == ""
    assert_nothing_secret(result.stdout)


def test_tenants_check_reads_the_environments_document_by_default():
    result = with_tenants("tenants", "check")
    assert result.returncode == 0 and result.stdout.splitlines()[-1] == (
        f"TIKTOK_RELAY_TENANTS ({EXAMPLE_TENANTS}): 2 shop(s), all valid")


def test_tenants_check_names_every_problem_with_exit_2(tmp_path):
    document = json.loads(json.dumps(TENANTS))
    second = document["shops"][SECOND_SHOP]
    del second["pixel_id"]
    second["settings"] = {"SHOPIFY_CURRENCY": "euros", "TIKTOK_PIXLE": "x"}
    document["shops"]["tiktok-relay-demo.example.com"] = {"pixel_id": "C1", "access_token": "t",
                                                          "webhook_secret": "s"}
    result = relay("tenants", "check", str(write(tmp_path, document)))

    assert result.returncode == 2
    assert result.stdout.splitlines() == [
        "invalid 'tiktok-relay-demo.example.com'",
        f"ok      {SHOP}  pixel CLOCALDEVPIXEL0000000, 1 webhook secret",
        f"invalid {SECOND_SHOP}",
        f"tenants document ({tmp_path / 'tenants.json'}): 2 of 3 shop(s) invalid",
    ]
    problems = result.stderr.splitlines()
    assert problems[0] == ("tiktok-relay: shop 'tiktok-relay-demo.example.com': not a shop identity: a Shopify shop "
                           "is its myshopify.com domain, such as acme.myshopify.com; a WooCommerce store is its home "
                           "URL, such as https://shop.example.com/")
    assert f"tiktok-relay: shop {SECOND_SHOP}: pixel_id is missing" in problems
    assert any(p.startswith(f"tiktok-relay: shop {SECOND_SHOP}: settings: unknown setting 'TIKTOK_PIXLE'")
               for p in problems)
    assert any(p.startswith(f"tiktok-relay: shop {SECOND_SHOP}: settings: SHOPIFY_CURRENCY must be")
               for p in problems)
    assert_nothing_secret(result.stdout, result.stderr)


@pytest.mark.parametrize(("content", "expected"), [
    (None, "no such file"),
    ("{", "is not valid JSON (line 1, column 2"),
    ('{"shops": {}}', "lists no shop"),
])
def test_tenants_check_refuses_what_is_no_tenants_document(tmp_path, content, expected):
    path = tmp_path / "tenants.json"
    if content is not None:
        path.write_text(content)
    result = relay("tenants", "check", str(path))
    assert result.returncode == 2 and expected in result.stderr and result.stdout == ""


def test_tenants_check_without_a_document_says_where_to_give_one():
    result = relay("tenants", "check")
    assert result.returncode == 2
    assert result.stderr == "tiktok-relay: no document to check: pass PATH or set TIKTOK_RELAY_TENANTS\n"


def test_tenants_check_warns_when_the_document_will_not_fit_a_secret(tmp_path):
    document = {"shops": {f"shop-{n:04d}.myshopify.com": {"pixel_id": f"CPIXEL{n:04d}", "access_token": "t" * 200,
                                                          "webhook_secret": "s" * 64} for n in range(300)}}
    result = relay("tenants", "check", str(write(tmp_path, document)))
    assert result.returncode == 0
    assert "a Secrets Manager secret (TenantsSecretName) holds at most 65536" in result.stderr


# --- replay --------------------------------------------------------------------------------------


def test_replay_sends_each_shops_deliveries_with_its_own_pixel_token_and_settings(tmp_path):
    files = [*EVENTBRIDGE_EVENTS, "events/shopify/orders_paid.json", "events/shopify/carts_update.json"]
    result = with_tenants("replay", "--json", "--dead-letter", str(tmp_path / "dl.ndjson"), *files)

    assert result.returncode == 0, result.stderr
    by_name, summary = rows(result.stdout)
    assert {name: row["status"] for name, row in by_name.items()} == {
        "checkouts_create.json": 202, "customers_create_without_webhook_id.json": 202, "orders_paid.json": 202,
        "orders_paid_second_shop.json": 202, "carts_update.json": 202}  # orders_paid: EventBridge's and HTTPS's
    second = by_name["orders_paid_second_shop.json"]["request"]
    assert (second["event_source_id"], second["test_event_code"]) == ("CSECONDSHOPPIXEL0000", "TEST24680")
    assert second["data"][0]["properties"]["currency"] == "EUR"  # its SHOPIFY_CURRENCY: presentment
    first = by_name["checkouts_create.json"]["request"]
    assert first["event_source_id"] == "CLOCALDEVPIXEL0000000" and "test_event_code" not in first
    assert summary["delivered"] == summary["events"] == 6 and summary["dead_lettered"] == 0
    assert summary["requests_sent"] == 2  # one per tenant: each with its own token
    assert_nothing_secret(result.stdout, result.stderr)


def test_replay_refuses_a_delivery_signed_for_another_shop(tmp_path):
    signed = relay("sign", "--platform", "shopify", "--topic", "orders/paid", "--shop-domain", SECOND_SHOP,
                   "examples/shopify/orders_paid.json")  # signed with the local development secret
    assert signed.returncode == 0
    (tmp_path / "cross.json").write_text(signed.stdout)

    result = with_tenants("replay", "--json", "--dead-letter", str(tmp_path / "dl.ndjson"), str(tmp_path / "cross.json"))

    assert result.returncode == 0
    by_name, summary = rows(result.stdout)
    assert by_name["cross.json"]["status"] == 401 and summary["events"] == 0
    assert "not signed with their shop's webhook_secret in TIKTOK_RELAY_TENANTS" in result.stderr
    assert "tiktok-relay sign --shop-domain SHOP" in result.stderr


def test_sign_signs_with_the_named_shops_secret_and_replay_takes_it(tmp_path):
    signed = with_tenants("sign", "--platform", "shopify", "--topic", "orders/paid", "--shop-domain", SECOND_SHOP,
                          "examples/shopify/orders_paid.json")
    assert signed.returncode == 0, signed.stderr
    event = json.loads(signed.stdout)
    expected = base64.b64encode(hmac.new(SECOND_SHOP_SECRET.encode(), event["body"].encode(),
                                         hashlib.sha256).digest()).decode()
    assert event["headers"]["x-shopify-hmac-sha256"] == expected
    assert event["headers"]["x-shopify-shop-domain"] == SECOND_SHOP
    assert signed.stderr.startswith(f"tiktok-relay: signed orders/paid with shop {SECOND_SHOP}'s webhook_secret in "
                                    f"TIKTOK_RELAY_TENANTS ({EXAMPLE_TENANTS})")
    assert_nothing_secret(signed.stderr)
    (tmp_path / "second.json").write_text(signed.stdout)
    replayed = with_tenants("replay", "--json", "--dead-letter", str(tmp_path / "dl.ndjson"), str(tmp_path / "second.json"))
    assert rows(replayed.stdout)[1]["delivered"] == 1


@pytest.mark.parametrize(("args", "expected"), [
    ((), f"--shop-domain is required with TIKTOK_RELAY_TENANTS: which of its shops ({SHOP}, {SECOND_SHOP})?"),
    (("--shop-domain", "third.myshopify.com"), "--shop-domain third.myshopify.com is not a shop of"),
])
def test_sign_and_map_need_a_shop_of_the_document(args, expected):
    for command in (["sign", "--platform", "shopify"], ["map", "--platform", "shopify"]):
        result = with_tenants(*command, "--topic", "orders/paid", *args, "examples/shopify/orders_paid.json")
        assert result.returncode == 2 and expected in result.stderr, (command, result.stderr)


def test_map_shows_the_request_with_the_shops_pixel_and_settings():
    result = with_tenants("map", "--platform", "shopify", "--topic", "orders/paid", "--shop-domain", SECOND_SHOP,
                          "examples/shopify/orders_paid.json")
    assert result.returncode == 0, result.stderr
    request = json.loads(result.stdout)
    assert (request["event_source_id"], request["test_event_code"]) == ("CSECONDSHOPPIXEL0000", "TEST24680")
    assert request["data"][0]["properties"]["currency"] == "EUR"


def test_a_broken_document_stops_a_local_run_before_anything_is_sent(tmp_path):
    document = json.loads(json.dumps(TENANTS))
    document["shops"][SECOND_SHOP]["access_token"] = ""
    result = relay("replay", "--dead-letter", str(tmp_path / "dl.ndjson"), "events/shopify/orders_paid.json",
                   TIKTOK_RELAY_TENANTS=str(write(tmp_path, document)))
    assert result.returncode == 2 and result.stdout == ""
    assert f"shop {SECOND_SHOP}: access_token is missing (`tiktok-relay tenants check` lists every problem)" in (
        result.stderr)


def test_replay_takes_eventbridge_events_without_tenants_too(tmp_path):
    result = relay("replay", "--json", "--dead-letter", str(tmp_path / "dl.ndjson"), *EVENTBRIDGE_EVENTS)
    assert result.returncode == 0, result.stderr
    by_name, summary = rows(result.stdout)
    assert all(row["status"] == 202 for row in by_name.values())
    # One shop: every event goes to the one pixel, whatever shop it names.
    assert {row["request"]["event_source_id"] for row in by_name.values()} == {"CLOCALDEVPIXEL0000000"}
    assert summary["delivered"] == 4


def test_replay_reads_a_lambda_on_failure_record_as_the_event_it_holds(tmp_path):
    """What the EventBridge intake's dead-letter queue keeps when the function failed: Lambda's
    on-failure record, the event under requestPayload. Fixed, it is replayed as it is."""
    event = partner_event("orders/paid", json.loads((ROOT / "examples/shopify/orders_paid.json").read_text()),
                          shop="unknown-shop.myshopify.com")
    record = {"version": "1.0", "timestamp": "2026-11-20T10:05:00.000Z",
              "requestContext": {"requestId": "r-1", "functionArn": "arn:aws:lambda:us-east-1:1:function:eb:$LATEST",
                                 "condition": "RetriesExhausted", "approximateInvokeCount": 3},
              "requestPayload": event,
              "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
              "responsePayload": {"errorType": "DeliveryNotAccepted", "errorMessage": "500 misconfigured: ..."}}
    (tmp_path / "failed.json").write_text(json.dumps(record))

    refused = with_tenants("replay", "--json", "--dead-letter", str(tmp_path / "dl.ndjson"), str(tmp_path / "failed.json"))
    by_name, _ = rows(refused.stdout)
    assert by_name["failed.json"]["status"] == 500
    assert by_name["failed.json"]["body"]["reason"] == ("no tenant is configured for the shop "
                                                        "unknown-shop.myshopify.com; add it to the tenants document")
    document = json.loads(json.dumps(TENANTS))
    document["shops"]["unknown-shop.myshopify.com"] = {"pixel_id": "CADDEDPIXEL", "access_token": "added-token",
                                                       "webhook_secret": "added-secret"}
    fixed = relay("replay", "--json", "--dead-letter", str(tmp_path / "dl.ndjson"), str(tmp_path / "failed.json"),
                  TIKTOK_RELAY_TENANTS=str(write(tmp_path, document)))
    by_name, summary = rows(fixed.stdout)
    assert by_name["failed.json"]["request"]["event_source_id"] == "CADDEDPIXEL" and summary["delivered"] == 1


def test_replay_names_both_kinds_of_file_it_takes(tmp_path):
    (tmp_path / "body.json").write_text('{"id": 1}')
    result = relay("replay", str(tmp_path / "body.json"))
    assert result.returncode == 2
    assert "neither an API Gateway HTTP API (v2) event nor an EventBridge event" in result.stderr


# --- serve ---------------------------------------------------------------------------------------


def test_live_serve_sends_each_shop_with_its_own_token(serve, fake_tiktok, tmp_path):
    fake_tiktok.allow_token("demo-shop-token", pixels={"CLOCALDEVPIXEL0000000"})
    fake_tiktok.allow_token("second-shop-token", pixels={"CSECONDSHOPPIXEL0000"})
    server = serve("--live", TIKTOK_RELAY_TENANTS=str(EXAMPLE_TENANTS), TIKTOK_API_BASE_URL=fake_tiktok.base_url,
                   TIKTOK_MAX_EVENT_AGE="3650d")
    order = (ROOT / "examples/shopify/orders_paid.json").read_bytes()

    assert server.post(order, LOCAL_WEBHOOK_SECRET, shop=SHOP).status == 202
    assert server.post(order, SECOND_SHOP_SECRET, shop=SECOND_SHOP).status == 202
    assert server.post(order, LOCAL_WEBHOOK_SECRET, shop=SECOND_SHOP).status == 401  # another shop's secret
    wait_for(lambda: len(fake_tiktok.accepted) == 2)
    err = server.stop()

    assert sorted(zip((b["event_source_id"] for b in fake_tiktok.accepted), fake_tiktok.accepted_tokens,
                      strict=True)) == [("CLOCALDEVPIXEL0000000", "demo-shop-token"),
                                        ("CSECONDSHOPPIXEL0000", "second-shop-token")]
    assert f"signatures checked with each shop's webhook_secret in TIKTOK_RELAY_TENANTS ({EXAMPLE_TENANTS}) " \
           "(2 shops)" in err
    assert "--shop-domain SHOP --curl" in err
    assert_nothing_secret(err)
