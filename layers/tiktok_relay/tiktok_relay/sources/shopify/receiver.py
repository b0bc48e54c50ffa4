"""What the relay's receiver needs to know about Shopify: its headers, its signature and its
mapping, as a `WebhookSource` (tiktok_relay.pipeline.ports)."""

from __future__ import annotations

from typing import Any

from tiktok_relay.errors import DeliveryRejected, SignatureError
from tiktok_relay.pipeline.ports import Delivery, SecretSource
from tiktok_relay.sources.common.result import MappingResult
from tiktok_relay.sources.common.signing import parse_secrets
from tiktok_relay.sources.shopify.mapping import envelope_for, map_webhook, state_key
from tiktok_relay.sources.shopify.settings import ShopifySettings
from tiktok_relay.sources.shopify.signature import verify_shopify_signature
from tiktok_relay.sources.shopify.topics import rest_form
from tiktok_relay.tiktok.models import Envelope

# The receiver's route (template.yaml's HttpApi event, the handler, `serve`, `sign --curl`).
WEBHOOK_PATH = "/webhooks/shopify"
# HTTP API (payload v2) lower-cases header names.
WEBHOOK_ID_HEADER = "x-shopify-webhook-id"
TOPIC_HEADER = "x-shopify-topic"
SHOP_HEADER = "x-shopify-shop-domain"
# Longest values Shopify sends (a UUID, a topic, a shop's host name is at most 255). HMAC signs
# the body only: these headers are the sender's word even on a signed delivery, and they end up
# in logs and queue messages, so longer (or unprintable) values are refused.
_MAX_HEADER = {WEBHOOK_ID_HEADER: 128, TOPIC_HEADER: 128, SHOP_HEADER: 255}


def _header(headers: dict[str, str], name: str) -> str | None:
    # Shopify's newer "Events" delivery drops the X- prefix; accept both.
    value = headers.get(name) or headers.get(name.removeprefix("x-"))
    return value.strip() if value and value.strip() else None


class ShopifySource:
    """Shopify webhooks for one pixel: HMAC with the configured secrets, the Shopify mapping."""

    name = "shopify"
    display_name = "Shopify"
    webhook_id_header = WEBHOOK_ID_HEADER
    webhook_id_name = "X-Shopify-Webhook-Id"
    identity_headers: tuple[str, ...] = (WEBHOOK_ID_HEADER, TOPIC_HEADER, SHOP_HEADER)

    def __init__(self, *, secrets: SecretSource, settings: ShopifySettings, pixel_id: str):
        self._secrets = secrets
        self._settings = settings
        self._pixel_id = pixel_id

    def verify(self, headers: dict[str, str], raw: bytes) -> Delivery:
        self._check_signature(headers, raw)
        webhook_id, topic, shop = (_header(headers, name) for name in (WEBHOOK_ID_HEADER, TOPIC_HEADER, SHOP_HEADER))
        if webhook_id is None or topic is None or shop is None:
            missing = [name for name, value in ((TOPIC_HEADER, topic), (SHOP_HEADER, shop),
                                                (WEBHOOK_ID_HEADER, webhook_id)) if value is None]
            raise DeliveryRejected(f"missing header(s): {', '.join(missing)}")
        for name, value in ((WEBHOOK_ID_HEADER, webhook_id), (TOPIC_HEADER, topic), (SHOP_HEADER, shop)):
            if len(value) > _MAX_HEADER[name] or not (value.isascii() and value.isprintable()):
                raise DeliveryRejected(f"header {name} is longer than {_MAX_HEADER[name]} characters or not "
                                       "printable ASCII: not what Shopify sends")
        return Delivery(webhook_id=webhook_id, topic=rest_form(topic), shop=shop.lower(), body=raw)

    def _check_signature(self, headers: dict[str, str], raw: bytes) -> None:
        secrets = parse_secrets(self._secrets.get())
        try:
            verify_shopify_signature(headers, raw, secrets)
        except SignatureError:
            # A rotated secret may still be cached: fetch the current ones once before refusing,
            # and hash the body again only if they changed (a refresh is rate-limited and then
            # returns the cached secrets: a forged request costs one pass over each secret).
            fresh = parse_secrets(self._secrets.get(refresh=True))
            if fresh == secrets:
                raise
            verify_shopify_signature(headers, raw, fresh)

    def state_key(self, delivery: Delivery, payload: dict[str, Any]) -> str | None:
        return state_key(delivery.topic, payload, delivery.shop, self._settings)

    def map(self, delivery: Delivery, payload: dict[str, Any], *, now: int,
            previous_state: dict[str, Any] | None = None) -> MappingResult:
        return map_webhook(delivery.topic, payload, delivery.shop, self._settings, now=now,
                           previous_state=previous_state)

    def envelope(self, delivery: Delivery, result: MappingResult) -> Envelope:
        return envelope_for(pixel_id=self._pixel_id, test_event_code=self._settings.test_event_code,
                            event_source=result.event_source,
                            offline_event_set_id=self._settings.offline_event_set_id)
