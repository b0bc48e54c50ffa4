"""`tiktok-relay redrive --dead-letter PATH`, as users run it: the console script in a subprocess,
the fake TikTok over real HTTP, dead-letter files as replay and the sender write them."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import threading

import pytest

from tests.support import ROOT, clean_env, console_script
from tests.support.aws import HASHED_EMAIL, PIXEL_ID
from tests.support.dead_letters import OLD, SHOP, delivery, malformed, purchase, rejected, stale, undelivered
from tiktok_relay.local.files import append_locked, rewrite_dead_letters

# One record of each kind: 6 events, 3 of which go back by default.
RECORDS = [
    undelivered(delivery("wh-1", purchase("o-1"), purchase("o-2"))),  # failed its receives: goes back
    rejected(delivery("wh-3", purchase("o-3"))),  # refused for its data: stays (--include-rejected)
    stale(delivery("wh-4", purchase("o-4", OLD))),  # too old: stays (--force)
    undelivered(delivery("wh-5", purchase("o-5"), purchase("o-6", OLD))),  # o-5 goes back, o-6 stays
    malformed(),  # cannot be read: stays as it is
]


def dead_letter_file(tmp_path, records=RECORDS):
    path = tmp_path / "dead-letters.ndjson"
    path.write_text("".join(record + "\n" for record in records))
    return path


def redrive(fake, *args: str, env: dict | None = None, stderr=subprocess.PIPE, **kwargs) -> subprocess.CompletedProcess:
    environment = clean_env(TIKTOK_ACCESS_TOKEN=fake.access_token, TIKTOK_API_BASE_URL=fake.base_url, **(env or {}))
    return subprocess.run(console_script() + ["redrive", *args], env=environment, stdout=subprocess.PIPE,
                          stderr=stderr, text=True, timeout=120, **kwargs)


def records(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_a_file_is_redriven_and_then_holds_only_what_is_still_dead(fake_tiktok, tmp_path):
    path = dead_letter_file(tmp_path)

    done = redrive(fake_tiktok, "--dead-letter", str(path), "--json")

    assert done.returncode == 0, done.stderr
    assert sorted(fake_tiktok.accepted_ids()) == ["o-1", "o-2", "o-5"]
    report = json.loads(done.stdout)
    assert report == {"from": str(path), "to": f"the Events API at {fake_tiktok.base_url}", "dry_run": False,
                      "letters": 5, "events": 6, "redriven": 3, "stale": 2, "rejected": 1, "failed": 0,
                      "unreadable": 1, "requests_sent": 1, "problems": ["line 5 kept: it holds no readable events "
                                                                        "(malformed queue message: body is not JSON)"]}
    # What stays: the refused and the stale records as they were, the unreadable one, and in the
    # place of the mixed one a stale letter of o-6 naming where it came from.
    kept = path.read_text().splitlines()
    assert kept[0] == RECORDS[1] and kept[1] == RECORDS[2] and kept[3] == RECORDS[4] and len(kept) == 4
    rest = json.loads(kept[2])
    assert rest["reason"] == "stale" and [e["event_id"] for e in rest["request"]["data"]] == ["o-6"]
    assert (rest["webhook_id"], rest["shop"], rest["topic"]) == ("wh-5", SHOP, "orders/paid")
    # The events went out as they were stored: the record's pixel, the hashes unchanged.
    assert {body["event_source_id"] for body in fake_tiktok.accepted} == {PIXEL_ID}
    assert all(event["user"]["email"] == [HASHED_EMAIL] for event in fake_tiktok.events)


def test_force_sends_the_stale_and_include_rejected_the_refused(fake_tiktok, tmp_path):
    path = dead_letter_file(tmp_path)

    done = redrive(fake_tiktok, "--dead-letter", str(path), "--json", "--force", "--include-rejected")

    assert done.returncode == 0, done.stderr
    assert sorted(fake_tiktok.accepted_ids()) == ["o-1", "o-2", "o-3", "o-4", "o-5", "o-6"]
    report = json.loads(done.stdout)
    assert (report["redriven"], report["stale"], report["rejected"], report["unreadable"]) == (6, 0, 0, 1)
    assert path.read_text().splitlines() == [RECORDS[4]]  # only the unreadable record is left


def test_a_dry_run_sends_nothing_and_leaves_the_file_alone(fake_tiktok, tmp_path):
    path = dead_letter_file(tmp_path)
    before = path.read_bytes()

    done = redrive(fake_tiktok, "--dead-letter", str(path), "--dry-run")

    assert done.returncode == 0, done.stderr
    assert fake_tiktok.received == [] and path.read_bytes() == before
    assert done.stdout.startswith(f"dry run, nothing moved: would redrive 3 of 6 event(s) from {path}")
    assert "2 stale (event_time more than 48 h ago, TIKTOK_MAX_EVENT_AGE): kept" in done.stdout
    assert "--force sends them" in done.stdout and "--include-rejected sends them" in done.stdout


def test_an_event_refused_again_is_dead_lettered_anew_and_the_run_exits_1(fake_tiktok, tmp_path):
    path = dead_letter_file(tmp_path, [undelivered(delivery("wh-1", purchase("o-1"), purchase("o-2")))])
    fake_tiktok.reject_events({"o-1"}, message="Invalid value for value.")

    done = redrive(fake_tiktok, "--dead-letter", str(path), "--json")

    assert done.returncode == 1
    assert fake_tiktok.accepted_ids() == ["o-2"]
    report = json.loads(done.stdout)
    assert (report["redriven"], report["failed"]) == (1, 1)
    [problem] = report["problems"]
    assert problem.startswith("event o-1 of webhook wh-1 not redriven (rejected): 40002 ")
    assert "Invalid value for value." in problem and "[request_id " in problem
    [letter] = records(path)  # o-2 is gone; o-1 is refused now, with TikTok's new words
    assert letter["reason"] == "rejected by TikTok" and "Invalid value for value." in letter["message"]
    assert [e["event_id"] for e in letter["request"]["data"]] == ["o-1"] and letter["shop"] == SHOP


def test_when_tiktok_takes_nothing_every_record_stays_as_it_was(fake_tiktok, tmp_path):
    path = dead_letter_file(tmp_path, RECORDS[:1])
    fake_tiktok.fail_randomly(1.0, ["40001"])  # no permission: not retried by the client

    done = redrive(fake_tiktok, "--dead-letter", str(path))

    assert done.returncode == 1
    assert path.read_text() == RECORDS[0] + "\n"
    assert "2 failed (stderr says why): still dead" in done.stdout
    assert "event o-1 of webhook wh-1 not redriven (failed-retryable): 40001" in done.stderr


def test_test_events_are_redriven_whatever_their_age(fake_tiktok, tmp_path):
    """As the sender does: a test event counts in no report, so it cannot be counted twice."""
    path = dead_letter_file(tmp_path, [stale(delivery("wh-t", purchase("o-t", OLD), test_event_code="TEST1"))])
    done = redrive(fake_tiktok, "--dead-letter", str(path), "--json")
    assert done.returncode == 0 and fake_tiktok.accepted_ids() == ["o-t"]
    assert fake_tiktok.accepted[0]["test_event_code"] == "TEST1"


def test_a_dead_letter_file_replay_wrote_is_redriven(fake_tiktok, tmp_path):
    """From the file as replay writes it: an event TikTok refused and a record that kept failing."""
    env = clean_env(TIKTOK_ACCESS_TOKEN=fake_tiktok.access_token, TIKTOK_API_BASE_URL=fake_tiktok.base_url,
                    TIKTOK_PIXEL_ID="CREDRIVEPIXEL")
    path = tmp_path / "dead-letters.ndjson"
    fake_tiktok.reject_events({"shopify-order-5829310123456"})
    subprocess.run(console_script() + ["replay", "--live", "--max-receives", "1", "--dead-letter", str(path),
                                       str(ROOT / "events/shopify/orders_paid.json")], env=env, capture_output=True,
                   timeout=120)
    fake_tiktok.reset()
    fake_tiktok.fail_next("40001")
    subprocess.run(console_script() + ["replay", "--live", "--max-receives", "1", "--dead-letter", str(path),
                                       str(ROOT / "events/shopify/checkouts_create.json")], env=env,
                   capture_output=True, timeout=120)
    assert [letter["reason"].split(" (")[0] for letter in records(path)] == ["rejected by TikTok",
                                                                             "not delivered after 1 receives"]
    fake_tiktok.reset()
    # The samples date from 2026-11: older than 48 h, so a limit that keeps them fresh.
    done = redrive(fake_tiktok, "--dead-letter", str(path), "--include-rejected", "--json",
                   env={"TIKTOK_MAX_EVENT_AGE": "3650d"})

    assert done.returncode == 0, done.stderr
    assert sorted(fake_tiktok.accepted_ids()) == ["shopify-checkout-f3a9c2d1e0b4a5968778695a4b3c2d1e",
                                                  "shopify-order-5829310123456"]
    assert {body["event_source_id"] for body in fake_tiktok.accepted} == {"CREDRIVEPIXEL"}
    assert path.read_text() == ""


def test_a_terminal_gets_a_progress_bar_a_pipe_does_not(fake_tiktok, tmp_path):
    path = dead_letter_file(tmp_path)
    piped = redrive(fake_tiktok, "--dead-letter", str(path), "--dry-run")
    assert "\r" not in piped.stderr and "redrive [" not in piped.stderr

    leader, follower = pty.openpty()
    try:
        done = redrive(fake_tiktok, "--dead-letter", str(path), "--dry-run", stderr=follower)
        os.close(follower)
        follower = -1
        terminal = b""
        while chunk := _read(leader):
            terminal += chunk
    finally:
        for fd in (leader, follower):
            if fd >= 0:
                os.close(fd)
    assert done.returncode == 0
    assert f"\rredrive [{'#' * 30}] 5/5".encode() in terminal


def _read(fd: int) -> bytes:
    try:
        return os.read(fd, 4096)
    except OSError:  # the other end closed (Linux raises EIO)
        return b""


@pytest.mark.parametrize(("args", "message"), [
    (["--dead-letter", "nope.ndjson"], "--dead-letter nope.ndjson: no such file"),
    (["--dead-letter", "."], "is a directory"),
    ([], "one of the arguments --dead-letter --queue-url is required"),
])
def test_unusable_input_exits_2_naming_it(fake_tiktok, tmp_path, args, message):
    done = redrive(fake_tiktok, *args, cwd=tmp_path)
    assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr


def test_without_a_token_nothing_is_sent(fake_tiktok, tmp_path):
    path = dead_letter_file(tmp_path)
    done = subprocess.run(console_script() + ["redrive", "--dead-letter", str(path)], capture_output=True, text=True,
                          env=clean_env(TIKTOK_API_BASE_URL=fake_tiktok.base_url), timeout=120)
    assert done.returncode == 2 and "TIKTOK_ACCESS_TOKEN is not set" in done.stderr
    assert fake_tiktok.received == [] and path.read_text().splitlines() == RECORDS


def test_a_rewrite_keeps_what_was_appended_after_the_file_was_read(tmp_path):
    path = tmp_path / "dead-letters.ndjson"
    path.write_text("first\nsecond\n")
    read = path.stat().st_size
    append_locked(path, "appended meanwhile\n")  # serve dead-letters something while redrive posts

    rewrite_dead_letters(path, read, ["second"])

    assert path.read_text() == "second\nappended meanwhile\n"


def test_an_append_waiting_for_a_rewrite_lands_in_the_new_file(tmp_path):
    import fcntl

    path = tmp_path / "dead-letters.ndjson"
    path.write_text("old\n")
    with path.open("rb") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)  # what a rewrite holds while it replaces the file
        writer = threading.Thread(target=append_locked, args=(path, "appended\n"))
        writer.start()  # waits for the lock (or opens the new file, if it starts after the replace)
        replacement = tmp_path / "new"
        replacement.write_text("kept\n")
        os.replace(replacement, path)
    writer.join(timeout=30)
    assert not writer.is_alive()
    assert path.read_text() == "kept\nappended\n"
