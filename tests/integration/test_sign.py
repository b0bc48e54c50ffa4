"""`tiktok-relay sign`: a payload signed as the store signs it, as an event file `replay` takes or
as a curl command for `serve`; both go through the real receiver."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from tests.support import ROOT, clean_env, console_script
from tests.support.serve import free_port, wait_until_listening

ORDER = str(ROOT / "examples" / "shopify" / "orders_paid.json")


def run(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(console_script() + list(args), env=clean_env(**env), capture_output=True, text=True,
                          timeout=120, cwd=ROOT)


def sign(*args: str, **env: str) -> subprocess.CompletedProcess:
    return run("sign", "--platform", "shopify", "--topic", "orders/paid", *args, **env)


def test_a_signed_event_replays_as_a_queued_and_delivered_order(tmp_path):
    signed = sign(ORDER)
    assert signed.returncode == 0, signed.stderr
    event = tmp_path / "mine.json"
    event.write_text(signed.stdout)
    assert json.loads(signed.stdout)["headers"]["x-shopify-topic"] == "orders/paid"
    assert "signed orders/paid with the local development secret" in signed.stderr

    replayed = run("replay", "--json", "--dead-letter", str(tmp_path / "dl.ndjson"), str(event))
    assert replayed.returncode == 0, replayed.stderr
    row, summary = (json.loads(line) for line in replayed.stdout.splitlines())
    assert (row["status"], row["body"]["status"]) == (202, "queued")
    assert row["request"]["data"][0]["event_id"] == "shopify-order-5829310123456"
    assert summary["summary"]["delivered"] == 1


def test_it_signs_with_the_store_secret_when_set_and_never_prints_it(tmp_path):
    signed = sign("--shop-domain", "my-shop.myshopify.com", ORDER, SHOPIFY_WEBHOOK_SECRET="shpss_mine, shpss_old")
    assert signed.returncode == 0, signed.stderr
    assert "SHOPIFY_WEBHOOK_SECRET (2 secrets)" in signed.stderr
    assert "shpss_mine" not in signed.stdout + signed.stderr
    event = tmp_path / "mine.json"
    event.write_text(signed.stdout)
    assert json.loads(signed.stdout)["headers"]["x-shopify-shop-domain"] == "my-shop.myshopify.com"

    ok = run("replay", "--json", str(event), SHOPIFY_WEBHOOK_SECRET="shpss_mine")
    assert json.loads(ok.stdout.splitlines()[0])["status"] == 202
    refused = run("replay", str(event))  # the local development secret does not verify it
    assert "401" in refused.stdout and "not signed with the local development secret" in refused.stdout


def test_a_given_webhook_id_is_a_redelivery(tmp_path):
    files = []
    for n in range(2):
        signed = sign("--webhook-id", "0f0e0d0c-1111-4222-8333-444455556666", ORDER)
        (tmp_path / f"{n}.json").write_text(signed.stdout)
        files.append(str(tmp_path / f"{n}.json"))
    fresh = sign(ORDER)
    (tmp_path / "fresh.json").write_text(fresh.stdout)
    replayed = run("replay", "--json", *files, str(tmp_path / "fresh.json"))
    statuses = [json.loads(line)["body"]["status"] for line in replayed.stdout.splitlines()[:3]]
    # The receiver deduplicates on the signed topic, shop and body: a new webhook id on the same
    # body is the same delivery (a replay, or a second subscription's copy).
    assert statuses == ["queued", "duplicate", "duplicate"]
    ids = [json.loads(open(f).read())["headers"]["x-shopify-webhook-id"] for f in (*files, tmp_path / "fresh.json")]
    assert ids[0] == ids[1] != ids[2]


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed (.ci/run installs it)")
def test_the_curl_command_is_accepted_by_serve(fake_tiktok, tmp_path):
    port = free_port()
    url = f"http://127.0.0.1:{port}/webhooks/shopify"
    process = subprocess.Popen(console_script() + ["serve", "--port", str(port), "--dead-letter",
                                                   str(tmp_path / "dl.ndjson")],
                               env=clean_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        wait_until_listening(port, process)
        command = sign("--curl", url, "examples/shopify/orders_paid.json")
        assert command.returncode == 0, command.stderr
        assert command.stdout.startswith(f"curl -sS -w '\\n' {url} -H ")
        posted = subprocess.run(["sh", "-c", command.stdout], capture_output=True, text=True, timeout=60, cwd=ROOT)
        assert json.loads(posted.stdout) == {"status": "queued", "events": 1}
        again = subprocess.run(["sh", "-c", command.stdout], capture_output=True, text=True, timeout=60, cwd=ROOT)
        assert json.loads(again.stdout)["status"] == "duplicate"  # the same command is the same delivery
    finally:
        process.terminate()
        _, err = process.communicate(timeout=10)
    assert "delivered 1 of 1 [Purchase shopify-order-5829310123456]" in err.decode()


def test_an_unknown_topic_lists_the_known_ones():
    result = run("sign", "--platform", "shopify", "--topic", "order/paid", ORDER)
    assert result.returncode == 2 and result.stdout == ""
    assert "--topic 'order/paid' is not a topic the relay knows; known topics: " in result.stderr
    assert "orders/paid" in result.stderr


@pytest.mark.parametrize(("args", "message"), [
    (["--curl", "127.0.0.1:3000/webhooks/shopify", ORDER], "--curl needs an http(s) URL"),
    (["--curl", "http://127.0.0.1:3000/webhooks/shopify", "-"], "--curl needs a FILE, not stdin"),
    (["--webhook-id", "has space", ORDER], "--webhook-id must be printable ASCII"),
    (["events/shopify/orders_paid.json"], None),  # an API Gateway event: signed, with a note
    ([str(ROOT / "no-such-file.json")], "cannot read"),
])
def test_unusable_input_is_named(args, message):
    result = sign(*args)
    if message is None:
        assert result.returncode == 0 and "looks like an API Gateway event" in result.stderr
    else:
        assert result.returncode == 2 and message in result.stderr and result.stdout == ""
