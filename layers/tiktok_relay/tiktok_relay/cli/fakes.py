"""`fake-tiktok` and `fake-shopify`: the fake Events API and the fake Shopify Admin API on
127.0.0.1, for users' own tests (tiktok_relay/testing/)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path

from tiktok_relay.cli.common import EXIT_OK, fail
from tiktok_relay.testing.local_server import LocalServer


def _serve(start: Callable[[], LocalServer], port: int, banner: Callable[[LocalServer], str]) -> int:
    """Start a fake on `port`, say how to use it, and serve until Ctrl-C."""
    try:
        fake = start()
    except OSError as exc:
        return fail(f"cannot listen on 127.0.0.1:{port}: {exc.strerror}")
    print(banner(fake), file=sys.stderr, flush=True)
    try:
        fake.serve_forever()
    except KeyboardInterrupt:
        pass
    return EXIT_OK


def run_fake_tiktok(args: argparse.Namespace) -> int:
    from tiktok_relay.testing.fake_tiktok import DEFAULT_TOKEN, FakeTikTok

    token = os.environ.get("TIKTOK_ACCESS_TOKEN") or DEFAULT_TOKEN

    def show(body: dict) -> None:
        sys.stdout.write(json.dumps(body, separators=(",", ":")) + "\n")
        sys.stdout.flush()

    return _serve(lambda: FakeTikTok(token, port=args.port, on_accept=show), args.port,
                  lambda fake: f"fake TikTok Events API listening on {fake.base_url}\n"
                               f"  export TIKTOK_API_BASE_URL={fake.base_url}\n"
                               f"  export TIKTOK_ACCESS_TOKEN={token}\n"
                               "accepted requests are printed on stdout, one JSON line each; Ctrl-C stops")


def run_fake_shopify(args: argparse.Namespace) -> int:
    from tiktok_relay.testing.fake_shopify_admin import DEFAULT_SCOPES, DEFAULT_TOKEN, FakeShopifyAdmin
    from tiktok_relay.testing.fake_shopify_orders import read_orders

    scopes = DEFAULT_SCOPES if args.scopes is None else [s.strip() for s in args.scopes.split(",") if s.strip()]
    token = args.token or DEFAULT_TOKEN
    orders: list[dict] = []
    if args.orders is not None:
        try:
            orders = read_orders(Path(args.orders).read_text(encoding="utf-8"), f"--orders {args.orders}")
        except OSError as exc:
            return fail(f"cannot read --orders {args.orders}: {exc.strerror}")
        except UnicodeDecodeError:
            return fail(f"--orders {args.orders} is not UTF-8 text")
        except ValueError as exc:  # not orders: read_orders names the file and what is wrong
            return fail(str(exc))
    served = f"serving {len(orders)} order(s) from --orders through reconcile's queries\n" if args.orders else ""
    return _serve(lambda: FakeShopifyAdmin(token, scopes=scopes, page_size=args.page_size, port=args.port,
                                           orders=orders), args.port,
                  lambda fake: f"fake Shopify Admin API listening on {fake.base_url}\n"
                               f"  export SHOPIFY_ADMIN_BASE_URL={fake.base_url}\n"
                               f"  export SHOPIFY_ADMIN_ACCESS_TOKEN={token}\n"
                               f"{served}Ctrl-C stops")
