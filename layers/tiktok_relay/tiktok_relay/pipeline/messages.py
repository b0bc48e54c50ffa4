"""What travels between the receiver and the sender, and what a dead letter holds: the one
writer and the one reader of each.

One queue message per webhook delivery. It carries only normalized and hashed data: the
Events API request this delivery became, plus where it came from (no payload).
"""

from __future__ import annotations

import json
from typing import Any

from tiktok_relay.tiktok.models import StrictModel, WireRequest

MESSAGE_VERSION = 1
# SQS refuses bodies over 256 KiB; keep a margin for the envelope.
MAX_MESSAGE_BYTES = 250_000


def _compact(data: dict[str, Any]) -> str:
    return json.dumps(data, separators=(",", ":"))


class QueuedDelivery(StrictModel):
    """One queue message. `parse` raises EventValidationError naming the bad field, never
    echoing values."""

    v: int = MESSAGE_VERSION
    source: str = "shopify"
    webhook_id: str
    shop: str
    topic: str
    request: WireRequest

    @classmethod
    def parse(cls, body: str | bytes) -> QueuedDelivery:
        """The message as the sender reads it."""
        return cls.model_validate_json(body)

    def to_message(self) -> str:
        """The message body as the receiver writes it (compact JSON, ASCII)."""
        return _compact(self.model_dump(mode="json", exclude_none=True))


class DeadLetter(StrictModel):
    """A dead-letter record. `request` holds only hashed data; `body` is a queue message as the
    receiver wrote it (hashed too). TikTok's code and message say why it was refused."""

    reason: str
    webhook_id: str | None = None
    code: int | None = None
    message: str | None = None
    request_id: str | None = None
    receive_count: int | None = None
    request: WireRequest | None = None
    body: str | None = None

    def to_record(self) -> dict[str, Any]:
        """The record as stored (a dead-letter queue message, a line of a dead-letter file)."""
        return self.model_dump(exclude_none=True)

    def to_json(self) -> str:
        return _compact(self.to_record())
