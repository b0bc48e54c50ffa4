"""`tiktok-relay quality [--json] FILE...`: how well the events in FILE would match.

FILE holds Events API request bodies, one per line (NDJSON, as `build` prints them; a single
indented body such as `map` prints works too), or `replay --json` output (each file's `request`;
the summary line is skipped). Any line holding a `request` object (a queue message, a dead
letter) is read the same way. `-` is stdin.

It reports how many events carry each match key and their share (coverage), an estimate of
TikTok's Event Match Quality from those coverages (tiktok/matching.py says which weights and
why: TikTok does not publish its own), and the keys missing most often with what would bring them.

--json prints one object (relied upon):
    {"files": N, "events": N,
     "match_keys": {"email": N, "phone": N, "external_id": N, "ip": N, "user_agent": N, "ttclid": N, "ttp": N},
     "coverage": {<the same keys>: fraction 0-1, 4 decimals},
     "estimated_match_quality": 0-10 (1 decimal), "scale": 10, "weights": {<key>: weight},
     "missing": [{"key": ..., "events": N events without it, "how": what would bring it}, ...]}
`missing` lists the keys some events lack, most often missing first.

Exit status: 0 with a report; 2 when a file cannot be read, a line is neither a request body nor
a line of `replay --json` (each one named, nothing reported), or there are no events at all.
"""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
from collections.abc import Iterator
from typing import Any

from tiktok_relay.cli.common import EXIT_OK, fail
from tiktok_relay.errors import UsageError
from tiktok_relay.tiktok.matching import EMQ_SCALE, EMQ_WEIGHTS, MATCH_KEYS, Coverage

# What brings each key to the events the relay sends from Shopify (README "Raising match quality").
HOW_TO_GET = {
    "email": "Shopify sends the buyer's email with orders and checkouts that have one; carts carry no customer, "
             "and a buyer who checked out with a phone number only has none. Asking for an email at checkout "
             "(the checkout settings' customer contact method) brings it.",
    "phone": "Shopify sends phone numbers when the checkout asks for them (a required phone in the shipping "
             "address). A number without a country code needs an address country or TIKTOK_PHONE_REGION; a "
             "number that is not valid is dropped, and the receiver's log names the field.",
    "external_id": "The Shopify customer id: guest checkouts and carts have none. Customer accounts bring it.",
    "ip": "Shopify sends the buyer's IP address with web orders only (browser_ip): checkouts, carts, customers, "
          "POS and draft orders carry none. The custom pixel (`tiktok-relay snippet shopify --kind pixel`) sends "
          "the browser's copy of each event with the same event_id, and TikTok merges the two when they arrive "
          "within 5 minutes of each other.",
    "user_agent": "As for ip: only web orders carry it (client_details.user_agent); the custom pixel's copy of the "
                  "event brings the browser's (`tiktok-relay snippet shopify --kind pixel`).",
    "ttclid": "Only a buyer who came from a TikTok ad has one. The theme snippet (`tiktok-relay snippet shopify "
              "--kind theme`) keeps the click id from the landing URL in the cart, where orders and checkouts "
              "carry it (when the buyer allows marketing); without it only orders whose landing page URL still "
              "holds ?ttclid= have one.",
    "ttp": "TikTok's pixel cookie (_ttp). The theme snippet (`tiktok-relay snippet shopify --kind theme`) copies "
           "it into the cart when the buyer allows marketing and TikTok's pixel runs in the theme itself (inside "
           "a custom pixel's sandbox it cannot set the storefront's cookie).",
}


def run_quality(args: argparse.Namespace) -> int:
    events: list[dict[str, Any]] = []
    problems: list[str] = []
    for path in args.files:
        for where, document in _documents(path):
            _collect(where, document, events, problems)
    if problems:
        for problem in problems:
            print(problem, file=sys.stderr)
        return fail(f"{len(problems)} unusable line(s); nothing was reported")
    if not events:
        return fail("no events in " + ", ".join(args.files) + " (replay --json shows null requests for "
                    "deliveries that sent nothing)")
    coverage = Coverage.of(events)
    if args.json:
        print(json.dumps(report(coverage, files=len(args.files)), separators=(",", ":")))
    else:
        _print_human(coverage, files=len(args.files))
    return EXIT_OK


def report(coverage: Coverage, *, files: int) -> dict[str, Any]:
    """The --json object."""
    return {
        "files": files,
        "events": coverage.events,
        "match_keys": dict(coverage.counts),
        "coverage": {key: round(coverage.share(key), 4) for key in MATCH_KEYS},
        "estimated_match_quality": coverage.estimated_match_quality(),
        "scale": EMQ_SCALE,
        "weights": dict(EMQ_WEIGHTS),
        "missing": [{"key": key, "events": coverage.missing(key), "how": HOW_TO_GET[key]}
                    for key in coverage.missing_most_often()],
    }


def _read(path: str) -> str:
    if path == "-":
        return sys.stdin.read()
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise UsageError(f"{path}: not UTF-8 text") from None


def _documents(path: str) -> Iterator[tuple[str, Any]]:
    """(where, parsed JSON or the ValueError) for each document in `path`: the whole file when
    it is one JSON value (an indented body), else each non-blank line."""
    text = _read(path)
    try:
        whole = json.loads(text)
    except ValueError:
        pass
    else:
        yield path, whole
        return
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            try:
                yield f"{path}:{number}", json.loads(line)
            except ValueError as exc:
                yield f"{path}:{number}", exc


def _collect(where: str, document: Any, events: list[dict[str, Any]], problems: list[str]) -> None:
    """Add the events of one document to `events`, or say why it holds none to `problems`."""
    if isinstance(document, ValueError):
        problems.append(f"{where}: not JSON")
        return
    if not isinstance(document, dict):
        problems.append(f"{where}: not a JSON object")
        return
    if "summary" in document and "data" not in document:  # replay --json's last line
        return
    request = document.get("request", document) if "data" not in document else document
    if request is None:  # a replay row whose delivery sent nothing
        return
    data = request.get("data") if isinstance(request, dict) else None
    if not isinstance(data, list):
        problems.append(f"{where}: neither a request body (with data[]) nor a line of replay --json")
        return
    for index, event in enumerate(data):
        if isinstance(event, dict):
            events.append(event)
        else:
            problems.append(f"{where}: data[{index}] is not an event object")


def _print_human(coverage: Coverage, *, files: int) -> None:
    print(f"{coverage.events} event(s) in {files} file(s)\n")
    print(f"  {'match key':<12} {'events':>7} {'coverage':>9}")
    for key in MATCH_KEYS:
        print(f"  {key:<12} {coverage.counts[key]:>7} {coverage.share(key):>9.1%}")
    tiers: dict[float, list[str]] = {}
    for key in MATCH_KEYS:
        tiers.setdefault(EMQ_WEIGHTS[key], []).append(key)
    weights = "; ".join(f"{', '.join(keys)} {weight:g}" for weight, keys in sorted(tiers.items(), reverse=True))
    print(f"\nestimated Event Match Quality: {coverage.estimated_match_quality()} of {EMQ_SCALE:g}")
    _wrapped("an estimate: TikTok computes its score as a weighted average of the match keys' coverages but does "
             f"not publish the weights. These are the relay's ({weights}); Events Manager shows TikTok's own score "
             "for each event type.", indent="  ")
    missing = coverage.missing_most_often()
    if not missing:
        print("\nevery event carries every match key")
        return
    print("\nmissing most often:")
    for key in missing:
        print(f"  {key}: missing from {coverage.missing(key)} of {coverage.events} event(s)")
        _wrapped(HOW_TO_GET[key], indent="    ")


def _wrapped(text: str, *, indent: str) -> None:
    print(textwrap.fill(text, 100, initial_indent=indent, subsequent_indent=indent))

