"""Shopify's own value formats: ids that may be GraphQL gids, `*_set` money objects, line prices."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from tiktok_relay.sources.common.values import as_id

_GID = re.compile(r"gid://shopify/([A-Za-z]+)/([0-9]{1,30})(?:[/?#].*)?", re.ASCII)


def shopify_id(value: Any) -> str | None:
    """A Shopify id as exact decimal text: what as_id takes, and GraphQL gids of any resource."""
    number = as_id(value)
    if number is None and isinstance(value, str):
        return _gid_number(value.strip(), None)
    return number


def gid_tail(value: Any, resource: str) -> str | None:
    """The id in a gid of `resource` (admin_graphql_api_id: 'gid://shopify/Order/123')."""
    return _gid_number(value.strip(), resource) if isinstance(value, str) else None


def _gid_number(text: str, resource: str | None) -> str | None:
    """The positive number at the end of a gid ('gid://shopify/<resource>/<n>'), as text."""
    match = _GID.fullmatch(text)
    if match is None or (resource is not None and match.group(1) != resource):
        return None
    number = int(match.group(2))
    return str(number) if number > 0 else None


def money_field(obj: Any, money_key: str, field_name: str = "amount") -> Any:
    """obj[money_key][field_name] for Shopify `*_set` objects, None if any level is missing."""
    if type(obj) is not dict and not isinstance(obj, dict):
        return None
    money = obj.get(money_key)
    return money.get(field_name) if type(money) is dict or isinstance(money, dict) else None


def line_price(line: Mapping[str, Any], money_key: str) -> Any:
    """A line item's unit price in `money_key` (price_set), raw; the REST price for shop money."""
    price = money_field(line.get("price_set"), money_key)
    if price is None and money_key == "shop_money":
        price = line.get("price")  # the REST field, in the shop currency
    return price

