"""From a mapping's fields to what the receiver queues: one validated event (dropping what
TikTok's schema refuses rather than the whole event), and the envelope its request goes in.

No pydantic for the usual case: an event tiktok/encode.py's rules accept and an envelope of
plain settings are checked without the models (importing them costs ~609 M instructions of the
receiver's cold start, README "Performance"); the models are imported for whatever those decline,
and decide it as they always did."""

from __future__ import annotations

import warnings as python_warnings
from typing import TYPE_CHECKING, Any

from tiktok_relay.errors import ConfigurationError, DeprecatedEventWarning, EventValidationError
from tiktok_relay.sources.common.result import MappedEvent, MappingResult
from tiktok_relay.tiktok import encode
from tiktok_relay.tiktok.fields import DEPRECATED_EVENTS, EventSource

if TYPE_CHECKING:
    from tiktok_relay.tiktok.models import Event


def envelope_for(*, pixel_id: str, test_event_code: str | None, event_source: EventSource = "web",
                 offline_event_set_id: str | None = None) -> dict[str, Any]:
    """Where a delivery's events go, as the request's header in wire shape (what
    `Envelope.header()` gives): web events of the pixel, offline ones to the offline event set,
    as test events if a code is set. ConfigurationError when the pixel or event set is not set;
    anything tiktok/encode.py's envelope rules decline is checked by the Envelope model
    (EventValidationError naming the field)."""
    if event_source == "offline":
        if not isinstance(offline_event_set_id, str) or not offline_event_set_id.strip():
            raise ConfigurationError("TIKTOK_OFFLINE_EVENT_SET_ID is not set; offline events need your offline event "
                                     "set's id (event_source_id)")
        return _checked_header("offline", offline_event_set_id, test_event_code)
    if not isinstance(pixel_id, str) or not pixel_id.strip():
        raise ConfigurationError("TIKTOK_PIXEL_ID is not set; it is your pixel code (event_source_id)")
    return _checked_header("web", pixel_id, test_event_code)


def _checked_header(event_source: EventSource, event_source_id: str, test_event_code: str | None) -> dict[str, Any]:
    header = encode.envelope_header(event_source, event_source_id, test_event_code)
    if header is not None:
        return header
    from tiktok_relay.tiktok.models import Envelope

    return Envelope(event_source=event_source, event_source_id=event_source_id,
                    test_event_code=test_event_code).header()


def to_request_body(result: MappingResult, *, pixel_id: str, test_event_code: str | None,
                    offline_event_set_id: str | None = None) -> dict[str, Any]:
    """The Events API request body (wire dict) for `result`; `data` is [] when nothing is sent:
    what `map` prints, the same body the receiver queues."""
    header = envelope_for(pixel_id=pixel_id, test_event_code=test_event_code, event_source=result.event_source,
                          offline_event_set_id=offline_event_set_id)
    return {**header, "data": result.wire_events}


def build_event(data: dict[str, Any], warnings: list[str]) -> tuple[Event | None, str | None]:
    """(Event(**data), None); on validation errors the offending fields are dropped (then their
    blocks) with a warning each, and the event built again; (None, why) when nothing can be.
    A deprecated event name is in `warnings` already: not warned about again as a Python warning."""
    event, problem = mapped_event(data, warnings)
    return (None if event is None else event.model()), problem


def mapped_event(data: dict[str, Any], warnings: list[str]) -> tuple[MappedEvent | None, str | None]:
    """What build_event gives, as a MappedEvent (the mappings' results hold these). `data` in the
    usual shape is validated by tiktok/encode.py's rules, without building the model (310 k
    instructions for a 10-item order where Event(**data).wire() takes 600 k; held to the models
    by tests/unit/test_encode_fast_path.py); anything else by the models, exactly as build_event
    describes."""
    wire = encode.wire_event(data)
    if wire is not None:
        return MappedEvent(wire, fields=data), None
    if data["event"] in DEPRECATED_EVENTS:
        with python_warnings.catch_warnings():
            python_warnings.simplefilter("ignore", DeprecatedEventWarning)
            return _validated(data, warnings)
    return _validated(data, warnings)


def _validated(data: dict[str, Any], warnings: list[str]) -> tuple[MappedEvent | None, str | None]:
    from tiktok_relay.tiktok.models import Event

    for retry in range(3):
        try:
            return MappedEvent.of(Event(**data)), None
        except EventValidationError as exc:
            problems = exc.problems or []
            fixed = False
            for problem in problems:
                if _drop(data, problem.loc, coarse=retry > 0):
                    warnings.append(f"{problem.loc} dropped: {problem.problem}")
                    fixed = True
            if not fixed:
                return None, f"could not build a valid event: {exc}"
    return None, "could not build a valid event"


def _drop(data: dict[str, Any], loc: str, coarse: bool) -> bool:
    """Remove the field at dotted `loc` (or its whole top-level block). False if it cannot go."""
    parts = loc.split(".")
    top = parts[0]
    if top not in ("user", "properties", "page") or top not in data:
        return False
    if coarse or len(parts) == 1:
        del data[top]
        return True
    node: Any = data[top]
    try:
        for part in parts[1:-1]:
            node = node[int(part)] if isinstance(node, list) else node[part]
        last = parts[-1]
        if isinstance(node, list):
            del node[int(last)]
        else:
            del node[last]
    except (KeyError, IndexError, ValueError, TypeError):
        del data[top]
    return True
