"""A fake Shopify GraphQL Admin API (webhook subscriptions and orders) over real HTTP on 127.0.0.1.

It serves `POST /admin/api/<version>/graphql.json` the way Shopify does for the two operations
`tiktok-relay register shopify` uses, and the two queries `tiktok-relay reconcile shopify` makes
(fake_shopify_orders.py: `orders` filtered by processed_at and financial_status, paged, with
Shopify's query costs, and `order(id:)` for the rest of an order's line items), over orders
given in the webhook (REST) shape (`orders=`, `add_orders`, `fake-shopify --orders FILE`):

* `webhookSubscriptions(first:, after:)`: this app's subscriptions, paginated with opaque cursors
  (`page_size` caps a page, so a handful of subscriptions exercises pagination);
* `webhookSubscriptionCreate(topic:, webhookSubscription:)`: records the subscription, or answers
  `userErrors` for an invalid address or an existing (topic, address), and an ACCESS_DENIED
  GraphQL error when the token lacks the topic's access scope (`scopes`).

It checks the `X-Shopify-Access-Token` header (HTTP 401 with Shopify's text otherwise) and the
path (404). Before 2025-10 the schema has no `uri` field: asking for it is a GraphQL error there,
as it would be on Shopify, and subscriptions carry `callbackUrl` / `endpoint` instead.

Faults, for the next requests in order (`fake.fail_next("http429", None, "http503")`, None: no fault):
    "http429", "http503": that status with Retry-After (`retry_after`, default 0 s)
    "http500", "http502": that status with an HTML page and no Retry-After
    "throttled":          HTTP 200 with a GraphQL THROTTLED error, as Shopify's cost limiter answers
    "internal_error":     HTTP 200 with a GraphQL INTERNAL_SERVER_ERROR (Shopify's usual 500)
    "drop":               closes the connection without answering
    "http502-after":      handles the request (a create is recorded), then answers 502

    with FakeShopifyAdmin(page_size=2) as fake:
        fake.add_subscription("ORDERS_PAID", "https://example.com/hook")
        fake.add_orders([order_paid_webhook_body, ...])
        env = {"SHOPIFY_ADMIN_BASE_URL": fake.base_url, "SHOPIFY_ADMIN_ACCESS_TOKEN": fake.access_token}

Run by hand: `tiktok-relay fake-shopify --port 8766 [--orders orders.json]`.
"""

from __future__ import annotations

import base64
import json
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from tiktok_relay.testing.fake_shopify_orders import OrderBook
from tiktok_relay.testing.local_server import LocalServer, ServiceHandler

DEFAULT_TOKEN = "shpat_fake_admin_token"
DEFAULT_SCOPES = ("read_orders", "read_customers")
FAULTS = ("http429", "http500", "http502", "http503", "throttled", "internal_error", "drop", "http502-after")
# Faults answered before the request is read, with the HTTP status each records (0: none).
_FAULT_BEFORE_ANSWER = {"drop": 0, "http429": 429, "http500": 500, "http502": 502, "http503": 503, "throttled": 200,
                        "internal_error": 200}
_THROTTLED = {
    "errors": [{"message": "Throttled", "extensions": {
        "code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"}}],
    "extensions": {"cost": {"requestedQueryCost": 12, "actualQueryCost": None,
                            "throttleStatus": {"maximumAvailable": 2000.0, "currentlyAvailable": 10,
                                               "restoreRate": 100.0}}},
}
URI_FIELD_SINCE = "2025-10"
MAX_PAGE = 250

_PATH = re.compile(r"^/admin/api/(?P<version>\d{4}-\d{2}|unstable)/graphql\.json$")
_INVALID_TOKEN = "[API] Invalid API key or access token (unrecognized login or wrong password)"
_HTML = {
    500: b"<html><body><h1>500 Internal Server Error</h1></body></html>",
    502: b"<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>",
    503: b"<html><body><h1>503 Service Unavailable</h1></body></html>",
}
# A subset of the real WebhookSubscriptionTopic enum, and the scope each needs.
TOPIC_SCOPES: dict[str, str | None] = {
    **{f"ORDERS_{t}": "read_orders" for t in (
        "CREATE", "PAID", "UPDATED", "CANCELLED", "FULFILLED", "PARTIALLY_FULFILLED", "DELETE", "EDITED")},
    **{f"CHECKOUTS_{t}": "read_orders" for t in ("CREATE", "UPDATE", "DELETE")},
    **{f"CARTS_{t}": "read_orders" for t in ("CREATE", "UPDATE")},
    "REFUNDS_CREATE": "read_orders",
    **{f"CUSTOMERS_{t}": "read_customers" for t in ("CREATE", "UPDATE", "DELETE", "ENABLE", "DISABLE")},
    **{f"PRODUCTS_{t}": "read_products" for t in ("CREATE", "UPDATE", "DELETE")},
    "APP_UNINSTALLED": None,
    "SHOP_UPDATE": None,
}


@dataclass
class Call:
    """One request the fake answered, kept for assertions."""

    operation: str | None  # "list", "create", "orders", "order", or None (refused before GraphQL)
    api_version: str | None
    variables: dict
    status: int
    fault: str | None = None


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _cursor(number: int) -> str:
    return base64.b64encode(json.dumps({"last_id": number}).encode()).decode()


def _cursor_id(cursor: str) -> int:
    return int(json.loads(base64.b64decode(cursor.encode(), validate=True))["last_id"])


def _scope_granted(needed: str | None, granted: set[str]) -> bool:
    return needed is None or needed in granted or needed.replace("read_", "write_", 1) in granted


def _gql_error(message: str, code: str, **extra) -> dict:
    return {"message": message, "extensions": {"code": code, **extra}}


class FakeShopifyAdmin(LocalServer):
    """Start with `with FakeShopifyAdmin() as fake:`; point clients at `fake.base_url` (it replaces
    `https://{shop}`) with `fake.access_token`."""

    thread_name = "fake-shopify-admin"
    base_path = ""

    def __init__(self, access_token: str = DEFAULT_TOKEN, *, scopes: Iterable[str] = DEFAULT_SCOPES,
                 page_size: int = 100, https_only: bool = False, retry_after: str = "0", port: int = 0,
                 orders: Iterable[dict] = (), shop: str = "example.myshopify.com", max_query_cost: int = 1000):
        """`orders` in the webhook (REST) shape; `shop` is the host a landing_site path is read on
        when an order has no order_status_url; `max_query_cost` is Shopify's cap on one query."""
        self.access_token = access_token
        self.scopes = set(scopes)
        self.page_size = page_size
        # Shopify accepts only https addresses; by default the fake also takes http to localhost
        # so a local receiver (`tiktok-relay serve`) can be registered against it.
        self.https_only = https_only
        self.retry_after = retry_after
        self._lock = threading.Lock()
        self._next_id = 1
        self._queued: list[str | None] = []
        self.subscriptions: list[dict] = []  # every subscription, oldest first
        self.created: list[dict] = []  # the ones made through webhookSubscriptionCreate
        self.calls: list[Call] = []
        self.book = OrderBook(shop, list(orders), max_query_cost=max_query_cost)
        self._listen(port)

    # --- behaviour ------------------------------------------------------------------------

    def add_subscription(self, topic: str, uri: str, *, fmt: str = "JSON") -> dict:
        """A subscription that already exists (made by an earlier run, or another tool)."""
        with self._lock:
            return self._store(topic, uri, fmt)

    def add_orders(self, orders: Iterable[dict]) -> None:
        """Orders the shop holds, in the webhook (REST) shape."""
        with self._lock:
            self.book.orders.extend(orders)

    def fail_next(self, *faults: str | None) -> None:
        """Faults for the next requests, in order; None answers that request normally."""
        unknown = [f for f in faults if f is not None and f not in FAULTS]
        if unknown:
            raise ValueError(f"unknown fault(s) {unknown}; known: {FAULTS}")
        with self._lock:
            self._queued.extend(faults)

    def reset(self) -> None:
        with self._lock:
            self._queued.clear()
            self.subscriptions.clear()
            self.created.clear()
            self.calls.clear()
            self.book.orders.clear()

    # --- what it saw ----------------------------------------------------------------------

    def pairs(self) -> set[tuple[str, str]]:
        """(topic, uri) of every subscription."""
        with self._lock:
            return {(s["topic"], s["uri"]) for s in self.subscriptions}

    def created_topics(self) -> list[str]:
        with self._lock:
            return [s["topic"] for s in self.created]

    def calls_of(self, operation: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.operation == operation]

    # --- GraphQL --------------------------------------------------------------------------

    def _store(self, topic: str, uri: str, fmt: str) -> dict:
        number = self._next_id
        self._next_id += 1
        now = _now()
        subscription = {"number": number, "id": f"gid://shopify/WebhookSubscription/{number}", "topic": topic,
                        "uri": uri, "format": fmt, "createdAt": now, "updatedAt": now}
        self.subscriptions.append(subscription)
        return subscription

    @staticmethod
    def _node(subscription: dict, version: str) -> dict:
        node = {
            "id": subscription["id"],
            "topic": subscription["topic"],
            "format": subscription["format"],
            "createdAt": subscription["createdAt"],
            "updatedAt": subscription["updatedAt"],
            "callbackUrl": subscription["uri"],
            "endpoint": {"__typename": "WebhookHttpEndpoint", "callbackUrl": subscription["uri"]},
        }
        if version == "unstable" or version >= URI_FIELD_SINCE:
            node["uri"] = subscription["uri"]
        return node

    def answer(self, version: str, body: object) -> tuple[str | None, dict]:
        """The GraphQL answer (always HTTP 200) to one request body, and its operation."""
        if not isinstance(body, dict) or not isinstance(body.get("query"), str):
            return None, {"errors": [_gql_error("No query string was present", "BAD_REQUEST")]}
        query = body["query"]
        variables = body.get("variables") or {}
        if not isinstance(variables, dict):
            return None, {"errors": [_gql_error("Variables must be a JSON object", "BAD_REQUEST")]}
        has_uri = version == "unstable" or version >= URI_FIELD_SINCE
        if not has_uri and re.search(r"\buri\b", query):
            return None, {"errors": [_gql_error("Field 'uri' doesn't exist on type 'WebhookSubscription'",
                                                "undefinedField", typeName="WebhookSubscription",
                                                fieldName="uri")]}
        if "webhookSubscriptionCreate" in query:
            return "create", self._create(version, has_uri, variables)
        if "webhookSubscriptions" in query:
            return "list", self._list(version, variables)
        if re.search(r"\borders\s*\(", query):
            return "orders", self._denied("orders", query) or self._locked(self.book.answer_orders, variables)
        if re.search(r"\border\s*\(\s*id\s*:", query):
            return "order", self._denied("order", query) or self._locked(self.book.answer_order_lines, variables)
        return None, {"errors": [_gql_error("This fake serves only webhookSubscriptions, webhookSubscriptionCreate, "
                                            "orders and order(id:)", "NOT_SUPPORTED_BY_FAKE")]}

    def _locked(self, answer, variables: dict) -> dict:
        with self._lock:
            return answer(variables)

    def _denied(self, field_name: str, query: str) -> dict | None:
        """Shopify's ACCESS_DENIED when the token lacks read_orders (or, to read an order's
        customer, read_customers)."""
        with self._lock:
            granted = set(self.scopes)
        for needed, applies in (("read_orders", True), ("read_customers", re.search(r"\bcustomer\s*\{", query))):
            if applies and not _scope_granted(needed, granted):
                return {"data": None, "errors": [{
                    "message": f"Access denied for {field_name} field. Required access: `{needed}` access scope.",
                    "path": [field_name],
                    "extensions": {"code": "ACCESS_DENIED", "documentation": "https://shopify.dev/api/usage/access-scopes",
                                   "requiredAccess": f"`{needed}` access scope."}}]}
        return None

    def _list(self, version: str, variables: dict) -> dict:
        first = variables.get("first")
        if not isinstance(first, int) or isinstance(first, bool) or not 1 <= first <= MAX_PAGE:
            return {"errors": [_gql_error(f"you must provide one of first or last, at most {MAX_PAGE}",
                                          "BAD_REQUEST")]}
        after = variables.get("after")
        with self._lock:
            items = sorted(self.subscriptions, key=lambda s: s["number"])
            if after is not None:
                try:
                    last_id = _cursor_id(after)
                except (ValueError, KeyError, TypeError):
                    return {"errors": [_gql_error("Invalid cursor for current pagination sort.", "BAD_REQUEST")]}
                items = [s for s in items if s["number"] > last_id]
            page = items[: min(first, self.page_size)]
            more = len(items) > len(page)
            nodes = [self._node(s, version) for s in page]
            cursors = [_cursor(s["number"]) for s in page]
        return {"data": {"webhookSubscriptions": {
            "edges": [{"cursor": c, "node": n} for c, n in zip(cursors, nodes, strict=True)],
            "nodes": nodes,
            "pageInfo": {"hasNextPage": more, "hasPreviousPage": after is not None,
                         "startCursor": cursors[0] if cursors else None,
                         "endCursor": cursors[-1] if cursors else None},
        }}}

    def _address_problem(self, address: object) -> str | None:
        if not isinstance(address, str) or not address.strip():
            return "Address can't be blank"
        if address.startswith(("pubsub://", "arn:aws:events:")):
            return None
        try:
            parts = urlsplit(address)
            host = parts.hostname or ""
        except ValueError:
            return "Address is invalid"
        if parts.scheme not in ("http", "https") or not host:
            return "Address is invalid"
        if host == "shopify.com" or host.endswith(".shopify.com") or host.endswith(".myshopify.com"):
            return "Address cannot be a Shopify or an internal domain"
        if parts.scheme == "http" and (self.https_only or host not in ("localhost", "127.0.0.1")):
            return "Address protocol http:// is not supported"
        return None

    def _create(self, version: str, has_uri: bool, variables: dict) -> dict:
        topic = variables.get("topic")
        if topic not in TOPIC_SCOPES:
            return {"errors": [_gql_error(
                "Variable $topic of type WebhookSubscriptionTopic! was provided invalid value",
                "INVALID_VARIABLE", value=topic, problems=[{"path": [], "explanation": "Expected a valid topic"}])]}
        needed = TOPIC_SCOPES[topic]
        with self._lock:
            granted = set(self.scopes)
        if not _scope_granted(needed, granted):
            return {
                "data": {"webhookSubscriptionCreate": None},
                "errors": [{
                    "message": f"Access denied for webhookSubscriptionCreate field. Required access: `{needed}` "
                               "access scope.",
                    "locations": [{"line": 2, "column": 3}],
                    "path": ["webhookSubscriptionCreate"],
                    "extensions": {"code": "ACCESS_DENIED",
                                   "documentation": "https://shopify.dev/api/usage/access-scopes",
                                   "requiredAccess": f"`{needed}` access scope."},
                }],
            }
        given = variables.get("webhookSubscription")
        if not isinstance(given, dict):
            return {"errors": [_gql_error("Variable $webhookSubscription of type WebhookSubscriptionInput! was "
                                          "provided invalid value", "INVALID_VARIABLE")]}
        if "uri" in given and not has_uri:
            return {"errors": [_gql_error("Variable $webhookSubscription of type WebhookSubscriptionInput! was "
                                          "provided invalid value for uri (Field is not defined on "
                                          "WebhookSubscriptionInput)", "INVALID_VARIABLE")]}
        key = "uri" if "uri" in given else "callbackUrl"
        address = given.get(key)
        fmt = given.get("format", "JSON")

        def user_error(message: str, *fields: str) -> dict:
            return {"data": {"webhookSubscriptionCreate": {
                "webhookSubscription": None,
                "userErrors": [{"field": ["webhookSubscription", *fields], "message": message}],
            }}}

        if fmt not in ("JSON", "XML"):
            return {"errors": [_gql_error("Variable $webhookSubscription of type WebhookSubscriptionInput! was "
                                          "provided invalid value for format", "INVALID_VARIABLE")]}
        problem = self._address_problem(address)
        if problem or not isinstance(address, str):
            return user_error(problem or "Address is invalid", key)
        with self._lock:
            if any(s["topic"] == topic and s["uri"] == address for s in self.subscriptions):
                return user_error("Address for this topic has already been taken", key)
            subscription = self._store(topic, address, fmt)
            self.created.append(subscription)
            node = self._node(subscription, version)
        return {"data": {"webhookSubscriptionCreate": {"webhookSubscription": node, "userErrors": []}}}

    # --- HTTP -----------------------------------------------------------------------------

    def _next_fault(self) -> str | None:
        with self._lock:
            return self._queued.pop(0) if self._queued else None

    def _record(self, call: Call) -> None:
        with self._lock:
            self.calls.append(call)


class _Handler(ServiceHandler):
    service: FakeShopifyAdmin

    def _json(self, status: int, payload: dict, headers: dict | None = None) -> None:
        self.send_body(status, json.dumps(payload).encode(), "application/json", headers)

    def do_GET(self) -> None:
        self._json(405, {"errors": "Method Not Allowed"})

    def do_POST(self) -> None:
        fake = self.service
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        match = _PATH.match(self.path.split("?")[0])
        if not match:
            fake._record(Call(None, None, {}, 404))
            return self._json(404, {"errors": "Not Found"})
        version = match["version"]
        if self.headers.get("X-Shopify-Access-Token") != fake.access_token:
            fake._record(Call(None, version, {}, 401))
            return self._json(401, {"errors": _INVALID_TOKEN})
        fault = fake._next_fault()
        if fault in _FAULT_BEFORE_ANSWER:
            fake._record(Call(None, version, {}, _FAULT_BEFORE_ANSWER[fault], fault))
            return self._fail(fault)
        try:
            body = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            fake._record(Call(None, version, {}, 400))
            return self._json(400, {"errors": {"query": "Required parameter missing or invalid"}})
        operation, payload = fake.answer(version, body)
        variables = body.get("variables") if isinstance(body, dict) else None
        status = 502 if fault == "http502-after" else 200
        fake._record(Call(operation, version, variables if isinstance(variables, dict) else {}, status, fault))
        if status == 502:
            return self.send_body(502, _HTML[502], "text/html")
        self._json(200, payload)

    def _fail(self, fault: str) -> None:
        """Answer as Shopify does when it refuses or drops a request, before any work."""
        if fault == "drop":
            self.drop_connection()
        elif fault == "throttled":
            self._json(200, _THROTTLED)
        elif fault == "internal_error":
            self._json(200, {"errors": [{
                "message": "Internal error. Looks like something went wrong on our end.\nRequest ID: "
                           "1b355a21-7117-44c5-8d8b-8948082f40a8 (include this in support requests).",
                "extensions": {"code": "INTERNAL_SERVER_ERROR", "requestId": "1b355a21-7117-44c5-8d8b-8948082f40a8"}}]})
        elif fault == "http429":
            self._json(429, {"errors": "Exceeded 2 calls per second for api client. Reduce "
                                       "request rates to resume uninterrupted service."},
                       {"Retry-After": self.service.retry_after})
        else:
            status = _FAULT_BEFORE_ANSWER[fault]
            extra = {"Retry-After": self.service.retry_after} if status == 503 else None
            self.send_body(status, _HTML[status], "text/html", extra)


FakeShopifyAdmin.handler_class = _Handler
