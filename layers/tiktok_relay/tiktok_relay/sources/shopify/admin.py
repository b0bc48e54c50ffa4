"""A client of Shopify's GraphQL Admin API, for the few calls the relay makes (listing and
creating webhook subscriptions; the paid orders `reconcile` reads are sources/shopify/orders.py).
Nothing here prints, and nothing returns the access token."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import urllib3

from tiktok_relay import __version__
from tiktok_relay.errors import TikTokRelayError
from tiktok_relay.retry import RetryPolicy, parse_retry_after

# The Admin API version used when none is given: the newest stable release (2026-10) when this
# was written. Shopify supports each stable version for at least 12 months and answers requests
# for a retired one with the oldest supported version, so this keeps working; bump it with each
# quarterly release. `uri` (on WebhookSubscription and its input) exists from 2025-10; older
# versions get the deprecated `callbackUrl` / `endpoint` fields instead.
DEFAULT_API_VERSION = "2026-10"
URI_FIELD_SINCE = "2025-10"
TOKEN_ENV = "SHOPIFY_ADMIN_ACCESS_TOKEN"
# 3 attempts, 1 s then 2 s apart: a few seconds is what a person at a terminal will wait.
ADMIN_RETRY = RetryPolicy(max_attempts=3, base_delay=1.0, max_delay=10.0, jitter=False)
# Statuses that mean the token or the shop was refused: fix the input, retrying won't help.
REFUSED_STATUSES = frozenset({401, 402, 403, 404, 423})
# GraphQL error codes (HTTP 200) that mean the same: a missing access scope, a closed shop.
REFUSED_CODES = frozenset({"ACCESS_DENIED", "SHOP_INACTIVE"})
# Shopify answers HTTP 200 with this code "instead of 500 in most circumstances": retried as a 5xx.
INTERNAL_ERROR = "INTERNAL_SERVER_ERROR"
# The longest the client waits, before a request, for Shopify's cost bucket to hold what the
# previous one cost (a full 1000-point query restores in 10 s at the Standard plan's 100/s).
MAX_PACING_SECONDS = 30.0


class ShopifyAdminError(TikTokRelayError):
    """The Admin API did not do what was asked. `status` is the HTTP status when one came."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status

    @property
    def refused(self) -> bool:
        """The token or the shop was refused (as opposed to a failure that may pass)."""
        return self.status in REFUSED_STATUSES


class ShopifyGraphQLError(ShopifyAdminError):
    """HTTP 200 with top-level GraphQL `errors` (access denied, invalid query, ...)."""

    def __init__(self, errors: list[dict], message: str):
        super().__init__(message, 200)
        self.errors = errors

    @property
    def codes(self) -> set[str]:
        extensions = [e.get("extensions") for e in self.errors]
        return {str(x.get("code") or "") for x in extensions if isinstance(x, dict)} - {""}

    @property
    def refused(self) -> bool:
        return bool(self.codes & REFUSED_CODES)


@dataclass(frozen=True)
class Subscription:
    id: str
    topic: str  # enum form
    uri: str | None


@dataclass(frozen=True)
class CreateResult:
    subscription: Subscription | None
    user_errors: list[str] = field(default_factory=list)


def _uses_uri(api_version: str) -> bool:
    return api_version == "unstable" or api_version >= URI_FIELD_SINCE


_ENDPOINT_FIELDS = "endpoint { __typename ... on WebhookHttpEndpoint { callbackUrl } }"


class ShopifyAdminClient:
    """GraphQL Admin API over HTTPS, for the few calls `register` makes.

    `base_url` replaces `https://{shop}` (tests point it at the fake Admin API). 429, 5xx,
    dropped connections and the GraphQL errors THROTTLED and INTERNAL_SERVER_ERROR are retried
    as `retry` says, honouring Retry-After and the cost a THROTTLED answer reports. Each answer's
    `extensions.cost` paces the next request: when the bucket holds less than the answered
    query's requested cost, the next request first waits for it to refill (at most
    MAX_PACING_SECONDS). Failures raise ShopifyAdminError. Nothing here prints or returns the token.
    """

    def __init__(self, shop: str, token: str, api_version: str = DEFAULT_API_VERSION, base_url: str | None = None,
                 *, retry: RetryPolicy = ADMIN_RETRY, timeout: urllib3.Timeout | None = None,
                 pool: urllib3.PoolManager | None = None, sleep: Callable[[float], None] = time.sleep):
        self.shop = shop
        self.api_version = api_version
        self.url = f"{(base_url or f'https://{shop}').rstrip('/')}/admin/api/{api_version}/graphql.json"
        self._token = token
        self.retry = retry
        self.timeout = timeout or urllib3.Timeout(connect=5.0, read=30.0)
        self._pool = pool or urllib3.PoolManager(retries=False)
        self._sleep = sleep
        self._pacing = 0.0  # seconds the next request waits first (the cost bucket refilling)
        self.uses_uri = _uses_uri(api_version)

    def __repr__(self) -> str:  # no token
        return f"ShopifyAdminClient(shop={self.shop!r}, api_version={self.api_version!r}, url={self.url!r})"

    def redact(self, text: str) -> str:
        return text.replace(self._token, "[access token]") if self._token else text

    # --- transport ---

    def execute(self, query: str, variables: dict | None = None) -> dict:
        """POST one GraphQL document; the decoded response (it may hold `errors`)."""
        body = json.dumps({"query": query, "variables": variables or {}}).encode()
        headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "User-Agent": f"tiktok-relay/{__version__} (register)",
            "X-Shopify-Access-Token": self._token,
        }
        if self._pacing > 0:
            self._sleep(self._pacing)
            self._pacing = 0.0
        attempts = 0
        while True:
            attempts += 1
            try:
                response = self._pool.request("POST", self.url, body=body, headers=headers,
                                              timeout=self.timeout, retries=False, redirect=False)
            except urllib3.exceptions.HTTPError as exc:
                pause = self.retry.next_delay(attempts)
                if pause is None:
                    raise ShopifyAdminError(
                        f"cannot reach the Shopify Admin API at {self.url} after {attempts} attempts "
                        f"({type(exc).__name__})") from None
                self._sleep(pause)
                continue
            status = response.status
            if status == 429 or status >= 500:
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                pause = self.retry.next_delay(attempts, retry_after=retry_after)
                if pause is None:
                    raise self._http_error(status, response.data, attempts)
                self._sleep(pause)
                continue
            if status != 200:
                raise self._http_error(status, response.data, attempts)
            payload = _json_object(response.data)
            if payload is None:
                raise ShopifyAdminError(f"the Shopify Admin API at {self.url} answered HTTP 200 with a body that "
                                        "is not a JSON object", status)
            throttled = _throttle_delay(payload)
            if throttled is None and _has_code(payload, INTERNAL_ERROR):
                throttled = 0.0  # the backoff, as for a 5xx
            if throttled is not None:
                pause = self.retry.next_delay(attempts, retry_after=throttled or None)
                if pause is not None:
                    self._sleep(pause)
                    continue
            self._pacing = _refill_delay(payload)
            return payload

    def _http_error(self, status: int, raw: bytes, attempts: int) -> ShopifyAdminError:
        detail = _error_detail(raw)
        detail = f" ({self.redact(detail)})" if detail else ""
        where = f"the Shopify Admin API at {self.url}"
        if status == 401:
            return ShopifyAdminError(
                f"{where} refused the access token (HTTP 401){detail}: check --access-token / {TOKEN_ENV}: "
                f"it must be an Admin API access token of an app installed on {self.shop}", status)
        if status == 402:
            return ShopifyAdminError(f"{where} answered HTTP 402 Payment Required: the shop is frozen (unpaid)"
                                     f"{detail}", status)
        if status == 403:
            return ShopifyAdminError(
                f"{where} answered HTTP 403 Forbidden{detail}: the token may not use the Admin API for this shop "
                "(app uninstalled, or missing access scopes: read_orders, read_customers)", status)
        if status == 404:
            return ShopifyAdminError(
                f"{where} answered HTTP 404 Not Found{detail}: check --shop (the shop's permanent "
                f"*.myshopify.com domain) and --api-version ({self.api_version})", status)
        if status == 423:
            return ShopifyAdminError(f"{where} answered HTTP 423 Locked: the shop is locked{detail}", status)
        if status == 429:
            return ShopifyAdminError(f"{where} kept rate-limiting (HTTP 429, {attempts} attempts){detail}; "
                                     "try again in a minute", status)
        if status >= 500:
            return ShopifyAdminError(f"{where} kept failing (HTTP {status}, {attempts} attempts){detail}; "
                                     "Shopify may be having trouble, try again later", status)
        return ShopifyAdminError(f"{where} answered HTTP {status}{detail}", status)

    # --- operations ---

    def _node_fields(self) -> str:
        return "id topic uri" if self.uses_uri else f"id topic {_ENDPOINT_FIELDS}"

    def list_subscriptions(self, page_size: int = 100) -> list[Subscription]:
        """Every webhook subscription this app has on the shop (all pages)."""
        query = (
            "query RelayWebhookSubscriptions($first: Int!, $after: String) {\n"
            "  webhookSubscriptions(first: $first, after: $after) {\n"
            f"    nodes {{ {self._node_fields()} }}\n"
            "    pageInfo { hasNextPage endCursor }\n"
            "  }\n"
            "}"
        )
        out: list[Subscription] = []
        cursor: str | None = None
        for _ in range(10_000):  # a bound, in case a server repeats its cursor forever
            payload = self.execute(query, {"first": page_size, "after": cursor})
            self.raise_errors(payload, "listing webhook subscriptions")
            connection = dig(payload, "data", "webhookSubscriptions")
            if not isinstance(connection, dict):
                raise ShopifyAdminError("the Admin API answer has no data.webhookSubscriptions")
            out.extend(self._subscription(node) for node in connection.get("nodes") or [] if isinstance(node, dict))
            info = connection.get("pageInfo") or {}
            if not info.get("hasNextPage"):
                return out
            next_cursor = info.get("endCursor")
            if not next_cursor or next_cursor == cursor:
                raise ShopifyAdminError("the Admin API said there are more webhook subscriptions but gave no "
                                        "new cursor")
            cursor = next_cursor
        raise ShopifyAdminError("too many pages of webhook subscriptions")

    def create_subscription(self, topic: str, uri: str) -> CreateResult:
        """`webhookSubscriptionCreate` for one topic (enum form) and uri, JSON format."""
        query = (
            "mutation RelayWebhookSubscriptionCreate($topic: WebhookSubscriptionTopic!, "
            "$webhookSubscription: WebhookSubscriptionInput!) {\n"
            "  webhookSubscriptionCreate(topic: $topic, webhookSubscription: $webhookSubscription) {\n"
            f"    webhookSubscription {{ {self._node_fields()} }}\n"
            "    userErrors { field message }\n"
            "  }\n"
            "}"
        )
        destination = {"uri": uri} if self.uses_uri else {"callbackUrl": uri}
        payload = self.execute(query, {"topic": topic, "webhookSubscription": {**destination, "format": "JSON"}})
        self.raise_errors(payload, f"creating {topic}")
        result = dig(payload, "data", "webhookSubscriptionCreate")
        if not isinstance(result, dict):
            raise ShopifyAdminError(f"the Admin API answer has no data.webhookSubscriptionCreate for {topic}")
        errors = []
        for error in result.get("userErrors") or []:
            if isinstance(error, dict):
                where = ".".join(str(f) for f in error.get("field") or [])
                message = self.redact(str(error.get("message") or "no message"))
                errors.append(f"{where}: {message}" if where else message)
        node = result.get("webhookSubscription")
        return CreateResult(self._subscription(node) if isinstance(node, dict) else None, errors)

    def _subscription(self, node: dict) -> Subscription:
        uri = node.get("uri")
        if uri is None:
            endpoint = node.get("endpoint") or {}
            uri = endpoint.get("callbackUrl") or node.get("callbackUrl")
        return Subscription(str(node.get("id") or ""), str(node.get("topic") or ""), uri)

    def raise_errors(self, payload: dict, doing: str) -> None:
        errors = payload.get("errors")
        if not errors:
            return
        if isinstance(errors, str):  # Shopify sometimes answers {"errors": "text"}
            errors = [{"message": errors}]
        errors = [e if isinstance(e, dict) else {"message": str(e)} for e in errors]
        text = "; ".join(self.redact(str(e.get("message") or "unknown error")) for e in errors)
        raise ShopifyGraphQLError(errors, f"Shopify refused {doing}: {text}")


def dig(payload: object, *keys: str) -> object:
    """payload[keys[0]][keys[1]]...; None where a level is missing or not an object."""
    for key in keys:
        if not isinstance(payload, dict):
            return None
        payload = payload.get(key)
    return payload


def _has_code(payload: dict, code: str) -> bool:
    """Whether the answer holds a GraphQL error with extensions.code `code`."""
    errors = payload.get("errors")
    return isinstance(errors, list) and any(
        isinstance(e, dict) and isinstance(e.get("extensions"), dict) and e["extensions"].get("code") == code
        for e in errors)


def _bucket_shortfall(payload: dict) -> float | None:
    """Seconds until Shopify's cost bucket holds the answered query's requested cost again, from
    its `extensions.cost` (0 when it does now); None when the answer reports no usable cost."""
    found = dig(payload, "extensions", "cost")
    cost: dict[str, Any] = found if isinstance(found, dict) else {}
    status = cost.get("throttleStatus")
    throttle: dict[str, Any] = status if isinstance(status, dict) else {}
    try:
        needed = float(cost["requestedQueryCost"]) - float(throttle["currentlyAvailable"])
        seconds = max(0.0, needed / float(throttle["restoreRate"]))
    except (KeyError, TypeError, ValueError, ZeroDivisionError):
        return None
    return seconds if math.isfinite(seconds) else None


def _throttle_delay(payload: dict) -> float | None:
    """Seconds to wait when the answer is a GraphQL THROTTLED error (0: unknown), else None."""
    if not _has_code(payload, "THROTTLED"):
        return None
    return _bucket_shortfall(payload) or 0.0


def _refill_delay(payload: dict) -> float:
    """How long the next request waits first, so that it is not throttled (see the client)."""
    return min(MAX_PACING_SECONDS, _bucket_shortfall(payload) or 0.0)


def _error_detail(raw: bytes) -> str:
    """Shopify's `errors` text from an error body, shortened; empty for HTML or nothing."""
    try:
        payload = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return ""
    errors = payload.get("errors") if isinstance(payload, dict) else None
    if isinstance(errors, list):
        errors = "; ".join(str(e.get("message") if isinstance(e, dict) else e) for e in errors)
    return str(errors)[:300] if errors else ""


def _json_object(raw: bytes) -> dict | None:
    try:
        payload = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None
    return payload if isinstance(payload, dict) else None
