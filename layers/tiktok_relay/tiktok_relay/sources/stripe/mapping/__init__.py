"""Stripe webhook event -> TikTok Events API 2.0 events. Pure: no I/O, no clock reads.

    result = map_webhook("checkout.session.completed", event, "stripe", settings, now=int(time.time()),
                         previous_state=remembered)

`map_webhook` never raises for a dict payload: each field is validated on its own, what is
invalid is left out and named in `result.warnings`, and when nothing can be sent
`result.reason` says why. Warnings and reasons name fields, never values.

Events (STRIPE_EVENTS, settings.py), each one Purchase:

    checkout.session.completed                a Checkout Session with payment_status paid
                                              (unpaid: a delayed method, sent on the next one;
                                              no_payment_required and setup mode: nothing)
    checkout.session.async_payment_succeeded  a delayed payment of a session that succeeded
    payment_intent.succeeded                  (off by default) a payment made without Checkout

    Test-mode events (livemode: false) are sent only with TIKTOK_TEST_EVENT_CODE, as test events.

Once per payment: the payment is the session's PaymentIntent when it has one (payment mode),
else the session. event_id is `stripe-{payment}` (stripe-pi_..., stripe-cs_...), so a session and
the payment_intent.succeeded of its payment give one event_id, which TikTok deduplicates within
48 h; the receiver also remembers the payments it sent (30 days), and a later event about the same
payment sends nothing. When the merchant's checkout put its own `event_id` in the metadata (what
its browser pixel sent), that is the event_id.

Mapping (Checkout Session; a PaymentIntent's equivalents in user.py):

    email, phone, name, address   customer_details (else the shipping details), customer_email;
                                  a phone's region is its address's country, else
                                  TIKTOK_PHONE_REGION; name: first word and last word
    external_id                   the customer (cus_...), hashed
    ttclid, ttp, ip, user_agent   metadata (ttclid, ttp or _ttp, ip, user_agent), as the
                                  merchant's checkout set them (README "Stripe")
    value, currency               amount_total in the currency's minor units (currencies.py:
                                  Stripe's zero- and three-decimal lists)
    contents                      line_items, only when the payload holds them (expanded)
    order_id                      client_reference_id
    event_time                    the event's `created`
"""

from __future__ import annotations

from tiktok_relay.sources.stripe.mapping.assemble import map_webhook, state_key

__all__ = ["map_webhook", "state_key"]
