"""API Gateway HTTP API (payload v2) events, as Lambda receives them and `sam local invoke -e`
takes them. Used by the tests, by `serve`, and to write the files in events/."""

from __future__ import annotations

import base64
import time
import uuid

from tiktok_relay.sources.routes import WEBHOOK_PATHS
from tiktok_relay.sources.shopify.signature import sign

__all__ = ["WEBHOOK_PATH", "http_api_event", "shopify_event", "shopify_headers", "stripe_event", "stripe_headers",
           "woocommerce_event", "woocommerce_headers", "woocommerce_ping_event"]

WEBHOOK_PATH = WEBHOOK_PATHS["shopify"]
# What WooCommerce and Stripe send as User-Agent (WC_Webhook::deliver; Stripe's webhook requests).
WOOCOMMERCE_USER_AGENT = "WooCommerce/9.4.2 Hookshot (WordPress/6.7.1)"
STRIPE_USER_AGENT = "Stripe/1.0 (+https://stripe.com/docs/webhooks)"


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


def woocommerce_headers(topic: str, body: bytes, secret: str | None, *, source: str = "https://shop.example.com/",
                        webhook_id: int = 1, delivery_id: str | None = None) -> dict[str, str]:
    """The headers WooCommerce sends with a delivery (WC_Webhook::deliver), signed with `secret`
    (unsigned if None). `source` is the store's home URL; `webhook_id` the webhook's own id."""
    from tiktok_relay.sources.woocommerce.signature import sign as sign_woocommerce

    resource, _, event = topic.partition(".")
    headers = {
        "content-type": "application/json",
        "user-agent": WOOCOMMERCE_USER_AGENT,
        "x-wc-webhook-source": source,
        "x-wc-webhook-topic": topic,
        "x-wc-webhook-resource": resource,
        "x-wc-webhook-event": event,
        "x-wc-webhook-id": str(webhook_id),
        "x-wc-webhook-delivery-id": delivery_id or uuid.uuid4().hex,
    }
    if secret is not None:
        headers["x-wc-webhook-signature"] = sign_woocommerce(body, secret)
    return headers


def woocommerce_event(topic: str, body: bytes, secret: str | None, **header_options) -> dict:
    """A signed WooCommerce delivery to POST /webhooks/woocommerce, as the HTTP API hands it to Lambda."""
    return http_api_event("POST", WEBHOOK_PATHS["woocommerce"], woocommerce_headers(topic, body, secret,
                                                                                    **header_options), body)


def woocommerce_ping_event(webhook_id: int = 1) -> dict:
    """WooCommerce's ping on creating a webhook (WC_Webhook::deliver_ping): a form body, unsigned."""
    headers = {"content-type": "application/x-www-form-urlencoded", "user-agent": WOOCOMMERCE_USER_AGENT}
    return http_api_event("POST", WEBHOOK_PATHS["woocommerce"], headers, f"webhook_id={webhook_id}".encode())


def stripe_headers(body: bytes, secret: str | None, *, timestamp: int | None = None) -> dict[str, str]:
    """The headers Stripe sends with an event, signed with `secret` at `timestamp` (now if None;
    unsigned if `secret` is None)."""
    from tiktok_relay.sources.stripe.signature import sign as sign_stripe

    headers = {"content-type": "application/json; charset=utf-8", "user-agent": STRIPE_USER_AGENT,
               "cache-control": "no-cache"}
    if secret is not None:
        headers["stripe-signature"] = sign_stripe(body, secret, int(time.time()) if timestamp is None else timestamp)
    return headers


def stripe_event(body: bytes, secret: str | None, *, timestamp: int | None = None, **event_options) -> dict:
    """A signed Stripe event to POST /webhooks/stripe, as the HTTP API hands it to Lambda. The
    request's recorded time (requestContext.timeEpoch) is the signature's."""
    signed_at = int(time.time()) if timestamp is None else timestamp
    event_options.setdefault("time_epoch_ms", signed_at * 1000)
    return http_api_event("POST", WEBHOOK_PATHS["stripe"], stripe_headers(body, secret, timestamp=signed_at), body,
                          **event_options)
