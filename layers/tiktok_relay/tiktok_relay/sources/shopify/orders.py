"""The paid orders of a time window, from the GraphQL Admin API, in the shape of an orders/paid
webhook: what `reconcile` maps with the very mapping the receiver uses (README "Reconciliation").

The query. `orders(query: ...)` filtered with Shopify's search syntax on `processed_at` (the
moment the mapping gives a purchase as event_time) and `financial_status` paid, partially_refunded
or refunded (an order refunded since was a purchase when orders/paid fired; partially_paid and
authorized orders have not fired it yet), sorted by PROCESSED_AT, paged with `pageInfo`'s
`endCursor`. An order's line items come ORDER_LINES at a time with it; an order with more gets
the rest from `order(id:)`, page after page.

Cost. Shopify refuses a query whose requested cost exceeds 1000 points (MAX_COST_EXCEEDED) and
computes it before running it, as 2 + first x (the cost of a node) for each connection.
ORDERS_PAGE x ORDER_LINES keeps the orders query around 870 points; should Shopify count more,
the page is asked for again with half as many orders. The client (admin.py) waits for the cost
bucket between pages and when throttled.

The adapter. `rest_order` renames what the mapping reads: the GraphQL field named in the
right-hand column becomes the webhook (REST) field on the left. Shopify's own words say which is
which (its deprecation notes: `landingPageUrl` -> customerJourneySummary.lastVisit.landingPage,
`Customer.email` -> defaultEmailAddress.emailAddress; `clientIp` is "the IP address of the
customer who placed the order"); that `customAttributes` are the cart attributes REST calls
note_attributes is the assumption README "Reconciliation" lists.

    id, admin_graphql_api_id      id (the gid, and its number)
    test, processed_at, created_at, source_name, email, phone, tags, customer_locale
                                  test, processedAt, createdAt, sourceName, email, phone, tags, customerLocale
    app_id                        app.id
    browser_ip                    clientIp
    currency, presentment_currency, total_price, total_price_set
                                  currencyCode, presentmentCurrencyCode, totalPriceSet
    order_status_url              statusPageUrl
    note_attributes               customAttributes ({key, value} -> {name, value})
    landing_site, referring_site  customerJourneySummary.lastVisit.landingPage, .referrerUrl (a
                                  landing page on the shop's myshopify.com domain as its path, as
                                  the webhook's landing_site is: the mapping reads a path on the
                                  storefront's own domain, never on myshopify.com)
    customer, billing_address, shipping_address, line_items   (the same, field by field)

Not in the GraphQL Admin API: the browser's user agent (client_details.user_agent). A reconciled
purchase goes without it; its event_id, value, contents and other match keys are the webhook's.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from tiktok_relay.retry import RetryPolicy
from tiktok_relay.sources.shopify.admin import ShopifyAdminClient, ShopifyAdminError, ShopifyGraphQLError, dig
from tiktok_relay.sources.shopify.mapping.page import MYSHOPIFY
from tiktok_relay.sources.shopify.mapping.values import gid_tail, shopify_id

# The financial statuses of an order orders/paid has fired for (see the module docstring).
PAID_STATUSES = ("paid", "partially_refunded", "refunded")
# Orders per page, and line items fetched with each (see "Cost"); the rest of an order's lines
# come MORE_LINES at a time (2 + 100 x 7 = 702 points).
ORDERS_PAGE = 10
ORDER_LINES = 10
MORE_LINES = 100
MAX_PAGES = 100_000  # a bound, in case a server repeats its cursor forever
# A reconcile runs unattended through many pages: 5 attempts a request, 1, 2, 4 and 8 s apart, and
# waits Shopify asks for (Retry-After, the cost bucket) of up to 30 s, rather than give up half way.
RECONCILE_RETRY = RetryPolicy(max_attempts=5, base_delay=1.0, max_delay=30.0, jitter=False)
MAX_COST_CODE = "MAX_COST_EXCEEDED"

_ADDRESS = "firstName lastName phone city province provinceCode zip countryCodeV2"
_MONEY = "shopMoney { amount currencyCode } presentmentMoney { amount currencyCode }"
_LINE = ("id sku title name vendor quantity variant { id } product { id } "
         f"originalUnitPriceSet {{ {_MONEY} }} customAttributes {{ key value }}")
_LINES = f"lineItems(first: $lines, after: $linesAfter) {{ nodes {{ {_LINE} }} pageInfo {{ hasNextPage endCursor }} }}"
_ORDER = (
    "id name test processedAt createdAt sourceName email phone tags customerLocale clientIp "
    "displayFinancialStatus currencyCode presentmentCurrencyCode statusPageUrl app { id } "
    f"customAttributes {{ key value }} totalPriceSet {{ {_MONEY} }} "
    "customer { id firstName lastName defaultEmailAddress { emailAddress } defaultPhoneNumber { phoneNumber } "
    f"defaultAddress {{ {_ADDRESS} }} }} "
    f"billingAddress {{ {_ADDRESS} }} shippingAddress {{ {_ADDRESS} }} "
    "customerJourneySummary { lastVisit { landingPage referrerUrl } } "
    f"{_LINES}"
)
PAID_ORDERS_QUERY = (
    "query RelayPaidOrders($first: Int!, $after: String, $query: String!, $lines: Int!, $linesAfter: String) {\n"
    "  orders(first: $first, after: $after, query: $query, sortKey: PROCESSED_AT) {\n"
    f"    nodes {{ {_ORDER} }}\n"
    "    pageInfo { hasNextPage endCursor }\n"
    "  }\n"
    "}"
)
ORDER_LINES_QUERY = (
    "query RelayOrderLines($id: ID!, $lines: Int!, $linesAfter: String) {\n"
    f"  order(id: $id) {{ {_LINES} }}\n"
    "}"
)


def search_query(since: datetime, until: datetime) -> str:
    """The `query` argument: processed in [since, until), paid (PAID_STATUSES)."""
    statuses = " OR ".join(f"financial_status:{status}" for status in PAID_STATUSES)
    return f"processed_at:>={_timestamp(since)} AND processed_at:<{_timestamp(until)} AND ({statuses})"


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def paid_orders(client: ShopifyAdminClient, since: datetime, until: datetime, *,
                page_size: int = ORDERS_PAGE) -> Iterator[dict[str, Any]]:
    """The orders paid in [since, until), oldest first, each as `rest_order` makes it. Raises
    ShopifyAdminError (ShopifyGraphQLError for an answer with `errors`)."""
    variables: dict[str, Any] = {"first": page_size, "after": None, "query": search_query(since, until),
                                 "lines": ORDER_LINES, "linesAfter": None}
    for _ in range(MAX_PAGES):
        connection = _page(client, variables)
        for node in connection.get("nodes") or []:
            if isinstance(node, dict):
                yield rest_order(node, _all_lines(client, node))
        cursor = _next_cursor(connection, variables["after"], "orders")
        if cursor is None:
            return
        variables["after"] = cursor
    raise ShopifyAdminError("too many pages of orders")


def _page(client: ShopifyAdminClient, variables: dict[str, Any]) -> dict[str, Any]:
    """One page of orders; asked for again with half as many orders while Shopify says the
    query costs too much (variables["first"] keeps the size that worked, for the next pages)."""
    while True:
        payload = client.execute(PAID_ORDERS_QUERY, variables)
        try:
            client.raise_errors(payload, "listing paid orders")
        except ShopifyGraphQLError as exc:
            if MAX_COST_CODE in exc.codes and variables["first"] > 1:
                variables["first"] = max(1, variables["first"] // 2)
                continue
            raise
        connection = dig(payload, "data", "orders")
        if not isinstance(connection, dict):
            raise ShopifyAdminError("the Admin API answer has no data.orders")
        return connection


def _all_lines(client: ShopifyAdminClient, node: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every line item of an order: those that came with it, then the rest, page by page."""
    found = node.get("lineItems")
    connection: Mapping[str, Any] = found if isinstance(found, dict) else {}
    lines = [line for line in connection.get("nodes") or [] if isinstance(line, dict)]
    cursor = _next_cursor(connection, None, "line items")
    for _ in range(MAX_PAGES):
        if cursor is None:
            return lines
        payload = client.execute(ORDER_LINES_QUERY, {"id": node.get("id"), "lines": MORE_LINES, "linesAfter": cursor})
        client.raise_errors(payload, "listing an order's line items")
        more = dig(payload, "data", "order", "lineItems")
        if not isinstance(more, dict):
            raise ShopifyAdminError("the Admin API answer has no data.order.lineItems")
        lines += [line for line in more.get("nodes") or [] if isinstance(line, dict)]
        cursor = _next_cursor(more, cursor, "line items")
    raise ShopifyAdminError("too many pages of line items")


def _next_cursor(connection: Mapping[str, Any], previous: str | None, what: str) -> str | None:
    """The cursor of the next page; None on the last page."""
    found = connection.get("pageInfo")
    info: Mapping[str, Any] = found if isinstance(found, dict) else {}
    if not info.get("hasNextPage"):
        return None
    cursor = info.get("endCursor")
    if not isinstance(cursor, str) or not cursor or cursor == previous:
        raise ShopifyAdminError(f"the Admin API said there are more {what} but gave no new cursor")
    return cursor


# --- the adapter ---------------------------------------------------------------------------------


def rest_order(node: Mapping[str, Any], lines: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A GraphQL Order (PAID_ORDERS_QUERY's fields) as the orders/paid webhook body the mapping
    reads (the table in the module docstring). `lines`: its line items, when fetched apart."""
    if lines is None:
        connection = node.get("lineItems")
        lines = [n for n in connection.get("nodes") or [] if isinstance(n, dict)] if isinstance(connection, dict) \
            else []
    money = node.get("totalPriceSet")
    visit = dig(node, "customerJourneySummary", "lastVisit")
    tags = node.get("tags")
    order = {
        "id": gid_tail(node.get("id"), "Order"),
        "admin_graphql_api_id": node.get("id"),
        "name": node.get("name"),
        "test": node.get("test"),
        "processed_at": node.get("processedAt"),
        "created_at": node.get("createdAt"),
        "source_name": node.get("sourceName"),
        "app_id": shopify_id(dig(node, "app", "id")),
        "email": node.get("email"),
        "phone": node.get("phone"),
        "tags": ", ".join(t for t in tags if isinstance(t, str)) if isinstance(tags, list) else tags,
        "customer_locale": node.get("customerLocale"),
        "browser_ip": node.get("clientIp"),
        "financial_status": _lower(node.get("displayFinancialStatus")),
        "currency": node.get("currencyCode"),
        "presentment_currency": node.get("presentmentCurrencyCode"),
        "total_price": dig(money, "shopMoney", "amount"),
        "total_price_set": _money_set(money),
        "order_status_url": node.get("statusPageUrl"),
        "note_attributes": _attributes(node.get("customAttributes")),
        "landing_site": _landing_site(dig(visit, "landingPage")),
        "referring_site": dig(visit, "referrerUrl"),
        "customer": _customer(node.get("customer")),
        "billing_address": _address(node.get("billingAddress")),
        "shipping_address": _address(node.get("shippingAddress")),
        "line_items": [_line(line) for line in lines],
    }
    return {key: value for key, value in order.items() if value is not None}


def _landing_site(url: Any) -> Any:
    """A landing page URL on a myshopify.com host as its path (and query); any other as it is."""
    if not isinstance(url, str):
        return url
    parts = urlsplit(url.strip())
    if parts.scheme in ("http", "https") and (parts.hostname or "").endswith(MYSHOPIFY):
        return urlunsplit(("", "", parts.path or "/", parts.query, parts.fragment))
    return url


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _money_set(money: Any) -> dict[str, Any] | None:
    """A MoneyBag as a REST `*_set`: {shop_money: {amount, currency_code}, presentment_money: ...}."""
    if not isinstance(money, dict):
        return None
    out = {}
    for graphql, rest in (("shopMoney", "shop_money"), ("presentmentMoney", "presentment_money")):
        part = money.get(graphql)
        if isinstance(part, dict):
            out[rest] = {"amount": part.get("amount"), "currency_code": part.get("currencyCode")}
    return out


def _attributes(attributes: Any) -> list[dict[str, Any]] | None:
    """[{key, value}] as note_attributes / line item properties: [{name, value}]."""
    if not isinstance(attributes, list):
        return None
    return [{"name": a.get("key"), "value": a.get("value")} for a in attributes if isinstance(a, dict)]


def _address(address: Any) -> dict[str, Any] | None:
    if not isinstance(address, dict):
        return None
    rest = {"first_name": address.get("firstName"), "last_name": address.get("lastName"),
            "phone": address.get("phone"), "city": address.get("city"), "province": address.get("province"),
            "province_code": address.get("provinceCode"), "zip": address.get("zip"),
            "country_code": address.get("countryCodeV2")}
    return {key: value for key, value in rest.items() if value is not None}


def _customer(customer: Any) -> dict[str, Any] | None:
    if not isinstance(customer, dict):
        return None
    rest = {"id": gid_tail(customer.get("id"), "Customer"), "admin_graphql_api_id": customer.get("id"),
            "first_name": customer.get("firstName"), "last_name": customer.get("lastName"),
            "email": dig(customer, "defaultEmailAddress", "emailAddress"),
            "phone": dig(customer, "defaultPhoneNumber", "phoneNumber"),
            "default_address": _address(customer.get("defaultAddress"))}
    return {key: value for key, value in rest.items() if value is not None}


def _line(line: Mapping[str, Any]) -> dict[str, Any]:
    price = line.get("originalUnitPriceSet")
    rest = {"id": gid_tail(line.get("id"), "LineItem"), "variant_id": shopify_id(dig(line, "variant", "id")),
            "product_id": shopify_id(dig(line, "product", "id")), "sku": line.get("sku"), "title": line.get("title"),
            "name": line.get("name"), "vendor": line.get("vendor"), "quantity": line.get("quantity"),
            "price": dig(price, "shopMoney", "amount"), "price_set": _money_set(price),
            "properties": _attributes(line.get("customAttributes"))}
    return {key: value for key, value in rest.items() if value is not None}
