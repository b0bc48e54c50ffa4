"""NDJSON of `data[]` items in, complete request bodies out: the core of `build` and `send`.

Each line is validated, normalized and hashed by tiktok/encode.py's fast path when it can be,
and otherwise by the models (tiktok/models.py), which are imported only then and which also
give the errors: the same bytes either way, and the same problems. Nothing on the fast path
imports pydantic or dataclasses (~15 ms and ~5 ms of a one-event `build`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from tiktok_relay.errors import FieldProblem
from tiktok_relay.tiktok.encode import Encoded, envelope_prefix, event_encoder
from tiktok_relay.tiktok.fields import MAX_EVENTS_PER_REQUEST


class LineProblem(NamedTuple):
    line: int
    problem: FieldProblem

    def __str__(self) -> str:
        return f"line {self.line}: {self.problem}"


class EncodedLines:
    """What encode_lines read: each event's wire JSON (as TrackRequest.to_json() writes it in
    `data`), its event_id and its input line (for reports), and every problem met."""

    __slots__ = ("events", "event_ids", "line_numbers", "problems")

    def __init__(self) -> None:
        self.events: list[bytes] = []
        self.event_ids: list[str | None] = []
        self.line_numbers: list[int] = []
        self.problems: list[LineProblem] = []


def encode_lines(lines: Sequence[str | bytes], *, phone_region: str | None = None) -> EncodedLines:
    """Validate (and so normalize and hash) one event per non-blank line. Collects every problem."""
    parsed = EncodedLines()
    fast = event_encoder(phone_region, events=len(lines))
    by_models: Callable[[str | bytes], Encoded | list[FieldProblem]] | None = None
    for number, line in enumerate(lines, start=1):
        if not line or line.isspace():  # (what `not line.strip()` says, without copying the line)
            continue
        encoded: Any = fast(line)
        if encoded is None:
            by_models = by_models or _models_encoder(phone_region)
            encoded = by_models(line)
            if isinstance(encoded, list):
                parsed.problems.extend(LineProblem(number, p) for p in encoded)
                continue
        parsed.event_ids.append(encoded[0])
        parsed.events.append(encoded[1])
        parsed.line_numbers.append(number)
    return parsed


def _models_encoder(phone_region: str | None) -> Callable[[str | bytes], Encoded | list[FieldProblem]]:
    """What the models make of a line: (event_id, wire JSON), or its problems."""
    import pydantic

    from tiktok_relay.errors import EventValidationError
    from tiktok_relay.tiktok.models import Event

    context = {"phone_region": phone_region}
    # What Event.model_validate_json does, minus two Python calls per line.
    validate_json, to_json = Event.__pydantic_validator__.validate_json, Event.__pydantic_serializer__.to_json

    def encode(line: str | bytes) -> Encoded | list[FieldProblem]:
        try:
            event = validate_json(line, context=context)
        except pydantic.ValidationError as exc:
            return EventValidationError.from_pydantic(exc).problems
        return event.event_id, to_json(event, exclude_none=True)

    return encode


def request_bodies(events: Sequence[bytes], *, event_source: Any, event_source_id: Any,
                   test_event_code: Any = None, partner_name: Any = None) -> list[bytes]:
    """Whole request bodies of at most 1000 events each, the envelope checked (by the models when
    it is unusual: an EventValidationError names the field)."""
    prefix = envelope_prefix(event_source, event_source_id, test_event_code, partner_name)
    if prefix is None:
        from tiktok_relay.tiktok.models import Envelope

        prefix = Envelope(event_source=event_source, event_source_id=event_source_id,
                          test_event_code=test_event_code, partner_name=partner_name).body_prefix()
    return [prefix + b",".join(events[start:start + MAX_EVENTS_PER_REQUEST]) + b"]}"
            for start in range(0, len(events), MAX_EVENTS_PER_REQUEST)]
