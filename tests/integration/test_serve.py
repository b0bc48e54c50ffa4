"""`tiktok-relay serve`: the receiver's routes over real HTTP on localhost, with the queue and
the sender behind it, as a development store (through a tunnel) would reach it."""

from __future__ import annotations

import json
import socket
import subprocess
import time

import urllib3

from tests.support import clean_env, console_script
from tiktok_relay.local.apigw import shopify_headers

SECRET = "serve-test-secret"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_listening(port: int, process: subprocess.Popen) -> None:
    for _ in range(300):
        if process.poll() is not None:
            raise AssertionError(process.stderr.read().decode())
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise AssertionError("serve did not start listening")


def test_serve_receives_a_signed_webhook_and_delivers_it(fake_tiktok):
    port = free_port()
    env = clean_env(SHOPIFY_WEBHOOK_SECRET=SECRET, TIKTOK_ACCESS_TOKEN=fake_tiktok.access_token,
                    TIKTOK_API_BASE_URL=fake_tiktok.base_url, TIKTOK_PIXEL_ID="CSERVEPIXEL")
    process = subprocess.Popen(console_script() + ["serve", "--port", str(port)], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        wait_until_listening(port, process)
        http = urllib3.PoolManager(retries=False)
        order = {"id": 4401, "email": "serve.test@example.com", "total_price": "12.00", "currency": "EUR",
                 "processed_at": "2026-11-20T09:58:01+00:00", "line_items": [{"variant_id": 7, "quantity": 1,
                                                                             "price": "12.00"}]}
        body = json.dumps(order).encode()
        url = f"http://127.0.0.1:{port}/webhooks/shopify"

        queued = http.request("POST", url, body=body, headers=shopify_headers("orders/paid", body, SECRET))
        forged = http.request("POST", url, body=body, headers=shopify_headers("orders/paid", body, "wrong"))
        elsewhere = http.request("POST", f"http://127.0.0.1:{port}/nowhere", body=b"{}")

        assert (queued.status, json.loads(queued.data)["status"]) == (202, "queued")
        assert (forged.status, json.loads(forged.data)["status"]) == (401, "rejected")
        assert elsewhere.status == 404
        for _ in range(200):  # the sender drains the queue after answering
            if fake_tiktok.accepted:
                break
            time.sleep(0.05)
        [event] = fake_tiktok.events
        assert event["event_id"] == "shopify-order-4401" and event["_request"]["event_source_id"] == "CSERVEPIXEL"
        assert "serve.test@example.com" not in json.dumps(event)
    finally:
        process.terminate()
        process.wait(timeout=10)
