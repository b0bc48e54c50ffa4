"""`properties.contents` from a store's line items: bounded in number and size, each text fit to
send in clear, the problems summed up per kind (one warning for 200 lines with the same fault).

A store's mapping says how to read one of its lines (`read`); the rest is the same everywhere.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from tiktok_relay.sources.common.values import as_id, as_quantity, as_text
from tiktok_relay.tiktok.cleartext import has_email
from tiktok_relay.tiktok.fields import MAX_COUNT

MAX_CONTENTS = 250
MAX_CONTENT_ID = 100
MAX_CONTENT_NAME = 150
MAX_BRAND = 100
# Estimated worst-case JSON bytes (ASCII-escaped) for properties.contents. With the other
# capped fields, one delivery's request stays well under the 256 KiB SQS message limit.
CONTENTS_BUDGET = 140_000
_ITEM_OVERHEAD = 130  # keys, price, quantity, content_type of one contents item

# (contents item, its JSON cost estimate, the notes that count only if the item is kept) of one
# line, given the line, its quantity (None if unusable) and `note` for problems that count at once.
LineReader = Callable[[Mapping[str, Any], "int | None", Callable[[str], None]], tuple[dict[str, Any], int, list[str]]]


def collect_contents(lines: Iterable[Any], read: LineReader, path: str,
                     warnings: list[str]) -> tuple[list[dict[str, Any]], int]:
    """(contents items, total quantity) of the line items at `path` ("line_items[]"): at most
    MAX_CONTENTS items within CONTENTS_BUDGET, while the quantity counts every line."""
    contents: list[dict[str, Any]] = []
    counts: dict[str, int] = {}  # warning -> number of line items it concerns, in first-seen order
    total_quantity = 0
    budget = CONTENTS_BUDGET
    lines_seen = 0
    over_budget = False

    def note(what: str) -> None:
        counts[what] = counts.get(what, 0) + 1

    for line in lines:
        if not isinstance(line, dict):
            note(f"{path} ignored: not an object")
            continue
        lines_seen += 1
        quantity = as_quantity(line.get("quantity"))
        if quantity is not None:
            total_quantity += quantity
        elif line.get("quantity") is not None:
            note(f"{path}.quantity ignored: not a whole number from 0 to {MAX_COUNT}")
        if len(contents) >= MAX_CONTENTS or over_budget:
            continue
        item, cost, cuts = read(line, quantity, note)
        if not item:
            note(f"{path} ignored: nothing usable")
            continue
        if cost > budget:
            over_budget = True
            continue
        budget -= cost
        item["content_type"] = "product"  # the model would copy it in anyway, more slowly
        contents.append(item)
        for what in cuts:
            note(what)
    for what, count in counts.items():
        warnings.append(f"{what} ({count} line item{'s' if count != 1 else ''})")
    if lines_seen > len(contents) and (len(contents) >= MAX_CONTENTS or over_budget):
        limit = "the size limit" if over_budget else f"the {MAX_CONTENTS}-item limit"
        warnings.append(f"properties.contents: {lines_seen} line items, sent the first {len(contents)} ({limit})")
    return contents, total_quantity


def content_item(content_id: str | None, name: str | None, brand: str | None, price: float | None,
                 quantity: int | None) -> tuple[dict[str, Any], int]:
    """(contents item with what is there, its JSON cost estimate)."""
    item: dict[str, Any] = {}
    if content_id:
        item["content_id"] = content_id
    if name:
        item["content_name"] = name
    if price is not None:
        item["price"] = price
    if quantity is not None:
        item["quantity"] = quantity
    if brand:
        item["brand"] = brand
    cost = (_ITEM_OVERHEAD + (json_cost(content_id) if content_id else 0) + (json_cost(name) if name else 0)
            + (json_cost(brand) if brand else 0))
    return item, cost


def clear_text(value: Any, limit: int, path: str) -> tuple[str | None, str | None]:
    """(`value` as text fit to send in clear, cut to `limit`, or None; the note for the warning:
    truncated, or dropped because it holds an email address, such as a personalised item's or a
    marketplace seller's)."""
    text: str | None
    if type(value) is str and 0 < len(value) <= limit and value.isascii() and value.strip() == value:
        text, cut = value, False  # the usual case, without the general helper
    else:
        text, cut = as_text(value, limit)
    if text and has_email(text):
        return None, f"{path} dropped: it contains what looks like an email address"
    return text, (f"{path} truncated to {limit} characters" if cut else None)


def content_id(line: Mapping[str, Any], fields: tuple[str, ...], id_of: Callable[[Any], str | None] = as_id,
               text_fields: frozenset[str] = frozenset({"sku"})) -> tuple[str | None, bool]:
    """(the first of `fields` that holds an id, whether it was truncated): numeric ids through
    `id_of`, `text_fields` (a sku) as text of at most MAX_CONTENT_ID characters."""
    for name in fields:
        value = line.get(name)
        if value is None:
            continue
        if name in text_fields:
            if isinstance(value, int) and not isinstance(value, bool):
                value = str(value)
            text, cut = as_text(value, MAX_CONTENT_ID)
            if text:
                return text, cut
        else:
            number = id_of(value)
            if number:
                return number, False
    return None, False


def json_cost(text: str) -> int:
    """Upper bound of the bytes `text` takes in ASCII-escaped JSON (what json.dumps writes)."""
    if text.isascii() and text.isprintable() and '"' not in text and "\\" not in text:
        return len(text)
    return 12 * len(text)  # \uXXXX, twice for characters outside the BMP
