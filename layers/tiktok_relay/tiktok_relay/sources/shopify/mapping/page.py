"""The `page` block: the landing page and the referrer, without customer data in clear."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from tiktok_relay.sources.common.privacy import (
    KEPT_QUERY_PARAMETERS,
    has_email,
    scrub_surrogates,
    without_private_query,
)

MAX_URL = 2048


_HOST = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?(?::[0-9]{1,5})?", re.ASCII)


_ABSOLUTE_URL = re.compile(r"https?://[^/?#\s]+", re.ASCII | re.IGNORECASE)


def _absolute(url: str) -> bool:
    """An http(s) URL with a host."""
    return _ABSOLUTE_URL.match(url) is not None


def page_block(payload: Mapping[str, Any], shop_domain: Any, warnings: list[str]) -> dict[str, Any]:
    page: dict[str, Any] = {}
    url = None
    landing = payload.get("landing_site")
    if isinstance(landing, str) and landing.strip():
        text = landing.strip()
        if text.startswith("//"):
            text = "https:" + text
        if text.startswith("/"):
            host = shop_domain.strip().lower() if isinstance(shop_domain, str) else ""
            if _HOST.fullmatch(host):
                url = f"https://{host}{text}"
            else:
                warnings.append("landing_site ignored: the shop domain is not a host name")
        elif _absolute(text):
            url = text
        else:
            warnings.append("landing_site ignored: neither a path nor an absolute URL")
    elif landing is not None and not isinstance(landing, str):
        warnings.append("landing_site ignored: not a string")
    if url is None:
        status = payload.get("order_status_url")
        if isinstance(status, str) and _absolute(status.strip()):
            # Without its query: the `key` parameter opens the order status page (an access key).
            url = status.strip().split("?", 1)[0].split("#", 1)[0]
    if url:
        url, removed = without_private_query(url, keep=KEPT_QUERY_PARAMETERS)
        if removed:
            warnings.append("page.url: query parameters other than ttclid and utm_* removed (they can hold "
                            "customer data)")
        if has_email(url):
            warnings.append("page.url dropped: it contains what looks like an email address")
            url = None
    if url:
        page["url"] = scrub_surrogates(url[:MAX_URL])
        if len(url) > MAX_URL:
            warnings.append(f"page.url truncated to {MAX_URL} characters")
    referrer = payload.get("referring_site")
    if isinstance(referrer, str) and referrer.strip():
        # Another site's query string is none of TikTok's business (search terms, email links).
        text, _ = without_private_query(referrer.strip(), keep=frozenset())
        if _absolute(text) and has_email(text):
            warnings.append("referring_site dropped: it contains what looks like an email address")
        elif _absolute(text):
            page["referrer"] = scrub_surrogates(text[:MAX_URL])
            if len(text) > MAX_URL:
                warnings.append(f"page.referrer truncated to {MAX_URL} characters")
        else:
            warnings.append("referring_site ignored: not an absolute URL")
    elif referrer is not None and not isinstance(referrer, str):
        warnings.append("referring_site ignored: not a string")
    return page
