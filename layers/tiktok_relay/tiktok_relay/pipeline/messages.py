"""What travels between the receiver and the sender, and what a dead letter holds.

One queue message per webhook delivery. It carries only normalized and hashed data: the
Events API request body this delivery became, plus where it came from (no payload).
"""

from __future__ import annotations

import json
from typing import Any

from typing import Annotated

from pydantic import AfterValidator, Field

from tiktok_relay.tiktok.models import MAX_EVENTS_PER_REQUEST, EventSource
from tiktok_relay.tiktok.models import _Model as StrictModel

MESSAGE_VERSION = 1
# SQS refuses bodies over 256 KiB; keep a margin for the envelope.
MAX_MESSAGE_BYTES = 250_000


def _wire_events(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The few things the sender itself relies on. The events were fully validated (and hashed)
    by the receiver before they were queued; validating them again would double the sender's
    work, and TikTok checks the rest (a refused event is isolated and dead-lettered)."""
    for n, event in enumerate(events):
        if not isinstance(event.get("event"), str) or not event["event"]:
            raise ValueError(f"data.{n}.event: missing or not a string")
        event_time = event.get("event_time")
        if not isinstance(event_time, int) or isinstance(event_time, bool):
            raise ValueError(f"data.{n}.event_time: missing or not unix seconds")
        if not isinstance(event.get("event_id", ""), str):
            raise ValueError(f"data.{n}.event_id: not a string")
    return events


class QueuedRequest(StrictModel):
    """An Events API request body as the receiver queued it (wire shape, hashed)."""

    event_source: EventSource
    event_source_id: Annotated[str, Field(min_length=1)]
    test_event_code: str | None = None
    partner_name: str | None = None
    data: Annotated[list[dict[str, Any]], Field(min_length=1, max_length=MAX_EVENTS_PER_REQUEST),
                    AfterValidator(_wire_events)]

    def header(self) -> dict[str, Any]:
        return self.model_dump(exclude={"data"}, exclude_none=True)


class QueuedDelivery(StrictModel):
    """One queue message. Parsing raises EventValidationError naming the bad field, never
    echoing values."""

    v: int = MESSAGE_VERSION
    source: str = "shopify"
    webhook_id: str
    shop: str
    topic: str
    request: QueuedRequest


def dead_letter(reason: str, *, webhook_id: str | None, code: int | None = None, message: str | None = None,
                request_id: str | None = None, request: dict[str, Any] | None = None,
                body: str | None = None, receive_count: int | None = None) -> dict[str, Any]:
    """A dead-letter record. `request` holds only hashed data; `body` is a queue message as sent
    by the receiver (also hashed). TikTok's code and message say why it was refused."""
    record = {
        "reason": reason,
        "webhook_id": webhook_id,
        "code": code,
        "message": message,
        "request_id": request_id,
        "receive_count": receive_count,
        "request": request,
        "body": body,
    }
    return {k: v for k, v in record.items() if v is not None}


def dumps(record: dict[str, Any]) -> str:
    return json.dumps(record, separators=(",", ":"), sort_keys=False)
