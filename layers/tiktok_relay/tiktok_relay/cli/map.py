"""`tiktok-relay map --platform shopify|woocommerce|stripe [--topic TOPIC] [--shop-domain D] FILE`

Prints the complete Events API request body the webhook payload in FILE becomes (the same
body the Lambda receiver queues), as indented JSON on stdout. Nothing is sent.

- --topic is required for Shopify and WooCommerce (their topic header); a Stripe event's type is
  in its body (--topic, when given, must be it). --shop-domain is the Shopify shop, or the
  WooCommerce store's home URL (its X-WC-Webhook-Source, part of the order's event_id; default:
  the store of the order's own link, _links.self).

- Nothing to send: `data` is [] and the reason goes to stderr. Warnings go to stderr too.
  Both exit 0. Neither ever contains a customer's email, phone, name or address.
- FILE unreadable, not JSON, or not a JSON object: exit 2 with a message naming FILE.
  - TOPIC not a topic the relay knows (a typo such as order/paid): exit 2, listing the known ones.
  - Settings come from the environment (SHOPIFY_*, WOOCOMMERCE_*, STRIPE_EVENTS, TIKTOK_PIXEL_ID,
    TIKTOK_TEST_EVENT_CODE, TIKTOK_PHONE_REGION, TIKTOK_OFFLINE_EVENT_SET_ID). The payload is read
    as a first delivery: a cart's whole contents, an order or payment not sent before.
  Without TIKTOK_PIXEL_ID, `event_source_id` shows the placeholder "<TIKTOK_PIXEL_ID>" and
  stderr says so: map sends nothing, so a missing pixel is not an error here.
- With TIKTOK_RELAY_TENANTS, the pixel and settings are those of the shop --shop-domain names
  (required when the document lists several shops); the environment's are not read.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from typing import Any

from tiktok_relay.cli.common import EXIT_OK, EXIT_UNDELIVERED, say

PIXEL_PLACEHOLDER = "<TIKTOK_PIXEL_ID>"
DEFAULT_SHOP = "example.myshopify.com"


def _mapper(name: str, shop: str, *, read_settings: bool = True) -> tuple[Callable[..., Any], Any, str]:
    """(map_webhook, settings from the environment (None unless `read_settings`), the store the
    delivery names) of a platform."""
    if name == "woocommerce":
        from tiktok_relay.errors import UsageError
        from tiktok_relay.sources.woocommerce.mapping import map_webhook as map_woocommerce
        from tiktok_relay.sources.woocommerce.settings import WooCommerceSettings
        from tiktok_relay.sources.woocommerce.store import store_id

        store = store_id(shop) or store_id(f"https://{shop}/")  # a tenant's key is the URL without its scheme
        if store is None:
            raise UsageError("--shop-domain must be the store's home URL, such as https://shop.example.com/ (what "
                             "WooCommerce sends as X-WC-Webhook-Source)")
        return map_woocommerce, WooCommerceSettings.from_env() if read_settings else None, store
    if name == "stripe":
        from tiktok_relay.sources.stripe.mapping import map_webhook as map_stripe
        from tiktok_relay.sources.stripe.settings import StripeSettings

        return map_stripe, StripeSettings.from_env() if read_settings else None, shop
    from tiktok_relay.sources.shopify.mapping import map_webhook as map_shopify
    from tiktok_relay.sources.shopify.settings import ShopifySettings

    return map_shopify, ShopifySettings.from_env() if read_settings else None, shop


def run_map(args: argparse.Namespace) -> int:
    from tiktok_relay.cli.payload import read_webhook_body
    from tiktok_relay.config import check_pixel_id, env_value
    from tiktok_relay.local.platforms import platform
    from tiktok_relay.local.tenants import local_tenants, tenant_of
    from tiktok_relay.sources.common.events import to_request_body

    store = platform(args.platform)
    if store.body_identity is None:  # a missing topic or a typo is refused before the file is read
        store.topic_for(args.topic, None)
    payload = read_webhook_body(args.file, command="map").payload
    topic = store.topic_for(args.topic, payload)
    given = store.body_identity(payload)[1] if store.body_identity is not None else args.shop_domain
    pixel_id: str | None
    if store.body_identity is None and (tenants := local_tenants()) is not None:  # the store's own pixel, settings
        tenant = tenant_of(tenants, store.name, args.shop_domain or store.body_store(payload))
        map_webhook = _mapper(store.name, tenant.key, read_settings=False)[0]
        shop, settings, pixel_id = tenant.key, tenant.parsed[store.name], tenant.pixel_id
    else:
        map_webhook, settings, shop = _mapper(args.platform, store.shop_for(given, payload))
        pixel_id = check_pixel_id(env_value(os.environ, "TIKTOK_PIXEL_ID"), "TIKTOK_PIXEL_ID")
    if pixel_id is None:
        say(f"note: TIKTOK_PIXEL_ID is not set; event_source_id shows {PIXEL_PLACEHOLDER} (map sends nothing)")
        pixel_id = PIXEL_PLACEHOLDER

    try:
        result = map_webhook(topic, payload, shop, settings, now=int(time.time()))
    except Exception as exc:  # a bug: say so without echoing payload values
        say(f"mapping failed unexpectedly ({type(exc).__name__}); this is a tiktok-relay bug")
        return EXIT_UNDELIVERED
    offline_id = getattr(settings, "offline_event_set_id", None) if result.event_source == "offline" else None
    body = to_request_body(result, pixel_id=pixel_id, test_event_code=settings.test_event_code,
                           offline_event_set_id=offline_id)
    for warning in result.warnings:
        say(f"warning: {warning}")
    if not result.sent:
        say(f"nothing to send: {result.reason}")
    out = sys.stdout.buffer
    out.write(json.dumps(body, indent=2, ensure_ascii=False).encode("utf-8"))
    out.write(b"\n")
    out.flush()
    return EXIT_OK
