"""WooCommerce's and Stripe's refusals land in the same categories as Shopify's
(MappingResult.ignored, tests/unit/shopify/test_shopify_ignored_categories.py): a report that
counts why nothing was sent reads every store's results alike."""

from __future__ import annotations

import pytest

from tests.support.stores import load, stripe, stripe_event, woo, woo_order
from tiktok_relay.sources.common.result import IGNORED_REASONS
from tiktok_relay.sources.stripe.settings import PURCHASE_EVENTS


def _sent_order():
    return woo(woo_order())


@pytest.mark.parametrize(("topic", "payload", "overrides", "category"), [
    ("order.created", woo_order(created_via="admin"), {}, "channel"),
    ("order.deleted", woo_order(), {}, "no_event_for_topic"),
    ("product.updated", woo_order(), {}, "no_event_for_topic"),
    ("order.updated", {"id": 812, "name": "Earl Grey", "status": "publish"}, {"paid_statuses": ("publish",)},
     "unmappable"),
    ("order.created", woo_order(id=None), {}, "unmappable"),
    ("order.created", woo_order(status="pending"), {}, "other"),
    ("order.created", woo_order(status="refunded"), {}, "other"),
])
def test_each_woocommerce_refusal_lands_in_its_category(topic, payload, overrides, category):
    result = woo(payload, topic, **overrides)
    assert result.events == [] and result.reason
    assert result.ignored == category


def test_a_woocommerce_order_already_sent_or_of_another_store_is_other():
    first = _sent_order()
    assert first.sent and first.ignored is None
    assert woo(woo_order(), "order.updated", previous_state=first.state).ignored == "other"
    assert woo(woo_order(), store="other-store.example").ignored == "other"


def _typed(kind: str) -> dict:
    event = stripe_event()
    event["type"] = kind
    return event


@pytest.mark.parametrize(("event", "overrides", "category"), [
    (load("stripe/checkout_session_completed_gb.json") | {"livemode": False}, {}, "test"),
    (_typed("charge.refunded"), {"events": PURCHASE_EVENTS}, "no_event_for_topic"),
    (load("stripe/payment_intent_succeeded_us.json"), {}, "no_event_for_topic"),  # not in STRIPE_EVENTS
    (stripe_event(object="charge"), {}, "unmappable"),
    (stripe_event(id=None, payment_intent=None), {}, "unmappable"),
    (stripe_event(payment_status="unpaid"), {}, "other"),
    (stripe_event(mode="setup", payment_status="no_payment_required"), {}, "other"),
    (stripe_event("stripe/payment_intent_succeeded_us.json", status="requires_payment_method"),
     {"events": PURCHASE_EVENTS}, "other"),
])
def test_each_stripe_refusal_lands_in_its_category(event, overrides, category):
    result = stripe(event, **overrides)
    assert result.events == [] and result.reason
    assert result.ignored == category


def test_a_stripe_payment_already_sent_is_other_and_a_sent_one_has_no_category():
    first = stripe(stripe_event())
    assert first.sent and first.ignored is None
    assert stripe(stripe_event(), previous_state=first.state).ignored == "other"


def test_a_test_mode_payment_with_a_test_event_code_is_sent_not_ignored():
    result = stripe(load("stripe/checkout_session_completed_gb.json") | {"livemode": False}, test_event_code="T1")
    assert result.sent and result.ignored is None


def test_every_category_used_is_a_documented_one():
    assert {"test", "channel", "no_event_for_topic", "unmappable", "other"} <= set(IGNORED_REASONS)
