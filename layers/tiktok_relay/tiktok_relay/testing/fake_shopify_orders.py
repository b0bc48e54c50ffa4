"""The orders side of the fake Admin API (fake_shopify_admin.py): orders written in the webhook
(REST) shape, served through the two GraphQL queries `reconcile` makes
(tiktok_relay/sources/shopify/orders.py): `orders(first:, after:, query:, sortKey: PROCESSED_AT)`
with each order's first `lineItems`, and `order(id:) { lineItems(first:, after:) }` for the rest.

What it understands of Shopify's search syntax: `processed_at` compared with >=, >, <=, < (or
equal to) an ISO 8601 date-time, and `financial_status:VALUE` alone or as alternatives joined by
OR in parentheses, all joined by AND. Anything else is a GraphQL error, so a query the fake cannot
answer truthfully fails loudly instead of returning the wrong orders.

Cost, as Shopify computes it before running a query: 2 + first x (a node's cost) per
connection, an order node costing ORDER_NODE_COST plus its line items' connection, a line
LINE_NODE_COST. Above `max_query_cost` (Shopify: 1000) the answer is MAX_COST_EXCEEDED. Every
answer carries `extensions.cost` with the bucket the fake is told it has (`currently_available`).

The conversion to GraphQL (`graphql_order`) is the inverse of what reconcile reads: a field
the webhook has and the GraphQL Order has not (client_details.user_agent) is left out.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

ORDER_NODE_COST = 14  # the order and the objects in it (customer, addresses, money, visit...)
LINE_NODE_COST = 7  # a line item, its variant, product, price set and attributes
MAX_PAGE = 250

_TERM = re.compile(r"\(|\)|[^\s()]+")
_PROCESSED = re.compile(r"processed_at:(>=|<=|>|<)?(.+)")
_STATUS = re.compile(r"financial_status:([a-z_]+)")


class QueryNotUnderstood(ValueError):
    """A search query the fake cannot answer truthfully."""


def _gql_error(message: str, code: str, **extra: Any) -> dict:
    return {"message": message, "extensions": {"code": code, **extra}}


def _cursor(position: int) -> str:
    return base64.b64encode(json.dumps({"last_id": position}).encode()).decode()


def _position(cursor: str) -> int:
    return int(json.loads(base64.b64decode(cursor.encode(), validate=True))["last_id"])


def _moment(text: Any) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


@dataclass
class OrderFilter:
    """What a search query selects (see the module docstring)."""

    after: list[tuple[str, datetime]] = field(default_factory=list)  # (operator, moment)
    statuses: set[str] | None = None

    @classmethod
    def parse(cls, query: Any) -> OrderFilter:
        if not isinstance(query, str):
            raise QueryNotUnderstood("the orders query must be a search string")
        found = cls()
        for term in _TERM.findall(query):
            if term in ("(", ")", "AND", "OR"):
                continue
            if match := _PROCESSED.fullmatch(term):
                moment = _moment(match.group(2))
                if moment is None:
                    raise QueryNotUnderstood(f"processed_at needs an ISO 8601 date-time, not {match.group(2)!r}")
                found.after.append((match.group(1) or "=", moment))
            elif match := _STATUS.fullmatch(term):
                found.statuses = (found.statuses or set()) | {match.group(1)}
            else:
                raise QueryNotUnderstood(f"this fake understands processed_at and financial_status only, not {term!r}")
        return found

    def selects(self, order: Mapping[str, Any]) -> bool:
        if self.statuses is not None and str(order.get("financial_status") or "").lower() not in self.statuses:
            return False
        moment = _moment(order.get("processed_at"))
        if moment is None:
            return not self.after
        checks = {">=": moment.__ge__, ">": moment.__gt__, "<=": moment.__le__, "<": moment.__lt__, "=": moment.__eq__}
        return all(checks[operator](bound) for operator, bound in self.after)


def _sort_key(order: Mapping[str, Any]) -> tuple[datetime, str]:
    return _moment(order.get("processed_at")) or datetime.min.replace(tzinfo=UTC), str(order.get("id"))


def _size(value: Any, name: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_PAGE:
        raise QueryNotUnderstood(f"you must provide one of first or last, at most {MAX_PAGE} ({name})")
    return value


@dataclass
class OrderBook:
    """The orders a fake shop holds (REST shape, as given) and its answers to reconcile's queries."""

    shop: str
    orders: list[dict[str, Any]] = field(default_factory=list)
    max_query_cost: int = 1000
    maximum_available: float = 2000.0
    currently_available: float = 2000.0
    restore_rate: float = 100.0

    def _cost(self, requested: int, actual: int) -> dict:
        return {"cost": {"requestedQueryCost": requested, "actualQueryCost": actual,
                         "throttleStatus": {"maximumAvailable": self.maximum_available,
                                            "currentlyAvailable": self.currently_available,
                                            "restoreRate": self.restore_rate}}}

    def _too_costly(self, requested: int) -> dict | None:
        if requested <= self.max_query_cost:
            return None
        return {"errors": [_gql_error(
            f"Query cost is {requested}, which exceeds the single query max cost limit ({self.max_query_cost}).\n\n"
            "See https://shopify.dev/concepts/about-apis/rate-limits for more information on how the\n"
            "cost of a query is calculated.", "MAX_COST_EXCEEDED", cost=requested, maxCost=self.max_query_cost,
            documentation="https://shopify.dev/api/usage/limits#rate-limits")]}

    def answer_orders(self, variables: Mapping[str, Any]) -> dict:
        try:
            first, lines = _size(variables.get("first"), "first"), _size(variables.get("lines"), "lines")
            selected = OrderFilter.parse(variables.get("query"))
            start = 0 if variables.get("after") is None else _position(variables["after"]) + 1
        except (QueryNotUnderstood, ValueError, KeyError, TypeError) as exc:
            return {"errors": [_gql_error(str(exc) if isinstance(exc, QueryNotUnderstood) else
                                          "Invalid cursor for current pagination sort.", "BAD_REQUEST")]}
        requested = 2 + first * (ORDER_NODE_COST + 2 + lines * LINE_NODE_COST)
        if (refused := self._too_costly(requested)) is not None:
            return refused
        matching = sorted((o for o in self.orders if selected.selects(o)), key=_sort_key)
        page = matching[start:start + first]
        nodes = [self._node(order, lines) for order in page]
        actual = 2 + sum(ORDER_NODE_COST + 2 + len(n["lineItems"]["nodes"]) * LINE_NODE_COST for n in nodes)
        end = start + len(page) - 1
        return {"data": {"orders": {
            "nodes": nodes,
            "pageInfo": {"hasNextPage": start + len(page) < len(matching), "hasPreviousPage": start > 0,
                         "startCursor": _cursor(start) if page else None, "endCursor": _cursor(end) if page else None},
        }}, "extensions": self._cost(requested, actual)}

    def answer_order_lines(self, variables: Mapping[str, Any]) -> dict:
        try:
            lines = _size(variables.get("lines"), "lines")
            start = 0 if variables.get("linesAfter") is None else _position(variables["linesAfter"]) + 1
        except (QueryNotUnderstood, ValueError, KeyError, TypeError) as exc:
            return {"errors": [_gql_error(str(exc) if isinstance(exc, QueryNotUnderstood) else
                                          "Invalid cursor for current pagination sort.", "BAD_REQUEST")]}
        requested = 1 + 2 + lines * LINE_NODE_COST
        if (refused := self._too_costly(requested)) is not None:
            return refused
        order = next((o for o in self.orders if graphql_id("Order", o) == variables.get("id")), None)
        if order is None:
            return {"data": {"order": None}, "extensions": self._cost(requested, 1)}
        connection = _lines_connection(order, start, lines)
        actual = 3 + len(connection["nodes"]) * LINE_NODE_COST
        return {"data": {"order": {"lineItems": connection}}, "extensions": self._cost(requested, actual)}

    def _node(self, order: Mapping[str, Any], lines: int) -> dict[str, Any]:
        node = graphql_order(order, self.shop)
        node["lineItems"] = _lines_connection(order, 0, lines)
        return node


def _lines_connection(order: Mapping[str, Any], start: int, count: int) -> dict[str, Any]:
    lines = [line for line in order.get("line_items") or [] if isinstance(line, dict)]
    page = lines[start:start + count]
    return {"nodes": [_graphql_line(line) for line in page],
            "pageInfo": {"hasNextPage": start + len(page) < len(lines),
                         "endCursor": _cursor(start + len(page) - 1) if page else None}}


# --- REST -> GraphQL -----------------------------------------------------------------------------


def graphql_id(resource: str, record: Mapping[str, Any]) -> str | None:
    gid = record.get("admin_graphql_api_id")
    if isinstance(gid, str) and gid.startswith(f"gid://shopify/{resource}/"):
        return gid
    return f"gid://shopify/{resource}/{record['id']}" if record.get("id") is not None else None


def _gid(resource: str, value: Any) -> dict[str, str] | None:
    return {"id": f"gid://shopify/{resource}/{value}"} if value is not None else None


def _money(rest_set: Any, amount: Any = None, currency: Any = None) -> dict[str, Any] | None:
    """A REST `*_set` (or an amount and currency) as a GraphQL MoneyBag."""
    if isinstance(rest_set, dict):
        out = {}
        for rest, graphql in (("shop_money", "shopMoney"), ("presentment_money", "presentmentMoney")):
            part = rest_set.get(rest)
            if isinstance(part, dict):
                out[graphql] = {"amount": part.get("amount"), "currencyCode": part.get("currency_code")}
        return out
    if amount is None:
        return None
    money = {"amount": amount, "currencyCode": currency}
    return {"shopMoney": money, "presentmentMoney": money}


def _attributes(pairs: Any) -> list[dict[str, Any]]:
    if isinstance(pairs, dict):
        return [{"key": k, "value": v} for k, v in pairs.items()]
    if not isinstance(pairs, list):
        return []
    return [{"key": p.get("name"), "value": p.get("value")} for p in pairs if isinstance(p, dict)]


def _address(address: Any) -> dict[str, Any] | None:
    if not isinstance(address, dict):
        return None
    return {"firstName": address.get("first_name"), "lastName": address.get("last_name"),
            "phone": address.get("phone"), "city": address.get("city"), "province": address.get("province"),
            "provinceCode": address.get("province_code"), "zip": address.get("zip"),
            "countryCodeV2": address.get("country_code")}


def _customer(customer: Any) -> dict[str, Any] | None:
    if not isinstance(customer, dict):
        return None
    email, phone = customer.get("email"), customer.get("phone")
    return {"id": graphql_id("Customer", customer), "firstName": customer.get("first_name"),
            "lastName": customer.get("last_name"),
            "defaultEmailAddress": {"emailAddress": email} if email else None,
            "defaultPhoneNumber": {"phoneNumber": phone} if phone else None,
            "defaultAddress": _address(customer.get("default_address"))}


def _absolute(landing: Any, order: Mapping[str, Any], shop: str) -> Any:
    """landing_site (often a path) as the URL GraphQL's CustomerVisit.landingPage is."""
    if not isinstance(landing, str) or not landing.startswith("/") or landing.startswith("//"):
        return landing
    status = order.get("order_status_url")
    host = urlsplit(status).hostname if isinstance(status, str) and status.startswith("http") else None
    return f"https://{host or shop}{landing}"


def _visit(order: Mapping[str, Any], shop: str) -> dict[str, Any] | None:
    landing, referrer = order.get("landing_site"), order.get("referring_site")
    if landing is None and referrer is None:
        return None
    return {"lastVisit": {"landingPage": _absolute(landing, order, shop), "referrerUrl": referrer}}


def graphql_order(order: Mapping[str, Any], shop: str) -> dict[str, Any]:
    """A webhook-shaped order as the GraphQL Admin API's Order (the fields reconcile asks for),
    without its lineItems connection (added per query)."""
    tags = order.get("tags")
    details = order.get("client_details")
    client: Mapping[str, Any] = details if isinstance(details, dict) else {}
    status = order.get("financial_status")
    return {
        "id": graphql_id("Order", order),
        "name": order.get("name"),
        "test": bool(order.get("test")),
        "processedAt": order.get("processed_at"),
        "createdAt": order.get("created_at"),
        "sourceName": order.get("source_name"),
        "email": order.get("email"),
        "phone": order.get("phone"),
        "tags": [t.strip() for t in tags.split(",") if t.strip()] if isinstance(tags, str) else tags or [],
        "customerLocale": order.get("customer_locale"),
        "clientIp": order.get("browser_ip") or client.get("browser_ip"),
        "displayFinancialStatus": status.upper() if isinstance(status, str) else None,
        "currencyCode": order.get("currency"),
        "presentmentCurrencyCode": order.get("presentment_currency") or order.get("currency"),
        "statusPageUrl": order.get("order_status_url"),
        "app": _gid("App", order.get("app_id")),
        "customAttributes": _attributes(order.get("note_attributes")),
        "totalPriceSet": _money(order.get("total_price_set"), order.get("total_price"), order.get("currency")),
        "customer": _customer(order.get("customer")),
        "billingAddress": _address(order.get("billing_address")),
        "shippingAddress": _address(order.get("shipping_address")),
        "customerJourneySummary": _visit(order, shop),
    }


def _graphql_line(line: Mapping[str, Any]) -> dict[str, Any]:
    return {"id": graphql_id("LineItem", line), "sku": line.get("sku"), "title": line.get("title"),
            "name": line.get("name"), "vendor": line.get("vendor"), "quantity": line.get("quantity"),
            "variant": _gid("ProductVariant", line.get("variant_id")),
            "product": _gid("Product", line.get("product_id")),
            "originalUnitPriceSet": _money(line.get("price_set"), line.get("price")),
            "customAttributes": _attributes(line.get("properties"))}


def read_orders(text: str, origin: str) -> list[dict[str, Any]]:
    """The orders of an --orders file: a JSON array of orders, an object with an "orders" array
    (what the REST Admin API's orders.json answers), or one order. ValueError naming `origin`."""
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise ValueError(f"{origin} is not JSON ({exc})") from None
    orders = document.get("orders", [document]) if isinstance(document, dict) else document
    if not isinstance(orders, list) or not all(isinstance(o, dict) for o in orders):
        raise ValueError(f'{origin} must hold orders: a JSON array of them, {{"orders": [...]}}, or one order')
    missing = [n for n, o in enumerate(orders) if o.get("id") is None and not o.get("admin_graphql_api_id")]
    if missing:
        raise ValueError(f"{origin}: order {missing[0]} has no id (nor admin_graphql_api_id)")
    return orders
