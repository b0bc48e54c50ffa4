"""The client against what TikTok really does, over real HTTP to the fake: a 20001 in every
layout (readable ones settle per event, unreadable ones are retried once and then never counted
delivered), requests split by size and on HTTP 413, and event ids for events without one, so
that a retry after a lost reply reaches TikTok once."""

from __future__ import annotations

import json

import pytest
import urllib3

from tiktok_relay.testing.fake_tiktok import READABLE_LAYOUTS, UNREADABLE_LAYOUTS, FakeTikTok
from tiktok_relay.tiktok import client as client_module
from tiktok_relay.tiktok.client import MAX_REQUEST_BYTES, RetryPolicy, Status, TikTokClient, with_event_id
from tiktok_relay.tiktok.models import Event
from tiktok_relay.tiktok.partial import read_failures

T = 1_700_000_000
PIXEL = "CPIXEL0000000000TEST"
SHORT = urllib3.Timeout(connect=1, read=10)  # no fault here stalls: only a loaded machine is slow


class Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps():
    return Sleeps()


@pytest.fixture
def pool():
    manager = urllib3.PoolManager(num_pools=2, maxsize=4, retries=False)
    yield manager
    manager.clear()


def make_client(fake: FakeTikTok, pool, sleeps) -> TikTokClient:
    return TikTokClient(fake.access_token, base_url=fake.base_url, timeout=SHORT, pool=pool, sleep=sleeps,
                        retry=RetryPolicy(base_delay=0.001))


@pytest.fixture
def client(fake_tiktok, pool, sleeps):
    return make_client(fake_tiktok, pool, sleeps)


def events(count: int, *, ids: bool = True, note_bytes: int = 0) -> list[Event]:
    return [Event(event="Purchase", event_time=T + i, event_id=f"e{i}" if ids else None,
                  properties={"value": i, "currency": "USD", **({"note": "x" * note_bytes} if note_bytes else {})})
            for i in range(count)]


# --- 20001 ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("layout", READABLE_LAYOUTS)
def test_a_20001_in_each_readable_layout_settles_each_event(client, fake_tiktok, layout):
    fake_tiktok.reject_events({"e1", "e3"}, partial=True, layout=layout, message="Batch item rejected")
    result = client.send_events(events(5), event_source_id=PIXEL)
    statuses = {o.event_id: o.status for o in result.outcomes}
    assert statuses == {"e0": Status.DELIVERED, "e1": Status.REJECTED, "e2": Status.DELIVERED,
                        "e3": Status.REJECTED, "e4": Status.DELIVERED}
    rejected = [o for o in result.outcomes if o.status is Status.REJECTED]
    assert all(o.is_data_error for o in rejected)
    if layout != "indexes":  # plain indexes carry no code or message
        assert all(o.code == 40002 and "Batch item rejected" in o.message for o in rejected)
    assert result.requests_sent == 1


@pytest.mark.parametrize("layout", UNREADABLE_LAYOUTS)
def test_an_unreadable_20001_is_retried_once_then_nothing_counts_as_delivered(client, fake_tiktok, layout):
    fake_tiktok.reject_events({"e1"}, partial=True, layout=layout)
    result = client.send_events(events(3), event_source_id=PIXEL)
    assert result.requests_sent == 2  # the whole request once more (its ids make that safe)
    assert [o.status for o in result.outcomes] == [Status.FAILED_RETRYABLE] * 3
    assert all(o.code == 20001 and "not counted as delivered" in o.message for o in result.outcomes)
    assert not result.ok and not any(o.is_data_error for o in result.outcomes)  # so they go back to the queue
    # What TikTok took twice it counts once: the same event ids.
    assert [e["event_id"] for e in fake_tiktok.counted_events] == ["e0", "e2"]


def test_an_unreadable_20001_then_a_readable_one_settles_by_the_second(client, fake_tiktok):
    fake_tiktok.reject_events({"e1"}, partial=True, layout=["garbled", "keyed"])
    result = client.send_events(events(3), event_source_id=PIXEL)
    assert result.requests_sent == 2
    assert [o.status for o in result.outcomes] == [Status.DELIVERED, Status.REJECTED, Status.DELIVERED]


def test_a_per_event_code_that_is_retryable_is_failed_retryable_not_rejected(client, fake_tiktok):
    fake_tiktok.reject_events({"e0"}, partial=True, code=50002, layout="event_id")
    result = client.send_events(events(2), event_source_id=PIXEL)
    assert [o.status for o in result.outcomes] == [Status.FAILED_RETRYABLE, Status.DELIVERED]


@pytest.mark.parametrize(("data", "ids", "expected"), [
    ([{"index": 1, "code": 40002, "message": "bad"}], ["a", "b"], {1: (40002, "bad")}),
    ({"failed_events": [{"event_index": "0"}]}, ["a", "b"], {0: (None, "rejected")}),
    ({"failed_events": [{"index": ["0", 1], "msg": "both"}]}, ["a", "b"], {0: (None, "both"), 1: (None, "both")}),
    ({"failed_indexes": [1], "success_count": 1, "succeeded": [0]}, ["a", "b"], {1: (None, "rejected")}),
    ({"errors": [{"eventId": "b", "error_code": 40002}]}, ["a", "b"], {1: (40002, "rejected")}),
    ({"b": {"code": 40002, "reason": "no"}}, ["a", "b"], {1: (40002, "no")}),
    ({"result": {"failures": ["b"]}}, ["a", "b"], {1: (None, "rejected")}),
    ({"index": 0, "code": 40000}, ["a"], {0: (40000, "rejected")}),
    # unreadable: nothing named, something that cannot be placed, or nested too deep
    ({}, ["a"], None), (None, ["a"], None), ("partial", ["a"], None), ([], ["a"], None),
    ([{"index": 5}], ["a", "b"], None), ([{"index": -1}], ["a"], None), ([{"index": True}], ["a"], None),
    ([{"event_id": "zz"}], ["a"], None), ([{"code": 40002}], ["a"], None), (["nonsense"], ["a"], None),
    ({"x": {"y": {"failed_events": [{"index": 0}]}}}, ["a"], None), ({"failed_events": [[0]]}, ["a"], None),
])
def test_the_reader_takes_every_plausible_layout_and_gives_up_on_the_rest(data, ids, expected):
    assert read_failures(data, ids) == expected


# --- size -------------------------------------------------------------------------------------------------------


def test_requests_are_split_by_bytes_as_well_as_by_count(client, fake_tiktok):
    batch = events(300, note_bytes=10_000)  # ~3 MB in all
    result = client.send_events(batch, event_source_id=PIXEL)
    assert result.ok and len(fake_tiktok.counted_events) == 300
    sizes = [len(json.dumps(r.body, separators=(",", ":")).encode()) for r in fake_tiktok.received]
    assert len(sizes) >= 3 and max(sizes) <= MAX_REQUEST_BYTES
    assert sum(len(r.body["data"]) for r in fake_tiktok.received) == 300


def test_an_event_larger_than_the_cap_goes_alone(client, fake_tiktok, monkeypatch):
    monkeypatch.setattr(client_module, "MAX_REQUEST_BYTES", 2_000)
    result = client.send_events([*events(3), *events(1, note_bytes=5_000)], event_source_id=PIXEL)
    assert result.ok
    assert [len(r.body["data"]) for r in fake_tiktok.received][-1] == 1


def test_an_http_413_splits_the_request_until_it_fits(fake_tiktok, pool, sleeps):
    with FakeTikTok(max_body_bytes=60_000) as fake:
        result = make_client(fake, pool, sleeps).send_events(events(40, note_bytes=5_000), event_source_id=PIXEL)
        assert result.ok and len(fake.counted_events) == 40
        assert [r.http_status for r in fake.received][0] == 413
        assert sleeps == []  # a split, not a retry


def test_a_single_event_tiktok_finds_too_large_is_rejected_as_a_data_error(fake_tiktok, pool, sleeps):
    with FakeTikTok(max_body_bytes=3_000) as fake:
        result = make_client(fake, pool, sleeps).send_events([*events(2), *events(1, note_bytes=5_000)],
                                                             event_source_id=PIXEL)
        assert [o.status for o in result.outcomes] == [Status.DELIVERED, Status.DELIVERED, Status.REJECTED]
        big = result.outcomes[2]
        assert big.is_data_error and "413" in big.message


# --- event ids -----------------------------------------------------------------------------------------------


def test_an_event_without_an_id_gets_one_from_its_content_and_the_same_one_every_time():
    body = b'{"event":"Purchase","event_time":1700000000}'
    first, sent = with_event_id(None, body)
    assert first.startswith("auto-") and len(first) == 37
    assert json.loads(sent) == {"event_id": first, "event": "Purchase", "event_time": 1700000000}
    assert with_event_id(None, body)[0] == first  # deterministic: a re-run of `send` is deduplicated too
    assert with_event_id(None, body.replace(b"1700000000", b"1700000001"))[0] != first
    assert with_event_id("order-1", body) == ("order-1", body)


def test_a_retry_after_a_lost_reply_reaches_tiktok_once(client, fake_tiktok, sleeps):
    fake_tiktok.fail_next("lost_reply")
    result = client.send_events(events(3, ids=False), event_source_id=PIXEL)
    assert result.ok and result.requests_sent == 2 and len(sleeps) == 1
    assert len(fake_tiktok.events) == 6  # TikTok took the request twice...
    assert len(fake_tiktok.counted_events) == 3  # ...and counts each event once: same ids both times
    sent_ids = [e["event_id"] for e in fake_tiktok.counted_events]
    assert sent_ids == [o.event_id for o in result.outcomes] and all(i.startswith("auto-") for i in sent_ids)


def test_ids_assigned_before_a_split_are_kept_by_both_halves(client, fake_tiktok):
    fake_tiktok.fail_next("40002")
    result = client.send_events(events(4, ids=False), event_source_id=PIXEL)
    assert result.ok
    assert sorted(e["event_id"] for e in fake_tiktok.events) == sorted(o.event_id for o in result.outcomes)


def test_without_ids_a_lost_reply_would_have_counted_twice():
    """What the ids prevent: the fake counts events without an id every time (TikTok cannot
    deduplicate them), so this is the double count a lost reply used to cause."""
    with FakeTikTok() as fake:
        for _ in range(2):
            urllib3.request("POST", f"{fake.base_url}/v1.3/event/track/", headers={"Access-Token": fake.access_token},
                            body=json.dumps({"event_source": "web", "event_source_id": PIXEL,
                                             "data": [{"event": "Purchase", "event_time": T}]}))
        assert len(fake.counted_events) == 2
