"""Shopify webhook topics: their two spellings, the access scope each needs, and which ones
`register` may subscribe."""

from __future__ import annotations

from collections.abc import Iterable

from tiktok_relay.errors import UsageError
from tiktok_relay.sources.shopify.settings import DEFAULT_TOPIC_EVENTS

# Access scope each topic family needs (a write_ scope implies the read_ one).
_SCOPE_BY_FAMILY = {
    "orders": "read_orders",
    "checkouts": "read_orders",
    "carts": "read_orders",
    "refunds": "read_orders",
    "customers": "read_customers",
}


def rest_form(topic: str) -> str:
    """GraphQL enum form (or any case) to REST form: ORDERS_PAID, ' Orders/Paid ' -> orders/paid."""
    text = topic.strip().lower()
    if "/" not in text and "_" in text:
        head, _, tail = text.rpartition("_")
        text = f"{head}/{tail}"
    return text


def topic_enum(topic: str) -> str:
    """REST form to GraphQL enum form: orders/paid -> ORDERS_PAID."""
    return topic.strip().replace("/", "_").upper()


def required_scope(topic: str) -> str | None:
    """The access scope a topic (REST or enum form) needs, when known."""
    family = topic.strip().lower().replace("_", "/").split("/")[0]
    return _SCOPE_BY_FAMILY.get(family)


def known_topics() -> list[str]:
    """Topics the receiver knows (REST form): the ones `--topics` accepts."""
    return sorted(DEFAULT_TOPIC_EVENTS)


def resolve_topic(requested: str, flag: str = "--topic") -> str:
    """One topic, REST (orders/paid) or enum (ORDERS_PAID) form, in REST form; UsageError listing
    the known topics when it is not one (a typo such as order/paid)."""
    raw = requested.strip()
    by_enum = {topic_enum(t): t for t in known_topics()}
    topic = raw.lower() if "/" in raw else by_enum.get(raw.upper())
    if topic not in known_topics():
        raise UsageError(f"{flag} {requested!r} is not a topic the relay knows; known topics: "
                         f"{', '.join(known_topics())}")
    return topic


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
            if topic is None or topic not in known:
                unknown.append(raw)
            elif topic not in out:
                out.append(topic)
    if unknown:
        raise UsageError(f"unknown topic(s): {', '.join(unknown)}; known topics: {', '.join(known)}")
    if not out:
        raise UsageError("--topics lists no topic")
    return out
