"""What travels between the receiver and the sender, and what a dead letter holds: the one
writer and the one reader of each.

One queue message per webhook delivery. It carries only normalized and hashed data: the
Events API request this delivery became, plus where it came from (no payload). With a tenants
document it names its tenant by key (`tenant`: the sender looks up the token there); it never
holds a token or secret.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pydantic_core

from tiktok_relay.tiktok import fields
from tiktok_relay.tiktok.models import Envelope, StrictModel, WireRequest

MESSAGE_VERSION = 1
# SQS refuses bodies over 256 KiB; keep a margin for the envelope.
MAX_MESSAGE_BYTES = 250_000
# The dead letters' reasons that say what TikTok or the stale rule decided (`redrive` reads them).
REJECTED = "rejected by TikTok"  # TikTok refused the event's data: sent again unchanged, refused again
STALE = "stale"  # older than TIKTOK_MAX_EVENT_AGE: past TikTok's deduplication window, not sent


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
        return _compact(self.model_dump(mode="json", exclude_none=True))


def queue_message(*, source: str, webhook_id: str, shop: str, topic: str, tenant: str | None,
                  header: Mapping[str, Any], data: list[dict[str, Any]]) -> str:
    """`QueuedDelivery(..., request=WireRequest(**header, data=data)).to_message()` for a request
    already in wire shape (`header`: an `Envelope.header()`; `data`: validated wire events, such
    as MappingResult.wire_events, JSON types only), written with one json.dumps rather than
    through the models (for a 10-item order 336 k instructions where the models take 513 k; the
    json.dumps itself is 305 k of either). Anything these checks are not sure of (a type, the
    envelope's or the events' rules, the number of events) goes through the models, which then
    refuse it as they always did. tests/unit/test_queue_message.py holds the bytes to the models'."""
    texts = (source, webhook_id, shop, topic, tenant if tenant is not None else "")
    if not (all(type(text) is str for text in texts) and _is_wire_header(header) and _are_wire_events(data)):
        return QueuedDelivery(source=source, webhook_id=webhook_id, shop=shop, topic=topic, tenant=tenant,
                              request=WireRequest(**header, data=data)).to_message()
    message: dict[str, Any] = {"v": MESSAGE_VERSION, "source": source, "webhook_id": webhook_id, "shop": shop,
                               "topic": topic}
    if tenant is not None:
        message["tenant"] = tenant
    message["request"] = {**header, "data": data}
    return _compact(message)


def _is_wire_header(header: Mapping[str, Any]) -> bool:
    """What Envelope(**header).header() gives back unchanged: its fields in its order, each text
    already trimmed, a known event source, an event_source_id."""
    names = [name for name in Envelope.FIELDS if name in header]
    if type(header) is not dict or list(header) != names or header.get("event_source") not in fields.EVENT_SOURCES:
        return False
    values = [header[name] for name in names[1:]]
    return "event_source_id" in header and all(type(v) is str and fields.trimmed(v) == v for v in values)


def _are_wire_events(data: list[dict[str, Any]]) -> bool:
    """WireRequest's own checks of its events (models._wire_events), on events that pass them."""
    if type(data) is not list or not 1 <= len(data) <= fields.MAX_EVENTS_PER_REQUEST:
        return False
    for event in data:
        if type(event) is not dict or type(event.get("event")) is not str or not event["event"]:
            return False
        if type(event.get("event_time")) is not int or type(event.get("event_id", "")) is not str:
            return False
    return True


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
        return _compact(self.fitted().to_record())

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
    return len(_compact(letter.to_record()))  # ASCII: characters are bytes


def _noting(letter: DeadLetter, what: str, **changes: Any) -> DeadLetter:
    return letter.model_copy(update={**changes, "cut": [*(letter.cut or []), what]})


def without_contents(data: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Wire events without their line items (properties.contents), as new dicts: for a message
    that would not fit otherwise."""
    return [{**e, "properties": {k: v for k, v in e["properties"].items() if k != "contents"}}
            if "contents" in (e.get("properties") or {}) else e for e in data]


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
