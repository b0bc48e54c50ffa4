"""Mapping settings for Shopify, from the environment (the SAM template sets the same names).

| Variable               | Meaning                                                      | Default                     |
|------------------------|--------------------------------------------------------------|-----------------------------|
| SHOPIFY_TOPIC_EVENTS   | overrides of the topic table: `topic=Event` pairs, comma-    | unset (the table below)     |
|                        | separated; `none` sends nothing, e.g. `orders/create=Purchase` |                           |
| SHOPIFY_CURRENCY       | `shop` (total_price + currency) or `presentment` (what the   | shop                        |
|                        | buyer saw)                                                   |                             |
| SHOPIFY_CONTENT_ID     | line-item fields for content_id, in order of preference      | variant_id,product_id,sku   |
| TIKTOK_PHONE_REGION    | region for phone numbers without +country code and no        | unset                       |
|                        | address country                                              |                             |
| TIKTOK_TEST_EVENT_CODE | sends everything as TikTok test events, test orders included | unset (test orders skipped) |
| SHOPIFY_SOURCE_CHANNELS| overrides of the channel table: `source=channel` pairs, a    | unset (the table below)     |
|                        | source_name or app id, channel web, offline or none, e.g.    |                             |
|                        | `pos=none,shopify_draft_order=web,2604537=none`              |                             |
| TIKTOK_OFFLINE_EVENT_SET_ID | the offline event set that in-store (POS) and draft     | unset (those orders ignored)|
|                        | orders go to; without it they are not sent                   |                             |
| SHOPIFY_STOREFRONT_DOMAIN | the storefront's own host (shop.example.com), for page.url | order_status_url's host     |
| SHOPIFY_CONSENT        | the buyer's recorded tracking consent (mapping/consent.py):  | respect                     |
|                        | `respect`, `require` or `ignore`                             |                             |
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal, get_args

from tiktok_relay.config import env_value, fields_from_env, offline_event_set_from_env, phone_region_from_env
from tiktok_relay.errors import ConfigurationError
from tiktok_relay.pipeline.tenants import SettingsParser

# Shopify topic -> TikTok event; None means acknowledged, nothing sent. Topics not listed: none.
DEFAULT_TOPIC_EVENTS: Mapping[str, str | None] = MappingProxyType(
    {
        "orders/paid": "Purchase",
        "orders/create": None,  # orders/paid is the purchase signal; set to Purchase if wanted
        "checkouts/create": "InitiateCheckout",
        "checkouts/update": "InitiateCheckout",
        "carts/create": "AddToCart",
        "carts/update": "AddToCart",
        "customers/create": "CompleteRegistration",
        "refunds/create": None,
        "orders/cancelled": None,
    }
)
# What each topic may be switched to. orders/create can be a purchase or an order placed
# (PlaceAnOrder: soft-deprecated by TikTok, accepted with a warning until its 2027 sunset).
ALLOWED_TOPIC_EVENTS: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "orders/paid": frozenset({"Purchase", "CompletePayment", "PlaceAnOrder"}),
        "orders/create": frozenset({"Purchase", "CompletePayment", "PlaceAnOrder"}),
        "checkouts/create": frozenset({"InitiateCheckout"}),
        "checkouts/update": frozenset({"InitiateCheckout"}),
        "carts/create": frozenset({"AddToCart"}),
        "carts/update": frozenset({"AddToCart"}),
        "customers/create": frozenset({"CompleteRegistration"}),
    }
)
CONTENT_ID_FIELDS = ("variant_id", "product_id", "sku")

Channel = Literal["web", "offline", "none"]
CHANNELS: tuple[str, ...] = get_args(Channel)
# An order's source_name -> the channel its events go to (README "Channels"). In-store (POS) and
# staff-made draft orders carry the shop device's or the staff member's browser, not the buyer's:
# they are offline sales. Orders from TikTok Shop are never sent (mapping/channels.py finds them).
# Any other source_name (web, an app id) is web.
DEFAULT_SOURCE_CHANNELS: Mapping[str, Channel] = MappingProxyType({"pos": "offline", "shopify_draft_order": "offline"})
_SOURCE = re.compile(r"[a-z0-9][a-z0-9_.:-]{0,99}", re.ASCII)
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_HOST = re.compile(rf"(?=.{{1,253}}$){_LABEL}(?:\.{_LABEL})+", re.ASCII)
# What the buyer's consent, as the storefront recorded it in cart attributes, does (README
# "Consent"): respect a refusal, require a grant, or ignore it (the behaviour before consent existed).
ConsentMode = Literal["respect", "require", "ignore"]
CONSENT_MODES: tuple[str, ...] = get_args(ConsentMode)


def parse_topic_events(text: str | None) -> dict[str, str | None]:
    """The default table with `topic=Event,...` overrides applied. Errors name the bad pair."""
    table = dict(DEFAULT_TOPIC_EVENTS)
    for pair in (text or "").split(","):
        pair = pair.strip()
        if not pair:
            continue
        topic, sep, event = (part.strip() for part in pair.partition("="))
        if not sep or not topic or not event:
            raise ConfigurationError(f"SHOPIFY_TOPIC_EVENTS: {pair!r} is not topic=Event")
        topic = topic.lower()
        if event.lower() == "none":
            table[topic] = None
            continue
        allowed = ALLOWED_TOPIC_EVENTS.get(topic)
        if allowed is None:
            known = ", ".join(sorted(ALLOWED_TOPIC_EVENTS))
            raise ConfigurationError(f"SHOPIFY_TOPIC_EVENTS: topic {topic!r} cannot be mapped; known topics: {known}")
        if event not in allowed:
            raise ConfigurationError(
                f"SHOPIFY_TOPIC_EVENTS: {topic} can be {', '.join(sorted(allowed))} or none, not {event!r}"
            )
        table[topic] = event
    return table


def parse_source_channels(text: str | None) -> dict[str, Channel]:
    """`source=channel,...` overrides of the channel table; a source is an order's source_name
    (lower case) or an app id. Errors name the bad pair."""
    table: dict[str, Channel] = {}
    for pair in (text or "").split(","):
        pair = pair.strip()
        if not pair:
            continue
        source, sep, channel = (part.strip() for part in pair.partition("="))
        source, channel = source.lower(), channel.lower()
        if not sep or not source or not channel:
            raise ConfigurationError(f"SHOPIFY_SOURCE_CHANNELS: {pair!r} is not source=channel")
        if not _SOURCE.fullmatch(source):
            raise ConfigurationError(f"SHOPIFY_SOURCE_CHANNELS: in {pair!r}, {source!r} is not a source_name or an "
                                     "app id (letters, digits, _ . : -)")
        if channel not in CHANNELS:
            raise ConfigurationError(f"SHOPIFY_SOURCE_CHANNELS: in {pair!r}, the channel must be "
                                     f"{', '.join(CHANNELS)}, not {channel!r}")
        table[source] = channel  # type: ignore[assignment]
    return table


def storefront_domain_from_env(env: Mapping[str, str]) -> str | None:
    """SHOPIFY_STOREFRONT_DOMAIN as a bare host ('https://Shop.Example.com/' -> 'shop.example.com')."""
    raw = env_value(env, "SHOPIFY_STOREFRONT_DOMAIN")
    if raw is None:
        return None
    host = raw.lower().removeprefix("https://").removeprefix("http://").rstrip("/")
    if not _HOST.fullmatch(host):
        raise ConfigurationError("SHOPIFY_STOREFRONT_DOMAIN must be your storefront's host name, such as "
                                 "shop.example.com")
    return host


def consent_from_env(env: Mapping[str, str]) -> ConsentMode:
    mode = (env_value(env, "SHOPIFY_CONSENT") or "respect").lower()
    if mode not in CONSENT_MODES:
        raise ConfigurationError(f"SHOPIFY_CONSENT must be {', '.join(CONSENT_MODES[:-1])} or {CONSENT_MODES[-1]}")
    return mode  # type: ignore[return-value]


@dataclass(frozen=True)
class ShopifySettings:
    topic_events: Mapping[str, str | None] = field(default_factory=lambda: dict(DEFAULT_TOPIC_EVENTS))
    currency: Literal["shop", "presentment"] = "shop"
    content_id_fields: tuple[str, ...] = CONTENT_ID_FIELDS
    phone_region: str | None = None
    test_event_code: str | None = None
    source_channels: Mapping[str, Channel] = field(default_factory=dict)  # overrides (SHOPIFY_SOURCE_CHANNELS)
    offline_event_set_id: str | None = None
    storefront_domain: str | None = None
    consent: ConsentMode = "respect"

    def event_for(self, topic: str) -> str | None:
        return self.topic_events.get(topic.strip().lower())

    @property
    def mapped_topics(self) -> list[str]:
        """Topics that produce an event: what `register` subscribes by default."""
        return sorted(topic for topic, event in self.topic_events.items() if event)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ShopifySettings:
        env = os.environ if env is None else env
        currency = (env_value(env, "SHOPIFY_CURRENCY") or "shop").lower()
        if currency not in ("shop", "presentment"):
            raise ConfigurationError("SHOPIFY_CURRENCY must be shop or presentment")
        return cls(
            topic_events=parse_topic_events(env_value(env, "SHOPIFY_TOPIC_EVENTS")),
            currency=currency,  # type: ignore[arg-type]
            content_id_fields=fields_from_env(env, "SHOPIFY_CONTENT_ID", CONTENT_ID_FIELDS),
            phone_region=phone_region_from_env(env),
            test_event_code=env_value(env, "TIKTOK_TEST_EVENT_CODE"),
            source_channels=parse_source_channels(env_value(env, "SHOPIFY_SOURCE_CHANNELS")),
            offline_event_set_id=offline_event_set_from_env(env),
            storefront_domain=storefront_domain_from_env(env),
            consent=consent_from_env(env),
        )


# What a Shopify tenant's `settings` may hold (pipeline/tenants.py): what `from_env` reads.
SETTING_NAMES = frozenset({
    "SHOPIFY_TOPIC_EVENTS", "SHOPIFY_CURRENCY", "SHOPIFY_CONTENT_ID", "TIKTOK_PHONE_REGION", "TIKTOK_TEST_EVENT_CODE",
    "SHOPIFY_SOURCE_CHANNELS", "TIKTOK_OFFLINE_EVENT_SET_ID", "SHOPIFY_STOREFRONT_DOMAIN", "SHOPIFY_CONSENT",
})
SETTINGS_PARSER = SettingsParser("shopify", SETTING_NAMES, ShopifySettings.from_env, platform="shopify")
