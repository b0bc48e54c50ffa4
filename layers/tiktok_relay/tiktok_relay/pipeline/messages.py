"""What travels between the receiver and the sender, and what a dead letter holds.

One queue message per webhook delivery. It carries only normalized and hashed data: the
Events API request body this delivery became, plus where it came from (no payload).
"""

from __future__ import annotations

import json
from typing import Any

from tiktok_relay.tiktok.models import TrackRequest
from tiktok_relay.tiktok.models import _Model as StrictModel

MESSAGE_VERSION = 1
# SQS refuses bodies over 256 KiB; keep a margin for the envelope.
MAX_MESSAGE_BYTES = 250_000


class QueuedDelivery(StrictModel):
    """Parsing raises EventValidationError naming the bad field, never echoing values."""

    v: int = MESSAGE_VERSION
    source: str = "shopify"
    webhook_id: str
    shop: str
    topic: str
    request: TrackRequest

    def to_body(self) -> str:
        return self.model_dump_json(exclude_none=True)


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
