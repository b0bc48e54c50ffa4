"""Rules for what a mapping may send in clear, and for the warnings it writes.

Fields sent unhashed (page URLs, the user agent, click ids) must carry no customer data, and
a warning names the field and the problem, never the value (values can be emails, phones,
names). Pure functions, no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

from tiktok_relay.tiktok.cleartext import has_email

T = TypeVar("T")

# Query parameters that may stay in page.url. Any other could carry customer data in clear
# (newsletter and recovery links put ?email=... or ?phone=... in landing URLs), so it goes.
KEPT_QUERY_PARAMETERS = frozenset(
    {"ttclid", "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "utm_id"}
)
MAX_CLICK_ID = 512  # ttclid / ttp: longer values are dropped (a cut click id matches nothing)
_SPACE = re.compile(r"\s")
def without_private_query(url: str, *, keep: frozenset[str]) -> tuple[str, bool]:
    """`url` with only the `keep` query parameters and no fragment; True if anything was removed."""
    base, _, fragment = url.partition("#")
    path, question, query = base.partition("?")
    if not question:
        return path, bool(fragment)
    pairs = [pair for pair in query.split("&") if pair]
    kept = [pair for pair in pairs if pair.partition("=")[0].lower() in keep]
    return (f"{path}?{'&'.join(kept)}" if kept else path), len(kept) != len(pairs) or bool(fragment)


def url_has_email(url: str, *, keep: frozenset[str]) -> bool:
    """Whether `url` holds an email address anywhere but in the values of query parameters
    outside `keep` (those are removed before sending). Checked on the URL as it came, fragment
    and all: an HTML entity's '#' (&#64;) would otherwise cut an address in two, and its local
    part would stay in the path or in a kept parameter."""
    base, hash_mark, fragment = url.partition("#")
    path, question, query = base.partition("?")
    if question:
        pairs = [pair if pair.partition("=")[0].lower() in keep else pair.partition("=")[0]
                 for pair in query.split("&")]
        base = f"{path}?{'&'.join(pairs)}"
    return has_email(base + hash_mark + fragment)


def scrub_surrogates(text: str) -> str:
    """Lone surrogates (valid in Python str, invalid in UTF-8/JSON) become '?'."""
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace").decode("utf-8")


def click_id(value: Any, path: str, warnings: list[str]) -> str | None:
    """A click id or cookie value (ttclid, ttp) fit to send in clear; None when there is none."""
    if value is None:
        return None
    if not isinstance(value, str):
        warnings.append(f"{path} ignored: not a string")
        return None
    text = value.strip()
    if not text:
        return None
    if len(text) > MAX_CLICK_ID or _SPACE.search(text):
        warnings.append(f"{path} dropped: longer than {MAX_CLICK_ID} characters or contains spaces")
        return None
    if has_email(text):  # sent in clear: it must not carry customer data
        warnings.append(f"{path} dropped: it contains what looks like an email address")
        return None
    return scrub_surrogates(text)


def attempt(normalizer: Callable[..., T | None], path: str, warnings: list[str], *args: Any) -> T | None:
    """`normalizer(*args)`, or None after a warning that names the field, never the value."""
    try:
        return normalizer(*args)
    except UnicodeError:  # lone surrogates; the codec's message would quote the character
        warnings.append(f"{path} dropped: not valid Unicode text")
    except ValueError as exc:  # normalize's messages name the problem, never the value
        warnings.append(f"{path} dropped: {exc}")
    except Exception:  # a third-party parser failing on odd input must not lose the event
        warnings.append(f"{path} dropped: could not be normalized")
    return None


