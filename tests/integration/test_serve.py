"""`tiktok-relay serve`: the receiver's routes over real HTTP on localhost, with the queue and
the sender behind it, as a development store (through a tunnel) would reach it."""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.support import clean_env, console_script
from tests.support.serve import free_port, wait_for

SECRET = "serve-test-secret"
ORDER = {"id": 4401, "email": "serve.test@example.com", "total_price": "12.00", "currency": "EUR",
         "processed_at": "2026-11-20T09:58:01+00:00", "line_items": [{"variant_id": 7, "quantity": 1, "price": "12.00"}]}


def test_live_serve_receives_a_signed_webhook_and_delivers_it(serve, fake_tiktok):
    server = serve("--live", SHOPIFY_WEBHOOK_SECRET=SECRET, TIKTOK_ACCESS_TOKEN=fake_tiktok.access_token,
                   TIKTOK_API_BASE_URL=fake_tiktok.base_url, TIKTOK_PIXEL_ID="CSERVEPIXEL")
    body = json.dumps(ORDER).encode()

    queued = server.post(body, SECRET)
    forged = server.post(body, "wrong")
    elsewhere = server.http.request("POST", f"http://127.0.0.1:{server.port}/nowhere", body=b"{}")

    assert (queued.status, json.loads(queued.data)["status"]) == (202, "queued")
    assert (forged.status, json.loads(forged.data)["status"]) == (401, "rejected")
    assert (elsewhere.status, json.loads(elsewhere.data)["status"]) == (404, "not_found")
    wait_for(lambda: fake_tiktok.accepted)
    [event] = fake_tiktok.events
    assert event["event_id"] == "shopify-order-4401" and event["_request"]["event_source_id"] == "CSERVEPIXEL"
    assert "serve.test@example.com" not in json.dumps(event)
    err = server.stop()
    assert f"events sent to the Events API at {fake_tiktok.base_url}" in err
    assert "signatures checked with SHOPIFY_WEBHOOK_SECRET (1 secret)" in err and SECRET not in err


def test_serve_prints_each_outcome_and_what_reached_tiktok_and_keeps_a_token_away(serve, fake_tiktok):
    server = serve(SHOPIFY_WEBHOOK_SECRET=SECRET, TIKTOK_ACCESS_TOKEN=fake_tiktok.access_token,
                   TIKTOK_API_BASE_URL=fake_tiktok.base_url)
    body = json.dumps(ORDER).encode()
    assert server.post(body, SECRET).status == 202
    assert server.post(body, "wrong").status == 401
    err = server.stop()

    assert fake_tiktok.received == []  # without --live nothing goes to the configured API
    assert "POST /webhooks/shopify -> 202 queued (1 event(s))" in err
    assert "sent to the embedded fake TikTok (http://127.0.0.1:" in err
    assert "delivered 1 of 1 [Purchase shopify-order-4401]" in err
    assert "POST /webhooks/shopify -> 401 rejected (X-Shopify-Hmac-Sha256 matches no configured secret" in err
    assert "nothing goes to TikTok without --live" in err
    assert "serve.test@example.com" not in err and SECRET not in err and fake_tiktok.access_token not in err


def test_serve_names_the_local_secret_and_documents_its_dead_letter_file(serve, tmp_path):
    server = serve("--dead-letter", str(tmp_path / "dl.ndjson"))
    err = server.stop()
    assert "signatures checked with the local development secret" in err
    assert f"dead letters appended to {tmp_path / 'dl.ndjson'} (NDJSON, one record per line)" in err
    assert "tiktok-relay-local-dev-secret" not in err


def run_serve(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(console_script() + ["serve", "--port", str(free_port()), *args], env=clean_env(**env),
                          capture_output=True, text=True, timeout=60)


def test_live_serve_needs_the_store_secret():
    result = run_serve("--live", TIKTOK_ACCESS_TOKEN="t", TIKTOK_PIXEL_ID="CPIXEL")
    assert result.returncode == 2
    assert "SHOPIFY_WEBHOOK_SECRET is not set; with --live" in result.stderr


@pytest.mark.parametrize("value", ["", " , "])
def test_an_empty_webhook_secret_is_an_error_not_the_public_secret(value):
    result = run_serve(SHOPIFY_WEBHOOK_SECRET=value)
    assert result.returncode == 2
    assert "SHOPIFY_WEBHOOK_SECRET is set but holds no secret" in result.stderr


def test_an_unusable_dead_letter_path_is_refused_at_start(tmp_path):
    result = run_serve("--dead-letter", str(tmp_path / "no" / "such" / "dl.ndjson"))
    assert result.returncode == 2 and "--dead-letter" in result.stderr and "does not exist" in result.stderr
