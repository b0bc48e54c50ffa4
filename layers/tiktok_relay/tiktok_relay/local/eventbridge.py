"""Shopify deliveries as Amazon EventBridge events of its partner event source, as the
EventBridge intake Lambda receives them (sources/shopify/eventbridge.py reads them). Used by the
tests and to write the files in events/eventbridge/.

The layout is what real deliveries kept in public test fixtures show (Shopify publishes no
schema of the envelope): `detail.payload` is the webhook body, `detail.metadata` the headers an
HTTPS delivery would have had, spelled as Shopify spells them.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from tiktok_relay.sources.shopify.eventbridge import DETAIL_TYPE, SOURCE_PREFIX
from tiktok_relay.sources.shopify.signature import sign

__all__ = ["EVENT_SOURCE", "partner_event"]

# A partner event source name as Shopify makes them: aws.partner/shopify.com/<app's API client id>/<name>.
EVENT_SOURCE = f"{SOURCE_PREFIX}/1234567/tiktok-relay"


def partner_event(topic: str, payload: dict[str, Any], *, shop: str = "example.myshopify.com",
                  webhook_id: str | None = None, event_id: str | None = None, secret: str | None = None,
                  api_version: str = "2026-10", triggered_at: str = "2026-11-20T10:00:00.000Z",
                  source: str = EVENT_SOURCE, time_epoch_ms: int | None = None,
                  eventbridge_id: str | None = None) -> dict[str, Any]:
    """An EventBridge event carrying one Shopify delivery. `secret` adds the X-Shopify-Hmac-SHA256
    real events carry (over the payload as serialized here; the intake never checks it)."""
    metadata = {
        "Content-Type": "application/json",
        "X-Shopify-Topic": topic,
        "X-Shopify-Shop-Domain": shop,
        "X-Shopify-API-Version": api_version,
        "X-Shopify-Webhook-Id": webhook_id or str(uuid.uuid4()),
        "X-Shopify-Event-Id": event_id or str(uuid.uuid4()),
        "X-Shopify-Triggered-At": triggered_at,
    }
    if secret is not None:
        metadata["X-Shopify-Hmac-SHA256"] = sign(json.dumps(payload, separators=(",", ":")).encode(), secret)
    epoch = int(time.time() * 1000) if time_epoch_ms is None else time_epoch_ms
    return {
        "version": "0",
        "id": eventbridge_id or str(uuid.uuid4()),
        "detail-type": DETAIL_TYPE,
        "source": source,
        "account": "123456789012",
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch / 1000)),
        "region": "us-east-1",
        "resources": [],
        "detail": {"payload": payload, "metadata": metadata},
    }
