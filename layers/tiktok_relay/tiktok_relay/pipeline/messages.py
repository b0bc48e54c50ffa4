"""The models of what travels between the receiver and the sender, and of what a dead letter
holds: `QueuedDelivery` (the one reader of a queue message, and its writer for whatever
pipeline/queue_format.py's writer declines) and `DeadLetter`.

The format itself (what a message holds, its version and size cap, the dead letters' reasons)
is pipeline/queue_format.py's, written there without pydantic so that a usual delivery never
imports it; its names are re-exported here.
"""

from __future__ import annotations

from typing import Any

import pydantic_core

from tiktok_relay.pipeline.queue_format import (  # noqa: F401 (names this module has always offered)
    MAX_MESSAGE_BYTES,
    MESSAGE_VERSION,
    REJECTED,
    STALE,
    compact,
    queue_message,
    without_contents,
)
from tiktok_relay.tiktok.models import StrictModel, WireRequest


class QueuedDelivery(StrictModel):
    """One queue message. `parse` raises EventValidationError naming the bad field, never
    echoing values."""

    v: int = MESSAGE_VERSION
    source: str = "shopify"
    webhook_id: str
    shop: str
    topic: str
    tenant: str | None = None  # the tenants document's key; None for a single-shop deployment
    request: WireRequest
    # Set by `redrive --force` only: the sender sends these events whatever their event_time.
    ignore_age: bool | None = None

    @classmethod
    def parse(cls, body: str | bytes) -> QueuedDelivery:
        """The message as the sender reads it.

        Read by pydantic-core's JSON parser, then validated as Python data: 145 k instructions
        for a 10-item order where validating the JSON itself takes 180 k (the sender's largest
        cost after the fake's, README "Performance"). A message either way refuses is read again
        the direct way, so that its problems are worded as always."""
        try:
            return cls.model_validate(pydantic_core.from_json(body))
        except ValueError:  # not JSON, or not this shape (EventValidationError is a ValueError)
            return cls.model_validate_json(body)

    def to_message(self) -> str:
        """The message body as the receiver writes it (compact JSON, ASCII)."""
        return compact(self.model_dump(mode="json", exclude_none=True))


class DeadLetter(StrictModel):
    """A dead-letter record. `request` holds only hashed data; `body` is a queue message as the
    receiver wrote it (hashed too). `reason` says why: REJECTED (with TikTok's code and
    message), STALE (older than TIKTOK_MAX_EVENT_AGE), "malformed queue message: ...".
    `source`, `shop`, `topic` and `tenant` (the tenants document's key, as the queue message had
    it) say where a `request`'s events came from, so that `redrive` can put them back on the
    events queue as they were queued, for the same tenant.
    `cut` lists what was left out so that the record fits one SQS message."""

    reason: str
    webhook_id: str | None = None
    source: str | None = None
    shop: str | None = None
    topic: str | None = None
    tenant: str | None = None
    code: int | None = None
    message: str | None = None
    request_id: str | None = None
    receive_count: int | None = None
    request: WireRequest | None = None
    body: str | None = None
    cut: list[str] | None = None

    @classmethod
    def of(cls, delivery: QueuedDelivery, *, reason: str, **fields: Any) -> DeadLetter:
        """A letter about (some of) `delivery`'s events, naming where they came from."""
        return cls(reason=reason, webhook_id=delivery.webhook_id, source=delivery.source, shop=delivery.shop,
                   topic=delivery.topic, tenant=delivery.tenant, **fields)

    def to_record(self) -> dict[str, Any]:
        """The record as stored (a dead-letter queue message, a line of a dead-letter file)."""
        return self.model_dump(exclude_none=True)

    def to_json(self) -> str:
        """The stored record as compact JSON, cut to fit MAX_MESSAGE_BYTES (see `fitted`)."""
        return compact(self.fitted().to_record())

    def fitted(self, limit: int = MAX_MESSAGE_BYTES) -> DeadLetter:
        """This letter, or a smaller copy that fits `limit` bytes of JSON: without the events'
        line items first, then with the queue message it came from shortened, then with only
        its first event. The reason, codes and ids always stay, so a cut letter still says why."""
        letter = self
        for cut in (_without_contents, _with_short_body, _with_first_event_only):
            if _size(letter) <= limit:
                break
            letter = cut(letter, limit)
        return letter


def _size(letter: DeadLetter) -> int:
    return len(compact(letter.to_record()))  # ASCII: characters are bytes


def _noting(letter: DeadLetter, what: str, **changes: Any) -> DeadLetter:
    return letter.model_copy(update={**changes, "cut": [*(letter.cut or []), what]})


def _without_contents(letter: DeadLetter, limit: int) -> DeadLetter:
    request = letter.request
    if request is None or not any("contents" in (e.get("properties") or {}) for e in request.data):
        return letter
    return _noting(letter, "request.data[].properties.contents",
                   request=WireRequest.model_construct(**request.envelope().__dict__,
                                                       data=without_contents(request.data)))


def _with_short_body(letter: DeadLetter, limit: int) -> DeadLetter:
    body = letter.body
    if not body:
        return letter
    kept = len(body)
    shorter = letter
    while kept and _size(shorter) > limit:
        kept //= 2
        shorter = _noting(letter, f"body (its first {kept} of {len(body)} characters kept)", body=body[:kept])
    return shorter


def _with_first_event_only(letter: DeadLetter, limit: int) -> DeadLetter:
    request = letter.request
    if request is None or len(request.data) < 2:
        return letter
    return _noting(letter, f"request.data (the first of {len(request.data)} events kept)",
                   request=WireRequest.model_construct(**request.envelope().__dict__, data=request.data[:1]))
