"""What the relay's receiver needs to know about Shopify: its headers, its signature, its
EventBridge envelope and its mapping, as a `PartnerEventSource` (tiktok_relay.pipeline.ports),
for one shop or for the many of a tenants document."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tiktok_relay.errors import DeliveryRejected
from tiktok_relay.pipeline.ports import Delivery, SecretSource, Tenant, Tenants, UnknownTenant
from tiktok_relay.sources.common.source import MappedSource
from tiktok_relay.sources.routes import WEBHOOK_PATHS
from tiktok_relay.sources.shopify.eventbridge import read_partner_event
from tiktok_relay.sources.shopify.mapping import map_webhook, state_key
from tiktok_relay.sources.shopify.settings import ShopifySettings
from tiktok_relay.sources.shopify.shops import canonical_shop
from tiktok_relay.sources.shopify.signature import SECRET_VARIABLE, verify_shopify_signature
from tiktok_relay.sources.shopify.topics import rest_form

# The receiver's route (template.yaml's HttpApi event, the handler, `serve`, `sign --curl`).
WEBHOOK_PATH = WEBHOOK_PATHS["shopify"]
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


class ShopifySource(MappedSource[ShopifySettings]):
    """Shopify webhooks: HMAC with the secrets of the delivery's tenant, the Shopify mapping, the
    tenant's pixel. A single-shop deployment gives `secrets`, `settings` and `pixel_id` (one
    tenant, whatever shop a delivery names); a deployment of many gives `tenants`, and the
    `X-Shopify-Shop-Domain` of a delivery picks its tenant."""

    name = "shopify"
    display_name = "Shopify"
    webhook_id_header = WEBHOOK_ID_HEADER
    webhook_id_name = "X-Shopify-Webhook-Id"
    identity_headers: tuple[str, ...] = (WEBHOOK_ID_HEADER, TOPIC_HEADER, SHOP_HEADER)
    secret_variable = SECRET_VARIABLE
    unknown_store = ("X-Shopify-Shop-Domain is missing or not a myshopify.com domain: the shop whose secret signs "
                     "the delivery is unknown")

    def __init__(self, *, secrets: SecretSource | None = None, settings: ShopifySettings | None = None,
                 pixel_id: str | None = None, tenants: Tenants | None = None):
        super().__init__(secrets=secrets, settings=settings, pixel_id=pixel_id, tenants=tenants,
                         map_webhook=lambda *args, **kwargs: map_webhook(*args, **kwargs),  # looked up per call
                         state_key=lambda *args: state_key(*args), default_settings=ShopifySettings())

    def canonical(self, store: str) -> str | None:
        return canonical_shop(store)

    def acknowledge_unsigned(self, headers: dict[str, str], raw: bytes) -> str | None:
        return None  # Shopify signs every delivery

    def verify(self, headers: dict[str, str], raw: bytes) -> Delivery:
        key = self._key(_header(headers, SHOP_HEADER))
        tenant = self._verified_tenant(key, lambda secrets, where: verify_shopify_signature(
            headers, raw, secrets, configured_in=where))
        webhook_id, topic, shop = (_header(headers, name) for name in (WEBHOOK_ID_HEADER, TOPIC_HEADER, SHOP_HEADER))
        return _delivery(webhook_id, topic, shop, raw, tenant)

    def from_event(self, event: Mapping[str, Any]) -> Delivery:
        """An EventBridge event of Shopify's partner event source (sources/shopify/eventbridge.py)."""
        partner = read_partner_event(event)
        headers = partner.headers
        topic, shop = _header(headers, TOPIC_HEADER), _header(headers, SHOP_HEADER)
        webhook_id = _header(headers, WEBHOOK_ID_HEADER) or partner.event_id
        tenant = None
        if shop is not None:
            key = canonical_shop(shop)
            if key is None and self._many:
                raise DeliveryRejected("detail.metadata X-Shopify-Shop-Domain is not a myshopify.com domain")
            try:
                tenant = self._tenants.find(self.name, key)
            except UnknownTenant:  # the shop is Shopify's word here, not an unverified header: name it
                raise UnknownTenant(f"no tenant is configured for the shop {key}; add it to the tenants "
                                    "document") from None
        return _delivery(webhook_id, topic, shop, partner.body, tenant, where="detail.metadata ")


def _delivery(webhook_id: str | None, topic: str | None, shop: str | None, body: bytes, tenant: Tenant | None, *,
              where: str = "") -> Delivery:
    """The delivery these headers name; DeliveryRejected when one is missing or not what Shopify sends."""
    if webhook_id is None or topic is None or shop is None:
        missing = [name for name, value in ((TOPIC_HEADER, topic), (SHOP_HEADER, shop),
                                            (WEBHOOK_ID_HEADER, webhook_id)) if value is None]
        raise DeliveryRejected(f"missing {where}header(s): {', '.join(missing)}")
    for name, value in ((WEBHOOK_ID_HEADER, webhook_id), (TOPIC_HEADER, topic), (SHOP_HEADER, shop)):
        if len(value) > _MAX_HEADER[name] or not (value.isascii() and value.isprintable()):
            raise DeliveryRejected(f"{where}header {name} is longer than {_MAX_HEADER[name]} characters or not "
                                   "printable ASCII: not what Shopify sends")
    return Delivery(webhook_id=webhook_id, topic=rest_form(topic), shop=shop.lower(), body=body, tenant=tenant)
