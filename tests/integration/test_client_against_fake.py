"""TikTokClient against the fake TikTok over real HTTP on 127.0.0.1.

Nothing is mocked: the client's urllib3 pool talks to the fake's HTTP server. Sleeps are
recorded instead of slept, so backoff is asserted on the delays the client asked for, and
no assertion depends on how long anything took.
"""

from __future__ import annotations

import collections
import random
import time

import pytest
import urllib3

from tiktok_relay.testing.fake_tiktok import FakeTikTok
from tiktok_relay.tiktok.client import RetryPolicy, SendResult, Status, TikTokClient
from tiktok_relay.tiktok.models import Envelope, Event, TrackRequest
from tiktok_relay.tiktok.ndjson import encode_lines

T = 1_700_000_000
PIXEL = "CPIXEL0000000000TEST"
BASE_DELAY = 0.001
# A "timeout" fault must outlast the read timeout, and an ordinary answer on a loaded machine must
# not: 0.35 s answers were seen under CI load, so 1 s to read and a 3 s stall keep both sides clear.
SHORT = urllib3.Timeout(connect=1, read=1.0)
STALL_SECONDS = 3.0


class Sleeps(list):
    """A `sleep=` that records the delays instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


class UpperBound(random.Random):
    """Jitter that always draws the top of its range: delays become the exponential envelope."""

    def uniform(self, a, b):
        return b


@pytest.fixture
def fake_tiktok():
    """The plugin's fake, stalling longer than SHORT reads on a "timeout" fault."""
    with FakeTikTok(stall_seconds=STALL_SECONDS) as fake:
        yield fake


@pytest.fixture
def pool():
    manager = urllib3.PoolManager(num_pools=2, maxsize=4, retries=False)
    yield manager
    manager.clear()


@pytest.fixture
def sleeps():
    return Sleeps()


@pytest.fixture
def make_client(fake_tiktok, pool, sleeps):
    def make(token: str | None = None, **kwargs) -> TikTokClient:
        options = {"base_url": fake_tiktok.base_url, "timeout": SHORT, "retry": RetryPolicy(base_delay=BASE_DELAY),
                   "pool": pool, "sleep": sleeps, **kwargs}
        return TikTokClient(token or fake_tiktok.access_token, **options)

    return make


@pytest.fixture
def client(make_client):
    return make_client()


@pytest.fixture
def roomy_client(make_client):
    """For requests of up to 1000 events, which tests no timeout with: the fake checks every
    event of a request before answering, which can take longer than SHORT's 1 s on a busy machine."""
    return make_client(timeout=urllib3.Timeout(connect=1, read=10))


def events(count: int, prefix: str = "e") -> list[Event]:
    return [
        Event(event="Purchase", event_time=T + i, event_id=f"{prefix}{i}",
              user={"email": f"shopper{i}@example.com", "ip": "203.0.113.9"},
              properties={"value": i % 50, "currency": "USD", "contents": [{"content_id": i, "price": 1.5, "quantity": 1}]})
        for i in range(count)
    ]


def ids(evts) -> list[str]:
    return [e.event_id for e in evts]


def sent_sizes(fake) -> list[int]:
    return [len(r.body["data"]) for r in fake.received if r.body]


# --- the happy path -------------------------------------------------------------------------------------


def test_one_event_is_delivered_with_request_id(client, fake_tiktok, sleeps):
    result = client.send_events(events(1), event_source_id=PIXEL)
    assert result.ok
    assert result.requests_sent == 1
    [outcome] = result.outcomes
    assert outcome.status is Status.DELIVERED and outcome.code == 0 and outcome.event_id == "e0"
    assert outcome.request_id and outcome.request_id == fake_tiktok.received[0].request_id
    assert result.request_ids == [fake_tiktok.received[0].request_id]
    assert sleeps == []
    [body] = fake_tiktok.accepted
    assert body["event_source"] == "web" and body["event_source_id"] == PIXEL
    assert body["data"][0]["user"]["email"][0] != "shopper0@example.com"  # hashed (the fake refuses raw PII anyway)


def test_access_token_header_is_what_the_fake_checks(make_client, fake_tiktok):
    good = make_client().send_events(events(1), event_source_id=PIXEL)
    assert good.ok
    bad = make_client("not-the-right-token").send_events(events(1), event_source_id=PIXEL)
    assert [o.code for o in bad.outcomes] == [40105]
    assert [r.code for r in fake_tiktok.received] == [0, 40105]


def test_empty_access_token_header_gets_40104_and_no_retry(make_client, fake_tiktok, sleeps):
    # A blank header value arrives empty; TikTok answers 40104 "empty access token". Not the
    # events' fault: failed (deliverable once the token is fixed), not rejected.
    result = make_client(" ").send_events(events(2), event_source_id=PIXEL)
    assert [(o.status, o.code) for o in result.outcomes] == [(Status.FAILED_RETRYABLE, 40104)] * 2
    assert result.requests_sent == 1 and len(fake_tiktok.received) == 1 and sleeps == []


def test_test_event_code_and_event_source_go_in_the_envelope(client, fake_tiktok):
    result = client.send_events(events(2), event_source="offline", event_source_id="ESET1", test_event_code="TEST42")
    assert result.ok
    [body] = fake_tiktok.accepted
    assert (body["event_source"], body["event_source_id"], body["test_event_code"]) == ("offline", "ESET1", "TEST42")
    assert all("test_event_code" not in e for e in body["data"])


def test_track_sends_a_whole_request(client, fake_tiktok):
    request = TrackRequest(event_source="web", event_source_id=PIXEL, data=events(3))
    result = client.track(request)
    assert result.ok and ids(result.outcomes) == ["e0", "e1", "e2"]
    assert fake_tiktok.accepted_ids() == ["e0", "e1", "e2"]


# --- batch sizes ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("count, sizes", [(0, []), (1, [1]), (1000, [1000]), (1001, [1000, 1]), (2500, [1000, 1000, 500])])
def test_batch_sizes(roomy_client, fake_tiktok, count, sizes):
    batch = events(count)
    result = roomy_client.send_events(batch, event_source_id=PIXEL)
    assert result.ok
    assert result.requests_sent == len(sizes) == len(fake_tiktok.received)
    assert sent_sizes(fake_tiktok) == sizes
    assert [o.index for o in result.outcomes] == list(range(count))
    assert ids(result.outcomes) == ids(batch)
    assert fake_tiktok.accepted_ids() == ids(batch)


@pytest.mark.parametrize("count, sizes", [(0, []), (1001, [1000, 1]), (2500, [1000, 1000, 500])])
def test_batch_sizes_through_send_encoded_of_ndjson_lines(roomy_client, fake_tiktok, count, sizes):
    batch = events(count)
    encoded = encode_lines([e.__pydantic_serializer__.to_json(e, exclude_none=True) for e in batch])
    envelope = Envelope(event_source="web", event_source_id=PIXEL)
    result = roomy_client.send_encoded(envelope, zip(encoded.event_ids, encoded.events, strict=True))
    assert result.ok and result.requests_sent == len(sizes)
    assert sent_sizes(fake_tiktok) == sizes
    assert fake_tiktok.accepted_ids() == ids(batch)
    assert [r.body["data"] for r in fake_tiktok.received] == [[e.wire() for e in batch[i:i + 1000]]
                                                              for i in range(0, count, 1000)]


# --- retryable failures -------------------------------------------------------------------------------------

RETRYABLE = ["http500", "http502", "http503", "http429", "http200", "40100", "40132", "61000", "50000", "50002",
             "51000", "51012", "51099", "52000", "52204", "60001", "timeout", "drop"]


@pytest.mark.parametrize("fault", RETRYABLE)
def test_retryable_failure_is_retried_then_delivered(client, fake_tiktok, sleeps, fault):
    fake_tiktok.fail_next(fault)
    batch = events(3)
    result = client.send_events(batch, event_source_id=PIXEL)
    assert result.ok
    assert result.requests_sent == 2 == len(fake_tiktok.received)
    assert fake_tiktok.received[0].fault == fault
    assert fake_tiktok.accepted_ids() == ids(batch)  # delivered once, not twice
    assert len(sleeps) == 1 and 0 <= sleeps[0] <= BASE_DELAY
    assert all(o.request_id == fake_tiktok.received[1].request_id for o in result.outcomes)


@pytest.mark.parametrize("fault, code", [("50002", 50002), ("40100", 40100), ("52204", 52204), ("http502", None),
                                         ("timeout", None), ("drop", None)])
def test_retries_stop_after_max_attempts_with_exponential_jittered_backoff(client, fake_tiktok, sleeps, fault, code):
    fake_tiktok.fail_next(*[fault] * 4)
    result = client.send_events(events(2), event_source_id=PIXEL)
    assert not result.ok
    assert [o.status for o in result.outcomes] == [Status.FAILED_RETRYABLE] * 2
    assert all(o.code == code for o in result.outcomes)
    assert result.requests_sent == 4 == len(fake_tiktok.received)
    assert fake_tiktok.accepted == []
    assert len(sleeps) == 3
    for attempt, delay in enumerate(sleeps):
        assert 0 <= delay <= BASE_DELAY * 2**attempt


def test_backoff_envelope_doubles_each_attempt_and_is_capped(make_client, fake_tiktok, sleeps):
    client = make_client(retry=RetryPolicy(max_attempts=6, base_delay=0.001, max_delay=0.006), rng=UpperBound())
    fake_tiktok.fail_next(*["50000"] * 6)
    result = client.send_events(events(1), event_source_id=PIXEL)
    assert result.requests_sent == 6
    assert sleeps == [0.001, 0.002, 0.004, 0.006, 0.006]


def test_backoff_is_jittered_not_fixed(make_client, fake_tiktok, sleeps):
    client = make_client(retry=RetryPolicy(max_attempts=8, base_delay=0.001, max_delay=1.0), rng=random.Random(7))
    fake_tiktok.fail_next(*["http503"] * 8)
    client.send_events(events(1), event_source_id=PIXEL)
    assert len(sleeps) == 7
    bounds = [0.001 * 2**n for n in range(7)]
    assert all(0 <= d <= b for d, b in zip(sleeps, bounds))
    assert any(d < b for d, b in zip(sleeps, bounds))  # drawn below the envelope: there is jitter


def test_seeded_rng_makes_delays_reproducible(make_client, fake_tiktok, sleeps):
    for _ in range(2):
        fake_tiktok.fail_next("50002", "50002")
        make_client(rng=random.Random(99)).send_events(events(1), event_source_id=PIXEL)
    assert len(sleeps) == 4 and sleeps[:2] == sleeps[2:]


def test_a_mix_of_faults_still_delivers_everything_once(make_client, fake_tiktok, sleeps):
    client = make_client(retry=RetryPolicy(max_attempts=10, base_delay=BASE_DELAY))
    fake_tiktok.fail_next("http502", "40100", "drop", "50002", "timeout", "61000")
    batch = events(2500)
    result = client.send_events(batch, event_source_id=PIXEL)
    assert result.ok
    assert collections.Counter(fake_tiktok.accepted_ids()) == collections.Counter(ids(batch))
    assert result.requests_sent == 3 + 6 and len(sleeps) == 6


# --- permanent failures ----------------------------------------------------------------------------------------

PERMANENT = [("40001", 40001), ("40002", 40002), ("40000", 40000), ("40105", 40105), ("40104", 40104),
             ("40102", 40102), ("40061", 40061), ("40062", 40062), ("40063", 40063), ("53102", 53102),
             ("53103", 53103), ("70001", 70001), ("http400", None), ("http403", None), ("http404", None)]


@pytest.mark.parametrize("fault, code", PERMANENT)
def test_permanent_failure_is_never_retried_and_only_a_data_error_is_rejected(client, fake_tiktok, sleeps, fault,
                                                                               code):
    fake_tiktok.fail_next(fault)
    result = client.send_events(events(1), event_source_id=PIXEL)
    [outcome] = result.outcomes
    assert outcome.status is (Status.REJECTED if code in (40000, 40002, 40062) else Status.FAILED_RETRYABLE)
    assert outcome.code == code
    assert result.requests_sent == 1 == len(fake_tiktok.received)
    assert sleeps == []
    assert fake_tiktok.accepted == []


@pytest.mark.parametrize("fault", ["40001", "40105", "40104", "40061", "53102"])
def test_non_data_permanent_failure_fails_the_whole_batch_without_splitting(client, fake_tiktok, sleeps, fault):
    fake_tiktok.fail_next(fault)
    result = client.send_events(events(8), event_source_id=PIXEL)
    assert [o.status for o in result.outcomes] == [Status.FAILED_RETRYABLE] * 8
    assert {o.code for o in result.outcomes} == {int(fault)}
    assert not any(o.is_data_error for o in result.outcomes)
    assert result.requests_sent == 1 and sleeps == []


def test_code_is_read_even_on_http_200(client, fake_tiktok):
    fake_tiktok.fail_next("40001")
    result = client.send_events(events(1), event_source_id=PIXEL)
    assert fake_tiktok.received[0].http_status == 200
    [outcome] = result.outcomes
    assert outcome.status is Status.FAILED_RETRYABLE and outcome.code == 40001
    assert "No permission" in outcome.message
    assert outcome.request_id == fake_tiktok.received[0].request_id


def test_unknown_route_fails_and_is_not_retried(make_client, fake_tiktok, sleeps):
    result = make_client(api_version="vX").send_events(events(1), event_source_id=PIXEL)
    assert [(o.status, o.code) for o in result.outcomes] == [(Status.FAILED_RETRYABLE, 40400)]
    assert result.requests_sent == 1 and sleeps == []


def test_refused_connection_is_retryable(pool, sleeps):
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = TikTokClient("t", base_url=f"http://127.0.0.1:{port}/open_api", timeout=SHORT,
                          retry=RetryPolicy(max_attempts=2, base_delay=BASE_DELAY), pool=pool, sleep=sleeps)
    result = client.send_events(events(1), event_source_id=PIXEL)
    assert [o.status for o in result.outcomes] == [Status.FAILED_RETRYABLE]
    assert "connection failed" in result.outcomes[0].message
    assert result.requests_sent == 2 and len(sleeps) == 1


# --- data errors: isolating a bad event ----------------------------------------------------------------------------


def test_one_bad_event_hidden_in_1000_is_isolated_and_999_delivered(roomy_client, fake_tiktok, sleeps):
    batch = events(1000)
    bad = "e617"
    fake_tiktok.reject_events({bad})
    result = roomy_client.send_events(batch, event_source_id=PIXEL)

    good = [i for i in ids(batch) if i != bad]
    accepted = collections.Counter(fake_tiktok.accepted_ids())
    assert set(accepted) == set(good) and all(n == 1 for n in accepted.values())
    assert len(result.delivered) == 999
    [rejected] = result.rejected
    assert rejected.event_id == bad and rejected.index == 617
    assert rejected.code == 40002 and rejected.is_data_error
    assert f"Invalid value for event {bad}: rejected by the fake." in rejected.message
    [last] = [r for r in fake_tiktok.received if r.body and [e["event_id"] for e in r.body["data"]] == [bad]]
    assert rejected.request_id == last.request_id and last.code == 40002
    assert result.failed == [] and not result.ok
    # Halving isolates one event among 1000 in about 2*log2(1000) requests, not 1000.
    assert result.requests_sent <= 1 + 2 * 10
    assert sleeps == []  # data errors are not retried, only split


def test_two_bad_events_are_both_isolated(client, fake_tiktok):
    batch = events(300)
    fake_tiktok.reject_events({"e0", "e299"}, code=40000, message="Invalid Price Field")
    result = client.send_events(batch, event_source_id=PIXEL)
    assert sorted(o.event_id for o in result.rejected) == ["e0", "e299"]
    assert {o.code for o in result.rejected} == {40000}
    assert len(result.delivered) == 298
    assert sorted(fake_tiktok.accepted_ids(), key=lambda i: int(i[1:])) == [f"e{i}" for i in range(1, 299)]


def test_a_40002_for_the_whole_batch_is_split_and_then_delivered(client, fake_tiktok):
    fake_tiktok.fail_next("40002")
    result = client.send_events(events(4), event_source_id=PIXEL)
    assert result.ok
    assert sent_sizes(fake_tiktok) == [2, 2]  # the first request carried no recorded body (injected fault)
    assert result.requests_sent == 3


def test_partial_success_20001_reports_per_event_detail(client, fake_tiktok, sleeps):
    fake_tiktok.reject_events({"e1", "e3"}, partial=True, message="Batch item rejected")
    result = client.send_events(events(5), event_source_id=PIXEL)
    assert result.requests_sent == 1 and sleeps == []
    by_id = {o.event_id: o for o in result.outcomes}
    assert [by_id[i].status for i in ("e0", "e2", "e4")] == [Status.DELIVERED] * 3
    for i in ("e1", "e3"):
        assert by_id[i].status is Status.REJECTED and by_id[i].code == 40002
        assert "Batch item rejected" in by_id[i].message
    request_id = fake_tiktok.received[0].request_id
    assert fake_tiktok.received[0].code == 20001
    assert {o.request_id for o in result.outcomes} == {request_id}
    assert fake_tiktok.accepted_ids() == ["e0", "e2", "e4"]


# --- grouping in send() ---------------------------------------------------------------------------------------------


def test_send_groups_by_source_id_and_test_code_and_rechunks(roomy_client, fake_tiktok):
    def req(source, source_id, code, batch):
        return TrackRequest(event_source=source, event_source_id=source_id, test_event_code=code, data=batch)

    a = events(600, "a")
    b = events(10, "b")
    c = events(5, "c")
    d = events(600, "d")
    f = events(3, "f")
    requests = [req("web", "PIX1", None, a), req("web", "PIX2", None, b), req("web", "PIX1", "TEST1", c),
                req("web", "PIX1", None, d), req("app", "PIX1", None, f)]
    result = roomy_client.send(requests)
    assert result.ok

    envelopes = collections.Counter()
    for body in fake_tiktok.accepted:
        key = (body["event_source"], body["event_source_id"], body.get("test_event_code"))
        envelopes[key] += len(body["data"])
        prefixes = {e["event_id"][0] for e in body["data"]}
        expected = {("web", "PIX1", None): {"a", "d"}, ("web", "PIX2", None): {"b"},
                    ("web", "PIX1", "TEST1"): {"c"}, ("app", "PIX1", None): {"f"}}[key]
        assert prefixes <= expected
    assert envelopes == {("web", "PIX1", None): 1200, ("web", "PIX2", None): 10, ("web", "PIX1", "TEST1"): 5,
                         ("app", "PIX1", None): 3}
    assert sorted(sent_sizes(fake_tiktok)) == sorted([1000, 200, 10, 5, 3])
    assert result.requests_sent == 5
    # Outcome indexes count events across the input requests, in order.
    flat = a + b + c + d + f
    assert [o.index for o in result.outcomes] == list(range(len(flat)))
    assert ids(result.outcomes) == ids(flat)


# --- deadline -------------------------------------------------------------------------------------------------------


def test_deadline_stops_retries_before_a_pause_that_would_cross_it(make_client, fake_tiktok, sleeps):
    client = make_client(retry=RetryPolicy(max_attempts=10, base_delay=10, max_delay=1000), rng=UpperBound())
    fake_tiktok.fail_next(*["50002"] * 10)
    # Pauses would be 10, 20, 40...; sleeps are only recorded, so the clock barely moves.
    result = client.send_events(events(1), event_source_id=PIXEL, deadline=time.monotonic() + 35)
    assert sleeps == [10, 20]
    assert result.requests_sent == 3
    assert [(o.status, o.code) for o in result.outcomes] == [(Status.FAILED_RETRYABLE, 50002)]


def test_no_request_starts_at_or_after_the_deadline(client, fake_tiktok, sleeps):
    result = client.send_events(events(2), event_source_id=PIXEL, deadline=time.monotonic())
    assert result.requests_sent == 0 and sleeps == [] and fake_tiktok.received == []
    # Not sent in time is failed-retryable (redelivered), never rejected.
    assert [o.status for o in result.outcomes] == [Status.FAILED_RETRYABLE] * 2
    assert all("deadline" in o.message for o in result.outcomes)


def test_no_request_starts_with_less_than_the_minimum_time_left(client, fake_tiktok, sleeps):
    from tiktok_relay.tiktok.client import MIN_REQUEST_SECONDS

    result = client.send_events(events(1), event_source_id=PIXEL,
                                deadline=time.monotonic() + MIN_REQUEST_SECONDS * 0.9)
    assert result.requests_sent == 0 and fake_tiktok.received == []
    assert [o.status for o in result.outcomes] == [Status.FAILED_RETRYABLE]


def test_no_deadline_uses_all_attempts(client, fake_tiktok, sleeps):
    fake_tiktok.fail_next(*["50002"] * 3)
    result = client.send_events(events(1), event_source_id=PIXEL)
    assert result.ok and result.requests_sent == 4 and len(sleeps) == 3


# --- results and secrets -----------------------------------------------------------------------------------------------


def test_summary_counts(client, fake_tiktok):
    fake_tiktok.reject_events({"e2"})
    result = client.send_events(events(4), event_source_id=PIXEL)
    summary = result.summary()
    assert summary["events"] == 4 and summary["delivered"] == 3 and summary["rejected"] == 1
    assert summary["failed_retryable"] == 0 and summary["requests_sent"] == result.requests_sent


def test_empty_result_is_ok():
    assert SendResult().ok and SendResult().summary()["events"] == 0


def test_token_never_appears_in_reprs_or_error_messages(make_client, fake_tiktok):
    secret = "sk-live-7f3a9c1e5b2d4f6a8c0e"
    client = make_client(secret)
    result = client.send_events(events(2), event_source_id=PIXEL)  # wrong token for the fake: 40105
    assert {o.code for o in result.outcomes} == {40105}
    texts = [repr(client), str(client), repr(result), str(result.summary())]
    texts += [f"{o.message} {o!r}" for o in result.outcomes]
    assert all(secret not in text for text in texts)
    fake_tiktok.fail_next("http502", "drop")
    failing = make_client(secret, retry=RetryPolicy(max_attempts=2, base_delay=BASE_DELAY))
    outcome = failing.send_events(events(1), event_source_id=PIXEL).outcomes[0]
    assert secret not in repr(outcome)
