"""`tiktok-relay map --platform shopify --topic TOPIC [--shop-domain D] FILE`

Prints the complete Events API request body the webhook payload in FILE becomes (the same
body the Lambda receiver queues), as indented JSON on stdout. Nothing is sent.

- Nothing to send: `data` is [] and the reason goes to stderr. Warnings go to stderr too.
  Both exit 0. Neither ever contains a customer's email, phone, name or address.
- FILE unreadable, not JSON, or not a JSON object: exit 2 with a message naming FILE.
  - TOPIC not a topic the relay knows (a typo such as order/paid): exit 2, listing the known ones.
  - Settings come from the environment (SHOPIFY_*, TIKTOK_PIXEL_ID, TIKTOK_TEST_EVENT_CODE, TIKTOK_PHONE_REGION,
    TIKTOK_OFFLINE_EVENT_SET_ID). The payload is read as a first delivery: a cart's whole contents.
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

from tiktok_relay.cli.common import EXIT_OK, EXIT_UNDELIVERED, say

PIXEL_PLACEHOLDER = "<TIKTOK_PIXEL_ID>"
DEFAULT_SHOP = "example.myshopify.com"


def run_map(args: argparse.Namespace) -> int:
    from tiktok_relay.cli.payload import read_webhook_body
    from tiktok_relay.config import check_pixel_id, env_value
    from tiktok_relay.local.tenants import local_tenants, tenant_of
    from tiktok_relay.sources.shopify.mapping import map_webhook, to_request_body
    from tiktok_relay.sources.shopify.settings import ShopifySettings
    from tiktok_relay.sources.shopify.topics import resolve_topic

    topic = resolve_topic(args.topic)
    payload = read_webhook_body(args.file, command="map").payload
    pixel_id: str | None
    if (tenants := local_tenants()) is not None:  # the shop's own pixel and settings
        tenant = tenant_of(tenants, "shopify", args.shop_domain)
        shop, settings, pixel_id = tenant.key, tenant.parsed["shopify"], tenant.pixel_id
    else:
        shop = args.shop_domain or DEFAULT_SHOP
        settings = ShopifySettings.from_env()
        pixel_id = check_pixel_id(env_value(os.environ, "TIKTOK_PIXEL_ID"), "TIKTOK_PIXEL_ID")
    if pixel_id is None:
        say(f"note: TIKTOK_PIXEL_ID is not set; event_source_id shows {PIXEL_PLACEHOLDER} (map sends nothing)")
        pixel_id = PIXEL_PLACEHOLDER

    try:
        result = map_webhook(topic, payload, shop, settings, now=int(time.time()))
    except Exception as exc:  # a bug: say so without echoing payload values
        say(f"mapping failed unexpectedly ({type(exc).__name__}); this is a tiktok-relay bug")
        return EXIT_UNDELIVERED
    offline_id = settings.offline_event_set_id if result.event_source == "offline" else None
    body = to_request_body(result, pixel_id=pixel_id, test_event_code=settings.test_event_code,
                           offline_event_set_id=offline_id)
    for warning in result.warnings:
        say(f"warning: {warning}")
    if not result.events:
        say(f"nothing to send: {result.reason}")
    out = sys.stdout.buffer
    out.write(json.dumps(body, indent=2, ensure_ascii=False).encode("utf-8"))
    out.write(b"\n")
    out.flush()
    return EXIT_OK
