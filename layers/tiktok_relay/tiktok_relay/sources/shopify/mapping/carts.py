"""What a cart delivery added since the previous delivery of the same cart token.

Shopify's carts/* webhooks carry the whole cart after each change, removals included (there is
no "added" in the payload). The receiver remembers each cart's line quantities (a state port,
DynamoDB in AWS) and hands the previous state in; this module compares, pure:

- no previous state (the first delivery of the cart, `map`, a forgotten cart): the whole cart;
- otherwise each line's quantity above the remembered one, the line's own price: a cart that
  drops from 99.95 to 39.98 adds nothing, one that grows from 1 to 3 of a tea adds 2 of it;
- nothing added (removals, unchanged quantities): nothing is sent, with a reason.

The new state is always returned, sent or not, so that a later growth counts from the cart as
it is now. State: {"lines": {line key: quantity}}, line keys as in identity.line_key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tiktok_relay.sources.common.values import as_quantity
from tiktok_relay.sources.shopify.mapping.identity import line_key

# At most this many distinct lines are remembered (~100 bytes each in the state store; a
# DynamoDB item holds 400 KB). Lines beyond it count as new on every delivery: a warning says so.
MAX_REMEMBERED_LINES = 1000
NOTHING_ADDED = "this cart delivery adds nothing since the previous one (removals or unchanged quantities)"
EMPTY_CART = "the cart has no line items: nothing was added"


@dataclass(frozen=True)
class CartDelta:
    added: list[dict[str, Any]]  # the line items to send, each with the quantity added
    state: dict[str, Any]  # what to remember for the next delivery of this cart
    reason: str | None  # why nothing is sent, when `added` is empty


def cart_delta(lines: Any, previous: Any, warnings: list[str]) -> CartDelta:
    """The lines `lines` (a payload's line_items) added to the cart remembered as `previous`."""
    items = [line for line in lines if isinstance(line, dict)] if isinstance(lines, list) else []
    quantities: dict[str, int] = {}
    for line in items:
        key = line_key(line)
        quantities[key] = quantities.get(key, 0) + (as_quantity(line.get("quantity")) or 0)
    state = {"lines": _bounded(quantities, warnings)}
    if not items:
        return CartDelta([], state, EMPTY_CART)
    remembered = _remembered(previous, warnings)
    if remembered is None:
        return CartDelta(items, state, None)
    added = _added(items, remembered)
    return CartDelta(added, state, None if added else NOTHING_ADDED)


def _added(items: list[dict[str, Any]], remembered: Mapping[str, int]) -> list[dict[str, Any]]:
    """Each line whose key's quantity grew, with the growth as its quantity (the first line of a key
    takes it all; a line without a readable quantity counts as new)."""
    left = dict(remembered)
    added = []
    for line in items:
        key = line_key(line)
        quantity = as_quantity(line.get("quantity"))
        if quantity is None:
            if key not in remembered:
                added.append(line)
            continue
        before = left.get(key, 0)
        left[key] = max(0, before - quantity)
        if quantity > before:
            added.append({**line, "quantity": quantity - before})
    return added


def _remembered(previous: Any, warnings: list[str]) -> dict[str, int] | None:
    """The previous state's quantities; None (the cart is read as new) if there is none or it is unreadable."""
    if previous is None:
        return None
    lines = previous.get("lines") if isinstance(previous, Mapping) else None
    if isinstance(lines, Mapping) and all(
            isinstance(k, str) and type(v) is int and v >= 0 for k, v in lines.items()):
        return dict(lines)
    warnings.append("the remembered state of this cart is unreadable; the whole cart is sent as added")
    return None


def _bounded(quantities: dict[str, int], warnings: list[str]) -> dict[str, int]:
    if len(quantities) <= MAX_REMEMBERED_LINES:
        return quantities
    warnings.append(f"the cart has {len(quantities)} distinct lines; the first {MAX_REMEMBERED_LINES} are remembered, "
                    "the others count as added on every delivery")
    return dict(sorted(quantities.items())[:MAX_REMEMBERED_LINES])
