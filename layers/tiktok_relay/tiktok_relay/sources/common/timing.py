"""event_time: the moment a store says something happened, as unix seconds TikTok accepts.

Pure: the caller passes `now` (the clock is read once, at the edge). Warnings name fields,
never values.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

FUTURE_TOLERANCE = 300  # seconds an event_time may lie ahead of `now` before it is clamped
MIN_EVENT_TIME = 1_000_000_000  # 2001-09-09, the Event model's floor for unix seconds
MAX_EVENT_TIME = 9_999_999_999  # the Event model's ceiling (year 2286)


def parse_time(value: Any, *, utc: bool = False) -> tuple[int | None, str | None]:
    """(unix seconds, problem) for an ISO 8601 date-time; one without an offset is read as UTC
    (with a note, unless `utc`: a field the store documents as UTC, such as WooCommerce's *_gmt)."""
    if not isinstance(value, str):
        return None, "not an ISO 8601 date-time string"
    text = value.strip()
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None, "not an ISO 8601 date-time"
    naive = moment.tzinfo is None
    if naive:
        moment = moment.replace(tzinfo=UTC)
    try:
        seconds = int(moment.timestamp())
    except (OverflowError, OSError, ValueError):
        return None, "out of range"
    if seconds < MIN_EVENT_TIME:
        return None, "before 2001-09-09"
    return seconds, ("has no UTC offset; read as UTC" if naive and not utc else None)


def unix_time(value: Any) -> tuple[int | None, str | None]:
    """(unix seconds, problem) for a JSON integer of unix seconds (Stripe's `created`)."""
    if isinstance(value, bool) or not isinstance(value, int):
        return None, "not a whole number of unix seconds"
    if value < MIN_EVENT_TIME:
        return None, "before 2001-09-09"
    if value > MAX_EVENT_TIME:
        return None, "out of range"
    return value, None


def event_time(payload: Mapping[str, Any], fields: tuple[str, ...], now: int, warnings: list[str], *,
               parse: Callable[[Any], tuple[int | None, str | None]] = parse_time) -> int:
    """The first of `fields` that holds a usable date-time (read with `parse`: ISO 8601 by
    default); `now` when none does, or when it lies more than FUTURE_TOLERANCE ahead (a clock
    that is wrong, not an event from the future)."""
    for name in fields:
        value = payload.get(name)
        if value is None:
            continue
        seconds, problem = parse(value)
        if seconds is None:
            warnings.append(f"{name} ignored for event_time: {problem}")
            continue
        if problem:
            warnings.append(f"{name} {problem}")
        if seconds > now + FUTURE_TOLERANCE:
            warnings.append(f"{name} is more than 5 minutes in the future; event_time set to now")
            return now
        return seconds
    warnings.append(f"no usable {' or '.join(fields)}; event_time set to now")
    return now
