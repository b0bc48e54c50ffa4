"""NDJSON of `data[]` items in, complete request bodies out: the core of `build` and `send`."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import pydantic

from tiktok_relay.errors import EventValidationError, FieldProblem
from tiktok_relay.tiktok.models import MAX_EVENTS_PER_REQUEST, Envelope, Event, EventSource, TrackRequest


@dataclass(frozen=True)
class LineProblem:
    line: int
    problem: FieldProblem

    def __str__(self) -> str:
        return f"line {self.line}: {self.problem}"


@dataclass
class ParsedLines:
    events: list[Event]
    line_numbers: list[int]  # the input line of each event, for reports
    problems: list[LineProblem]


def parse_events(lines: Iterable[str | bytes], *, phone_region: str | None = None) -> ParsedLines:
    """Validate (and so normalize and hash) one event per non-blank line. Collects every problem."""
    context = {"phone_region": phone_region}
    parsed = ParsedLines([], [], [])
    # What Event.model_validate_json does, minus two Python calls per line (2% of `build`).
    validate_json = Event.__pydantic_validator__.validate_json
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            event = validate_json(line, context=context)
        except pydantic.ValidationError as exc:
            problems = EventValidationError.from_pydantic(exc).problems
            parsed.problems.extend(LineProblem(number, p) for p in problems)
            continue
        parsed.events.append(event)
        parsed.line_numbers.append(number)
    return parsed


def build_requests(
    events: list[Event],
    *,
    event_source: EventSource,
    event_source_id: str,
    test_event_code: str | None = None,
    partner_name: str | None = None,
) -> list[TrackRequest]:
    """Requests of at most 1000 events each. The events are already valid, so the envelope
    is checked once and the events are not validated a second time."""
    envelope = Envelope(event_source=event_source, event_source_id=event_source_id,
                        test_event_code=test_event_code, partner_name=partner_name)
    return [
        TrackRequest.model_construct(**envelope.__dict__, data=events[start : start + MAX_EVENTS_PER_REQUEST])
        for start in range(0, len(events), MAX_EVENTS_PER_REQUEST)
    ]
