"""How Shopify names a shop: its myshopify.com domain (`X-Shopify-Shop-Domain`), the key of its
entry in the tenants document (tiktok_relay.pipeline.tenants) and what `register --shop` takes."""

from __future__ import annotations

import re

from tiktok_relay.pipeline.tenants import TenantKind

# A shop's permanent domain: one DNS label under myshopify.com (a custom domain never is one).
SHOP_DOMAIN = re.compile(r"[a-z0-9][a-z0-9-]{0,62}\.myshopify\.com", re.ASCII)


def canonical_shop(value: str) -> str | None:
    """`Acme.myshopify.com ` -> `acme.myshopify.com`; None when it is not a myshopify.com domain."""
    shop = value.strip().lower() if isinstance(value, str) else ""
    return shop if SHOP_DOMAIN.fullmatch(shop) else None


TENANT_KIND = TenantKind(platform="shopify", canonical=canonical_shop,
                         describe="a Shopify shop is its myshopify.com domain, such as acme.myshopify.com")
