"""Per-call cost of mapping one Shopify order (10 line items) against its budgets: 200 µs, and
(issue 16) at most 2x a `json.loads` of the same payload.

    .venv/bin/python tests/bench/bench_mapping.py [--profile]

Maps tests/fixtures/shopify/order_paid_gb_10_items.json (emails, UK national phones that
need a region, browser IP/UA, ttclid and _ttp, 10 line items) with `map_webhook` many times
and prints the per-call cost next to a baseline measured in the same run: `json.loads` of the
same payload, the least work a receiver does with a delivery anyway. Mapping and baseline
rounds alternate and use CPU time (time.process_time), so a busy shared machine distorts the
ratio less than the absolute figures. Each call gets a fresh copy of the payload, made outside
the timed loop, so nothing can be cached between calls. Not a test: nothing here fails on a
slow machine. `--profile` prints the top functions by cumulative time (cProfile).
"""

from __future__ import annotations

import copy
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "layers" / "tiktok_relay"))

from tiktok_relay.sources.shopify.mapping import map_webhook, to_request_body  # noqa: E402
from tiktok_relay.sources.shopify.settings import ShopifySettings  # noqa: E402

BUDGET_US = 200.0
RATIO_GOAL = 2.0  # map_webhook / json.loads of the same payload
FIXTURE = ROOT / "tests" / "fixtures" / "shopify" / "order_paid_gb_10_items.json"
NOW = 1_714_700_000


def _per_call_us(fn, number: int, repeat: int = 7) -> float:
    """Median over `repeat` rounds of the mean CPU time of one call, in µs."""
    rounds = []
    for _ in range(repeat):
        start = time.process_time()
        for _ in range(number):
            fn()
        rounds.append((time.process_time() - start) / number * 1e6)
    return statistics.median(rounds)


def main() -> int:
    raw = FIXTURE.read_bytes()
    payload = json.loads(raw)
    settings = ShopifySettings()
    result = map_webhook("orders/paid", payload, "tea-shop.myshopify.com", settings, now=NOW)
    assert result.events and not result.warnings, (result.reason, result.warnings)
    event = result.events[0]
    assert len(event.properties.contents) == 10 and len(event.user.phone) == 3, "fixture changed?"

    if "--profile" in sys.argv:
        import cProfile
        import pstats

        copies = [copy.deepcopy(payload) for _ in range(2000)]
        profiler = cProfile.Profile()
        profiler.enable()
        for fresh in copies:
            map_webhook("orders/paid", fresh, "tea-shop.myshopify.com", settings, now=NOW)
        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
        return 0

    number = 1000
    # Warm-up (the first phone parse imports phonenumbers).
    for _ in range(200):
        map_webhook("orders/paid", copy.deepcopy(payload), "tea-shop.myshopify.com", settings, now=NOW)
    # Rounds alternate mapping and baseline, so a busy machine slows both alike.
    map_rounds, loads_rounds = [], []
    for _ in range(9):
        copies = [copy.deepcopy(payload) for _ in range(number)]  # made outside the timed loop
        start = time.process_time()
        for fresh in copies:
            map_webhook("orders/paid", fresh, "tea-shop.myshopify.com", settings, now=NOW)
        map_rounds.append((time.process_time() - start) / number * 1e6)
        loads_rounds.append(_per_call_us(lambda: json.loads(raw), number, repeat=1))
    map_us, loads_us = statistics.median(map_rounds), statistics.median(loads_rounds)
    ratio = statistics.median(m / b for m, b in zip(map_rounds, loads_rounds))
    best_us = min(map_rounds)
    body_us = _per_call_us(lambda: json.dumps(to_request_body(result, pixel_id="C0FFEE", test_event_code=None)),
                           number)

    print(f"payload: {FIXTURE.relative_to(ROOT)} ({len(raw)} bytes, 10 line items)")
    print(f"map_webhook (one order -> one validated, hashed Event): {map_us:8.1f} µs/call (median; best {best_us:.1f})")
    print(f"baseline json.loads of the same payload:                 {loads_us:8.1f} µs/call (median)")
    print(f"ratio map_webhook / json.loads (per round, median):      {ratio:8.1f} x")
    print(f"to_request_body + json.dumps (for reference):            {body_us:8.1f} µs/call")
    verdict = "within" if map_us <= BUDGET_US else "OVER"
    print(f"budget {BUDGET_US:.0f} µs/call: {verdict} ({map_us / BUDGET_US:.0%} of budget)")
    print(f"goal map_webhook / json.loads <= {RATIO_GOAL:g}x: {'met' if ratio <= RATIO_GOAL else 'MISSED'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
