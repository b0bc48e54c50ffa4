"""The queue message's format, and its writer for the usual delivery: no pydantic here.

One queue message per webhook delivery. It carries only normalized and hashed data: the
Events API request this delivery became, plus where it came from (no payload). With a tenants
document it names its tenant by key (`tenant`: the sender looks up the token there); it never
holds a token or secret. The models that read it (and write whatever this writer is not sure
of) are pipeline/messages.py's `QueuedDelivery` and `DeadLetter`, which re-export these names.

Why a module of its own: the receiver writes a message per delivery and never reads one;
importing pydantic and the models costs ~609 M instructions (220-300 ms) of its cold start,
which this writer does without (README "Performance"). The models are imported only for a
message this writer declines.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from tiktok_relay.tiktok import encode, fields

MESSAGE_VERSION = 1
# SQS refuses bodies over 256 KiB; keep a margin for the envelope.
MAX_MESSAGE_BYTES = 250_000
# The dead letters' reasons that say what TikTok or the stale rule decided (`redrive` reads them).
REJECTED = "rejected by TikTok"  # TikTok refused the event's data: sent again unchanged, refused again
STALE = "stale"  # older than TIKTOK_MAX_EVENT_AGE: past TikTok's deduplication window, not sent


def compact(data: dict[str, Any]) -> str:
    """A message or a dead letter as written: compact JSON, ASCII."""
    return json.dumps(data, separators=(",", ":"))


def queue_message(*, source: str, webhook_id: str, shop: str, topic: str, tenant: str | None,
                  header: Mapping[str, Any], data: list[dict[str, Any]]) -> str:
    """`QueuedDelivery(..., request=WireRequest(**header, data=data)).to_message()` for a request
    already in wire shape (`header`: an `Envelope.header()`; `data`: validated wire events, such
    as MappingResult.wire_events, JSON types only), written with one json.dumps rather than
    through the models (for a 10-item order 336 k instructions where the models take 513 k; the
    json.dumps itself is 305 k of either). Anything these checks are not sure of (a type, the
    envelope's or the events' rules, the number of events) goes through the models, imported
    then, which refuse it as they always did. tests/unit/test_queue_message.py holds the bytes
    to the models'."""
    texts = (source, webhook_id, shop, topic, tenant if tenant is not None else "")
    if not (all(type(text) is str for text in texts) and _is_wire_header(header) and _are_wire_events(data)):
        from tiktok_relay.pipeline.messages import QueuedDelivery
        from tiktok_relay.tiktok.models import WireRequest

        return QueuedDelivery(source=source, webhook_id=webhook_id, shop=shop, topic=topic, tenant=tenant,
                              request=WireRequest(**header, data=data)).to_message()
    message: dict[str, Any] = {"v": MESSAGE_VERSION, "source": source, "webhook_id": webhook_id, "shop": shop,
                               "topic": topic}
    if tenant is not None:
        message["tenant"] = tenant
    message["request"] = {**header, "data": data}
    return compact(message)


def _is_wire_header(header: Mapping[str, Any]) -> bool:
    """What Envelope(**header).header() gives back unchanged (encode.envelope_header decides it
    without pydantic): its fields in its order, each already as the envelope's rules leave it."""
    if type(header) is not dict or not set(header) <= set(fields.ENVELOPE_FIELDS):
        return False
    checked = encode.envelope_header(*(header.get(name) for name in fields.ENVELOPE_FIELDS))
    return checked is not None and list(checked.items()) == list(header.items())


def _are_wire_events(data: list[dict[str, Any]]) -> bool:
    """WireRequest's own checks of its events (fields.wire_event_problem), on events that pass them."""
    if type(data) is not list or not 1 <= len(data) <= fields.MAX_EVENTS_PER_REQUEST:
        return False
    return all(type(event) is dict and fields.wire_event_problem(event) is None for event in data)


def without_contents(data: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Wire events without their line items (properties.contents), as new dicts: for a message
    that would not fit otherwise."""
    return [{**e, "properties": {k: v for k, v in e["properties"].items() if k != "contents"}}
            if "contents" in (e.get("properties") or {}) else e for e in data]
