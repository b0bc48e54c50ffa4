"""What the local tools need to know about each store platform: where its webhooks arrive, how
a delivery is signed, which variable holds the secret, and the public local development secret.

`replay`, `serve`, `sign` and `map` read this table, so supporting another platform locally is
one more `LocalPlatform` entry (its signed headers are the only code it needs here).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tiktok_relay.errors import ConfigurationError, UsageError
from tiktok_relay.pipeline.ports import Tenant
from tiktok_relay.pipeline.tenants import TENANTS_FILE_VARIABLE
from tiktok_relay.sources.common.signing import parse_secrets
from tiktok_relay.sources.routes import WEBHOOK_PATHS

# The secret that signed the files in events/. Public on purpose: for local runs only.
LOCAL_WEBHOOK_SECRET = "tiktok-relay-local-dev-secret"


@dataclass(frozen=True)
class Delivery:
    """What a store sends besides the body, as far as signing is concerned."""

    topic: str
    shop_domain: str  # the store, as the platform names it in its headers (a Shopify shop, a store URL)
    webhook_id: str
    triggered_at: str  # ISO 8601, UTC
    timestamp: int = 0  # the same moment in unix seconds (what Stripe signs)


@dataclass(frozen=True)
class LocalPlatform:
    name: str  # the --platform value
    display_name: str
    path: str  # the receiver's route
    secret_variable: str  # where the secret(s) come from outside AWS
    default_shop_domain: str
    # A topic as the user typed it -> its canonical form; UsageError listing the known ones.
    resolve_topic: Callable[[str], str]
    # (body, secret, delivery) -> the headers the store sends with that body
    signed_headers: Callable[[bytes, str, Delivery], dict[str, str]]
    # Where the delivery names its topic and store when not in headers (Stripe: the event's type
    # and account are in the body): the parsed body -> (topic, store). None: headers name them.
    body_identity: Callable[[Any], tuple[str, str]] | None = None
    # The store a body names itself (a WooCommerce order's own REST link), as --shop-domain takes
    # it: the default when --shop-domain is not given. None: default_shop_domain.
    store_from_body: Callable[[Any], str | None] | None = None

    # A tenant key as the store's header names it (a WooCommerce store's key is its URL without
    # the scheme: the header is the URL).
    header_store: Callable[[str], str] = str

    def body_store(self, payload: Any) -> str | None:
        """The store the body names itself, as --shop-domain takes it; None when it names none."""
        return self.store_from_body(payload) if self.store_from_body is not None else None

    def shop_for(self, given: str | None, payload: Any) -> str:
        """--shop-domain as given, else the store the body names, else the platform's default."""
        return given or self.body_store(payload) or self.default_shop_domain

    def topic_for(self, given: str | None, payload: Any) -> str:
        """The delivery's topic: `given` (--topic) resolved, or the one the body names; UsageError
        when there is none, or when both are there and differ."""
        in_body = self.body_identity(payload)[0] if self.body_identity is not None else None
        if given is None:
            if in_body is None:
                raise UsageError(f"--topic is required for {self.display_name} (the topic header it sends)")
            return in_body
        topic = self.resolve_topic(given)
        if in_body is not None and topic != in_body:
            raise UsageError(f"--topic {topic} is not the body's type ({in_body}): {self.display_name} signs the "
                             "event whole, so its type is the body's")
        return topic


@dataclass(frozen=True)
class WebhookSecret:
    """The secrets a local run checks signatures with, and how to name their source (never the value)."""

    secrets: tuple[str, ...]
    from_environment: bool
    variable: str
    label: str | None = None  # how to name them instead (a tenant's: "shop X's webhook_secret in ...")

    @property
    def signing_secret(self) -> str:
        """What `sign` signs with: the first one listed (any listed one verifies)."""
        return self.secrets[0]

    def describe(self) -> str:
        if self.label is not None:
            return self.label
        if not self.from_environment:
            return "the local development secret (what events/ and `tiktok-relay sign` use; see README)"
        count = len(self.secrets)
        return f"{self.variable} ({count} secret{'s' if count > 1 else ''})"


def _shopify_headers(body: bytes, secret: str, delivery: Delivery) -> dict[str, str]:
    from tiktok_relay.local.apigw import shopify_headers

    return shopify_headers(delivery.topic, body, secret, shop=delivery.shop_domain, webhook_id=delivery.webhook_id,
                           triggered_at=delivery.triggered_at)


def _shopify() -> LocalPlatform:
    from tiktok_relay.sources.shopify.signature import SECRET_VARIABLE
    from tiktok_relay.sources.shopify.topics import resolve_topic

    return LocalPlatform(name="shopify", display_name="Shopify", path=WEBHOOK_PATHS["shopify"],
                         secret_variable=SECRET_VARIABLE, default_shop_domain="example.myshopify.com",
                         resolve_topic=resolve_topic, signed_headers=_shopify_headers)


def _woocommerce_headers(body: bytes, secret: str, delivery: Delivery) -> dict[str, str]:
    from tiktok_relay.local.apigw import woocommerce_headers

    return woocommerce_headers(delivery.topic, body, secret, source=delivery.shop_domain,
                               delivery_id=delivery.webhook_id)


def _woocommerce() -> LocalPlatform:
    from tiktok_relay.sources.woocommerce.signature import SECRET_VARIABLE
    from tiktok_relay.sources.woocommerce.topics import resolve_topic

    return LocalPlatform(name="woocommerce", display_name="WooCommerce", path=WEBHOOK_PATHS["woocommerce"],
                         secret_variable=SECRET_VARIABLE, default_shop_domain="https://shop.example.com/",
                         resolve_topic=resolve_topic, signed_headers=_woocommerce_headers,
                         store_from_body=_woocommerce_store, header_store=lambda key: f"https://{key}/")


def _woocommerce_store(payload: Any) -> str | None:
    """https://<host>/ of an order's own REST link (_links.self), the store that made it."""
    from tiktok_relay.sources.woocommerce.store import links_host

    host = links_host(payload) if isinstance(payload, dict) else None
    return f"https://{host}/" if host else None


def _stripe_headers(body: bytes, secret: str, delivery: Delivery) -> dict[str, str]:
    from tiktok_relay.local.apigw import stripe_headers

    return stripe_headers(body, secret, timestamp=delivery.timestamp)


def _stripe_identity(payload: Any) -> tuple[str, str]:
    """(type, account) of a Stripe event body; UsageError when it is not one."""
    kind = payload.get("type") if isinstance(payload, dict) else None
    if not isinstance(kind, str) or not kind.strip() or payload.get("object") != "event":
        raise UsageError('not a Stripe event: a Stripe webhook body is an Event object ("object": "event", '
                         'with its "type")')
    account = payload.get("account")
    return kind.strip(), account if isinstance(account, str) else "stripe"


def _stripe_topic(text: str) -> str:
    return text.strip().lower()


def _stripe() -> LocalPlatform:
    from tiktok_relay.sources.stripe.signature import SECRET_VARIABLE

    return LocalPlatform(name="stripe", display_name="Stripe", path=WEBHOOK_PATHS["stripe"],
                         secret_variable=SECRET_VARIABLE, default_shop_domain="stripe", resolve_topic=_stripe_topic,
                         signed_headers=_stripe_headers, body_identity=_stripe_identity)


PLATFORMS: dict[str, Callable[[], LocalPlatform]] = {"shopify": _shopify, "woocommerce": _woocommerce,
                                                     "stripe": _stripe}


def platform_of_path(path: str) -> str | None:
    """The platform whose webhooks arrive on `path` (a request's or an event file's route)."""
    return next((name for name, route in WEBHOOK_PATHS.items() if path.rstrip("/") == route), None)


def platform(name: str) -> LocalPlatform:
    return PLATFORMS[name]()


def webhook_secret(local_platform: LocalPlatform, env: Mapping[str, str] | None = None) -> WebhookSecret:
    """The platform's secret variable if it is set, else the local development secret. A set
    variable that holds no secret (empty, only commas or spaces) is an error, never a silent
    fallback to the public secret."""
    env = os.environ if env is None else env
    name = local_platform.secret_variable
    if name not in env:
        return WebhookSecret((LOCAL_WEBHOOK_SECRET,), False, name)
    secrets = parse_secrets(env[name])
    if not secrets:
        raise ConfigurationError(f"{name} is set but holds no secret; set it to your app's secret, or unset it "
                                 "to use the local development secret")
    return WebhookSecret(tuple(secrets), True, name)


def new_delivery(topic: str, shop_domain: str, webhook_id: str | None = None,
                 now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> Delivery:
    """A fresh delivery: a new webhook id unless one is given (the same id is a redelivery)."""
    moment = now().astimezone(UTC)
    triggered = moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return Delivery(topic, shop_domain, webhook_id or str(uuid.uuid4()), triggered, int(moment.timestamp()))


def tenant_secret(tenant: Tenant, origin: str) -> WebhookSecret:
    """A tenant's webhook secrets, named by its shop and the document (never the value)."""
    return WebhookSecret(tuple(tenant.webhook_secrets), True, TENANTS_FILE_VARIABLE,
                         label=f"shop {tenant.key}'s webhook_secret in {origin}")
