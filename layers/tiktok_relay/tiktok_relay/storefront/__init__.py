"""The storefront code a store needs for the relay (README "The storefront code", "WooCommerce"):
kept here as package data and printed, filled in, by `tiktok-relay snippet shopify|woocommerce`.
Pure: text in, text out.

    shopify/tiktok-relay.liquid  theme snippet: the buyer's consent (Customer Privacy API), ttclid and
                                 _ttp, written into cart attributes for the order's note_attributes
    shopify/custom-pixel.js      custom pixel (Customer events): TikTok's pixel events with the
                                 event_ids the mapping derives, under the same consent
    woocommerce/tiktok-relay.php a small WordPress plugin (or functions.php addition): ttclid and
                                 _ttp saved into the order's meta (_ttclid, _ttp) at checkout

The custom pixel reproduces the mapping's event_id rules (sources/shopify/mapping/identity.py) in
JavaScript; tests/browser checks the two agree, in Chromium, for many carts, checkouts and orders.
"""

from __future__ import annotations

import json
from importlib.resources import files

from tiktok_relay.config import check_pixel_id
from tiktok_relay.errors import ConfigurationError
from tiktok_relay.sources.shopify.settings import CONTENT_ID_FIELDS, ShopifySettings

THEME_SNIPPET = "shopify/tiktok-relay.liquid"
CUSTOM_PIXEL = "shopify/custom-pixel.js"
WOOCOMMERCE_PLUGIN = "woocommerce/tiktok-relay.php"
# What the custom pixel's source leaves to be filled in (each a JavaScript literal, replaced by JSON).
_PIXEL_ID = '"__TIKTOK_PIXEL_ID__"'
_PURCHASE_EVENT = '"__PURCHASE_EVENT__"'
_CONTENT_ID_FIELDS = '["__CONTENT_ID_FIELDS__"]'
_ORDER_TOPICS = ("orders/paid", "orders/create")


def source(name: str) -> str:
    """A storefront file as the package ships it (THEME_SNIPPET, CUSTOM_PIXEL)."""
    return files(__name__).joinpath(name).read_text(encoding="utf-8")


def woocommerce_plugin() -> str:
    """The WooCommerce plugin (it needs no settings)."""
    return source(WOOCOMMERCE_PLUGIN)


def shopify_theme_snippet() -> str:
    """The theme snippet (it needs no settings)."""
    return source(THEME_SNIPPET)


def purchase_event(settings: ShopifySettings) -> str:
    """The event the relay sends for orders (orders/paid's, else orders/create's): the pixel's must match."""
    return next((event for topic in _ORDER_TOPICS if (event := settings.event_for(topic))), "Purchase")


def shopify_custom_pixel(pixel_id: str, settings: ShopifySettings | None = None, *,
                         setting: str = "pixel_id") -> str:
    """The custom pixel for `pixel_id`, with the purchase event and content ids `settings` give the
    server. A pixel id that is not letters and digits is a ConfigurationError naming `setting`."""
    if not pixel_id:
        raise ConfigurationError(f"{setting} is required: the custom pixel loads your TikTok pixel")
    check_pixel_id(pixel_id, setting)
    settings = settings or ShopifySettings()
    text = source(CUSTOM_PIXEL)
    fields = list(settings.content_id_fields or CONTENT_ID_FIELDS)
    for placeholder, value in ((_PIXEL_ID, pixel_id), (_PURCHASE_EVENT, purchase_event(settings)),
                               (_CONTENT_ID_FIELDS, fields)):
        if text.count(placeholder) != 1:  # a packaging bug, never the user's input
            raise RuntimeError(f"{CUSTOM_PIXEL} must hold {placeholder} exactly once")
        text = text.replace(placeholder, json.dumps(value))
    return text
