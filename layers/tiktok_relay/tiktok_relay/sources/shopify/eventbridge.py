"""Shopify's Amazon EventBridge delivery: what an event of its partner event source holds.

The envelope, as real deliveries kept in public test fixtures show it (Shopify publishes no
schema of it; README "Shopify through EventBridge" says which parts are its words):

    {"version": "0", "id": "<EventBridge's id>", "detail-type": "shopifyWebhook",
     "source": "aws.partner/shopify.com/<app id>/<event source name>", "account": ..., "time": ...,
     "region": ..., "resources": [],
     "detail": {"payload": <the webhook body>,
                "metadata": {"X-Shopify-Topic": "orders/paid", "X-Shopify-Shop-Domain": "acme.myshopify.com",
                             "X-Shopify-Webhook-Id": ..., "X-Shopify-Event-Id": ..., "X-Shopify-API-Version": ...,
                             "X-Shopify-Triggered-At": ..., "X-Shopify-Hmac-SHA256": ..., "Content-Type": ...}}}

Metadata names are matched in any case (real events spell `X-Shopify-Hmac-SHA256` and
`X-Shopify-Hmac-Sha256`). Older deliveries carry no `X-Shopify-Webhook-Id`: EventBridge's own
event id then stands for it (it only names the delivery in logs and queue messages; the
receiver deduplicates on the topic, shop and payload). No signature is checked: the payload
arrives parsed, so the bytes Shopify signed are gone, and the rule's source pattern and IAM
are the trust boundary instead.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tiktok_relay.errors import DeliveryRejected

DETAIL_TYPE = "shopifyWebhook"
SOURCE_PREFIX = "aws.partner/shopify.com"  # then /<app id>/<event source name>


@dataclass(frozen=True)
class PartnerEvent:
    """What the receiver needs of one event: its metadata as lower-case headers, EventBridge's
    event id, and the payload re-serialized (compact ASCII JSON, keys sorted: the same payload
    gives the same bytes, which the receiver deduplicates on)."""

    headers: dict[str, str]
    event_id: str | None
    body: bytes


def is_partner_event(event: object) -> bool:
    """Whether `event` looks like an EventBridge event at all (replay tells its files apart by it)."""
    return isinstance(event, Mapping) and "detail-type" in event and "detail" in event and "source" in event


def read_partner_event(event: object) -> PartnerEvent:
    """The parts of a Shopify EventBridge event; DeliveryRejected naming what is not as Shopify
    sends it (never a value)."""
    if not is_partner_event(event):
        raise DeliveryRejected("not an EventBridge event (no detail-type, source and detail)")
    assert isinstance(event, Mapping)
    source = event.get("source")
    if event.get("detail-type") != DETAIL_TYPE or not (isinstance(source, str) and source.startswith(SOURCE_PREFIX)):
        raise DeliveryRejected(f"not a Shopify webhook event: detail-type must be {DETAIL_TYPE} and source start "
                               f"with {SOURCE_PREFIX}")
    detail = event.get("detail")
    if not isinstance(detail, Mapping) or not isinstance(detail.get("metadata"), Mapping):
        raise DeliveryRejected("detail.metadata must be an object (the webhook's headers)")
    payload = detail.get("payload")
    if not isinstance(payload, dict):
        kind = "missing" if payload is None else f"a {type(payload).__name__}"
        raise DeliveryRejected(f"detail.payload must be a JSON object (the webhook body), not {kind}")
    headers = {str(name).lower(): value.strip() for name, value in detail["metadata"].items()
               if isinstance(value, str)}
    event_id = event.get("id")
    return PartnerEvent(headers, event_id if isinstance(event_id, str) and event_id.strip() else None,
                        _serialized(payload))


def _serialized(payload: dict[str, Any]) -> bytes:
    try:
        # ASCII: non-ASCII text (a lone surrogate included) is escaped, so the bytes always parse back.
        return json.dumps(payload, separators=(",", ":"), sort_keys=True, allow_nan=False).encode("ascii")
    except (TypeError, ValueError, RecursionError):  # NaN (Python's own JSON reader allows it), too deep
        raise DeliveryRejected("detail.payload cannot be read as JSON") from None
