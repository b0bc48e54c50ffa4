"""event_time: the moment a store says something happened, as unix seconds TikTok accepts.

Pure: the caller passes `now` (the clock is read once, at the edge). Warnings name fields,
never values.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

FUTURE_TOLERANCE = 300  # seconds an event_time may lie ahead of `now` before it is clamped
MIN_EVENT_TIME = 1_000_000_000  # 2001-09-09, the Event model's floor for unix seconds


def parse_time(value: Any) -> tuple[int | None, str | None]:
    """(unix seconds, problem) for an ISO 8601 date-time; one without an offset is read as UTC."""
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
    return seconds, ("has no UTC offset; read as UTC" if naive else None)


def event_time(payload: Mapping[str, Any], fields: tuple[str, ...], now: int, warnings: list[str]) -> int:
    """The first of `fields` that holds a usable date-time; `now` when none does, or when it lies
    more than FUTURE_TOLERANCE ahead (a clock that is wrong, not an event from the future)."""
    for name in fields:
        value = payload.get(name)
        if value is None:
            continue
        seconds, problem = parse_time(value)
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
