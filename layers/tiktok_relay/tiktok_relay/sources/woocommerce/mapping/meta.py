"""What an order's `meta_data` tells about the buyer's visit: the click id and cookie the
storefront snippet saved at checkout, and WooCommerce's own order attribution (8.5+), which
records the landing page, the referrer and the browser of the session that placed the order."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tiktok_relay.sources.common.customer import CLICK_ID_NAMES, TTCLID_NAMES, TTP_NAMES, named_values, stored_click_id
from tiktok_relay.sources.common.pages import bounded, is_absolute, private_parts_removed, referrer, url_ttclid
from tiktok_relay.sources.common.privacy import click_id

# The meta keys the storefront snippet writes (examples/woocommerce/tiktok-relay-attribution.php):
# a leading underscore keeps them out of the order screen's custom fields.
SNIPPET_TTCLID_KEY = "_ttclid"
SNIPPET_TTP_KEY = "_ttp"
# WooCommerce's order attribution (Automattic\WooCommerce\Internal\Orders\OrderAttributionController).
ENTRY_KEY = "_wc_order_attribution_session_entry"
REFERRER_KEY = "_wc_order_attribution_referrer"
USER_AGENT_KEY = "_wc_order_attribution_user_agent"
_WANTED = CLICK_ID_NAMES | {ENTRY_KEY, REFERRER_KEY, USER_AGENT_KEY}


def order_meta(payload: Mapping[str, Any], warnings: list[str]) -> dict[str, Any]:
    """The meta entries the mapping reads, by lowercased key ([{id, key, value}] in the payload)."""
    return named_values(payload.get("meta_data"), "meta_data", warnings, key="key", value="value", wanted=_WANTED)


def click_ids(meta: Mapping[str, Any], warnings: list[str]) -> tuple[str | None, str | None]:
    """(ttclid, ttp): as the snippet stored them; a ttclid also from the attribution's landing
    page when none was stored."""
    ttclid = stored_click_id(meta, TTCLID_NAMES, "meta_data", warnings)
    if ttclid is None:
        ttclid = click_id(url_ttclid(meta.get(ENTRY_KEY)), f"meta_data.{ENTRY_KEY} ttclid", warnings)
    return ttclid, stored_click_id(meta, TTP_NAMES, "meta_data", warnings)


def page_block(meta: Mapping[str, Any], warnings: list[str]) -> dict[str, Any]:
    """The page block from the order attribution: url (the session's landing page) and referrer."""
    page: dict[str, Any] = {}
    entry = meta.get(ENTRY_KEY)
    if isinstance(entry, str) and is_absolute(entry.strip()):
        url = private_parts_removed(entry.strip(), warnings)
        if url:
            page["url"] = bounded(url, "page.url", warnings)
    came_from = referrer(meta.get(REFERRER_KEY), f"meta_data.{REFERRER_KEY}", warnings)
    if came_from:
        page["referrer"] = bounded(came_from, "page.referrer", warnings)
    return page
