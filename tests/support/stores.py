"""Helpers for the WooCommerce and Stripe tests: their payloads (from tests/fixtures only) and
their mappings with the defaults a test overrides."""

from __future__ import annotations

import copy
import json
from dataclasses import replace

from tests.support import FIXTURES
from tiktok_relay.sources.common.result import MappingResult
from tiktok_relay.sources.stripe.mapping import map_webhook as map_stripe
from tiktok_relay.sources.stripe.settings import StripeSettings
from tiktok_relay.sources.woocommerce.mapping import map_webhook as map_woocommerce
from tiktok_relay.sources.woocommerce.settings import WooCommerceSettings

NOW = 1_795_600_600  # 2026-11-26, after every fixture's timestamps
STORE = "tea.example.co.uk"  # the GB order's store (its _links.self host)
# Raw customer values of the fixtures: none may appear in warnings, reasons, logs or messages.
PII = ("ada.lovelace@example.com", "Lovelace", "07400 900123", "7400 900123", "7400 900789", "SW1A 1AA",
       "Analytical Row", "grace.hopper@example.com", "Hopper", "555-2671", "555 2671", "22202", "Navy Yard",
       "john.doe@example.com", "94103", "969 Market", "stripe@example.com", "Ada King")


def load(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def woo_order(**changes) -> dict:
    """A fresh copy of the realistic checkout order, with top-level keys replaced."""
    payload = copy.deepcopy(load("woocommerce/order_checkout_gb.json"))
    payload.update(changes)
    return payload


def woo(payload: dict, topic: str = "order.created", *, store: str = STORE, previous_state=None,
        **settings) -> MappingResult:
    return map_woocommerce(topic, payload, store, replace(WooCommerceSettings(), **settings), now=NOW,
                           previous_state=previous_state)


def stripe_event(name: str = "stripe/checkout_session_completed_gb.json", **changes) -> dict:
    """A fresh copy of a Stripe event fixture, with keys of its data.object replaced."""
    event = copy.deepcopy(load(name))
    event["data"]["object"].update(changes)
    return event


def stripe(event: dict, *, account: str = "stripe", previous_state=None, **settings) -> MappingResult:
    return map_stripe(event.get("type"), event, account, replace(StripeSettings(), **settings), now=NOW,
                      previous_state=previous_state)


def wire(result: MappingResult) -> dict:
    """The single event's wire dict; fails with the reason and warnings when nothing is sent."""
    assert len(result.events) == 1, (result.reason, result.warnings)
    return result.events[0].wire()


def assert_no_pii(*texts: str) -> None:
    blob = "\n".join(texts).lower()
    for value in PII:
        assert value.lower() not in blob, f"customer value leaked: {value!r}"
