"""`tiktok-relay replay` as users run it: the console script in a subprocess, the events/
files, the embedded fake TikTok or (with --live) a fake we control, and the relied-upon --json
shapes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import ROOT
from tiktok_relay.tiktok.matching import MATCH_KEYS

SHOPIFY_EVENTS = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "events" / "shopify").glob("*.json"))
RAW_PII = ("ada.lovelace@example.com", "07400 900123", "+447400900456", "Lovelace", "SW1A 1AA", "Analytical Row",
           "grace.hopper@example.com")


def replay(*args: str, env: dict | None = None, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("TIKTOK_", "SHOPIFY_"))}
    return subprocess.run([sys.executable, "-m", "tiktok_relay", "replay", *args], cwd=cwd,
                          env={**clean, **(env or {})}, capture_output=True, text=True, timeout=120)


def lines(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines()]


def test_json_output_shape_and_summary(tmp_path):
    result = replay("--json", "--dead-letter", str(tmp_path / "dl.ndjson"), *SHOPIFY_EVENTS)

    assert result.returncode == 0, result.stderr
    rows = lines(result.stdout)  # stdout holds only JSON lines
    *files, summary = rows
    assert [row["file"] for row in files] == SHOPIFY_EVENTS
    assert all(set(row) == {"file", "status", "body", "request"} for row in files)
    by_name = {Path(row["file"]).name: row for row in files}
    assert by_name["orders_paid.json"]["status"] == 202
    assert by_name["orders_paid.json"]["request"]["data"][0]["event"] == "Purchase"
    assert by_name["orders_paid_redelivered.json"]["body"]["status"] == "duplicate"
    assert by_name["orders_paid_redelivered.json"]["request"] is None
    assert by_name["negative_bad_signature.json"]["status"] == 401
    assert by_name["negative_malformed_body.json"]["status"] == 400
    assert by_name["refunds_create.json"] == {**by_name["refunds_create.json"], "status": 200, "request": None}
    queued = [row for row in files if row["request"]]
    events = sum(len(row["request"]["data"]) for row in queued)
    # The samples' 7 events: 2 AddToCart (carts carry no customer), 2 InitiateCheckout and 2
    # CompleteRegistration (no IP or user agent), 1 Purchase with every key.
    assert summary == {"summary": {"webhooks": len(files), "events": events, "requests_sent": 1,
                                   "delivered": events, "dead_lettered": 0,
                                   "match_keys": {"email": 5, "phone": 5, "external_id": 5, "ip": 1,
                                                  "user_agent": 1, "ttclid": 3, "ttp": 3}}}
    assert events == 7
    assert not (tmp_path / "dl.ndjson").exists()
    for raw in RAW_PII:
        assert raw not in result.stdout and raw not in result.stderr


def test_match_keys_count_the_delivered_events_carrying_each_key(fake_tiktok, tmp_path):
    env = {"TIKTOK_ACCESS_TOKEN": fake_tiktok.access_token, "TIKTOK_API_BASE_URL": fake_tiktok.base_url,
           "TIKTOK_PIXEL_ID": "CREPLAYPIXEL"}
    result = replay("--json", "--live", "--dead-letter", str(tmp_path / "dl.ndjson"), "events/shopify/orders_paid.json",
                    "events/shopify/checkouts_create.json", "events/shopify/customers_create.json", env=env)

    assert result.returncode == 0, result.stderr
    *_, summary = lines(result.stdout)
    # The order has every key; the checkout no ip or user agent; the new customer no ip,
    # user agent, ttclid or ttp.
    assert summary["summary"]["match_keys"] == {"email": 3, "phone": 3, "external_id": 3, "ip": 1, "user_agent": 1,
                                                "ttclid": 2, "ttp": 2}
    # The existing keys come first, unchanged (relied upon).
    assert list(summary["summary"]) == ["webhooks", "events", "requests_sent", "delivered", "dead_lettered",
                                        "match_keys"]
    sent = [event["user"] for body in fake_tiktok.accepted for event in body["data"]]
    assert sum("ttclid" in user for user in sent) == 2 and sum("ip" in user for user in sent) == 1


def test_human_output_shows_what_was_sent():
    result = replay("events/shopify/orders_paid.json")
    assert result.returncode == 0, result.stderr
    assert "202" in result.stdout and '"event":"Purchase"' in result.stdout
    assert "embedded fake TikTok" in result.stdout and "delivered 1" in result.stdout
    assert "match keys of the delivered events: email 1, phone 1, external_id 1, ip 1, user_agent 1, ttclid 1, " \
           "ttp 1" in result.stdout


def test_dry_run_sends_nothing():
    result = replay("--json", "--dry-run", "events/shopify/orders_paid.json", "events/shopify/carts_create.json")
    assert result.returncode == 0
    *_, summary = lines(result.stdout)
    assert summary["summary"] == {"webhooks": 2, "events": 2, "requests_sent": 0, "delivered": 0, "dead_lettered": 0,
                                  "match_keys": dict.fromkeys(MATCH_KEYS, 0)}  # nothing sent, nothing counted


def test_batch_size_controls_how_the_sender_takes_the_queue(fake_tiktok):
    env = {"TIKTOK_ACCESS_TOKEN": fake_tiktok.access_token, "TIKTOK_API_BASE_URL": fake_tiktok.base_url,
           "TIKTOK_PIXEL_ID": "CREPLAYPIXEL"}
    names = ["events/shopify/orders_paid.json", "events/shopify/carts_create.json",
             "events/shopify/checkouts_create.json", "events/shopify/customers_create.json"]
    result = replay("--json", "--live", "--batch-size", "3", *names, env=env)
    assert result.returncode == 0, result.stderr
    assert [len(body["data"]) for body in fake_tiktok.accepted] == [3, 1]
    assert {body["event_source_id"] for body in fake_tiktok.accepted} == {"CREPLAYPIXEL"}


def test_rejected_event_is_dead_lettered_with_tiktoks_message_and_exit_1(fake_tiktok, tmp_path):
    fake_tiktok.reject_events({"shopify-order-5829310123456"}, message="Invalid value for currency.")
    env = {"TIKTOK_ACCESS_TOKEN": fake_tiktok.access_token, "TIKTOK_API_BASE_URL": fake_tiktok.base_url,
           "TIKTOK_PIXEL_ID": "CREPLAYPIXEL"}
    dead = tmp_path / "dead.ndjson"

    result = replay("--json", "--live", "--dead-letter", str(dead), "events/shopify/orders_paid.json",
                    "events/shopify/carts_create.json", env=env)

    assert result.returncode == 1
    *_, summary = lines(result.stdout)
    assert summary["summary"]["dead_lettered"] == 1 and summary["summary"]["delivered"] == 1
    # Only the delivered cart is counted, and a cart carries no match key: the refused order's keys are not.
    assert summary["summary"]["match_keys"] == dict.fromkeys(MATCH_KEYS, 0)
    [letter] = [json.loads(line) for line in dead.read_text().splitlines()]
    assert letter["code"] == 40002 and "Invalid value for currency." in letter["message"]
    assert letter["request"]["data"][0]["event_id"] == "shopify-order-5829310123456"
    assert "ada.lovelace@example.com" not in dead.read_text()


def test_record_failing_every_time_is_dead_lettered_after_max_receives(fake_tiktok, tmp_path):
    fake_tiktok.fail_randomly(1.0, ["40001"])  # refused account: retried by SQS, not "bad data"
    env = {"TIKTOK_ACCESS_TOKEN": fake_tiktok.access_token, "TIKTOK_API_BASE_URL": fake_tiktok.base_url,
           "TIKTOK_PIXEL_ID": "CREPLAYPIXEL"}
    dead = tmp_path / "dead.ndjson"

    result = replay("--json", "--live", "--max-receives", "3", "--dead-letter", str(dead),
                    "events/shopify/orders_paid.json", env=env)

    assert result.returncode == 1
    assert len(fake_tiktok.received) == 3  # one request per receive, none retried by the client
    [letter] = [json.loads(line) for line in dead.read_text().splitlines()]
    assert letter["receive_count"] == 3 and "after 3 receives" in letter["reason"]
    assert json.loads(letter["body"])["request"]["data"][0]["event_id"] == "shopify-order-5829310123456"


def test_webhook_secret_from_the_environment_replaces_the_local_one():
    result = replay("--json", "events/shopify/orders_paid.json", env={"SHOPIFY_WEBHOOK_SECRET": "another-secret"})
    [row, _] = lines(result.stdout)
    assert row["status"] == 401


@pytest.mark.parametrize(("content", "message"), [
    ("{not json", "not a JSON file"),
    ('{"id": 1, "email": "x@example.com"}', "tiktok-relay map"),
])
def test_unusable_files_exit_2_naming_the_file(tmp_path, content, message):
    path = tmp_path / "event.json"
    path.write_text(content)
    result = replay(str(path))
    assert result.returncode == 2
    assert str(path) in result.stderr and message in result.stderr
    assert result.stdout == ""


def test_live_needs_a_pixel_id_and_the_hint_names_no_flag_replay_lacks():
    result = replay("--live", "events/shopify/orders_paid.json", env={"TIKTOK_ACCESS_TOKEN": "x"})
    assert result.returncode == 2 and result.stdout == ""
    assert "TIKTOK_PIXEL_ID is not set" in result.stderr
    assert "--pixel-id" not in result.stderr


def test_runs_from_another_directory_of_the_checkout(tmp_path):
    result = replay("--json", "--dry-run", str(ROOT / "events/shopify/orders_paid.json"), cwd=ROOT / "events")
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("value", [" , ,", "", "   "])
def test_a_webhook_secret_that_holds_none_is_an_error_not_the_public_secret(value):
    result = replay("events/shopify/orders_paid.json", env={"SHOPIFY_WEBHOOK_SECRET": value})
    assert result.returncode == 2
    assert "SHOPIFY_WEBHOOK_SECRET is set but holds no secret" in result.stderr and result.stdout == ""


# --- safe by default: nothing reaches an Events API without --live ---------------------------------------------


def trap_env(fake_tiktok, **extra) -> dict[str, str]:
    """What a user of pytt-events-api has exported, pointed at a fake we watch instead of TikTok."""
    return {"TIKTOK_ACCESS_TOKEN": fake_tiktok.access_token, "TIKTOK_API_BASE_URL": fake_tiktok.base_url,
            "TIKTOK_PIXEL_ID": "CREALPIXEL", **extra}


def test_a_token_in_the_environment_is_not_used_without_live(fake_tiktok):
    result = replay("--json", *SHOPIFY_EVENTS, env=trap_env(fake_tiktok))
    assert result.returncode == 0, result.stderr
    assert fake_tiktok.received == []  # the configured API saw nothing
    *_, summary = lines(result.stdout)
    assert summary["summary"]["delivered"] == summary["summary"]["events"] > 0  # the embedded fake took them
    assert "TIKTOK_ACCESS_TOKEN and TIKTOK_API_BASE_URL are set, but nothing goes to TikTok without --live" \
        in result.stderr


def test_live_sends_to_the_configured_api_and_the_summary_names_it(fake_tiktok):
    result = replay("--live", "events/shopify/orders_paid.json", env=trap_env(fake_tiktok))
    assert result.returncode == 0, result.stderr
    assert fake_tiktok.accepted_ids() == ["shopify-order-5829310123456"]
    assert f"sent to the Events API at {fake_tiktok.base_url}: " in result.stdout
    assert "sent to TikTok" not in result.stdout  # only when it was TikTok


def test_live_without_a_token_names_the_variable():
    result = replay("--live", "events/shopify/orders_paid.json", env={"TIKTOK_PIXEL_ID": "CPIXEL"})
    assert result.returncode == 2 and result.stdout == ""
    assert "TIKTOK_ACCESS_TOKEN is not set; --live posts to the Events API with it" in result.stderr


def test_live_and_dry_run_exclude_each_other():
    result = replay("--live", "--dry-run", "events/shopify/orders_paid.json")
    assert result.returncode == 2 and "not allowed with argument" in result.stderr


def test_the_summary_says_sent_only_when_something_was():
    dry = replay("--dry-run", "events/shopify/orders_paid.json")
    assert "dry run, nothing sent: webhooks 1" in dry.stdout and "sent to" not in dry.stdout
    nothing = replay("events/shopify/orders_paid_test_order.json")  # ignored: nothing to send
    assert "nothing was sent to the embedded fake TikTok" in nothing.stdout


def test_the_summary_does_not_say_sent_when_nothing_got_through(fake_tiktok, tmp_path):
    fake_tiktok.fail_randomly(1.0, ["40001"])  # refused every time (not retried by the client: no backoff)
    result = replay("--live", "--max-receives", "1", "--dead-letter", str(tmp_path / "dl.ndjson"),
                    "events/shopify/orders_paid.json", env=trap_env(fake_tiktok))
    assert result.returncode == 1
    assert f"nothing was delivered to the Events API at {fake_tiktok.base_url}: " in result.stdout
    assert "sent to" not in result.stdout


def test_no_metric_json_on_stderr():
    result = replay(*SHOPIFY_EVENTS)
    assert result.returncode == 0, result.stderr
    assert '"_aws"' not in result.stderr and "CloudWatchMetrics" not in result.stderr


# --- checked before anything is sent ---------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["missing-dir/dead.ndjson", "."])
def test_an_unusable_dead_letter_path_is_refused_before_sending(fake_tiktok, tmp_path, where):
    path = str(tmp_path / where)
    result = replay("--live", "--dead-letter", path, "events/shopify/orders_paid.json", env=trap_env(fake_tiktok))
    assert result.returncode == 2 and result.stdout == ""
    assert f"--dead-letter {path}" in result.stderr.replace(str(tmp_path) + "/.", str(tmp_path))
    assert "Traceback" not in result.stderr
    assert fake_tiktok.received == []


@pytest.mark.parametrize("live", [True, False])
def test_a_pixel_id_that_is_not_letters_and_digits_is_refused_before_sending(fake_tiktok, live):
    args = ["--live"] if live else []
    result = replay(*args, "events/shopify/orders_paid.json", env=trap_env(fake_tiktok, TIKTOK_PIXEL_ID="C123 456"))
    assert result.returncode == 2 and result.stdout == ""
    assert "TIKTOK_PIXEL_ID must be a pixel code: letters and digits only" in result.stderr
    assert "C123 456" not in result.stderr
    assert fake_tiktok.received == []


def test_a_bad_phone_region_names_the_variable():
    result = replay("events/shopify/orders_paid.json", env={"TIKTOK_PHONE_REGION": "USA"})
    assert result.returncode == 2
    assert "TIKTOK_PHONE_REGION must be an ISO 3166-1 alpha-2 region code such as US" in result.stderr


# --- every delivery refused with 401: say why -------------------------------------------------------------------


def test_all_refused_with_401_under_another_secret_says_to_unset_it():
    result = replay("events/shopify/orders_paid.json", "events/shopify/carts_create.json",
                    env={"SHOPIFY_WEBHOOK_SECRET": "another-secret"})
    assert result.returncode == 0  # exit statuses are relied upon: nothing was dead-lettered
    assert "every delivery was refused with 401" in result.stdout
    assert "unset SHOPIFY_WEBHOOK_SECRET to replay them" in result.stdout and "tiktok-relay sign" in result.stdout
    assert "another-secret" not in result.stdout + result.stderr


def test_all_refused_with_401_in_json_mode_keeps_stdout_and_says_why_on_stderr():
    result = replay("--json", "events/shopify/orders_paid.json", env={"SHOPIFY_WEBHOOK_SECRET": "another-secret"})
    [row, summary] = lines(result.stdout)
    assert row["status"] == 401 and set(summary) == {"summary"}
    assert "every delivery was refused with 401" in result.stderr


def test_one_refused_sample_among_others_gets_no_such_hint():
    result = replay(*SHOPIFY_EVENTS)
    assert "every delivery was refused" not in result.stdout + result.stderr
