"""Dead letters as the relay writes them (the library's own models, never hand-built dicts), of
events whose age is known: what the redrive tests start from."""

from __future__ import annotations

import time

from tests.support.aws import HASHED_EMAIL, PIXEL_ID
from tiktok_relay.pipeline.messages import REJECTED, STALE, DeadLetter, QueuedDelivery
from tiktok_relay.tiktok.models import WireRequest

SHOP = "tenant-a.myshopify.com"
NOW = int(time.time())
RECENT = NOW - 3600  # an hour ago: well inside TIKTOK_MAX_EVENT_AGE's 48 h
OLD = NOW - 72 * 3600  # three days ago: stale


def purchase(event_id: str, event_time: int = RECENT, **user: str) -> dict:
    return {"event": "Purchase", "event_time": event_time, "event_id": event_id,
            "user": {"email": [HASHED_EMAIL], **user}, "properties": {"currency": "GBP", "value": 10.0}}


def delivery(webhook_id: str, *events: dict, shop: str = SHOP, test_event_code: str | None = None) -> QueuedDelivery:
    """The queue message the receiver writes for `events`."""
    request = WireRequest(event_source="web", event_source_id=PIXEL_ID, test_event_code=test_event_code,
                          data=list(events))
    return QueuedDelivery(webhook_id=webhook_id, shop=shop, topic="orders/paid", request=request)


def undelivered(queued: QueuedDelivery, receives: int = 5) -> str:
    """What `replay` and `serve` write for a message that failed its receives (in AWS, SQS moves
    the message itself: `queued.to_message()`)."""
    return DeadLetter(reason=f"not delivered after {receives} receives (max {receives})", webhook_id=queued.webhook_id,
                      body=queued.to_message(), receive_count=receives).to_json()


def rejected(queued: QueuedDelivery, message: str = "Invalid value for currency.") -> str:
    """What the sender writes for an event TikTok refused for its data."""
    return DeadLetter.of(queued, reason=REJECTED, code=40002, message=message, request_id="REQ1",
                         request=queued.request, receive_count=1).to_json()


def stale(queued: QueuedDelivery) -> str:
    """What the sender writes for events older than TIKTOK_MAX_EVENT_AGE."""
    return DeadLetter.of(queued, reason=STALE, message="event_time more than 172800 s ago", request=queued.request,
                         receive_count=1).to_json()


def malformed() -> str:
    return DeadLetter(reason="malformed queue message: body is not JSON", body="not json", receive_count=1).to_json()
