"""WooCommerce webhook topics, as `X-WC-Webhook-Topic` names them: `<resource>.<event>`.

WooCommerce core's topics (`wc_get_webhook_topics`): order, product, customer and coupon, each
created, updated, deleted and restored, plus `action.<hook>` for any action hook. Only
order.created and order.updated carry an order the relay maps; any other topic is answered
200 ignored.
"""

from __future__ import annotations

import re

from tiktok_relay.errors import UsageError

RESOURCES = ("order", "product", "customer", "coupon")
EVENTS = ("created", "updated", "deleted", "restored")
KNOWN_TOPICS = tuple(f"{resource}.{event}" for resource in RESOURCES for event in EVENTS)
ORDER_TOPICS = frozenset({"order.created", "order.updated"})
_ACTION = re.compile(r"action\.[A-Za-z0-9_]{1,100}", re.ASCII)


def resolve_topic(text: str) -> str:
    """A topic as a user typed it (for `sign` and `map`), checked: ' Order.Updated ' is
    order.updated; a typo (orders/paid, order.paid) is a UsageError listing the known ones."""
    topic = text.strip()
    lowered = topic.lower()
    if lowered in KNOWN_TOPICS:
        return lowered
    if _ACTION.fullmatch(topic):
        return "action." + topic.split(".", 1)[1]
    raise UsageError(f"--topic {text!r} is not a WooCommerce topic; known topics: {', '.join(KNOWN_TOPICS)} "
                     "and action.<hook>")
