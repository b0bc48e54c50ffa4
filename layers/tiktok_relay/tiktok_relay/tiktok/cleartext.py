"""What never travels in clear: email addresses and phone numbers hidden in text that is sent
unhashed (URLs, user agents, click ids, product names, custom parameters). Pure functions."""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterator
from urllib.parse import unquote

# Around an '@': the end of a local part, and a domain with a dot.
_LOCAL_PART_END = re.compile(r"[^\s@/?&=]\Z")
_DOMAIN = re.compile(r"[^\s@/?&=]+\.[a-z]{2,}", re.IGNORECASE)
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
