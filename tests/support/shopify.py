"""Helpers for the Shopify tests (imported by the test modules; payloads come from
tests/fixtures/shopify only, never from outside the repository)."""

from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import replace
from pathlib import Path

from tiktok_relay.sources.shopify.mapping import MappingResult, map_webhook
from tiktok_relay.sources.shopify.settings import ShopifySettings, parse_topic_events

SHOPIFY_FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "shopify"
NOW = 1_714_700_000  # 2024-05-03T01:33:20Z, after every fixture's timestamps
SHOP = "tea-shop.myshopify.com"
STOREFRONT = "tea-shop.example"  # the GB order's order_status_url host: its storefront's own


def sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def load(name: str) -> dict:
    return json.loads((SHOPIFY_FIXTURES / name).read_text(encoding="utf-8"))


def settings(**overrides) -> ShopifySettings:
    topic_events = overrides.pop("topic_events", None)
    base = ShopifySettings()
    if topic_events is not None:
        base = replace(base, topic_events=parse_topic_events(topic_events))
    return replace(base, **overrides)


def run(topic: str, payload: dict, *, now: int = NOW, shop: str = SHOP, **overrides) -> MappingResult:
    return map_webhook(topic, payload, shop, settings(**overrides), now=now)


def one(topic: str, payload: dict, **kwargs) -> dict:
    """The single event's wire dict; fails with the reason and warnings when nothing is sent."""
    result = run(topic, payload, **kwargs)
    assert len(result.events) == 1, (result.reason, result.warnings)
    return result.events[0].wire()


def order(**changes) -> dict:
    """A fresh copy of the realistic GB order, with top-level keys replaced."""
    payload = copy.deepcopy(load("order_paid_gb_10_items.json"))
    payload.update(changes)
    return payload


# Raw customer values in the fixtures and test payloads: none may ever appear in warnings,
# reasons, or the map command's output.
PII_VALUES = (
    "Ada.Lovelace@Example.com", "ada.lovelace@example.com", "ada@analytical.example", "Lovelace",
    "07911 123456", "7911123456", "7400123456", "020 7946 0018", "SW1Y 4JH", "SW1Y", "St James",
    "jon@example.com", "john@example.com", "bob@biller.com", "Biller", "Shipper", "555-555-SHIP",
    "40003", "K2P 2L8", "eallam@example.com",
)


def assert_no_pii(*texts: str, extra: tuple[str, ...] = ()) -> None:
    blob = "\n".join(texts).lower()
    for value in PII_VALUES + extra:
        assert value.lower() not in blob, f"customer value leaked: {value!r}"
