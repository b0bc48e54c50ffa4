"""API Gateway HTTP API (payload v2) events, as Lambda receives them and `sam local invoke -e`
takes them. Used by the tests, by `serve`, and to write the files in events/."""

from __future__ import annotations

import base64
import time
import uuid

from tiktok_relay.sources.shopify.receiver import WEBHOOK_PATH
from tiktok_relay.sources.shopify.signature import sign

__all__ = ["WEBHOOK_PATH", "http_api_event", "shopify_event", "shopify_headers"]


def http_api_event(method: str, path: str, headers: dict[str, str], body: bytes | None, *,
                   base64_body: bool = False, source_ip: str = "203.0.113.10", request_id: str | None = None,
                   time_epoch_ms: int | None = None) -> dict:
    """A v2 event. Header names are lower-cased, as the HTTP API does. A body that is not UTF-8
    is always base64-encoded (as API Gateway does for binary)."""
    lowered = {k.lower(): v for k, v in headers.items()}
    text: str | None = None
    if body is not None:
        try:
            text = body.decode("utf-8") if not base64_body else None
        except UnicodeDecodeError:
            text = None
        if text is None:
            base64_body = True
            text = base64.b64encode(body).decode("ascii")
    epoch = int(time.time() * 1000) if time_epoch_ms is None else time_epoch_ms
    return {
        "version": "2.0",
        "routeKey": f"{method} {path}",
        "rawPath": path,
        "rawQueryString": "",
        "headers": lowered,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "domainName": "localhost",
            "domainPrefix": "localhost",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": source_ip,
                     "userAgent": lowered.get("user-agent", "")},
            "requestId": request_id or str(uuid.uuid4()),
            "routeKey": f"{method} {path}",
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(epoch / 1000)),
            "timeEpoch": epoch,
        },
        "body": text,
        "isBase64Encoded": base64_body,
    }


def shopify_headers(topic: str, body: bytes, secret: str | None, *, shop: str = "example.myshopify.com",
                    webhook_id: str | None = None, api_version: str = "2025-10",
                    triggered_at: str = "2026-11-20T10:00:00.000Z") -> dict[str, str]:
    """The headers Shopify sends with a delivery, signed with `secret` (unsigned if None)."""
    headers = {
        "content-type": "application/json",
        "user-agent": "Shopify-Captain-Hook",
        "x-shopify-topic": topic,
        "x-shopify-shop-domain": shop,
        "x-shopify-api-version": api_version,
        "x-shopify-webhook-id": webhook_id or str(uuid.uuid4()),
        "x-shopify-event-id": str(uuid.uuid4()),
        "x-shopify-triggered-at": triggered_at,
    }
    if secret is not None:
        headers["x-shopify-hmac-sha256"] = sign(body, secret)
    return headers


def shopify_event(topic: str, body: bytes, secret: str | None, *, base64_body: bool = False, **header_options) -> dict:
    """A signed Shopify delivery to POST /webhooks/shopify, as the HTTP API hands it to Lambda."""
    return http_api_event("POST", WEBHOOK_PATH, shopify_headers(topic, body, secret, **header_options), body,
                          base64_body=base64_body)
