"""Which channel an order's events go to: web (the pixel), offline (the offline event set), or
none (TikTok Shop's own orders: TikTok already has them). README "Channels" has the table.

What is Shopify's word and what is assumed:
- Shopify: `source_name` is the handle of the channel an order came from: `web` (online store),
  `pos` (Point of Sale), `shopify_draft_order` (made by staff), and for a sales channel app the
  handle it registered or its app id (also in `app_id`).
- Shopify: orders placed on TikTok Shop are created in the shop by TikTok's own sales channel
  app ("TikTok for Shopify"), or by connector apps (CedCommerce, SKU IQ, EcomSend...).
- Assumed: neither TikTok nor Shopify publishes the source_name or app id of TikTok's channel.
  So an order counts as TikTok Shop's when its source_name contains "tiktok", or when an app
  created it (neither web, pos nor a draft order) and it carries a TikTok mark that connectors
  are documented to add: a tag with "tiktok" in it, or an email at tiktok.com (CedCommerce uses
  buyerid@tiktok.com). Online-store orders are never judged by tags or emails: a merchant may
  tag an ad-attributed web order "TikTok".
- SHOPIFY_SOURCE_CHANNELS names a source_name or app id exactly and wins over all of this.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tiktok_relay.sources.common.values import shown
from tiktok_relay.sources.shopify.mapping.values import shopify_id
from tiktok_relay.sources.shopify.settings import DEFAULT_SOURCE_CHANNELS, Channel, ShopifySettings

TIKTOK = "tiktok"
_SHOPIFY_OWN = frozenset({"web", "pos", "shopify_draft_order"})
_TIKTOK_EMAIL_DOMAINS = ("@tiktok.com",)
_KINDS = {"pos": "a Point of Sale (in-store) order", "shopify_draft_order": "a draft order (made by staff)"}


def order_channel(payload: Mapping[str, Any], settings: ShopifySettings) -> tuple[Channel, str]:
    """(channel, what decided it: the source_name or app id, or 'tiktok' for a TikTok Shop order)."""
    source_name = _source_name(payload)
    app_id = shopify_id(payload.get("app_id"))
    for key in (source_name, app_id):
        if key is not None and key in settings.source_channels:
            return settings.source_channels[key], key
    if _from_tiktok_shop(payload, source_name):
        return "none", TIKTOK
    if source_name is not None and source_name in DEFAULT_SOURCE_CHANNELS:
        return DEFAULT_SOURCE_CHANNELS[source_name], source_name
    return "web", source_name or "web"


def channel_reason(channel: Channel, key: str, settings: ShopifySettings) -> str | None:
    """Why an order of `channel` is not sent, or None when it is."""
    quoted = shown(key, 60)
    if channel == "none" and key == TIKTOK:
        return ("an order from TikTok Shop: TikTok already has it, so it is not sent (set SHOPIFY_SOURCE_CHANNELS="
                "<its source_name or app id>=web to send it anyway)")
    if channel == "none":
        return f"orders with source {quoted} are not sent (SHOPIFY_SOURCE_CHANNELS)"
    if channel == "offline" and not settings.offline_event_set_id:
        what = _KINDS.get(key, f"an order with source {quoted}")
        return (f"{what} is an offline sale, and TIKTOK_OFFLINE_EVENT_SET_ID is not set: set it to your offline "
                f"event set to send such orders there (or SHOPIFY_SOURCE_CHANNELS={key}=none to say you do not)")
    return None


def _source_name(payload: Mapping[str, Any]) -> str | None:
    value = payload.get("source_name")
    if isinstance(value, str) and value.strip():
        return value.strip().lower()
    return shopify_id(value)  # some apps' ids arrive as numbers


def _from_tiktok_shop(payload: Mapping[str, Any], source_name: str | None) -> bool:
    if source_name is not None and TIKTOK in source_name.replace(" ", ""):
        return True
    if source_name is None or source_name in _SHOPIFY_OWN:
        return False
    tags = payload.get("tags")
    if isinstance(tags, str) and TIKTOK in tags.lower().replace(" ", ""):
        return True
    if isinstance(tags, list) and any(isinstance(t, str) and TIKTOK in t.lower().replace(" ", "") for t in tags):
        return True
    email = payload.get("email")
    return isinstance(email, str) and email.strip().lower().endswith(_TIKTOK_EMAIL_DOMAINS)
