"""Retry policy, TikTok code classes and client construction; no network."""

from __future__ import annotations

import random

import pytest

from tiktok_relay.tiktok.client import RetryPolicy, TikTokClient, is_retryable_code


class UpperBound(random.Random):
    """Always draws the top of the jitter range, so the exponential envelope is visible."""

    def uniform(self, a, b):
        return b


def test_delay_envelope_doubles_then_caps():
    policy = RetryPolicy(base_delay=0.5, max_delay=8.0)
    assert [policy.delay(n, UpperBound()) for n in range(7)] == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0]


def test_delay_is_full_jitter_within_the_envelope():
    policy = RetryPolicy(base_delay=0.5, max_delay=8.0)
    rng = random.Random(1234)
    for attempt in range(8):
        draws = [policy.delay(attempt, rng) for _ in range(200)]
        bound = min(8.0, 0.5 * 2**attempt)
        assert all(0 <= d <= bound for d in draws)
        assert len(set(draws)) > 150  # jittered, not a fixed delay
        assert min(draws) < bound * 0.25 and max(draws) > bound * 0.75  # spread over the whole range


@pytest.mark.parametrize("code", [40100, 40132, 61000, 50000, 50002, 60001, 51000, 51012, 51099, 51999, 52000, 52204, 52999])
def test_retryable_codes(code):
    assert is_retryable_code(code)


@pytest.mark.parametrize("code", [0, 20001, 40000, 40001, 40002, 40061, 40062, 40063, 40104, 40105, 40102, 50001, 53000,
                                  53102, 53103, 70001, 41000])
def test_permanent_codes(code):
    assert not is_retryable_code(code)


@pytest.mark.parametrize("token", ["", None])
def test_client_refuses_an_empty_token(token):
    from tiktok_relay.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="TIKTOK_ACCESS_TOKEN"):
        TikTokClient(token)


def test_client_url_is_built_from_base_and_version():
    assert TikTokClient("t", base_url="http://127.0.0.1:1/open_api/", api_version="/v1.3/").url == \
        "http://127.0.0.1:1/open_api/v1.3/event/track/"


# --- next_delay: the one retry decision (Retry-After, attempts, deadline) ----------------------------------------


def test_next_delay_backs_off_until_the_attempts_are_used_up():
    policy = RetryPolicy(max_attempts=4, base_delay=0.5, max_delay=8.0)
    assert [policy.next_delay(n, UpperBound()) for n in (1, 2, 3, 4)] == [0.5, 1.0, 2.0, None]


@pytest.mark.parametrize(("retry_after", "pause"), [(0.0, 0.0), (2.0, 2.0), (8.0, 8.0), (8.01, None), (30.0, None)])
def test_retry_after_replaces_the_backoff_or_stops_when_longer_than_the_policy_allows(retry_after, pause):
    """A server that asks for 30 s is not retried in 0.5 s: retrying sooner only burns requests;
    the caller reports failed-retryable and SQS redelivers later."""
    policy = RetryPolicy(max_attempts=4, base_delay=0.5, max_delay=8.0)
    assert policy.next_delay(1, UpperBound(), retry_after=retry_after) == pause


def test_no_pause_ends_at_or_after_the_deadline():
    policy = RetryPolicy(max_attempts=10, base_delay=1.0, max_delay=100.0, jitter=False)
    assert policy.next_delay(1, deadline=100.0, now=98.0) == 1.0
    assert policy.next_delay(2, deadline=100.0, now=98.0) is None  # 2 s would end at the deadline
    assert policy.next_delay(1, retry_after=3.0, deadline=100.0, now=98.0) is None
    assert policy.next_delay(1, deadline=100.0, now=100.5) is None


@pytest.mark.parametrize(("header", "seconds"), [
    ("30", 30.0), (" 2.5 ", 2.5), ("0", 0.0), ("-5", 0.0),
    ("Wed, 21 Oct 2026 07:28:30 GMT", 30.0),  # an HTTP date 30 s after `now`
    ("Wed, 21 Oct 2026 07:27:00 GMT", 0.0),  # in the past: retry now
    (None, None), ("", None), ("soon", None), ("inf", None), ("nan", None), ("Wed, 21 Oct 2026 07:28:30", None),
])
def test_parse_retry_after(header, seconds):
    from email.utils import parsedate_to_datetime

    from tiktok_relay.retry import parse_retry_after

    now = parsedate_to_datetime("Wed, 21 Oct 2026 07:28:00 GMT").timestamp()
    assert parse_retry_after(header, now=now) == seconds
