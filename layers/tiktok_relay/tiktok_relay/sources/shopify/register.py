"""`tiktok-relay register shopify`: subscribe a shop's webhooks to the deployed receiver URL.

Two routes, as Shopify offers them:

* Shop-specific subscriptions through the GraphQL Admin API (the default). It lists the app's
  existing subscriptions (`webhookSubscriptions`, every page) and creates only the missing
  (topic, uri) pairs with `webhookSubscriptionCreate`, so running it again is safe and doubles as
  a health check: Shopify deletes an Admin-API subscription after 8 consecutive failed deliveries.
* `--print-toml` prints the `[webhooks]` block for the app's `shopify.app.toml` (app-wide
  subscriptions, deployed with `shopify app deploy`); no token, nothing is called.

Environment:

| Variable                    | Meaning                                                         | Default            |
|-----------------------------|-----------------------------------------------------------------|--------------------|
| SHOPIFY_ADMIN_ACCESS_TOKEN  | Admin API access token, when --access-token is not given        | required (API)     |
| SHOPIFY_ADMIN_BASE_URL      | replaces `https://{shop}` in the Admin API URL, e.g. the fake   | unset              |
|                             | Admin API of `tiktok_relay.testing.fake_shopify_admin`          |                    |
| SHOPIFY_TOPIC_EVENTS        | decides the default topics: every topic mapped to an event      | see settings.py    |

Exit status: 0 every topic is subscribed; 1 some topic is not (Shopify refused it, or kept
failing); 2 invalid input or configuration (bad --shop/--url/--topics, no token, token or shop
refused by Shopify). The access token is never printed.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import urllib3

from tiktok_relay import __version__
from tiktok_relay.errors import ConfigurationError, TikTokRelayError

EXIT_OK, EXIT_NOT_SUBSCRIBED, EXIT_USAGE = 0, 1, 2

# The Admin API version used when --api-version is not given: the newest stable release
# (2026-10) when this was written. Shopify supports each stable version for at least 12 months
# and answers requests for a retired one with the oldest supported version, so this keeps working;
# bump it with each quarterly release. `uri` (on WebhookSubscription and its input) exists from
# 2025-10; older versions get the deprecated `callbackUrl` / `endpoint` fields instead.
DEFAULT_API_VERSION = "2026-10"
URI_FIELD_SINCE = "2025-10"

TOKEN_ENV = "SHOPIFY_ADMIN_ACCESS_TOKEN"
BASE_URL_ENV = "SHOPIFY_ADMIN_BASE_URL"

_SHOP = re.compile(r"^[a-z0-9][a-z0-9-]*\.myshopify\.com$")
_API_VERSION = re.compile(r"^(\d{4}-\d{2}|unstable)$")
_LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")

# Access scope each topic family needs (a write_ scope implies the read_ one).
_SCOPE_BY_FAMILY = {
    "orders": "read_orders",
    "checkouts": "read_orders",
    "carts": "read_orders",
    "refunds": "read_orders",
    "customers": "read_customers",
}


class RegisterError(TikTokRelayError):
    """Registration cannot go on. `exit_code` is what the command exits with."""

    def __init__(self, message: str, exit_code: int = EXIT_NOT_SUBSCRIBED):
        super().__init__(message)
        self.exit_code = exit_code


class ShopifyHTTPError(RegisterError):
    """The Admin API answered with an HTTP error (after retries, for 429 and 5xx)."""

    def __init__(self, message: str, status: int | None, exit_code: int = EXIT_NOT_SUBSCRIBED):
        super().__init__(message, exit_code)
        self.status = status


class ShopifyGraphQLError(RegisterError):
    """HTTP 200 with top-level GraphQL `errors` (access denied, invalid query, ...)."""

    def __init__(self, errors: list[dict], message: str):
        super().__init__(message)
        self.errors = errors

    @property
    def codes(self) -> set[str]:
        extensions = [e.get("extensions") for e in self.errors]
        return {str(x.get("code") or "") for x in extensions if isinstance(x, dict)} - {""}


# --- topics -------------------------------------------------------------------------------------


def topic_enum(topic: str) -> str:
    """REST form to GraphQL enum form: orders/paid -> ORDERS_PAID."""
    return topic.strip().replace("/", "_").upper()


def required_scope(topic: str) -> str | None:
    """The access scope a topic (REST or enum form) needs, when known."""
    family = topic.strip().lower().replace("_", "/").split("/")[0]
    return _SCOPE_BY_FAMILY.get(family)


def known_topics() -> list[str]:
    """Topics the receiver knows (REST form): the ones `--topics` accepts."""
    from tiktok_relay.sources.shopify.settings import DEFAULT_TOPIC_EVENTS

    return sorted(DEFAULT_TOPIC_EVENTS)


def resolve_topics(requested: Iterable[str] | None, mapped: list[str]) -> list[str]:
    """The REST-form topics to subscribe, in order, without repeats. `requested` may mix REST
    (orders/paid) and enum (ORDERS_PAID) forms and comma-separated lists; None means `mapped`."""
    if requested is None:
        return list(mapped)
    known = known_topics()
    by_enum = {topic_enum(t): t for t in known}
    out: list[str] = []
    unknown: list[str] = []
    for item in requested:
        for raw in item.split(","):
            raw = raw.strip()
            if not raw:
                continue
            topic = raw.lower() if "/" in raw else by_enum.get(raw.upper())
            if topic not in known:
                unknown.append(raw)
            elif topic not in out:
                out.append(topic)
    if unknown:
        raise RegisterError(
            f"unknown topic(s): {', '.join(unknown)}; known topics: {', '.join(known)}", EXIT_USAGE
        )
    if not out:
        raise RegisterError("--topics lists no topic", EXIT_USAGE)
    return out


# --- input validation ---------------------------------------------------------------------------


def normalize_shop(value: str) -> str:
    """`Shop.myshopify.com`, `https://shop.myshopify.com/` -> `shop.myshopify.com`."""
    shop = value.strip().lower()
    for prefix in ("https://", "http://"):
        if shop.startswith(prefix):
            shop = shop[len(prefix):]
    shop = shop.rstrip("/")
    if not _SHOP.fullmatch(shop):
        hint = ""
        if shop and "." not in shop and "/" not in shop:
            hint = f" (did you mean {shop}.myshopify.com?)"
        raise RegisterError(
            f"--shop must be the shop's myshopify.com domain, like example.myshopify.com, "
            f"not {value!r}{hint}; a custom domain does not work here",
            EXIT_USAGE,
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
        raise RegisterError(f"--url is not a valid URL: {value!r}", EXIT_USAGE) from None
    if any(c.isspace() for c in url) or not host:
        raise RegisterError(f"--url must be an absolute https:// URL, not {value!r}", EXIT_USAGE)
    if parts.fragment:
        raise RegisterError("--url must not have a #fragment", EXIT_USAGE)
    if parts.scheme == "https":
        return url
    if parts.scheme == "http" and host in _LOCAL_HOSTS:
        return url
    if parts.scheme == "http":
        raise RegisterError(
            f"--url must use https:// (Shopify only delivers to HTTPS); http:// is allowed only for "
            f"localhost and 127.0.0.1, for local testing. Got {value!r}",
            EXIT_USAGE,
        )
    raise RegisterError(f"--url must be an https:// URL, not {value!r}", EXIT_USAGE)


def validate_api_version(value: str | None) -> str:
    version = (value or DEFAULT_API_VERSION).strip()
    if not _API_VERSION.fullmatch(version):
        raise RegisterError(f"--api-version must look like {DEFAULT_API_VERSION} (YYYY-MM), not {value!r}",
                            EXIT_USAGE)
    return version


def admin_base_url(shop: str, env=None) -> str:
    """`https://{shop}`, or SHOPIFY_ADMIN_BASE_URL when set (tests, the fake Admin API)."""
    env = os.environ if env is None else env
    override = (env.get(BASE_URL_ENV) or "").strip().rstrip("/")
    if not override:
        return f"https://{shop}"
    if not override.startswith(("https://", "http://")) or not urlsplit(override).hostname:
        raise RegisterError(f"{BASE_URL_ENV} must be an http(s) URL like http://127.0.0.1:8080", EXIT_USAGE)
    return override


# --- the Admin API client -----------------------------------------------------------------------


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
    dropped connections and GraphQL THROTTLED are retried (`max_attempts` in all), honouring
    Retry-After. Nothing here prints or returns the access token.
    """

    def __init__(self, shop: str, token: str, api_version: str = DEFAULT_API_VERSION, base_url: str | None = None,
                 *, max_attempts: int = 3, backoff: float = 1.0, max_delay: float = 10.0,
                 timeout: urllib3.Timeout | None = None, pool: urllib3.PoolManager | None = None,
                 sleep: Callable[[float], None] = time.sleep):
        self.shop = shop
        self.api_version = api_version
        self.url = f"{(base_url or f'https://{shop}').rstrip('/')}/admin/api/{api_version}/graphql.json"
        self._token = token
        self.max_attempts = max(1, max_attempts)
        self.backoff = backoff
        self.max_delay = max_delay
        self.timeout = timeout or urllib3.Timeout(connect=5.0, read=30.0)
        self._pool = pool or urllib3.PoolManager(retries=False)
        self._sleep = sleep
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
        attempt = 0
        while True:
            attempt += 1
            last = attempt >= self.max_attempts
            try:
                response = self._pool.request("POST", self.url, body=body, headers=headers,
                                              timeout=self.timeout, retries=False, redirect=False)
            except urllib3.exceptions.HTTPError as exc:
                if last:
                    raise ShopifyHTTPError(
                        f"cannot reach the Shopify Admin API at {self.url} after {attempt} attempts "
                        f"({type(exc).__name__})", None) from None
                self._sleep(self._backoff(attempt))
                continue
            status = response.status
            if status == 429 or status >= 500:
                if last:
                    raise self._http_error(status, response.data, attempt)
                self._sleep(self._retry_after(response.headers.get("Retry-After"), attempt))
                continue
            if status != 200:
                raise self._http_error(status, response.data, attempt)
            try:
                payload = json.loads(response.data)
            except (ValueError, UnicodeDecodeError):
                payload = None
            if not isinstance(payload, dict):
                raise ShopifyHTTPError(f"the Shopify Admin API at {self.url} answered HTTP 200 with a body that "
                                       "is not a JSON object", status)
            throttled = _throttle_delay(payload)
            if throttled is not None and not last:
                self._sleep(min(self.max_delay, throttled if throttled > 0 else self._backoff(attempt)))
                continue
            return payload

    def _backoff(self, attempt: int) -> float:
        return min(self.max_delay, self.backoff * (2 ** (attempt - 1)))

    def _retry_after(self, header: str | None, attempt: int) -> float:
        try:
            seconds = float(header) if header is not None else None
        except ValueError:
            seconds = None
        if seconds is None or seconds < 0:
            return self._backoff(attempt)
        return min(self.max_delay, seconds)

    def _http_error(self, status: int, raw: bytes, attempts: int) -> ShopifyHTTPError:
        detail = _error_detail(raw)
        detail = f" ({self.redact(detail)})" if detail else ""
        where = f"the Shopify Admin API at {self.url}"
        if status == 401:
            return ShopifyHTTPError(
                f"{where} refused the access token (HTTP 401){detail}: check --access-token / {TOKEN_ENV}: "
                f"it must be an Admin API access token of an app installed on {self.shop}", status, EXIT_USAGE)
        if status == 402:
            return ShopifyHTTPError(f"{where} answered HTTP 402 Payment Required: the shop is frozen (unpaid)"
                                    f"{detail}", status, EXIT_USAGE)
        if status == 403:
            return ShopifyHTTPError(
                f"{where} answered HTTP 403 Forbidden{detail}: the token may not use the Admin API for this shop "
                "(app uninstalled, or missing access scopes: read_orders, read_customers)", status, EXIT_USAGE)
        if status == 404:
            return ShopifyHTTPError(
                f"{where} answered HTTP 404 Not Found{detail}: check --shop (the shop's permanent "
                f"*.myshopify.com domain) and --api-version ({self.api_version})", status, EXIT_USAGE)
        if status == 423:
            return ShopifyHTTPError(f"{where} answered HTTP 423 Locked: the shop is locked{detail}", status,
                                    EXIT_USAGE)
        if status == 429:
            return ShopifyHTTPError(f"{where} kept rate-limiting (HTTP 429, {attempts} attempts){detail}; "
                                    "try again in a minute", status)
        if status >= 500:
            return ShopifyHTTPError(f"{where} kept failing (HTTP {status}, {attempts} attempts){detail}; "
                                    "Shopify may be having trouble, try again later", status)
        return ShopifyHTTPError(f"{where} answered HTTP {status}{detail}", status)

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
            self._raise_errors(payload, "listing webhook subscriptions")
            connection = _dig(payload, "data", "webhookSubscriptions")
            if not isinstance(connection, dict):
                raise RegisterError("the Admin API answer has no data.webhookSubscriptions")
            out.extend(self._subscription(node) for node in connection.get("nodes") or [] if isinstance(node, dict))
            info = connection.get("pageInfo") or {}
            if not info.get("hasNextPage"):
                return out
            next_cursor = info.get("endCursor")
            if not next_cursor or next_cursor == cursor:
                raise RegisterError("the Admin API said there are more webhook subscriptions but gave no new cursor")
            cursor = next_cursor
        raise RegisterError("too many pages of webhook subscriptions")

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
        self._raise_errors(payload, f"creating {topic}")
        result = _dig(payload, "data", "webhookSubscriptionCreate")
        if not isinstance(result, dict):
            raise RegisterError(f"the Admin API answer has no data.webhookSubscriptionCreate for {topic}")
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

    def _raise_errors(self, payload: dict, doing: str) -> None:
        errors = payload.get("errors")
        if not errors:
            return
        if isinstance(errors, str):  # Shopify sometimes answers {"errors": "text"}
            errors = [{"message": errors}]
        errors = [e if isinstance(e, dict) else {"message": str(e)} for e in errors]
        text = "; ".join(self.redact(str(e.get("message") or "unknown error")) for e in errors)
        raise ShopifyGraphQLError(errors, f"Shopify refused {doing}: {text}")


def _dig(payload: object, *keys: str) -> object:
    for key in keys:
        if not isinstance(payload, dict):
            return None
        payload = payload.get(key)
    return payload


def _throttle_delay(payload: dict) -> float | None:
    """Seconds to wait when the answer is a GraphQL THROTTLED error (0: unknown), else None."""
    errors = payload.get("errors")
    if not isinstance(errors, list) or not any(
        isinstance(e, dict) and isinstance(e.get("extensions"), dict) and e["extensions"].get("code") == "THROTTLED"
        for e in errors
    ):
        return None
    cost = _dig(payload, "extensions", "cost")
    cost = cost if isinstance(cost, dict) else {}
    status = cost.get("throttleStatus")
    status = status if isinstance(status, dict) else {}
    try:
        needed = float(cost.get("requestedQueryCost")) - float(status.get("currentlyAvailable"))
        return max(0.0, needed / float(status.get("restoreRate")))
    except (TypeError, ValueError, ZeroDivisionError):
        return 0.0


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


# --- the command --------------------------------------------------------------------------------


def _err(message: str) -> None:
    print(f"tiktok-relay: {message}", file=sys.stderr)


def run_register(args) -> int:
    try:
        return _run(args)
    except RegisterError as exc:
        _err(str(exc))
        return exc.exit_code


def _run(args) -> int:
    from tiktok_relay.sources.shopify.settings import ShopifySettings

    try:
        settings = ShopifySettings.from_env()
    except ConfigurationError as exc:
        raise RegisterError(str(exc), EXIT_USAGE) from None
    topics = resolve_topics(args.topics, settings.mapped_topics)
    if not topics:
        raise RegisterError("no topic is mapped to a TikTok event (SHOPIFY_TOPIC_EVENTS); pass --topics", EXIT_USAGE)
    url = validate_url(args.url)
    api_version = validate_api_version(args.api_version)
    if args.topics is not None:
        for topic in topics:
            if not settings.event_for(topic):
                _err(f"note: {topic} sends no TikTok event with the current SHOPIFY_TOPIC_EVENTS; the receiver "
                     "acknowledges it and drops it")

    if args.print_toml:
        sys.stdout.write(toml_block(topics, url, api_version))
        return EXIT_OK

    shop = normalize_shop(args.shop)
    token = (args.access_token or os.environ.get(TOKEN_ENV) or "").strip()
    if not token:
        raise RegisterError(f"no Admin API access token: pass --access-token or set {TOKEN_ENV}", EXIT_USAGE)
    if not all(33 <= ord(c) <= 126 for c in token):
        raise RegisterError(f"the access token (--access-token / {TOKEN_ENV}) has spaces or characters that "
                            "cannot be sent in an HTTP header; paste it again", EXIT_USAGE)
    base_url = admin_base_url(shop)
    if base_url != f"https://{shop}":
        _err(f"note: {BASE_URL_ENV} is set: calling {base_url} instead of https://{shop}")
    client = ShopifyAdminClient(shop, token, api_version, base_url)

    try:
        existing = client.list_subscriptions()
    except ShopifyGraphQLError as exc:
        raise RegisterError(explain_graphql_error(exc, None)) from None

    wanted = [(topic, topic_enum(topic)) for topic in topics]
    have = {(s.topic, s.uri) for s in existing}
    created = exists = 0
    failed: list[str] = []
    for rest_topic, enum in wanted:
        if (enum, url) in have:
            print(f"exists  {enum} -> {url}")
            exists += 1
        else:
            problems = _create(client, rest_topic, enum, url)
            if problems is None:
                print(f"created {enum} -> {url}")
                created += 1
            elif problems == "exists":
                print(f"exists  {enum} -> {url}")
                exists += 1
            else:
                print(f"failed  {enum} -> {url}")
                for problem in problems:
                    _err(f"{enum}: {problem}")
                failed.append(enum)
        others = sorted({s.uri or "?" for s in existing if s.topic == enum and s.uri != url})
        for other in others:
            _err(f"note: {enum} is also subscribed to {other} (left alone; each subscription gets its own "
                 "delivery, so remove it if it is an old deployment)")

    subscribed = created + exists
    summary = (f"{shop}: {subscribed} of {len(wanted)} topic(s) subscribed to {url} "
               f"({created} created, {exists} already existed")
    summary += f", {len(failed)} failed: {', '.join(failed)})" if failed else ")"
    print(summary)
    return EXIT_OK if not failed else EXIT_NOT_SUBSCRIBED


def _create(client: ShopifyAdminClient, rest_topic: str, enum: str, url: str) -> list[str] | str | None:
    """None when created, "exists" when Shopify says it already is, else the problems."""
    try:
        result = client.create_subscription(enum, url)
    except ShopifyGraphQLError as exc:
        return [explain_graphql_error(exc, rest_topic)]
    if result.user_errors:
        # A create retried after a lost answer, or a race with another run: already there is fine.
        if all(_already_exists(e) for e in result.user_errors):
            return "exists"
        return [explain_user_error(e, rest_topic) for e in result.user_errors]
    if result.subscription is None:
        return ["Shopify returned neither a subscription nor userErrors"]
    return None
