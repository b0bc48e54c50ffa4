"""The receiver's routes, one per store platform: template.yaml's HttpApi events, the handler's
routes, `serve` and `sign --curl` all read them here. Apart from the sources, so that the handler
imports no store's mapping before a delivery of that store arrives (cold start)."""

from __future__ import annotations

WEBHOOK_PATHS = {
    "shopify": "/webhooks/shopify",
    "woocommerce": "/webhooks/woocommerce",
    "stripe": "/webhooks/stripe",
}
PLATFORMS = tuple(WEBHOOK_PATHS)
DISPLAY_NAMES = {"shopify": "Shopify", "woocommerce": "WooCommerce", "stripe": "Stripe"}
