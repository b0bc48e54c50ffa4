"""The `page` block's URLs, fit to send in clear: absolute, bounded, without an email address
anywhere, and with only the query parameters that carry no customer data (ttclid, utm_*).
Warnings name the field, never the URL."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

from tiktok_relay.sources.common.privacy import (
    KEPT_QUERY_PARAMETERS,
    scrub_surrogates,
    url_has_email,
    without_private_query,
)

MAX_URL = 2048
_ABSOLUTE_URL = re.compile(r"https?://[^/?#\s]+", re.ASCII | re.IGNORECASE)


def is_absolute(url: str) -> bool:
    """An http(s) URL with a host."""
    return _ABSOLUTE_URL.match(url) is not None


def bounded(url: str, name: str, warnings: list[str]) -> str:
    """`url` cut to MAX_URL characters (a warning names `name` if it was), fit for JSON."""
    if len(url) > MAX_URL:
        warnings.append(f"{name} truncated to {MAX_URL} characters")
    return scrub_surrogates(url[:MAX_URL])


def private_parts_removed(url: str, warnings: list[str]) -> str | None:
    """An absolute page URL for `page.url`: None (with a warning) if it carries an email address,
    else without query parameters other than ttclid and utm_*, and without its fragment."""
    if url_has_email(url, keep=KEPT_QUERY_PARAMETERS):
        warnings.append("page.url dropped: it contains what looks like an email address")
        return None
    url, removed = without_private_query(url, keep=KEPT_QUERY_PARAMETERS)
    if removed:
        warnings.append("page.url: query parameters other than ttclid and utm_* removed (they can hold "
                        "customer data)")
    return url


def referrer(value: Any, path: str, warnings: list[str]) -> str | None:
    """The referring page `value` (from field `path`) without its query and fragment, if it is an
    absolute URL without an email address."""
    if not isinstance(value, str) or not value.strip():
        if value is not None and not isinstance(value, str):
            warnings.append(f"{path} ignored: not a string")
        return None
    # Another site's query string is none of TikTok's business (search terms, email links).
    text, _ = without_private_query(value.strip(), keep=frozenset())
    if not is_absolute(text):
        warnings.append(f"{path} ignored: not an absolute URL")
        return None
    if url_has_email(value.strip(), keep=frozenset()):
        warnings.append(f"{path} dropped: it contains what looks like an email address")
        return None
    return text


def url_ttclid(url: Any) -> Any:
    """The ttclid query parameter of a page URL or path (a landing page), if any; None also when
    the URL holds an email address (a split address's local part could be in the click id)."""
    if not isinstance(url, str) or "ttclid" not in url:
        return None
    if url_has_email(url, keep=KEPT_QUERY_PARAMETERS):
        return None
    query = url.partition("?")[2].partition("#")[0]
    try:
        for name, value in parse_qsl(query, max_num_fields=1000):
            if name == "ttclid" and value.strip():
                return value
    except ValueError:
        return None
    return None
