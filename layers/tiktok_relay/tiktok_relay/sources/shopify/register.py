"""Subscribing a shop's webhooks to the deployed receiver: what `tiktok-relay register shopify`
does, without the printing (that is tiktok_relay/cli/register.py).

Two ways to subscribe, as Shopify offers them, each to one of two destinations: the deployed
HTTPS receiver (`--url`), or with `--eventbridge ARN` the stack's Amazon EventBridge partner
event source (Shopify takes the event source's ARN as the subscription's `uri`, from Admin API
2025-10; the older `eventBridgeWebhookSubscriptionCreate` is deprecated and not used).

* Shop-specific subscriptions through the GraphQL Admin API (the default). It lists the app's
  existing subscriptions (`webhookSubscriptions`, every page) and creates only the missing
  (topic, uri) pairs with `webhookSubscriptionCreate`, so running it again is safe and doubles as
  a health check: Shopify deletes an Admin-API subscription after 8 consecutive failed deliveries.
* The `[webhooks]` block for the app's `shopify.app.toml` (app-wide subscriptions, deployed with
  `shopify app deploy`): `toml_block`; no token, nothing is called.

Environment:

| Variable                    | Meaning                                                         | Default            |
|-----------------------------|-----------------------------------------------------------------|--------------------|
| SHOPIFY_ADMIN_ACCESS_TOKEN  | Admin API access token, when --access-token is not given        | required (API)     |
| SHOPIFY_ADMIN_BASE_URL      | replaces `https://{shop}` in the Admin API URL, e.g. the fake   | unset              |
|                             | Admin API of `tiktok_relay.testing.fake_shopify_admin`          |                    |
| SHOPIFY_TOPIC_EVENTS        | decides the default topics: every topic mapped to an event      | see settings.py    |
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit

from tiktok_relay.errors import ConfigurationError, UsageError
from tiktok_relay.sources.shopify.admin import (
    DEFAULT_API_VERSION,
    TOKEN_ENV,
    URI_FIELD_SINCE,
    ShopifyAdminClient,
    ShopifyGraphQLError,
)
from tiktok_relay.sources.shopify.shops import SHOP_DOMAIN
from tiktok_relay.sources.shopify.topics import required_scope, topic_enum

BASE_URL_ENV = "SHOPIFY_ADMIN_BASE_URL"

_API_VERSION = re.compile(r"^(\d{4}-\d{2}|unstable)$")
# A Shopify partner event source's ARN, as Shopify validates it (an empty account field, the app's
# API client id, then the source's name): arn:aws:events:us-east-1::event-source/aws.partner/shopify.com/123/name
_EVENT_SOURCE_ARN = re.compile(
    r"arn:aws[a-z-]*:events:[a-z]{2}(-[a-z]+)+-[0-9]+::event-source/aws\.partner/shopify\.com/[A-Za-z0-9]+/[.\-_A-Za-z0-9]+")
_LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_TLD = re.compile(r"^([a-z]{2,63}|xn--[a-z0-9-]{1,59})$")
# Names reserved for documentation and tests (RFC 2606, RFC 6761): a URL on them is a placeholder.
_RESERVED_DOMAINS = ("example.com", "example.net", "example.org")
_RESERVED_TLDS = ("example", "invalid", "test", "localhost")


# --- input validation ---------------------------------------------------------------------------


def normalize_shop(value: str) -> str:
    """`Shop.myshopify.com`, `https://shop.myshopify.com/` -> `shop.myshopify.com`."""
    shop = value.strip().lower()
    for prefix in ("https://", "http://"):
        if shop.startswith(prefix):
            shop = shop[len(prefix):]
    shop = shop.rstrip("/")
    if not SHOP_DOMAIN.fullmatch(shop):
        hint = ""
        if shop and "." not in shop and "/" not in shop:
            hint = f" (did you mean {shop}.myshopify.com?)"
        raise UsageError(
            f"--shop must be the shop's myshopify.com domain, like example.myshopify.com, "
            f"not {value!r}{hint}; a custom domain does not work here"
        )
    return shop


def validate_url(value: str) -> str:
    """The webhook URL: https, or http to localhost/127.0.0.1 for local testing."""
    url = value.strip()
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        raise UsageError(f"--url is not a valid URL: {value!r}") from None
    if any(c.isspace() for c in url) or not host:
        raise UsageError(f"--url must be an absolute https:// URL, not {value!r}")
    if parts.fragment:
        raise UsageError("--url must not have a #fragment")
    if problem := _host_problem(host):
        raise UsageError(f"--url {value!r}: {problem}; use the deployed URL (stack output ShopifyWebhookUrl)")
    if parts.scheme == "https":
        return url
    if parts.scheme == "http" and host in _LOCAL_HOSTS:
        return url
    if parts.scheme == "http":
        raise UsageError(
            f"--url must use https:// (Shopify only delivers to HTTPS); http:// is allowed only for "
            f"localhost and 127.0.0.1, for local testing. Got {value!r}"
        )
    raise UsageError(f"--url must be an https:// URL, not {value!r}")


def _host_problem(host: str) -> str | None:
    """Why `host` cannot be where webhooks go (a placeholder such as `...`), or None."""
    if host in _LOCAL_HOSTS:
        return None
    try:
        ipaddress.ip_address(host)
        return None
    except ValueError:
        pass
    labels = host.removesuffix(".").split(".")
    if len(labels) < 2 or len(host) > 253 or not all(_LABEL.match(label) for label in labels) \
            or not _TLD.match(labels[-1]):
        return f"{host!r} is not a real host name"
    if labels[-1] in _RESERVED_TLDS or ".".join(labels[-2:]) in _RESERVED_DOMAINS:
        return f"{host!r} is a reserved example name, not a real host"
    return None


def validate_event_source_arn(value: str) -> str:
    """The ARN of a Shopify partner event source (what `--eventbridge` takes)."""
    arn = value.strip()
    if not _EVENT_SOURCE_ARN.fullmatch(arn):
        raise UsageError("--eventbridge must be the ARN of the Shopify partner event source, like "
                         "arn:aws:events:us-east-1::event-source/aws.partner/shopify.com/APP_ID/NAME (EventBridge "
                         f"console > Partner event sources), not {value!r}")
    return arn


def check_destination_version(uri: str, api_version: str) -> None:
    """An EventBridge ARN goes in the subscription's `uri`, which Admin API versions before
    URI_FIELD_SINCE lack (their EventBridge mutation is deprecated): UsageError for those."""
    if uri.startswith("arn:") and api_version != "unstable" and api_version < URI_FIELD_SINCE:
        raise UsageError(f"--eventbridge needs --api-version {URI_FIELD_SINCE} or later (Shopify takes an event "
                         "source's ARN as the subscription's uri from then on)")


def validate_api_version(value: str | None) -> str:
    version = (value or DEFAULT_API_VERSION).strip()
    if not _API_VERSION.fullmatch(version):
        raise UsageError(f"--api-version must look like {DEFAULT_API_VERSION} (YYYY-MM), not {value!r}")
    return version


def admin_base_url(shop: str, env: Mapping[str, str] | None = None) -> str:
    """`https://{shop}`, or SHOPIFY_ADMIN_BASE_URL when set (tests, the fake Admin API)."""
    env = os.environ if env is None else env
    override = (env.get("SHOPIFY_ADMIN_BASE_URL") or "").strip().rstrip("/")  # BASE_URL_ENV
    if not override:
        return f"https://{shop}"
    if not override.startswith(("https://", "http://")) or not urlsplit(override).hostname:
        raise ConfigurationError(f"{BASE_URL_ENV} must be an http(s) URL like http://127.0.0.1:8080")
    return override


def validate_token(value: str | None, *, also: str | None = None) -> str:
    """The Admin API access token, checked before it goes into an HTTP header (never echoed).
    `also` names one more place it may come from, for the message."""
    token = (value or "").strip()
    if not token:
        raise UsageError(f"no Admin API access token: pass --access-token or set {TOKEN_ENV}"
                         + (f" (or {also})" if also else ""))
    if not all(33 <= ord(c) <= 126 for c in token):
        raise UsageError(f"the access token (--access-token / {TOKEN_ENV}) has spaces or characters that "
                         "cannot be sent in an HTTP header; paste it again")
    return token


# --- messages -----------------------------------------------------------------------------------


def explain_graphql_error(error: ShopifyGraphQLError, topic: str | None) -> str:
    """The error, with what to do about it when it is a missing access scope."""
    message = str(error)
    if "ACCESS_DENIED" not in error.codes and "access denied" not in message.lower():
        return message
    scope = required_scope(topic) if topic else None
    if scope:
        covers = ("orders/*, checkouts/*, carts/* and refunds/create" if scope == "read_orders"
                  else "customers/*")
        return (f"{message}. The access token lacks the `{scope}` access scope, which {covers} need: "
                f"add {scope} to the app's Admin API access scopes, reinstall or approve the app on the shop, "
                "and run register again")
    return (f"{message}. The access token lacks an access scope this needs: these topics need read_orders "
            "(orders/checkouts/carts/refunds) and read_customers (customers)")


def explain_user_error(message: str, topic: str | None = None) -> str:
    """A userError, with a hint when it is about protected customer data or permissions."""
    text = message.lower()
    if "protected customer data" in text:
        return (f"{message} (order, checkout and customer topics carry protected customer data: request "
                "access to it for the app in the Partner Dashboard / Dev Dashboard, API access section)")
    scope = required_scope(topic) if topic else None
    if scope and ("permission" in text or "access" in text or "invalid topic" in text):
        return f"{message} (this topic needs the `{scope}` access scope)"
    return message


def _already_exists(message: str) -> bool:
    text = message.lower()
    return "already been taken" in text or "already exists" in text


def toml_block(topics: list[str], url: str, api_version: str) -> str:
    """The `[webhooks]` block of shopify.app.toml (TOML basic strings are JSON strings here)."""
    scopes = sorted({s for t in topics if (s := required_scope(t))})
    lines = [
        "# tiktok-relay webhooks: paste into your app's shopify.app.toml, then run `shopify app deploy`",
        "# (Shopify CLI 3.63+). App-wide: every shop that installs the app gets these subscriptions.",
    ]
    if scopes:
        lines.append(f"# Needs access scopes {', '.join(scopes)} in [access_scopes] scopes.")
    lines += [
        "[webhooks]",
        f"api_version = {json.dumps(api_version)}",
        "",
        "[[webhooks.subscriptions]]",
        f"topics = [{', '.join(json.dumps(t) for t in topics)}]",
        f"uri = {json.dumps(url)}",
    ]
    return "\n".join(lines) + "\n"


# --- registering ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TopicResult:
    """One topic: created, already there, or failed (with the problems, never the token)."""

    topic: str  # enum form
    outcome: Literal["created", "exists", "failed"]
    problems: list[str] = field(default_factory=list)
    other_uris: list[str] = field(default_factory=list)  # the same topic subscribed elsewhere


@dataclass(frozen=True)
class Registration:
    shop: str
    url: str
    topics: list[TopicResult]

    @property
    def failed(self) -> list[str]:
        return [t.topic for t in self.topics if t.outcome == "failed"]

    def summary(self) -> str:
        created = sum(t.outcome == "created" for t in self.topics)
        exists = sum(t.outcome == "exists" for t in self.topics)
        text = (f"{self.shop}: {created + exists} of {len(self.topics)} topic(s) subscribed to {self.url} "
                f"({created} created, {exists} already existed")
        return text + (f", {len(self.failed)} failed: {', '.join(self.failed)})" if self.failed else ")")


def register_topics(client: ShopifyAdminClient, topics: list[str], url: str) -> Registration:
    """Subscribe each REST-form topic to `url` unless it already is. Raises ShopifyAdminError
    when the shop's subscriptions cannot be listed."""
    try:
        existing = client.list_subscriptions()
    except ShopifyGraphQLError as exc:
        raise ShopifyGraphQLError(exc.errors, explain_graphql_error(exc, None)) from None
    have = {(s.topic, s.uri) for s in existing}
    results = []
    for rest_topic in topics:
        enum = topic_enum(rest_topic)
        others = sorted({s.uri or "?" for s in existing if s.topic == enum and s.uri != url})
        if (enum, url) in have:
            results.append(TopicResult(enum, "exists", other_uris=others))
            continue
        outcome, problems = _create(client, rest_topic, enum, url)
        results.append(TopicResult(enum, outcome, problems, others))
    return Registration(client.shop, url, results)


def _create(client: ShopifyAdminClient, rest_topic: str, enum: str,
            url: str) -> tuple[Literal["created", "exists", "failed"], list[str]]:
    try:
        result = client.create_subscription(enum, url)
    except ShopifyGraphQLError as exc:
        return "failed", [explain_graphql_error(exc, rest_topic)]
    if result.user_errors:
        # A create retried after a lost answer, or a race with another run: already there is fine.
        if all(_already_exists(e) for e in result.user_errors):
            return "exists", []
        return "failed", [explain_user_error(e, rest_topic) for e in result.user_errors]
    if result.subscription is None:
        return "failed", ["Shopify returned neither a subscription nor userErrors"]
    return "created", []
