"""Rules for what a mapping may send in clear, and for the warnings it writes.

Fields sent unhashed (page URLs, the user agent, click ids) must carry no customer data, and
a warning names the field and the problem, never the value (values can be emails, phones,
names). Pure functions, no I/O.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Callable, Iterator
from typing import Any, TypeVar
from urllib.parse import unquote

T = TypeVar("T")

# Query parameters that may stay in page.url. Any other could carry customer data in clear
# (newsletter and recovery links put ?email=... or ?phone=... in landing URLs), so it goes.
KEPT_QUERY_PARAMETERS = frozenset(
    {"ttclid", "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "utm_id"}
)
MAX_CLICK_ID = 512  # ttclid / ttp: longer values are dropped (a cut click id matches nothing)
# Around an '@': the end of a local part, and a domain with a dot.
_LOCAL_PART_END = re.compile(r"[^\s@/?&=]\Z")
_DOMAIN = re.compile(r"[^\s@/?&=]+\.[a-z]{2,}", re.IGNORECASE)
_SPACE = re.compile(r"\s")
# Text (NFKC-folded) without any of these cannot hold an '@', plain or hidden: a percent escape,
# an HTML entity, a spelled-out "(at)". Checked first because titles, vendors and user agents
# are checked for every line item of every event: a whole decoding takes ~8 us, this ~0.3 us.
_MAY_HIDE_AN_AT = re.compile(r"@|%[0-9a-f]{2}|&(?:#|[a-z]+;)|[(\[{]\s*at\s*[)\]}]", re.IGNORECASE)
# Spelled-out separators: "name (at) example (dot) com", "[at]", "{dot}".
_SPELLED_AT = re.compile(r"\s*[(\[{]\s*at\s*[)\]}]\s*", re.IGNORECASE)
_SPELLED_DOT = re.compile(r"\s*[(\[{]\s*dot\s*[)\]}]\s*", re.IGNORECASE)
_DECODING_ROUNDS = 4  # %2540 is two rounds; more than four layers is not an accident


def has_email(text: str) -> bool:
    """Whether `text` holds an email address: never acceptable in a field sent in clear.

    Also found when disguised: percent-encoded (%40, %2540), as an HTML entity (&#64;, &commat;),
    as a look-alike that NFKC folds into '@' (fullwidth U+FF20, small U+FE6B), or spelled out
    ("(at)", "[at]", with "(dot)"). Linear time: only short windows around each '@' are examined."""
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)  # look-alikes of '@', '.', letters
    if _MAY_HIDE_AN_AT.search(text) is None:
        return False  # the usual case: a plain title, click id or user agent
    return any(_plain_email(candidate) for candidate in _decodings(text))


def _decodings(text: str) -> Iterator[str]:
    """`text`, then its decodings (percent, HTML entities, NFKC, spelled-out separators) until
    nothing changes, at most _DECODING_ROUNDS of them."""
    yield text
    for _ in range(_DECODING_ROUNDS):
        decoded = unicodedata.normalize("NFKC", html.unescape(unquote(text, errors="replace")))
        decoded = _SPELLED_DOT.sub(".", _SPELLED_AT.sub("@", decoded))
        if decoded == text:
            return
        yield decoded
        text = decoded


def _plain_email(text: str) -> bool:
    lowered = text.lower()
    at = lowered.find("@")
    while at != -1:
        if _LOCAL_PART_END.search(lowered, max(0, at - 1), at) and _DOMAIN.match(lowered[at + 1: at + 256]):
            return True
        at = lowered.find("@", at + 1)
    return False


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


# A phone number as people write it: '+' and 7 to 17 digits with separators, or 7 to 15 national
# digits grouped by spaces, dots, dashes or brackets ('(415) 555-2671', '020 7946 0018'), but not
# a date ('2024-05-01', '01.05.2024'). Plain digit strings are not taken for phones: ids, order
# numbers and amounts look the same.
_INTERNATIONAL_PHONE = re.compile(r"\+\s*[0-9](?:[\s().-]*[0-9]){6,16}", re.ASCII)
_GROUPED_PHONE = re.compile(r"\(?[0-9]{2,5}\)?(?:[\s.-]+[0-9]{2,5}){1,4}", re.ASCII)
_DATE = re.compile(r"[0-9]{4}[-./][0-9]{1,2}[-./][0-9]{1,2}|[0-9]{1,2}[-./][0-9]{1,2}[-./][0-9]{4}", re.ASCII)


def looks_like_phone(text: str) -> bool:
    """Whether `text` is written like a phone number: never acceptable in clear."""
    candidate = text.strip()
    if _INTERNATIONAL_PHONE.fullmatch(candidate):
        return True
    if not _GROUPED_PHONE.fullmatch(candidate) or _DATE.fullmatch(candidate):
        return False
    return 7 <= sum(ch.isdigit() for ch in candidate) <= 15
