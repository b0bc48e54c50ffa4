"""Shopify webhook payload -> TikTok Events API 2.0 events. Pure: no I/O, no clock reads.

    result = map_webhook("orders/paid", payload, "shop.myshopify.com", settings, now=int(time.time()))
    body = to_request_body(result, pixel_id=..., test_event_code=settings.test_event_code,
                           offline_event_set_id=settings.offline_event_set_id)

`map_webhook` never raises for a dict payload: each field is validated on its own, what is
invalid is left out and named in `result.warnings`, and when nothing can be sent
`result.reason` says why. Warnings and reasons name fields, never values (values can be
emails, phones, names).

Topics (defaults; SHOPIFY_TOPIC_EVENTS overrides, see settings.py):

    orders/paid                        Purchase, on the order's channel (channels.py)
    orders/create                      nothing (set Purchase to send it)
    checkouts/create, checkouts/update InitiateCheckout, only with an email, phone or customer
    carts/create, carts/update         AddToCart of what was added since the previous delivery
                                       of the cart (carts.py; the receiver remembers carts)
    customers/create                   CompleteRegistration, only when state == "enabled"
    anything else                      nothing

Consent (consent.py): the buyer's choice, recorded by the storefront in the cart attributes
_tt_marketing and _tt_sale_of_data, decides under SHOPIFY_CONSENT whether a delivery is sent and
whether it carries limited_data_use; a refusal is a reason starting "consent:".

event_id (TikTok deduplicates the same event + event_id within 48 h, also against the pixel):

    orders     shopify-order-{id}           (else the numeric tail of admin_graphql_api_id)
    checkouts  shopify-checkout-{token}     (no fallback: API 2026-04 removed the checkout id)
    carts      shopify-cart-{token}-{digest} (else the cart id instead of the token)
    customers  shopify-customer-{id}        (else the numeric tail of admin_graphql_api_id)

The cart digest is the first 12 hex digits of SHA-256 over the compact JSON (ASCII) of the
cart's lines as sorted `[key, quantity]` pairs, key = variant_id, else product_id, else sku
(as a string, "" if none), quantity an int (-1 if missing). Updates that change the cart's
contents get a new event_id; re-deliveries of the same contents keep theirs. Without any
stable id the delivery is skipped: an event without one could be counted twice.
"""

from __future__ import annotations

from tiktok_relay.sources.common.events import envelope_for, to_request_body
from tiktok_relay.sources.common.result import MappingResult
from tiktok_relay.sources.shopify.mapping.assemble import map_webhook, state_key
from tiktok_relay.tiktok.currencies import ACCEPTED_CURRENCIES

__all__ = ["ACCEPTED_CURRENCIES", "MappingResult", "envelope_for", "map_webhook", "state_key", "to_request_body"]
