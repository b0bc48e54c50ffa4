"""What the local tools need to know about each store platform: where its webhooks arrive, how
a delivery is signed, which variable holds the secret, and the public local development secret.

`replay`, `serve` and `sign` read this table, so supporting another platform locally is one
more `LocalPlatform` entry (its signed headers are the only code it needs here).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from tiktok_relay.errors import ConfigurationError
from tiktok_relay.pipeline.ports import Tenant
from tiktok_relay.pipeline.tenants import TENANTS_FILE_VARIABLE
from tiktok_relay.sources.common.signing import parse_secrets

# The secret that signed the files in events/. Public on purpose: for local runs only.
LOCAL_WEBHOOK_SECRET = "tiktok-relay-local-dev-secret"


@dataclass(frozen=True)
class Delivery:
    """What a store sends besides the body, as far as signing is concerned."""

    topic: str
    shop_domain: str
    webhook_id: str
    triggered_at: str  # ISO 8601, UTC


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
    from tiktok_relay.sources.shopify.receiver import WEBHOOK_PATH
    from tiktok_relay.sources.shopify.signature import SECRET_VARIABLE
    from tiktok_relay.sources.shopify.topics import resolve_topic

    return LocalPlatform(name="shopify", display_name="Shopify", path=WEBHOOK_PATH, secret_variable=SECRET_VARIABLE,
                         default_shop_domain="example.myshopify.com", resolve_topic=resolve_topic,
                         signed_headers=_shopify_headers)


PLATFORMS: dict[str, Callable[[], LocalPlatform]] = {"shopify": _shopify}


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
    triggered = now().astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return Delivery(topic, shop_domain, webhook_id or str(uuid.uuid4()), triggered)


def tenant_secret(tenant: Tenant, origin: str) -> WebhookSecret:
    """A tenant's webhook secrets, named by its shop and the document (never the value)."""
    return WebhookSecret(tuple(tenant.webhook_secrets), True, TENANTS_FILE_VARIABLE,
                         label=f"shop {tenant.key}'s webhook_secret in {origin}")
