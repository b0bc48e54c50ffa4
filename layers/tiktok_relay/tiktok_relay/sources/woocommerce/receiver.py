"""What the relay's receiver needs to know about WooCommerce: its ping, its headers, its
signature and its mapping, as a `WebhookSource` (tiktok_relay.pipeline.ports).

WooCommerce (`WC_Webhook::deliver`) sends each delivery with X-WC-Webhook-Topic, -Resource,
-Event, -Signature, -ID (the webhook's id), -Delivery-ID (a hash per delivery) and -Source (the
store's home URL). The store, as `store.store_id` reads X-WC-Webhook-Source, is the delivery's
`shop`: it names the store whose secrets and settings apply (with a tenants document, the entry
keyed by that URL: `TENANT_KIND` in store.py).

When a webhook is created or activated, WooCommerce first sends a ping (`deliver_ping`): a
form body `webhook_id=<id>` without any of those headers and without a signature. Anything but
a 200 makes the admin report an error, so the receiver answers it 200 without doing anything.
"""

from __future__ import annotations

import re

from tiktok_relay.errors import DeliveryRejected
from tiktok_relay.pipeline.ports import Delivery, SecretSource, Tenants
from tiktok_relay.sources.common.signing import identity_headers, plain_header
from tiktok_relay.sources.common.source import MappedSource
from tiktok_relay.sources.routes import WEBHOOK_PATHS
from tiktok_relay.sources.woocommerce.mapping import map_webhook, state_key
from tiktok_relay.sources.woocommerce.settings import WooCommerceSettings
from tiktok_relay.sources.woocommerce.signature import SECRET_VARIABLE, SIGNATURE
from tiktok_relay.sources.woocommerce.store import store_id

# The receiver's route (template.yaml's HttpApi event, the handler, `serve`, `sign --curl`).
WEBHOOK_PATH = WEBHOOK_PATHS["woocommerce"]
# HTTP API (payload v2) lower-cases header names.
TOPIC_HEADER = "x-wc-webhook-topic"
SOURCE_HEADER = "x-wc-webhook-source"
DELIVERY_ID_HEADER = "x-wc-webhook-delivery-id"
SIGNATURE_HEADER = "x-wc-webhook-signature"
# Longest values WooCommerce sends (a topic such as action.<hook>, a home URL, a wp_hash), in the
# order a missing one is named. The signature covers the body only: these are the sender's word
# even on a signed delivery, and they end up in logs and queue messages.
_MAX_HEADER = {TOPIC_HEADER: 128, SOURCE_HEADER: 512, DELIVERY_ID_HEADER: 128}
# The ping's body: `'webhook_id=' . $this->get_id()`.
_PING = re.compile(rb"webhook_id=[0-9]{1,20}")
PING_REASON = ("WooCommerce's ping on creating or activating the webhook (unsigned, webhook_id=N): answered 200, "
               "nothing verified or sent")


class WooCommerceSource(MappedSource[WooCommerceSettings]):
    """WooCommerce webhooks: HMAC with the secrets of the delivery's tenant, the WooCommerce
    mapping, the tenant's pixel. One store (`secrets`, `settings`, `pixel_id`), or the many of
    a tenants document (`tenants`: X-WC-Webhook-Source picks the tenant)."""

    name = "woocommerce"
    display_name = "WooCommerce"
    webhook_id_name = "X-WC-Webhook-Delivery-ID"
    identity_headers: tuple[str, ...] = (DELIVERY_ID_HEADER, TOPIC_HEADER, SOURCE_HEADER)
    secret_variable = SECRET_VARIABLE
    unknown_store = ("X-WC-Webhook-Source is missing or not a store's home URL: the store whose secret signs the "
                     "delivery is unknown")

    def __init__(self, *, secrets: SecretSource | None = None, settings: WooCommerceSettings | None = None,
                 pixel_id: str | None = None, tenants: Tenants | None = None):
        super().__init__(secrets=secrets, settings=settings, pixel_id=pixel_id, tenants=tenants,
                         map_webhook=lambda *args, **kwargs: map_webhook(*args, **kwargs),  # looked up per call
                         state_key=lambda *args: state_key(*args), default_settings=WooCommerceSettings())

    def canonical(self, store: str) -> str | None:
        return store_id(store)

    def acknowledge_unsigned(self, headers: dict[str, str], raw: bytes) -> str | None:
        if SIGNATURE_HEADER in headers or not _PING.fullmatch(raw.strip()):
            return None
        return PING_REASON

    def verify(self, headers: dict[str, str], raw: bytes) -> Delivery:
        SIGNATURE.received(headers)  # no signature: 401 before any secret is read
        key = self._key(plain_header(headers, SOURCE_HEADER))
        tenant = self._verified_tenant(key, lambda secrets, where: SIGNATURE.verify(headers, raw, secrets,
                                                                                  configured_in=where))
        found = identity_headers(headers, _MAX_HEADER, "WooCommerce")
        store = store_id(found[SOURCE_HEADER])
        if store is None:
            raise DeliveryRejected(f"header {SOURCE_HEADER} is not the store's http(s) home URL: not what "
                                   "WooCommerce sends")
        return Delivery(webhook_id=found[DELIVERY_ID_HEADER], topic=found[TOPIC_HEADER].lower(), shop=store, body=raw,
                        tenant=tenant)
