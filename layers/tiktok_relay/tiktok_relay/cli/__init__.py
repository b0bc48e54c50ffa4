"""`tiktok-relay` command line. Each command imports only what it needs, so start-up stays fast.

Commands (their names, flags and output shapes are relied upon; keep them):
    build       NDJSON data[] items -> NDJSON request bodies (normalized, hashed, <= 1000 events each)
    send        build, post to TikTok, print a summary; non-zero exit unless everything was delivered
    fake-tiktok serve the fake Events API on 127.0.0.1
    fake-shopify serve the fake Shopify Admin API on 127.0.0.1 (what `register` calls)
    map         a Shopify webhook payload -> the request body it becomes
    register    subscribe a shop's webhooks to the deployed URL (or print shopify.app.toml)
    replay      run events/ files through receiver -> queue -> sender, like Lambda, without Docker
    serve       the receiver over HTTP on localhost, like `sam local start-api`

Exit status (every command): 0 done, 1 not everything was delivered (or subscribed),
2 unusable input or configuration. Below this package nothing knows exit statuses or prints.
"""

from __future__ import annotations

import argparse
import importlib
import time
from collections.abc import Callable

from tiktok_relay.cli.build import add_options as add_build_options
from tiktok_relay.cli.common import fail


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tiktok-relay", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    build = commands.add_parser("build", help="NDJSON events -> NDJSON request bodies (hashed)")
    add_build_options(build)
    build.set_defaults(run="build:run_build")

    send = commands.add_parser("send", help="build, post to TikTok and print a summary")
    add_build_options(send)
    send.set_defaults(run="build:run_send")

    fake = commands.add_parser("fake-tiktok", help="serve a fake Events API on 127.0.0.1")
    fake.add_argument("--port", type=int, default=8765)
    fake.set_defaults(run="fakes:run_fake_tiktok")

    shop = commands.add_parser("fake-shopify", help="serve a fake Shopify Admin GraphQL API on 127.0.0.1")
    shop.add_argument("--port", type=int, default=8766)
    shop.add_argument("--token", help="the access token it accepts (default shpat_fake_admin_token)")
    shop.add_argument("--scopes", help="granted access scopes, comma-separated (default read_orders,read_customers)")
    shop.add_argument("--page-size", type=int, default=100, help="subscriptions per page")
    shop.set_defaults(run="fakes:run_fake_shopify")

    mapping = commands.add_parser("map", help="show the request a store webhook payload becomes")
    mapping.add_argument("--platform", required=True, choices=("shopify",))
    mapping.add_argument("--topic", required=True, help="webhook topic, e.g. orders/paid")
    mapping.add_argument("--shop-domain", default="example.myshopify.com")
    mapping.add_argument("file", metavar="FILE", help="the webhook's JSON body")
    mapping.set_defaults(run="map:run_map")

    register = commands.add_parser("register", help="subscribe store webhooks to the deployed URL")
    register_platforms = register.add_subparsers(dest="platform", required=True, metavar="PLATFORM")
    shopify = register_platforms.add_parser("shopify", help="Shopify Admin GraphQL API")
    shopify.add_argument("--shop", required=True, help="SHOP.myshopify.com")
    shopify.add_argument("--access-token", help="Admin API access token (default $SHOPIFY_ADMIN_ACCESS_TOKEN)")
    shopify.add_argument("--url", required=True, help="the deployed webhook URL (stack output ShopifyWebhookUrl)")
    shopify.add_argument("--topics", nargs="+", help="topics to subscribe (default: every mapped topic)")
    shopify.add_argument("--api-version", default=None, help="Admin API version (default: a recent stable one)")
    shopify.add_argument("--print-toml", action="store_true",
                         help="print the shopify.app.toml [webhooks] block instead of calling the API")
    shopify.set_defaults(run="register:run_register")

    replay = commands.add_parser("replay", help="replay API Gateway events through receiver -> queue -> sender")
    replay.add_argument("--dry-run", action="store_true", help="send nothing to TikTok")
    replay.add_argument("--json", action="store_true", help="JSON lines on stdout, logs on stderr")
    replay.add_argument("--batch-size", type=int, default=10, help="records per sender invocation (default 10)")
    replay.add_argument("--max-receives", type=int, default=5,
                        help="deliveries of a failing record before it is dead-lettered (default 5)")
    replay.add_argument("--dead-letter", default="dead-letters.ndjson", metavar="PATH",
                        help="NDJSON file for dead-lettered records (default dead-letters.ndjson)")
    replay.add_argument("files", nargs="+", metavar="EVENT_FILE")
    replay.set_defaults(run="replay:run_replay")

    serve = commands.add_parser("serve", help="serve the receiver on localhost, like sam local start-api")
    serve.add_argument("--port", type=int, default=3000)
    serve.set_defaults(run="serve:run_serve")
    return parser


def main(argv: list[str] | None = None, *, sleep: Callable[[float], None] = time.sleep) -> int:
    """Run one command. `sleep` is how commands that retry wait between attempts."""
    from tiktok_relay.errors import ConfigurationError, EventValidationError, UsageError

    args = make_parser().parse_args(argv)
    args.whole_process = argv is None  # the `tiktok-relay` program itself, not a call from Python
    args.sleep = sleep
    module, _, function = args.run.partition(":")
    run = getattr(importlib.import_module(f"tiktok_relay.cli.{module}"), function)
    try:
        return run(args)
    except (ConfigurationError, UsageError, EventValidationError) as exc:
        return fail(str(exc))
