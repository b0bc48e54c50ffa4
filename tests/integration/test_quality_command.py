"""`tiktok-relay quality` on inputs whose match keys are known: request bodies from `build`, an
indented body from `map`, `replay --json` output, and lines it must refuse."""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.support import FIXTURES, ROOT, clean_env, console_script

PIXEL = "CQUALITYPIXEL0000001"
T = 1_767_225_600


def run(*args: str, stdin: str = "", env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(console_script() + list(args), input=stdin, capture_output=True, text=True, timeout=120,
                          env=env or clean_env(TIKTOK_PIXEL_ID=PIXEL))


def built(tmp_path, name: str, users: list[dict]) -> str:
    """`build`'s request bodies for one Purchase per user, written to tmp_path/name."""
    lines = "".join(json.dumps({"event": "Purchase", "event_time": T, "event_id": f"o-{i}", "user": user}) + "\n"
                    for i, user in enumerate(users))
    done = run("build", stdin=lines)
    assert done.returncode == 0, done.stderr
    path = tmp_path / name
    path.write_text(done.stdout)
    return str(path)


# Five events: the keys of each are known, so every count is too.
USERS = [
    {"email": "ada@example.com", "phone": "+44 7400 900123", "external_id": "c-1"},
    {"email": "grace@example.com"},
    {"ttclid": "E.C.P.abc", "ip": "203.0.113.9", "user_agent": "Mozilla/5.0"},
    {"ttp": "94e2a4j9-1"},
    {},
]


def test_request_bodies_give_exact_counts_coverage_estimate_and_missing_keys(tmp_path):
    path = built(tmp_path, "bodies.ndjson", USERS)

    done = run("quality", "--json", path)

    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["files"] == 1 and report["events"] == 5
    assert report["match_keys"] == {"email": 2, "phone": 1, "external_id": 1, "ip": 1, "user_agent": 1,
                                    "ttclid": 1, "ttp": 1}
    assert report["coverage"] == {"email": 0.4, "phone": 0.2, "external_id": 0.2, "ip": 0.2, "user_agent": 0.2,
                                  "ttclid": 0.2, "ttp": 0.2}
    # (2*0.4 + 2*0.2 + 1.5*0.2 + 0.5*0.2 + 0.5*0.2 + 2*0.2 + 1.5*0.2) / 10 * 10 = 2.4
    assert report["estimated_match_quality"] == 2.4 and report["scale"] == 10
    assert report["weights"] == {"email": 2, "phone": 2, "external_id": 1.5, "ip": 0.5, "user_agent": 0.5,
                                 "ttclid": 2, "ttp": 1.5}
    # Four of five lack each key but email; among those the heavier weights first.
    assert [(m["key"], m["events"]) for m in report["missing"]] == [
        ("phone", 4), ("ttclid", 4), ("external_id", 4), ("ttp", 4), ("ip", 4), ("user_agent", 4), ("email", 3)]
    how = {m["key"]: m["how"] for m in report["missing"]}
    assert "tiktok-relay snippet shopify --kind theme" in how["ttclid"] and "snippet" in how["ttp"]
    assert "TIKTOK_PHONE_REGION" in how["phone"]


def test_the_human_report_says_the_score_is_an_estimate_and_what_would_help(tmp_path):
    done = run("quality", built(tmp_path, "bodies.ndjson", USERS))

    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert out.startswith("5 event(s) in 1 file(s)")
    assert "  email              2     40.0%" in out and "  ttp                1     20.0%" in out
    assert "estimated Event Match Quality: 2.4 of 10" in out
    flat = " ".join(out.split())
    assert "an estimate: TikTok computes its score as a weighted average of the match keys' coverages but does " \
           "not publish the weights" in flat
    assert "email, phone, ttclid 2; external_id, ttp 1.5; ip, user_agent 0.5" in flat
    assert "phone: missing from 4 of 5 event(s)" in out and "tiktok-relay snippet shopify --kind theme" in flat


def test_replay_json_output_counts_each_files_request_and_skips_the_summary(tmp_path):
    names = ["events/shopify/orders_paid.json", "events/shopify/checkouts_create.json",
             "events/shopify/carts_create.json", "events/shopify/refunds_create.json"]  # a refund sends nothing
    replayed = subprocess.run(console_script() + ["replay", "--json", "--dead-letter", str(tmp_path / "dl.ndjson"),
                                                  *names], cwd=ROOT, capture_output=True, text=True, timeout=120,
                              env=clean_env())
    assert replayed.returncode == 0, replayed.stderr
    path = tmp_path / "replay.ndjson"
    path.write_text(replayed.stdout)

    report = json.loads(run("quality", "--json", str(path)).stdout)

    assert report["events"] == 3  # the order, the checkout and the cart; the refund's request is null
    assert report["match_keys"] == {"email": 2, "phone": 2, "external_id": 2, "ip": 1, "user_agent": 1,
                                    "ttclid": 2, "ttp": 2}
    # Everything was delivered here, so replay's own summary agrees, key for key.
    summary = json.loads(replayed.stdout.splitlines()[-1])["summary"]
    assert summary["match_keys"] == report["match_keys"]


def test_several_files_and_an_indented_body_from_map_add_up(tmp_path):
    # An anonymized real order: its phones are placeholders (dropped), its IP masked; it keeps
    # an email, the customer id and the user agent.
    mapped = subprocess.run(console_script() + ["map", "--platform", "shopify", "--topic", "orders/paid",
                                                str(FIXTURES / "shopify" / "shopify_orders_anonymized_exemplar.json")],
                            capture_output=True, text=True, timeout=120, env=clean_env(TIKTOK_PIXEL_ID=PIXEL))
    assert mapped.returncode == 0, mapped.stderr
    assert "\n  " in mapped.stdout  # indented: one document over many lines
    order = tmp_path / "order.json"
    order.write_text(mapped.stdout)

    report = json.loads(run("quality", "--json", str(order), built(tmp_path, "b.ndjson", USERS)).stdout)

    assert report["files"] == 2 and report["events"] == 6
    assert report["match_keys"] == {"email": 3, "phone": 1, "external_id": 2, "ip": 1, "user_agent": 2,
                                    "ttclid": 1, "ttp": 1}


def test_stdin_is_read_with_a_dash(tmp_path):
    body = json.dumps({"event_source": "web", "event_source_id": PIXEL,
                       "data": [{"event": "Purchase", "event_time": T, "user": {"ip": "203.0.113.9"}}]})
    report = json.loads(run("quality", "--json", "-", stdin=body + "\n").stdout)
    assert report["events"] == 1 and report["match_keys"]["ip"] == 1 and report["estimated_match_quality"] == 0.5


@pytest.mark.parametrize(("content", "expected"), [
    ("not json\n", [":1: not JSON"]),
    ('{"event_source": "web"}\n[1, 2]\n',
     [":1: neither a request body (with data[]) nor a line of replay --json", ":2: not a JSON object"]),
    ('{"data": [{"event": "Purchase"}, 7]}\n{"data": []}\n', [":1: data[1] is not an event object"]),
])
def test_unusable_lines_are_each_named_and_nothing_is_reported(tmp_path, content, expected):
    path = tmp_path / "in.ndjson"
    path.write_text(content)
    done = run("quality", str(path))
    assert done.returncode == 2 and done.stdout == ""
    named = [line for line in done.stderr.splitlines() if line.startswith(str(path))]
    assert named == [f"{path}{problem}" for problem in expected]
    assert f"{len(expected)} unusable line(s); nothing was reported" in done.stderr


def test_no_events_or_no_file_is_an_input_error(tmp_path):
    empty = tmp_path / "empty.ndjson"
    empty.write_text('{"file": "x.json", "status": 200, "body": {}, "request": null}\n')
    done = run("quality", str(empty))
    assert done.returncode == 2 and "no events in" in done.stderr
    missing = run("quality", str(tmp_path / "nope.ndjson"))
    assert missing.returncode == 2 and "cannot read" in missing.stderr and "Traceback" not in missing.stderr
