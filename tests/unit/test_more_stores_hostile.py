"""Hostile WooCommerce and Stripe deliveries: nulls everywhere, wrong types, odd and huge text,
random headers and bodies. The mappings never raise and say nothing of the customer; the
receiver never answers a 5xx for anything a request carries."""

from __future__ import annotations

import copy
import json

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from tests.support import nulled
from tests.support.stores import NOW, STORE, assert_no_pii, load, stripe_event, woo_order
from tiktok_relay.local.apigw import stripe_headers, woocommerce_headers
from tiktok_relay.local.memory import MemoryIdempotencyStore, MemoryQueue, MemoryStateStore
from tiktok_relay.pipeline.receive import Receiver
from tiktok_relay.pipeline.runtime import StaticSecret
from tiktok_relay.sources.stripe.mapping import map_webhook as map_stripe
from tiktok_relay.sources.stripe.receiver import StripeSource
from tiktok_relay.sources.stripe.settings import PURCHASE_EVENTS, StripeSettings
from tiktok_relay.sources.woocommerce.mapping import map_webhook as map_woocommerce
from tiktok_relay.sources.woocommerce.receiver import WooCommerceSource
from tiktok_relay.sources.woocommerce.settings import WooCommerceSettings
from tiktok_relay.tiktok.models import Event, TrackRequest

# The receiver runs without a Lambda context here: Powertools cannot tell the time left, and says so.
pytestmark = pytest.mark.filterwarnings("ignore:Couldn't determine the remaining time left")
SECRET = "hostile-stores-secret-5e1f"
WOO = WooCommerceSettings(offline_event_set_id="OFFLINE1")
STRIPE = StripeSettings(events=PURCHASE_EVENTS, test_event_code="T1")
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True, allow_infinity=True) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)
ODD = [None, True, 0, -1, 2**70, 1.5, float("nan"), "", " ", "x" * 5000, "\ud800", "🙂" * 40,
       [], {}, [None], {"a": {"b": []}}, "ada.lovelace@example.com", "<script>", "0" * 64]


def check(result) -> None:
    """What must hold for any result: valid events that serialize, or a reason; no values in text."""
    assert (result.events and result.reason is None) or (not result.events and result.reason)
    for event in result.events:
        assert isinstance(event, Event)
        json.dumps(event.wire(), allow_nan=False)
        TrackRequest(event_source="web", event_source_id="PIXEL", data=[event])
    assert_no_pii(*result.warnings, result.reason or "")


def woo(payload, topic="order.updated"):
    return map_woocommerce(topic, payload, STORE, WOO, now=NOW)


def stripe(event):
    return map_stripe(event.get("type") if isinstance(event, dict) else None, event, "stripe", STRIPE, now=NOW)


STRIPE_FIXTURES = ["stripe/checkout_session_completed_gb.json", "stripe/payment_intent_succeeded_us.json",
                   "stripe/stripe_checkout_session_completed.json"]


def test_every_field_null():
    check(woo(nulled(woo_order())))
    for name in STRIPE_FIXTURES:
        event = nulled(load(name))
        event["type"] = load(name)["type"]
        check(stripe(event))


@pytest.mark.parametrize("key", sorted(woo_order()))
@pytest.mark.parametrize("value", ODD, ids=range(len(ODD)))
def test_any_order_field_any_value(key, value):
    check(woo(woo_order(**{key: value})))


@pytest.mark.parametrize("name", STRIPE_FIXTURES)
@pytest.mark.parametrize("value", ODD, ids=range(len(ODD)))
def test_any_payment_field_any_value(name, value):
    for key in sorted(load(name)["data"]["object"]):
        check(stripe(stripe_event(name, **{key: value})))
    for key in ("created", "livemode", "data", "type", "account"):
        event = copy.deepcopy(load(name))
        event[key] = value
        check(stripe(event))


@hsettings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(sorted(woo_order())), JSON, max_size=6), st.sampled_from(
    ["order.created", "order.updated", "product.created", "", "action.x"]))
def test_a_woocommerce_mapping_never_raises(changes, topic):
    check(woo(woo_order(**changes), topic))


@hsettings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.text(max_size=20) | st.sampled_from(sorted(load(STRIPE_FIXTURES[0])["data"]["object"])),
                       JSON, max_size=6), st.sampled_from(STRIPE_FIXTURES))
def test_a_stripe_mapping_never_raises(changes, name):
    check(stripe(stripe_event(name, **changes)))


@hsettings(max_examples=100, deadline=None)
@given(JSON)
def test_a_stripe_mapping_of_any_json_never_raises(value):
    check(stripe({"object": "event", "type": "checkout.session.completed", "data": {"object": value}}))


def receiver(source) -> Receiver:
    return Receiver(source=source, queue=MemoryQueue(), idempotency_store=MemoryIdempotencyStore(),
                    state_store=MemoryStateStore(), clock=lambda: NOW)


def woo_receiver() -> Receiver:
    return receiver(WooCommerceSource(secrets=StaticSecret(SECRET), settings=WOO, pixel_id="CPIXEL"))


def stripe_receiver() -> Receiver:
    return receiver(StripeSource(secrets=StaticSecret(SECRET), settings=STRIPE, pixel_id="CPIXEL", clock=lambda: NOW))


HEADER_VALUES = st.text(max_size=40) | st.sampled_from(["", "x" * 3000, "t=1,v1=" + "a" * 64, "webhook_id=1"])


@hsettings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(["x-wc-webhook-signature", "x-wc-webhook-topic", "x-wc-webhook-source",
                                        "x-wc-webhook-delivery-id", "stripe-signature", "content-type"]),
                       HEADER_VALUES, max_size=6),
       st.binary(max_size=300) | st.sampled_from([b"webhook_id=7", b"{}", b"[]", b'{"object":"event"}']),
       st.booleans())
def test_an_unsigned_or_garbled_request_is_never_a_5xx(headers, body, is_base64):
    import base64

    text = base64.b64encode(body).decode() if is_base64 else body.decode("utf-8", "replace")
    for make in (woo_receiver, stripe_receiver):
        reply = make().handle(headers, text, is_base64)
        assert reply.status in (200, 400, 401), (reply.status, reply.reason)
        assert SECRET not in (reply.reason or "")


@hsettings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(JSON)
def test_a_signed_body_of_any_json_is_never_a_5xx(value):
    body = json.dumps(value).encode()
    woo_reply = woo_receiver().handle(woocommerce_headers("order.updated", body, SECRET,
                                                          source="https://tea.example.co.uk/"), body.decode())
    stripe_reply = stripe_receiver().handle(stripe_headers(body, SECRET, timestamp=NOW), body.decode())
    for reply in (woo_reply, stripe_reply):
        assert reply.status in (200, 202, 400), (reply.status, reply.reason)


@hsettings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(sorted(woo_order())), JSON, max_size=5))
def test_a_signed_messy_order_is_queued_or_ignored_never_a_5xx(changes):
    body = json.dumps(woo_order(**changes), allow_nan=True).encode()
    reply = woo_receiver().handle(woocommerce_headers("order.created", body, SECRET,
                                                      source="https://tea.example.co.uk/"), body.decode())
    assert reply.status in (200, 202, 400), (reply.status, reply.reason)
    assert_no_pii(reply.reason or "", *reply.warnings)
