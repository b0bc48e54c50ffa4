"""`tiktok-relay sign --platform shopify|woocommerce|stripe [--topic TOPIC] [--shop-domain D]
[--webhook-id ID] [--curl URL] FILE`: a webhook body, signed as the store would sign it.

- Without --curl: prints an API Gateway HTTP API (v2) event on stdout, the kind of file
  `tiktok-relay replay` (and `sam local invoke -e`) takes.
- With --curl URL: prints the equivalent curl command instead, for `tiktok-relay serve` or a
  deployed receiver. curl sends FILE byte for byte, so the signature holds.
- It signs with the platform's secret variable (SHOPIFY_WEBHOOK_SECRET, WOOCOMMERCE_WEBHOOK_SECRET,
  STRIPE_WEBHOOK_SECRET; the first one when it lists several) or, when that is unset, the local
  development secret that replay and serve check by default. With TIKTOK_RELAY_TENANTS it signs
  with the webhook_secret of the shop --shop-domain names (required when the document lists
  several). stderr says which, never the value.
- --topic is the topic header Shopify and WooCommerce send (required for them). A Stripe event
  names its type, account and id in its body: --topic, when given, must be the body's type, and
  --shop-domain and --webhook-id do not apply. --shop-domain is a Shopify shop's myshopify.com
  domain, or a WooCommerce store's home URL (X-WC-Webhook-Source; default: the store of the order's own
  link, _links.self, else https://shop.example.com/).
- Every call gets a new webhook id unless --webhook-id gives one. The receiver deduplicates on
  what the signature covers (topic, shop and body), not on that id: the same FILE signed again
  is answered `duplicate` whatever its webhook id; change the body for a new delivery. A Stripe
  signature holds the time of signing: the receiver (and serve) accept it for 5 minutes, replay
  as of the time the event file records.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from urllib.parse import urlsplit

from tiktok_relay.cli.common import EXIT_OK, say
from tiktok_relay.errors import UsageError


def _header_safe(value: str | None, flag: str) -> str | None:
    """A value that goes into an HTTP header as it is: printable ASCII without spaces."""
    if value is not None and not (value and all(33 <= ord(c) <= 126 for c in value)):
        raise UsageError(f"{flag} must be printable ASCII without spaces (it is sent as a header)")
    return value


def _check_url(url: str, path: str) -> str:
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"--curl needs an http(s) URL such as http://127.0.0.1:3000{path}")
    if parts.path.rstrip("/") != path:
        say(f"note: the receiver listens on {path}; {url} has another path")
    return url.strip()


def run_sign(args: argparse.Namespace) -> int:
    from tiktok_relay.cli.payload import read_webhook_body
    from tiktok_relay.local.apigw import http_api_event
    from tiktok_relay.local.platforms import new_delivery, platform, tenant_secret, webhook_secret
    from tiktok_relay.local.tenants import local_tenants, tenant_of

    store = platform(args.platform)
    if store.body_identity is None:  # a missing topic or a typo is refused before the file is read
        store.topic_for(args.topic, None)
    url = _check_url(args.curl, store.path) if args.curl is not None else None
    if url is not None and args.file == "-":
        raise UsageError("--curl needs a FILE, not stdin: curl sends the file itself, byte for byte")
    if store.body_identity is not None and (args.shop_domain is not None or args.webhook_id is not None):
        raise UsageError(f"--shop-domain and --webhook-id do not apply to {store.display_name}: an event names its "
                         "account and its id in its body")
    body = read_webhook_body(args.file, command="sign")
    topic = store.topic_for(args.topic, body.payload)
    shop = _header_safe(args.shop_domain, "--shop-domain")
    if store.body_identity is None and (tenants := local_tenants()) is not None:  # the store's own secret
        tenant = tenant_of(tenants, store.name, shop or store.body_store(body.payload))
        secret, shop = tenant_secret(tenant, tenants.origin), store.header_store(tenant.key)
    else:
        secret = webhook_secret(store)
    delivery = new_delivery(topic, store.shop_for(shop, body.payload), _header_safe(args.webhook_id, "--webhook-id"))
    headers = store.signed_headers(body.raw, secret.signing_secret, delivery)
    if url is None:
        event = http_api_event("POST", store.path, headers, body.raw, time_epoch_ms=delivery.timestamp * 1000)
        sys.stdout.write(json.dumps(event, indent=2, ensure_ascii=False) + "\n")
    else:
        parts = ["curl", "-sS", "-w", "\\n", url] + [arg for name, value in headers.items()
                                                   for arg in ("-H", f"{name}: {value}")]
        parts += ["--data-binary", f"@{body.name}"]
        sys.stdout.write(" ".join(shlex.quote(part) for part in parts) + "\n")
    if store.body_identity is None:
        say(f"signed {topic} with {secret.describe()}, webhook id {delivery.webhook_id}")
    else:
        say(f"signed {topic} with {secret.describe()} at t={delivery.timestamp} (the receiver accepts it for 5 "
            "minutes; replay as of the time the event records)")
    return EXIT_OK
