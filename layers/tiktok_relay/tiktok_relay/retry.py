"""The one retry decision, for every HTTP API the relay calls (TikTok's Events API, Shopify's
Admin API): how long to wait before the next attempt, or not to retry at all.

Exponential backoff (full jitter by default), capped at `max_delay`; a server's own
`Retry-After` replaces the backoff, since it knows when it will take requests again. When it
asks for a longer wait than the policy allows, or than a deadline leaves, the caller stops and
reports the failure as retryable: retrying sooner than asked only burns requests.
"""

from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    """Attempt n (0-based) waits uniform(0, min(max_delay, base_delay * 2**n)), or that bound
    itself without jitter."""

    max_attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 8.0
    jitter: bool = True

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        """The backoff before retry number `attempt + 1` (0-based `attempt`)."""
        bound = min(self.max_delay, self.base_delay * (2**attempt))
        return (rng or random).uniform(0, bound) if self.jitter else bound

    def next_delay(self, attempts_made: int, rng: random.Random | None = None, *, retry_after: float | None = None,
                   deadline: float | None = None, now: float | None = None) -> float | None:
        """Seconds to wait before attempt `attempts_made + 1`, or None: do not retry.

        None when the attempts are used up, when `retry_after` (seconds the server asked for)
        exceeds `max_delay`, or when the wait would end at or after `deadline` (a
        `time.monotonic()` value; `now` defaults to the current one).
        """
        if attempts_made >= self.max_attempts:
            return None
        if retry_after is not None:
            if retry_after > self.max_delay:
                return None
            pause = max(0.0, retry_after)
        else:
            pause = self.delay(attempts_made - 1, rng)
        if deadline is not None and (time.monotonic() if now is None else now) + pause >= deadline:
            return None
        return pause


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds from a `Retry-After` header: delta-seconds or an HTTP date; None when absent or
    unreadable (the backoff applies then)."""
    if value is None:
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        import email.utils  # only for the rarer HTTP-date form; not worth its import at start-up

        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)
