"""Stripe events to Purchases: which events count (paid sessions, optionally payment intents,
never both for one payment), the event_id, and every field of the mapping; amounts per
currency by Stripe's own lists."""

from __future__ import annotations

import pytest

from tests.support.shopify import sha
from tests.support.stores import NOW, assert_no_pii, load, stripe, stripe_event, wire
from tiktok_relay.sources.stripe.currencies import minor_unit_exponent
from tiktok_relay.sources.stripe.mapping import state_key
from tiktok_relay.sources.stripe.settings import DEFAULT_EVENTS, PURCHASE_EVENTS, StripeSettings

INTENT = "stripe/payment_intent_succeeded_us.json"
BOTH = PURCHASE_EVENTS  # sessions and payment intents


def test_a_paid_session_is_a_purchase_with_everything_it_holds():
    result = stripe(stripe_event())
    event = wire(result)
    assert event["event"] == "Purchase" and event["event_time"] == 1795600000  # the event's `created`
    assert event["event_id"] == "stripe-pi_3QdemoPaymentIntent0001"  # its payment, not the session
    user = event["user"]
    assert user["email"] == [sha("ada.lovelace@example.com")]
    assert user["phone"] == [sha("+447400900123")]  # national number, read with the address's country
    assert user["external_id"] == [sha("cus_RdemoCustomer0001")]
    assert (user["first_name"], user["last_name"]) == (sha("ada"), sha("lovelace"))  # first and last word
    assert (user["city"], user["country"], user["zip_code"]) == ("london", "gb", sha("sw1a1aa"))
    assert (user["ttclid"], user["ttp"]) == ("E.C.P.CvQBstripeClickIdFromTikTokAd2026", "2pQx7stripeTtpCookie0001")
    assert (user["ip"], user["user_agent"][:11]) == ("81.2.69.160", "Mozilla/5.0")
    assert event["properties"] == {"currency": "GBP", "value": 48.95, "order_id": "order-1042"}
    assert result.warnings == [] and result.state == {"purchase": "sent"}


def test_the_public_test_mode_samples_are_test_events_only_with_a_test_event_code():
    for name in ("stripe/stripe_checkout_session_completed.json",
                 "stripe/stripe_checkout_session_completed_payment_mode.json"):
        event = load(name)
        ignored = stripe(event)
        assert not ignored.sent and "livemode: false" in ignored.reason and "TIKTOK_TEST_EVENT_CODE" in ignored.reason
        sent = wire(stripe(event, test_event_code="TEST123"))
        assert sent["user"]["email"] and sent["user"]["external_id"] == [sha("cus_00000000000000")]
    first = wire(stripe(load("stripe/stripe_checkout_session_completed.json"), test_event_code="T"))
    assert first["properties"] == {"currency": "USD", "value": 30.0}
    assert first["event_id"] == "stripe-pi_000000000000000000000000"


def test_stripes_own_session_object_example_is_unpaid_and_sends_nothing():
    session = load("stripe/stripe_checkout_session_object_openapi_fixture.json")
    event = {"id": "evt_1", "object": "event", "type": "checkout.session.completed", "created": NOW,
             "livemode": True, "data": {"object": session}}
    result = stripe(event)
    assert not result.sent and "unpaid" in result.reason


@pytest.mark.parametrize(("changes", "why"), [
    ({"payment_status": "unpaid"}, "async_payment_succeeded"),
    ({"payment_status": "no_payment_required"}, "nothing was paid"),
    ({"payment_status": None}, "missing or unknown"),
    ({"mode": "setup", "payment_status": "no_payment_required"}, "setup mode"),
    ({"object": "charge"}, "not a checkout.session"),
])
def test_a_session_that_took_no_payment_sends_nothing_and_says_why(changes, why):
    result = stripe(stripe_event(**changes))
    assert not result.sent and why in result.reason


def test_a_delayed_payment_is_sent_when_it_succeeds():
    event = stripe_event()
    event["type"] = "checkout.session.async_payment_succeeded"
    assert wire(stripe(event))["event_id"] == "stripe-pi_3QdemoPaymentIntent0001"


def test_a_subscription_session_without_a_payment_intent_is_keyed_on_the_session():
    event = wire(stripe(stripe_event(mode="subscription", payment_intent=None, subscription="sub_1Demo")))
    assert event["event_id"] == "stripe-cs_live_a1demoSessionIdForTikTokRelay0001"


def test_payment_intents_count_only_when_configured():
    assert DEFAULT_EVENTS == ("checkout.session.completed", "checkout.session.async_payment_succeeded")
    ignored = stripe(load(INTENT))
    assert not ignored.sent and "STRIPE_EVENTS" in ignored.reason
    event = wire(stripe(load(INTENT), events=BOTH))
    assert event["event_id"] == "order-2077"  # the merchant's own, from the metadata
    user = event["user"]
    assert user["email"] == [sha("grace.hopper@example.com")]
    assert user["external_id"] == [sha("cus_RdemoCustomer0002")]  # expanded customer: its id
    assert user["phone"] == [sha("+14155552671")]  # shipping and billing: one number, hashed once
    assert (user["state"], user["zip_code"]) == ("va", sha("22202"))
    assert user["ttp"] == "2pQx7intentTtpCookie0002"
    assert event["properties"] == {"currency": "USD", "value": 129.99}


def test_a_session_and_its_payment_intent_are_one_payment_never_two_purchases():
    session = stripe_event(metadata={})
    intent = stripe_event(INTENT, id="pi_3QdemoPaymentIntent0001", metadata={})
    settings = {"events": BOTH}
    first = stripe(session, **settings)
    # Same event_id (TikTok deduplicates) and the same remembered payment (the receiver does).
    assert wire(first)["event_id"] == wire(stripe(intent, **settings))["event_id"]
    assert state_key(session["type"], session, "stripe", StripeSettings(events=BOTH)) == \
        state_key(intent["type"], intent, "stripe", StripeSettings(events=BOTH)) == \
        "stripe:stripe:payment:pi_3QdemoPaymentIntent0001"
    later = stripe(intent, previous_state=first.state, **settings)
    assert not later.sent and "already sent for this payment" in later.reason


@pytest.mark.parametrize("kind", ["payment_intent.payment_failed", "charge.refunded", "charge.failed",
                                  "checkout.session.expired", "checkout.session.async_payment_failed",
                                  "refund.created", "customer.created"])
def test_failed_payments_refunds_and_other_events_send_nothing(kind):
    event = stripe_event()
    event["type"] = kind
    result = stripe(event, events=BOTH)
    assert not result.sent and "is not mapped" in result.reason


def test_a_payment_intent_that_did_not_succeed_sends_nothing():
    result = stripe(stripe_event(INTENT, status="requires_payment_method"), events=BOTH)
    assert not result.sent and "not succeeded" in result.reason


@pytest.mark.parametrize(("currency", "amount", "value"), [
    ("usd", 1999, 19.99), ("eur", 5, 0.05),
    ("jpy", 4895, 4895.0), ("krw", 15000, 15000.0), ("vnd", 250000, 250000.0), ("clp", 990, 990.0),
    ("kwd", 5120, 5.12), ("bhd", 1250, 1.25), ("omr", 10, 0.01),
    ("isk", 150000, 1500.0), ("huf", 129900, 1299.0),  # Stripe's special cases stay two-decimal
])
def test_amounts_are_minor_units_divided_per_stripes_currency_lists(currency, amount, value):
    props = wire(stripe(stripe_event(currency=currency, amount_total=amount)))["properties"]
    assert (props["currency"], props["value"]) == (currency.upper(), value)


def test_the_currency_lists_are_stripes():
    assert [minor_unit_exponent(c) for c in ("JPY", "krw", "UGX", "XOF", "KWD", "TND", "USD", "ISK")] == \
        [0, 0, 0, 0, 3, 3, 2, 2]


@pytest.mark.parametrize(("changes", "problem"), [
    ({"amount_total": "4895"}, "amount_total not a whole number of minor units"),
    ({"amount_total": 48.95}, "amount_total not a whole number of minor units"),
    ({"amount_total": -1}, "amount_total negative"),
    ({"amount_total": None}, "amount_total missing"),
    ({"currency": "xyz"}, "currency not a currency TikTok accepts"),
])
def test_an_unusable_amount_leaves_value_out_and_says_which(changes, problem):
    result = stripe(stripe_event(**changes))
    assert "value" not in wire(result)["properties"]
    assert f"value and currency omitted: {problem}" in result.warnings


def test_line_items_are_read_only_when_the_payload_holds_them():
    assert "contents" not in wire(stripe(stripe_event()))["properties"]  # no API call: none
    items = {"object": "list", "data": [
        {"id": "li_1", "object": "item", "description": "Earl Grey 250 g", "quantity": 2, "amount_total": 1800,
         "price": {"id": "price_1", "product": "prod_Tea", "unit_amount": 900}},
        {"id": "li_2", "object": "item", "description": "Mug", "quantity": 1,
         "price": {"id": "price_2", "product": {"id": "prod_Mug", "name": "Mug"}, "unit_amount": 1500}},
        {"id": "li_3", "object": "item", "description": "Note for ada.lovelace@example.com", "quantity": 1,
         "price": {"id": "price_3", "unit_amount": 0}},
    ]}
    result = stripe(stripe_event(line_items=items, currency="jpy"))
    contents = wire(result)["properties"]["contents"]
    assert contents == [
        {"content_id": "prod_Tea", "content_type": "product", "content_name": "Earl Grey 250 g", "price": 900.0,
         "quantity": 2},
        {"content_id": "prod_Mug", "content_type": "product", "content_name": "Mug", "price": 1500.0, "quantity": 1},
        {"content_id": "price_3", "content_type": "product", "price": 0.0, "quantity": 1},
    ]
    assert_no_pii(*result.warnings)


def test_the_merchants_event_id_in_the_metadata_is_the_event_id():
    assert wire(stripe(stripe_event(metadata={"event_id": "order-1042-purchase"})))["event_id"] == "order-1042-purchase"
    result = stripe(stripe_event(metadata={"event_id": "not an id at all"}))
    assert wire(result)["event_id"] == "stripe-pi_3QdemoPaymentIntent0001"
    assert any(w.startswith("metadata.event_id ignored") for w in result.warnings)


def test_metadata_click_ids_that_hold_an_email_or_a_private_ip_are_left_out():
    meta = {"ttclid": "ada.lovelace@example.com", "ip": "10.0.0.7", "user_agent": 42}
    result = stripe(stripe_event(metadata=meta))
    user = wire(result)["user"]
    assert not {"ttclid", "ip", "user_agent"} & set(user)
    assert "metadata.ttclid dropped: it contains what looks like an email address" in result.warnings
    assert_no_pii(*result.warnings)


def test_a_buyer_known_only_by_the_shipping_details_still_counts():
    result = stripe(stripe_event(customer_details=None, customer=None, metadata={}))
    user = wire(result)["user"]
    assert user["first_name"] == sha("ada") and user["city"] == "london" and "email" not in user


def test_an_older_api_versions_shipping_and_customer_email_are_read():
    event = stripe_event(customer_details={"email": None, "phone": None, "tax_exempt": "none"},
                         customer_email="Ada.Lovelace@Example.com", collected_information=None,
                         shipping={"name": "Ada Lovelace", "address": {"country": "GB", "city": "London"}})
    user = wire(stripe(event))["user"]
    assert user["email"] == [sha("ada.lovelace@example.com")] and user["last_name"] == sha("lovelace")


def test_a_one_word_name_is_a_first_name_only():
    user = wire(stripe(stripe_event(customer_details={"name": "Cher"}, collected_information=None)))["user"]
    assert user["first_name"] == sha("cher") and "last_name" not in user


def test_event_time_is_the_events_creation_else_now():
    event = stripe_event()
    event["created"] = "yesterday"
    result = stripe(event)
    assert wire(result)["event_time"] == NOW and "created ignored for event_time" in result.warnings[0]


def test_nothing_a_reason_or_warning_says_quotes_the_customer():
    messy = stripe_event(customer_details={"email": "not-an-email", "phone": "call me", "name": 7,
                                           "address": {"country": "Great Britain", "postal_code": ["SW1A"]}},
                         metadata={"ttp": "a b"})
    result = stripe(messy)
    assert_no_pii(*result.warnings, str(result.reason))
    assert result.sent
