"""The `page` block: the landing page and the referrer, without customer data in clear.

A landing page that is a path is made absolute on the storefront's own host, where the pixel
runs and so where its page URLs are: SHOPIFY_STOREFRONT_DOMAIN, else the host of the payload's
order_status_url or abandoned_checkout_url (links Shopify makes to the storefront). Never the
shop's myshopify.com domain, which a storefront with a domain of its own redirects away from
(set SHOPIFY_STOREFRONT_DOMAIN to it when the shop has no other domain)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from tiktok_relay.sources.common.pages import bounded, is_absolute, private_parts_removed, referrer
from tiktok_relay.sources.shopify.settings import ShopifySettings

MYSHOPIFY = ".myshopify.com"
_HOST = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?(?::[0-9]{1,5})?", re.ASCII)
_URL_HOST = re.compile(r"https?://([^/?#:\s@]+)", re.ASCII | re.IGNORECASE)
_STOREFRONT_LINKS = ("order_status_url", "abandoned_checkout_url")


def page_block(payload: Mapping[str, Any], settings: ShopifySettings, warnings: list[str]) -> dict[str, Any]:
    """The page block: url (landing_site, else order_status_url) and referrer (referring_site)."""
    page: dict[str, Any] = {}
    url = _page_url(payload, storefront_host(payload, settings), warnings)
    if url:
        page["url"] = bounded(url, "page.url", warnings)
    came_from = referrer(payload.get("referring_site"), "referring_site", warnings)
    if came_from:
        page["referrer"] = bounded(came_from, "page.referrer", warnings)
    return page


def storefront_host(payload: Mapping[str, Any], settings: ShopifySettings) -> str | None:
    """The storefront's own host: SHOPIFY_STOREFRONT_DOMAIN, else that of a storefront link in the
    payload that is not on myshopify.com; None when neither is known."""
    if settings.storefront_domain:
        return settings.storefront_domain
    for name in _STOREFRONT_LINKS:
        link = payload.get(name)
        match = _URL_HOST.match(link.strip()) if isinstance(link, str) else None
        host = match.group(1).lower() if match else ""
        if host and not host.endswith(MYSHOPIFY) and _HOST.fullmatch(host):
            return host
    return None


def _page_url(payload: Mapping[str, Any], storefront: str | None, warnings: list[str]) -> str | None:
    """The landing page, else the order status page, with only ttclid and utm_* in its query;
    None if it carries an email address."""
    url = _landing_url(payload.get("landing_site"), storefront, warnings)
    if url is None:
        status = payload.get("order_status_url")
        if isinstance(status, str) and is_absolute(status.strip()):
            # Without its query: the `key` parameter opens the order status page (an access key).
            url = status.strip().split("?", 1)[0].split("#", 1)[0]
    if not url:
        return url
    return private_parts_removed(url, warnings)


def _landing_url(landing: Any, storefront: str | None, warnings: list[str]) -> str | None:
    """landing_site as an absolute URL: a path is read on the storefront's host."""
    if not isinstance(landing, str) or not landing.strip():
        if landing is not None and not isinstance(landing, str):
            warnings.append("landing_site ignored: not a string")
        return None
    text = landing.strip()
    if text.startswith("//"):
        text = "https:" + text
    if text.startswith("/"):
        if storefront:
            return f"https://{storefront}{text}"
        warnings.append("landing_site ignored: a path, and the storefront's own domain is unknown (set "
                        "SHOPIFY_STOREFRONT_DOMAIN; the myshopify.com domain is not where the pixel's pages are)")
        return None
    if is_absolute(text):
        return text
    warnings.append("landing_site ignored: neither a path nor an absolute URL")
    return None
