"""What the relay's receiver needs to know about Shopify: its headers, its signature, its
EventBridge envelope and its mapping, as a `PartnerEventSource` (tiktok_relay.pipeline.ports),
for one shop or for the many of a tenants document."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tiktok_relay.errors import ConfigurationError, DeliveryRejected, SignatureError
from tiktok_relay.pipeline.ports import Delivery, SecretSource, Tenant, Tenants, UnknownTenant
from tiktok_relay.pipeline.tenants import SingleTenant
from tiktok_relay.sources.common.result import MappingResult
from tiktok_relay.sources.routes import WEBHOOK_PATHS
from tiktok_relay.sources.shopify.eventbridge import read_partner_event
from tiktok_relay.sources.shopify.mapping import envelope_for, map_webhook, state_key
from tiktok_relay.sources.shopify.settings import ShopifySettings
from tiktok_relay.sources.shopify.shops import canonical_shop
from tiktok_relay.sources.shopify.signature import SECRET_VARIABLE, verify_shopify_signature
from tiktok_relay.sources.shopify.topics import rest_form
from tiktok_relay.tiktok.models import Envelope

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
TENANT_SECRETS = "the shop's webhook_secret in the tenants document"  # where a tenant's secrets are


def _header(headers: dict[str, str], name: str) -> str | None:
    # Shopify's newer "Events" delivery drops the X- prefix; accept both.
    value = headers.get(name) or headers.get(name.removeprefix("x-"))
    return value.strip() if value and value.strip() else None


class ShopifySource:
    """Shopify webhooks: HMAC with the secrets of the delivery's tenant, the Shopify mapping, the
    tenant's pixel. A single-shop deployment gives `secrets`, `settings` and `pixel_id` (one
    tenant, whatever shop a delivery names); a deployment of many gives `tenants`, and the
    `X-Shopify-Shop-Domain` of a delivery picks its tenant."""

    name = "shopify"
    display_name = "Shopify"
    webhook_id_header = WEBHOOK_ID_HEADER
    webhook_id_name = "X-Shopify-Webhook-Id"
    identity_headers: tuple[str, ...] = (WEBHOOK_ID_HEADER, TOPIC_HEADER, SHOP_HEADER)

    def __init__(self, *, secrets: SecretSource | None = None, settings: ShopifySettings | None = None,
                 pixel_id: str | None = None, tenants: Tenants | None = None):
        self._many = tenants is not None
        self._tenants: Tenants = tenants if tenants is not None else SingleTenant(
            self.name, pixel_id=pixel_id or "", secrets=secrets, parsed={"shopify": settings or ShopifySettings()})

    def verify(self, headers: dict[str, str], raw: bytes) -> Delivery:
        key = self._key(_header(headers, SHOP_HEADER))
        tenant = self._check_signature(self._tenants.find(self.name, key), key, headers, raw)
        webhook_id, topic, shop = (_header(headers, name) for name in (WEBHOOK_ID_HEADER, TOPIC_HEADER, SHOP_HEADER))
        return _delivery(webhook_id, topic, shop, raw, tenant)

    def acknowledge_unsigned(self, headers: dict[str, str], raw: bytes) -> str | None:
        return None  # Shopify signs every delivery

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

    def _key(self, shop: str | None) -> str | None:
        """The shop's tenant key; with many tenants, UnknownTenant when it names no shop."""
        key = canonical_shop(shop) if shop is not None else None
        if key is None and self._many:
            raise UnknownTenant("X-Shopify-Shop-Domain is missing or not a myshopify.com domain: the shop whose "
                                "secret signs the delivery is unknown")
        return key

    def _check_signature(self, tenant: Tenant, key: str | None, headers: dict[str, str], raw: bytes) -> Tenant:
        """The tenant whose secrets sign `raw`: the one given, or its entry read again. A rotated
        secret may still be cached: the current ones are read once before refusing, and the
        body hashed again only if they changed (a refresh is rate-limited and then returns the
        cached secrets: a forged request costs one pass over each secret)."""
        where = TENANT_SECRETS if self._many else SECRET_VARIABLE
        try:
            verify_shopify_signature(headers, raw, tenant.webhook_secrets, configured_in=where)
            return tenant
        except SignatureError:
            fresh = self._tenants.find(self.name, key, refresh=True)
            if fresh.webhook_secrets == tenant.webhook_secrets:
                raise
        verify_shopify_signature(headers, raw, fresh.webhook_secrets, configured_in=where)
        return fresh

    def _tenant(self, delivery: Delivery) -> Tenant:
        if delivery.tenant is not None:
            return delivery.tenant
        try:
            return self._tenants.find(self.name, self._key(delivery.shop))
        except UnknownTenant as exc:  # removed from the document since the delivery was verified
            raise ConfigurationError(str(exc)) from None

    def _settings(self, delivery: Delivery) -> ShopifySettings:
        return self._tenant(delivery).parsed["shopify"]

    def state_key(self, delivery: Delivery, payload: dict[str, Any]) -> str | None:
        return state_key(delivery.topic, payload, delivery.shop, self._settings(delivery))

    def map(self, delivery: Delivery, payload: dict[str, Any], *, now: int,
            previous_state: dict[str, Any] | None = None) -> MappingResult:
        return map_webhook(delivery.topic, payload, delivery.shop, self._settings(delivery), now=now,
                           previous_state=previous_state)

    def envelope(self, delivery: Delivery, result: MappingResult) -> Envelope:
        tenant = self._tenant(delivery)
        settings: ShopifySettings = tenant.parsed["shopify"]
        return envelope_for(pixel_id=tenant.pixel_id, test_event_code=settings.test_event_code,
                            event_source=result.event_source, offline_event_set_id=settings.offline_event_set_id)


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
