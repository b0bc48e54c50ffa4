"""Deterministic benchmark input: NDJSON of Events API 2.0 `data[]` items with raw identifiers.

Every line is accepted both by `tiktok-relay build` and by pytt-events-api 0.1.10, so the two
tools do the same work: legacy event name (CompletePayment), an ISO 8601 timestamp with offset,
international phone numbers (pytt has no default region), IPv4 only, a ttclid in the strict
'E.C.P.<x>' shape pytt demands, positive prices and distinct line items.

    python tests/bench/gen_events.py 10000 > events.ndjson
"""

from __future__ import annotations

import json
import random
import string
import sys

SEED = 20240501

_FIRST = "jane john maria li ahmed olga pierre sofia kenji amara lucas emma".split()
_LAST = "doe smith garcia wang khan ivanova martin rossi tanaka okafor silva brown".split()
_DOMAINS = "gmail.com yahoo.com outlook.com icloud.com proton.me fastmail.fm web.de orange.fr".split()
_UAS = [
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.6367.82 Mobile Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4_1) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4.1 Safari/605.1.15",
]
_PRODUCTS = [
    ("Classic Tee", "Apparel > Shirts", 19.0),
    ("Running Shoes", "Footwear", 89.95),
    ("Canvas Tote", "Bags", 24.5),
    ("Wool Beanie", "Accessories", 15.0),
    ("Denim Jacket", "Apparel > Outerwear", 74.99),
    ("Water Bottle", "Home", 12.75),
]
_CURRENCIES = ["USD", "EUR", "GBP", "BRL"]
_ALNUM = string.ascii_letters + string.digits


def _phone(rng: random.Random) -> str:
    """International numbers as people type them, only ones libphonenumber calls valid (the relay
    hashes no other; pytt only checks their length)."""
    import phonenumbers

    while True:
        text = _any_phone(rng)
        if phonenumbers.is_valid_number(phonenumbers.parse(text, None)):
            return text


def _any_phone(rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.55:  # US, several spellings of the same shape
        area = rng.choice(["415", "212", "312", "617", "303", "206"])
        exch = str(rng.randint(201, 989))
        line = f"{rng.randint(0, 9999):04d}"
        spellings = [f"+1 {area}-{exch}-{line}", f"+1 ({area}) {exch}-{line}", f"+1{area}{exch}{line}",
                     f"+1.{area}.{exch}.{line}"]
        return rng.choice(spellings)
    if kind < 0.70:  # UK mobile
        return f"+44 7{rng.randint(400, 999)} {rng.randint(100000, 999999)}"
    if kind < 0.80:  # UK London with the national trunk '(0)' people often keep
        return f"+44 (0)20 7946 {rng.randint(0, 9999):04d}"
    if kind < 0.90:  # Germany mobile
        return f"+49 15{rng.randint(1, 9)} {rng.randint(1000000, 9999999)}"
    return f"+55 11 9{rng.randint(6000, 9999)}-{rng.randint(0, 9999):04d}"  # Brazil mobile


def make_event(rng: random.Random, index: int) -> dict:
    first, last = rng.choice(_FIRST), rng.choice(_LAST)
    email = f"{first}.{last}{rng.randint(1, 9999)}@{rng.choice(_DOMAINS)}"
    if rng.random() < 0.3:
        email = email.title()  # mixed case, as typed into checkout forms
    items = rng.sample(_PRODUCTS, rng.randint(1, 3))
    contents = [
        {
            "content_id": f"SKU-{10000 + _PRODUCTS.index(p)}",
            "content_name": p[0],
            "content_category": p[1],
            "price": p[2],
            "quantity": rng.randint(1, 3),
        }
        for p in items
    ]
    value = round(sum(c["price"] * c["quantity"] for c in contents), 2)
    ts = 1_714_521_600 + index * 37 + rng.randint(0, 30)  # May 2024 onwards
    hh, mm, ss = (ts // 3600) % 24, (ts // 60) % 60, ts % 60
    day = 1 + (ts - 1_714_521_600) // 86400
    order = 1_000_000 + index
    return {
        "event": "CompletePayment",
        "event_time": f"2024-05-{day:02d}T{hh:02d}:{mm:02d}:{ss:02d}+00:00",
        "event_id": f"order-{order}",
        "user": {
            "email": email,
            "phone": _phone(rng),
            "external_id": f"cust-{rng.randint(1, 10**9)}",
            "ttclid": "E.C.P." + "".join(rng.choices(_ALNUM, k=64)),
            "ttp": "".join(rng.choices(_ALNUM, k=27)),
            "ip": f"{rng.randint(11, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
            "user_agent": rng.choice(_UAS),
        },
        "properties": {
            "currency": rng.choice(_CURRENCIES),
            "value": value,
            "content_type": "product",
            "contents": contents,
        },
        "page": {
            "url": f"https://shop.example.com/checkouts/{order}/thank-you?utm_source=tiktok",
            "referrer": "https://shop.example.com/cart",
        },
    }


def write_events(path: str, count: int, seed: int = SEED) -> None:
    rng = random.Random(seed)
    with open(path, "w", encoding="utf-8") as out:
        for index in range(count):
            out.write(json.dumps(make_event(rng, index), separators=(",", ":")))
            out.write("\n")


if __name__ == "__main__":
    rng = random.Random(SEED)
    for i in range(int(sys.argv[1]) if len(sys.argv) > 1 else 10):
        sys.stdout.write(json.dumps(make_event(rng, i), separators=(",", ":")) + "\n")
