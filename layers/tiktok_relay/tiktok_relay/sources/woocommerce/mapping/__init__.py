"""WooCommerce webhook payload -> TikTok Events API 2.0 events. Pure: no I/O, no clock reads.

    result = map_webhook("order.updated", payload, "shop.example.com", settings, now=int(time.time()),
                         previous_state=remembered)

`map_webhook` never raises for a dict payload: each field is validated on its own, what is
invalid is left out and named in `result.warnings`, and when nothing can be sent
`result.reason` says why. Warnings and reasons name fields, never values.

Topics: order.created and order.updated carry the order (the same JSON as the REST API's
`GET /wc/v3/orders/<id>`). An order becomes one Purchase, once:

    - when its `status` is one of WOOCOMMERCE_PAID_STATUSES (processing, completed);
    - the first time it is delivered so: the receiver remembers the orders it sent (30 days,
      keyed on the store and the order id), and a later order.updated of the same order (marked
      completed days after it was paid, a partial refund, a note) sends nothing;
    - pending, on-hold, failed, cancelled, refunded and checkout-draft orders send nothing;
    - an order staff created in the admin (created_via: admin) is an offline sale: it goes to
      TIKTOK_OFFLINE_EVENT_SET_ID, without the staff member's IP and browser, or is not sent.

event_id: `woocommerce-{store}-order-{id}`, store being the delivery's store (X-WC-Webhook-Source
as tiktok_relay.sources.woocommerce.store normalizes it: "shop.example.com"). A storefront pixel
that sends its Purchase with the same event_id is deduplicated against it.

The store URL header is not signed: an order whose own REST link (`_links.self`, in the signed
body) is on another host than X-WC-Webhook-Source is not sent (a captured body replayed under
another store's URL would otherwise be counted again under another event_id).

event_time: date_paid_gmt, else date_created_gmt (UTC); the time of receipt if neither is usable.

Click ids: `_ttclid` and `_ttp` in the order's meta_data, as the storefront plugin saves them at
checkout (tiktok_relay/storefront/woocommerce/tiktok-relay.php, `tiktok-relay snippet woocommerce`;
ttclid, _ttclid, ttp and __ttp are read too); else the ttclid in the landing page that
WooCommerce's order attribution (8.5+) recorded.
"""

from __future__ import annotations

from tiktok_relay.sources.woocommerce.mapping.assemble import map_webhook, state_key

__all__ = ["map_webhook", "state_key"]
