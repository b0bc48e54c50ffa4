"""Which WooCommerce store a delivery is from: its home URL, as `X-WC-Webhook-Source` sends it
(WordPress's `home_url('/')`), normalized into the store's identity (the Delivery's `shop`).

    store_id("https://Shop.Example.com/")      -> "shop.example.com"
    store_id("https://example.com/shop/")      -> "example.com/shop"   (a store in a subdirectory)
    store_id("http://localhost:8080/")         -> "localhost:8080"

The scheme, a default port, a trailing slash and case in the host do not change the store; the
path does (two stores of a WordPress multisite can share a host).

In the tenants document (pipeline/tenants.py) a WooCommerce store is keyed by its home URL,
written as a URL ("https://shop.example.com/"): a bare host name would be taken for a typo'd
Shopify shop, and is reported as no store identity at all.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from tiktok_relay.pipeline.tenants import TenantKind

_HOST = re.compile(r"[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?", re.ASCII)
_PATH = re.compile(r"(?:/[A-Za-z0-9._~%!$&'()*+,;=:@-]+)*", re.ASCII)
_DEFAULT_PORTS = {"http": 80, "https": 443}


def store_id(url: Any) -> str | None:
    """The store's identity from its home URL; None when `url` is not an http(s) URL of a host."""
    if not isinstance(url, str) or not url.isascii():
        return None
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    host = (parts.hostname or "").lower()
    if parts.scheme.lower() not in _DEFAULT_PORTS or not _HOST.fullmatch(host) or parts.username or parts.password:
        return None
    path = parts.path.rstrip("/")
    if not _PATH.fullmatch(path):
        return None
    if port is not None and port != _DEFAULT_PORTS[parts.scheme.lower()]:
        host = f"{host}:{port}"
    return host + path


def host_of(store: str) -> str:
    """The host name (without a port or path) of a store identity."""
    return store.split("/", 1)[0].split(":", 1)[0]


def links_host(payload: Mapping[str, Any]) -> str | None:
    """The host of the order's own REST link (`_links.self[0].href`), which WooCommerce builds
    from the same home URL as `X-WC-Webhook-Source`, inside the signed body; None without one."""
    links = payload.get("_links")
    selves = links.get("self") if isinstance(links, dict) else None
    first = selves[0] if isinstance(selves, list) and selves else None
    href = first.get("href") if isinstance(first, dict) else None
    if not isinstance(href, str):
        return None
    try:
        host = urlsplit(href.strip()).hostname
    except ValueError:
        return None
    return host.lower() if host else None


MYSHOPIFY = ".myshopify.com"  # Shopify's hosts: never a WooCommerce store (a Shopify key written as a URL)


def canonical_store(key: str) -> str | None:
    """A tenants document key's store: store_id of a key written as an http(s) URL, else None
    (also for a myshopify.com URL: a Shopify shop's key is its bare domain)."""
    text = key.strip() if isinstance(key, str) else ""
    store = store_id(text) if text.lower().startswith(("https://", "http://")) else None
    return None if store is None or host_of(store).endswith(MYSHOPIFY) else store


TENANT_KIND = TenantKind(platform="woocommerce", canonical=canonical_store,
                         describe="a WooCommerce store is its home URL, such as https://shop.example.com/")
