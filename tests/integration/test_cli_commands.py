"""The `tiktok-relay` console script, run for real in a subprocess: build, send, fake-tiktok, fake-shopify
(and reconcile against it)."""

from __future__ import annotations

import hashlib
import json
import socket
import subprocess
import sys
import time

import pytest
import urllib3

from tests.support import clean_env, console_script

T = 1_700_000_000
PIXEL = "CPIXELFROMENV0000001"


def sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def run(args: list[str], *, stdin: bytes = b"", env: dict | None = None, command: list[str] | None = None):
    return subprocess.run(
        (command or console_script()) + args, input=stdin, capture_output=True,
        env=env if env is not None else clean_env(TIKTOK_PIXEL_ID=PIXEL), timeout=120,
    )


def event_line(i: int, **extra) -> str:
    return json.dumps({"event": "Purchase", "event_time": T + i, "event_id": f"e{i}", **extra})


def ndjson(lines: list[str]) -> bytes:
    return ("\n".join(lines) + "\n").encode()


def bodies(stdout: bytes) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines()]


# --- build ------------------------------------------------------------------------------------------------


def test_build_from_stdin_uses_the_pixel_from_the_environment():
    lines = [event_line(1, user={"email": " Jane.Doe@Example.com ", "ip": "2001:db8::1"},
                        properties={"value": "19.90", "currency": "eur", "contents": [{"content_id": 7, "price": 19.9, "quantity": 1}]}),
             event_line(2)]
    proc = run(["build"], stdin=ndjson(lines))
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == b""
    [body] = bodies(proc.stdout)
    assert body["event_source"] == "web" and body["event_source_id"] == PIXEL
    assert "test_event_code" not in body
    first = body["data"][0]
    assert first["user"] == {"email": [sha("jane.doe@example.com")], "ip": "2001:db8::1"}
    assert first["properties"] == {"contents": [{"content_id": "7", "price": 19.9, "quantity": 1}], "currency": "EUR", "value": 19.9}
    assert [e["event_id"] for e in body["data"]] == ["e1", "e2"]
    assert b"Jane" not in proc.stdout and b"jane" not in proc.stdout


def test_build_from_a_file_with_flags(tmp_path):
    source = tmp_path / "events.ndjson"
    source.write_bytes(ndjson([event_line(1), "", event_line(2)]))
    proc = run(["build", "--pixel-id", "CFLAGPIXEL", "--test-event-code", "TEST777", "--event-source", "offline", str(source)])
    assert proc.returncode == 0, proc.stderr
    [body] = bodies(proc.stdout)
    assert (body["event_source"], body["event_source_id"], body["test_event_code"]) == ("offline", "CFLAGPIXEL", "TEST777")
    assert all("test_event_code" not in e for e in body["data"])
    assert len(body["data"]) == 2


def test_build_output_lines_are_compact_request_bodies():
    proc = run(["build"], stdin=ndjson([event_line(1)]))
    line = proc.stdout.rstrip(b"\n")
    assert line == json.dumps(json.loads(line), separators=(",", ":"), ensure_ascii=False).encode()
    assert proc.stdout.endswith(b"\n") and proc.stdout.count(b"\n") == 1


def test_build_of_usual_events_does_not_import_pydantic():
    # What makes a one-event build fast (README "Performance"): lines the fast path takes never
    # import pydantic, nor, for a few lines, pydantic-core; a line it leaves to the models does.
    # Nor is dataclasses imported on the way (the local tools' platform table would bring it).
    script = ("import sys\nfrom tiktok_relay.cli import main\nrc = main(sys.argv[1:])\n"
              "assert 'dataclasses' not in sys.modules or 'pydantic' in sys.modules\n"
              "print(rc, 'pydantic' in sys.modules, 'pydantic_core' in sys.modules, file=sys.stderr)")
    usual = event_line(1, user={"email": "a@b.co", "phone": "+1 415 555 2671", "ip": "81.2.69.160"},
                       properties={"currency": "USD", "value": 5, "contents": [{"content_id": "a", "price": 5}]})
    unusual = event_line(2, limited_data_use=1)  # a lax boolean: the models' business
    for lines, imported in (([usual], b"0 False False"), ([usual, unusual], b"0 True True")):
        proc = run(["build"], stdin=ndjson(lines), command=[sys.executable, "-c", script])
        assert proc.stderr.strip() == imported
        assert [len(b["data"]) for b in bodies(proc.stdout)] == [len(lines)]


def test_build_2500_lines_gives_3_request_lines(tmp_path):
    source = tmp_path / "many.ndjson"
    source.write_bytes(ndjson([event_line(i, user={"external_id": f"cust-{i}"}) for i in range(2500)]))
    proc = run(["build", str(source)])
    assert proc.returncode == 0, proc.stderr
    out = bodies(proc.stdout)
    assert [len(b["data"]) for b in out] == [1000, 1000, 500]
    assert [e["event_id"] for b in out for e in b["data"]] == [f"e{i}" for i in range(2500)]
    assert out[2]["data"][-1]["user"]["external_id"] == [sha("cust-2499")]


def test_build_test_event_code_and_phone_region_from_the_environment():
    line = event_line(1, user={"phone": "06 12 34 56 78"})
    env = clean_env(TIKTOK_PIXEL_ID=PIXEL, TIKTOK_TEST_EVENT_CODE="TESTENV", TIKTOK_PHONE_REGION="FR")
    proc = run(["build"], stdin=ndjson([line]), env=env)
    assert proc.returncode == 0, proc.stderr
    [body] = bodies(proc.stdout)
    assert body["test_event_code"] == "TESTENV"
    assert body["data"][0]["user"]["phone"] == [sha("+33612345678")]
    # The flag wins over the environment.
    proc = run(["build", "--phone-region", "NL", "--test-event-code", "TESTFLAG"], stdin=ndjson([line]), env=env)
    [body] = bodies(proc.stdout)
    assert body["test_event_code"] == "TESTFLAG"
    assert body["data"][0]["user"]["phone"] == [sha("+31612345678")]


def test_build_phone_region_flag_and_its_absence():
    line = event_line(1, user={"phone": "(415) 555-2671"})
    proc = run(["build", "--phone-region", "US"], stdin=ndjson([line]))
    assert proc.returncode == 0, proc.stderr
    assert bodies(proc.stdout)[0]["data"][0]["user"]["phone"] == [sha("+14155552671")]
    proc = run(["build"], stdin=ndjson([line]))
    assert proc.returncode == 2
    assert proc.stdout == b""
    assert b"line 1: user.phone" in proc.stderr
    assert b"415" not in proc.stderr


def test_build_invalid_lines_exit_2_report_each_and_write_nothing(tmp_path):
    lines = [event_line(i) for i in range(1, 1500)]
    lines[1] = event_line(2, page={"valeu": 3})
    lines[3] = event_line(4, user={"email": "margaret.private at example.org"})
    lines[1199] = "{not json"
    lines[1299] = event_line(1300, event="purchase")
    source = tmp_path / "bad.ndjson"
    source.write_bytes(ndjson(lines))
    proc = run(["build", str(source)])
    assert proc.returncode == 2
    assert proc.stdout == b""  # not even the valid first 1000 events
    err = proc.stderr.decode()
    assert "line 2: page.valeu" in err
    assert "line 4: user.email" in err
    assert "line 1200:" in err
    assert "line 1300: event" in err
    assert "4 invalid line(s)" in err
    assert "margaret" not in err


def test_build_without_a_pixel_id_names_the_variable_and_the_flag():
    proc = run(["build"], stdin=ndjson([event_line(1)]), env=clean_env())
    assert proc.returncode == 2
    assert proc.stdout == b""
    assert b"TIKTOK_PIXEL_ID is not set and no --pixel-id was given" in proc.stderr


@pytest.mark.parametrize(("args", "env", "message"), [
    (["--phone-region", "USA"], {}, "--phone-region must be an ISO 3166-1 alpha-2 region code such as US"),
    ([], {"TIKTOK_PHONE_REGION": "USA"}, "TIKTOK_PHONE_REGION must be an ISO 3166-1 alpha-2 region code such as US"),
    (["--pixel-id", "C123 456"], {}, "--pixel-id must be a pixel code: letters and digits only"),
    ([], {"TIKTOK_PIXEL_ID": "C123 456"}, "TIKTOK_PIXEL_ID must be a pixel code: letters and digits only"),
])
def test_a_bad_flag_or_variable_is_blamed_by_name_not_on_the_data(args, env, message):
    """The same wrong value gets the same message whether it came as a flag or a variable, and
    it is never blamed on a phone number or an event."""
    line = event_line(1, user={"phone": "(415) 555-2671"})
    for command in ("build", "send"):
        proc = run([command, *args], stdin=ndjson([line]), env=clean_env(**{"TIKTOK_PIXEL_ID": PIXEL,
                                                                           "TIKTOK_ACCESS_TOKEN": "t", **env}))
        assert proc.returncode == 2 and proc.stdout == b""
        err = proc.stderr.decode()
        assert message in err and "line 1" not in err
        assert "USA" not in err and "C123 456" not in err


def test_build_of_a_missing_file_is_a_usage_error(tmp_path):
    proc = run(["build", str(tmp_path / "nope.ndjson")])
    assert proc.returncode == 2 and proc.stdout == b""
    assert b"cannot read" in proc.stderr


def test_build_via_python_dash_m():
    proc = run(["build"], stdin=ndjson([event_line(1)]), command=[sys.executable, "-m", "tiktok_relay"])
    assert proc.returncode == 0, proc.stderr
    assert bodies(proc.stdout)[0]["data"][0]["event_id"] == "e1"


# --- send -------------------------------------------------------------------------------------------------


def send_env(fake, **extra) -> dict[str, str]:
    return clean_env(TIKTOK_API_BASE_URL=fake.base_url, TIKTOK_ACCESS_TOKEN=fake.access_token,
                     TIKTOK_PIXEL_ID=PIXEL, **extra)


def test_send_delivers_and_prints_a_summary(fake_tiktok):
    lines = [event_line(i, user={"email": f"buyer{i}@example.com"}) for i in range(3)]
    proc = run(["send", "--test-event-code", "TEST1"], stdin=ndjson(lines), env=send_env(fake_tiktok))
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["events"] == 3 and summary["delivered"] == 3
    assert summary["rejected"] == 0 and summary["failed_retryable"] == 0 and summary["requests_sent"] == 1
    assert summary["request_ids"] == [fake_tiktok.received[0].request_id]
    assert fake_tiktok.accepted_ids() == ["e0", "e1", "e2"]
    [body] = fake_tiktok.accepted
    assert body["event_source_id"] == PIXEL and body["test_event_code"] == "TEST1"


def test_send_2500_events_in_3_requests(fake_tiktok, tmp_path):
    source = tmp_path / "many.ndjson"
    source.write_bytes(ndjson([event_line(i) for i in range(2500)]))
    proc = run(["send", str(source)], env=send_env(fake_tiktok))
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["delivered"] == 2500 and summary["requests_sent"] == 3
    assert [len(b["data"]) for b in fake_tiktok.accepted] == [1000, 1000, 500]


def test_send_exits_non_zero_when_an_event_is_not_delivered(fake_tiktok):
    fake_tiktok.reject_events({"e2"})
    lines = [event_line(1), "", event_line(2), event_line(3)]  # e2 is on input line 3
    proc = run(["send"], stdin=ndjson(lines), env=send_env(fake_tiktok))
    assert proc.returncode == 1
    summary = json.loads(proc.stdout)
    assert summary["delivered"] == 2 and summary["rejected"] == 1 and summary["events"] == 3
    err = proc.stderr.decode()
    assert "line 3: rejected (code 40002)" in err
    rejected_request = [r for r in fake_tiktok.received if r.body and len(r.body["data"]) == 1
                        and r.body["data"][0]["event_id"] == "e2"]
    assert rejected_request and f"[request_id {rejected_request[-1].request_id}]" in err
    assert sorted(fake_tiktok.accepted_ids()) == ["e1", "e3"]


def test_send_with_a_wrong_token_fails_without_printing_it(fake_tiktok):
    secret = "sk-live-wrong-0123456789"
    env = send_env(fake_tiktok)
    env["TIKTOK_ACCESS_TOKEN"] = secret
    proc = run(["send"], stdin=ndjson([event_line(1)]), env=env)
    assert proc.returncode == 1
    assert "40105" in proc.stderr.decode()
    assert secret.encode() not in proc.stdout + proc.stderr


def test_send_without_a_token_names_the_variable(fake_tiktok):
    env = send_env(fake_tiktok)
    del env["TIKTOK_ACCESS_TOKEN"]
    proc = run(["send"], stdin=ndjson([event_line(1)]), env=env)
    assert proc.returncode == 2 and proc.stdout == b""
    assert b"TIKTOK_ACCESS_TOKEN" in proc.stderr
    assert fake_tiktok.received == []


def test_send_with_invalid_input_sends_nothing(fake_tiktok):
    proc = run(["send"], stdin=ndjson([event_line(1), event_line(2, page={"valeu": 1})]), env=send_env(fake_tiktok))
    assert proc.returncode == 2 and proc.stdout == b""
    assert b"line 2: page.valeu" in proc.stderr
    assert fake_tiktok.received == []


# --- fake-tiktok --------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_listening(proc: subprocess.Popen, port: int) -> None:
    give_up = time.monotonic() + 30  # a guard against hanging, not an assertion on speed
    while time.monotonic() < give_up:
        if proc.poll() is not None:
            raise AssertionError(f"fake-tiktok exited early with {proc.returncode}: {proc.stderr.read()!r}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise AssertionError("fake-tiktok never started listening")


@pytest.fixture
def fake_tiktok_process():
    port = free_port()
    token = "cli-fake-token"
    proc = subprocess.Popen(console_script() + ["fake-tiktok", "--port", str(port)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=clean_env(TIKTOK_ACCESS_TOKEN=token))
    try:
        wait_until_listening(proc, port)
        yield proc, port, token
    finally:
        if proc.poll() is None:
            proc.terminate()
        try:
            proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()


def test_fake_tiktok_command_serves_and_prints_accepted_requests(fake_tiktok_process):
    proc, port, token = fake_tiktok_process
    body = {"event_source": "web", "event_source_id": PIXEL,
            "data": [{"event": "Purchase", "event_time": T, "event_id": "cli-1", "user": {"email": [sha("a@b.co")]}}]}
    http = urllib3.PoolManager(retries=False)
    url = f"http://127.0.0.1:{port}/open_api/v1.3/event/track/"
    ok = http.request("POST", url, body=json.dumps(body).encode(), timeout=10,
                      headers={"Access-Token": token, "Content-Type": "application/json"})
    assert ok.status == 200 and ok.json()["code"] == 0 and ok.json()["request_id"]
    wrong = http.request("POST", url, body=json.dumps(body).encode(), timeout=10, headers={"Access-Token": "nope"})
    assert wrong.json()["code"] == 40105
    raw_pii = dict(body, data=[dict(body["data"][0], user={"email": "a@b.co"})])
    refused = http.request("POST", url, body=json.dumps(raw_pii).encode(), timeout=10, headers={"Access-Token": token})
    assert refused.json()["code"] == 40062
    http.clear()
    proc.terminate()
    out, err = proc.communicate(timeout=10)
    printed = [json.loads(line) for line in out.splitlines()]
    assert printed == [body]  # only the accepted request
    assert f"listening on http://127.0.0.1:{port}/open_api".encode() in err


def test_send_command_against_the_fake_tiktok_command(fake_tiktok_process):
    proc, port, token = fake_tiktok_process
    env = clean_env(TIKTOK_API_BASE_URL=f"http://127.0.0.1:{port}/open_api", TIKTOK_ACCESS_TOKEN=token)
    sent = run(["send", "--pixel-id", PIXEL], stdin=ndjson([event_line(1), event_line(2)]), env=env)
    assert sent.returncode == 0, sent.stderr
    assert json.loads(sent.stdout)["delivered"] == 2
    proc.terminate()
    out, _ = proc.communicate(timeout=10)
    [printed] = [json.loads(line) for line in out.splitlines()]
    assert [e["event_id"] for e in printed["data"]] == ["e1", "e2"]


def test_fake_tiktok_on_a_busy_port_is_a_usage_error():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = run(["fake-tiktok", "--port", str(port)], env=clean_env())
    assert proc.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}".encode() in proc.stderr


# --- fake-shopify -------------------------------------------------------------------------------------------


def test_fake_shopify_command_serves_the_admin_api_that_register_calls():
    port = free_port()
    proc = subprocess.Popen(console_script() + ["fake-shopify", "--port", str(port), "--token", "shpat_cli"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=clean_env())
    try:
        wait_until_listening(proc, port)
        result = run(["register", "shopify", "--shop", "demo.myshopify.com", "--topics", "orders/paid",
                      "--url", "https://abc.execute-api.us-east-1.amazonaws.com/webhooks/shopify"],
                     env=clean_env(SHOPIFY_ADMIN_BASE_URL=f"http://127.0.0.1:{port}",
                                   SHOPIFY_ADMIN_ACCESS_TOKEN="shpat_cli"))
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith(b"created ORDERS_PAID -> https://abc.execute-api")
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=10)
    assert f"export SHOPIFY_ADMIN_BASE_URL=http://127.0.0.1:{port}" in err.decode()


def test_build_says_once_that_a_deprecated_event_name_is_deprecated_and_still_builds_it():
    lines = [json.dumps({"event": "PlaceAnOrder", "event_time": T + i, "event_id": f"p{i}"}) for i in range(3)]
    lines.append(json.dumps({"event": "ClickButton", "event_time": T, "event_id": "c0"}))
    proc = run(["build"], stdin=ndjson(lines))
    assert proc.returncode == 0
    assert [e["event"] for e in json.loads(proc.stdout)["data"]] == ["PlaceAnOrder"] * 3 + ["ClickButton"]
    err = proc.stderr.decode()
    assert err.count("tiktok-relay: warning: TikTok soft-deprecated the event 'PlaceAnOrder'") == 1
    assert err.count("soft-deprecated the event 'ClickButton'") == 1
    assert "DeprecatedEventWarning" not in err  # said by the CLI, not dumped by Python's warnings


def test_send_of_events_without_ids_gives_them_ids_from_their_content(fake_tiktok):
    lines = [json.dumps({"event": "Purchase", "event_time": T + i}) for i in range(2)]
    for _ in range(2):  # a second run over the same file: the same ids, deduplicated by TikTok
        proc = run(["send"], stdin=ndjson(lines), env=send_env(fake_tiktok))
        assert proc.returncode == 0, proc.stderr
    assert len(fake_tiktok.events) == 4 and len(fake_tiktok.counted_events) == 2
    assert all(e["event_id"].startswith("auto-") for e in fake_tiktok.events)


def test_fake_shopify_serves_an_orders_file_to_reconcile(fake_tiktok, tmp_path):
    import copy
    from datetime import UTC, datetime

    from tests.support.shopify import load

    paid = copy.deepcopy(load("order_paid_gb_10_items.json"))
    paid["processed_at"] = datetime.fromtimestamp(time.time() - 3600, UTC).isoformat()
    orders = tmp_path / "orders.json"
    orders.write_text(json.dumps({"orders": [paid]}))  # as the REST Admin API's orders.json answers
    port = free_port()
    proc = subprocess.Popen(console_script() + ["fake-shopify", "--port", str(port), "--orders", str(orders)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=clean_env())
    try:
        wait_until_listening(proc, port)
        env = clean_env(SHOPIFY_ADMIN_BASE_URL=f"http://127.0.0.1:{port}", SHOPIFY_ADMIN_ACCESS_TOKEN="shpat_fake_admin_token",
                        TIKTOK_PIXEL_ID=PIXEL, TIKTOK_ACCESS_TOKEN=fake_tiktok.access_token,
                        TIKTOK_API_BASE_URL=fake_tiktok.base_url)
        first = run(["reconcile", "shopify", "--shop", "tea-shop.myshopify.com", "--since", "24h", "--json",
                     "--ledger", str(tmp_path / "ledger.ndjson")], env=env)
        second = run(["reconcile", "shopify", "--shop", "tea-shop.myshopify.com", "--since", "24h", "--json",
                      "--ledger", str(tmp_path / "ledger.ndjson")], env=env)
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=10)
    assert first.returncode == 0 and second.returncode == 0, (first.stderr, second.stderr)
    assert json.loads(first.stdout)["sent"] == 1 and json.loads(second.stdout)["reconciled"] == 1
    assert fake_tiktok.accepted_ids() == ["shopify-order-5678901234567"]
    assert "serving 1 order(s) from --orders" in err.decode()


@pytest.mark.parametrize(("content", "message"), [
    ("[1, 2]", "must hold orders"), ("{", "is not JSON"), ('[{"name": "#1"}]', "order 0 has no id")])
def test_fake_shopify_refuses_an_orders_file_that_holds_no_orders(tmp_path, content, message):
    orders = tmp_path / "orders.json"
    orders.write_text(content)
    proc = run(["fake-shopify", "--port", str(free_port()), "--orders", str(orders)], env=clean_env())
    assert proc.returncode == 2 and message in proc.stderr.decode()
    missing = run(["fake-shopify", "--port", str(free_port()), "--orders", str(tmp_path / "none.json")], env=clean_env())
    assert missing.returncode == 2 and b"cannot read --orders" in missing.stderr
