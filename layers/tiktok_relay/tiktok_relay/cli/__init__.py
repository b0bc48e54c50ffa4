"""`tiktok-relay` command line. Each command imports only what it needs, so start-up stays fast.

Commands (their names, flags and output shapes are relied upon; keep them):
    build       NDJSON data[] items -> NDJSON request bodies (normalized, hashed, <= 1000 events each)
    send        build, post to TikTok, print a summary; non-zero exit unless everything was delivered
    fake-tiktok serve the fake Events API on 127.0.0.1
    fake-shopify serve the fake Shopify Admin API on 127.0.0.1 (what `register` and `reconcile` call)
    map         a store's webhook payload (Shopify, WooCommerce, Stripe) -> the request body it becomes
    sign        a webhook payload -> a signed API Gateway event for `replay`, or a curl command
    register    subscribe a shop's webhooks to the deployed URL (or print shopify.app.toml)
    reconcile   the orders paid in a window against what was delivered; send the missed ones, report
    replay      run events/ files through receiver -> queue -> sender, like Lambda, without Docker
    serve       the receiver over HTTP on localhost, like `sam local start-api`
    snippet     the storefront code (Shopify's theme snippet and custom pixel, WooCommerce's plugin)
    tenants check  validate a tenants document (many shops in one deployment), printing no secret
    redrive     dead letters back: a dead-letter file's to TikTok, the dead-letter queue's to the events queue
    quality     match-key coverage of request bodies or replay --json output, and an EMQ estimate

Exit status (every command): 0 done, 1 not everything was delivered (or subscribed),
2 unusable input or configuration. Below this package nothing knows exit statuses or prints.
"""

from __future__ import annotations

import argparse
import importlib
import textwrap
import time
from collections.abc import Callable

from tiktok_relay import __version__
from tiktok_relay.cli.build import add_options as add_build_options
from tiktok_relay.cli.common import fail

# What each variable means, for the "environment:" part of each command's --help.
ENVIRONMENT = {
    "TIKTOK_ACCESS_TOKEN": "Events API access token",
    "TIKTOK_PIXEL_ID": "pixel code, sent as event_source_id (letters and digits)",
    "TIKTOK_TEST_EVENT_CODE": "send everything as TikTok test events with this code",
    "TIKTOK_PHONE_REGION": "region (e.g. US) for phone numbers without +country code",
    "TIKTOK_API_BASE_URL": "Events API base (default https://business-api.tiktok.com/open_api)",
    "TIKTOK_API_VERSION": "Events API version in the URL (default v1.3)",
    "SHOPIFY_WEBHOOK_SECRET": "webhook secret(s), comma-separated (default: the local development secret)",
    "SHOPIFY_TOPIC_EVENTS": "overrides of the topic table, e.g. orders/create=Purchase",
    "SHOPIFY_CURRENCY": "shop (default) or presentment",
    "SHOPIFY_CONTENT_ID": "line-item fields for content_id (default variant_id,product_id,sku)",
    "SHOPIFY_CONSENT": "respect (default), require or ignore the buyer's recorded tracking consent",
    "WOOCOMMERCE_WEBHOOK_SECRET": "WooCommerce webhook secret(s), comma-separated (default: the local development "
                                  "secret)",
    "WOOCOMMERCE_PAID_STATUSES": "order statuses that send the Purchase (default processing,completed)",
    "WOOCOMMERCE_CONTENT_ID": "line-item fields for content_id (default variation_id,product_id,sku)",
    "STRIPE_WEBHOOK_SECRET": "Stripe endpoint signing secret(s), comma-separated (default: the local development "
                             "secret)",
    "STRIPE_EVENTS": "event types that send the Purchase (default checkout.session.completed,"
                     "checkout.session.async_payment_succeeded)",
    "SHOPIFY_ADMIN_ACCESS_TOKEN": "Admin API access token (instead of --access-token)",
    "SHOPIFY_ADMIN_BASE_URL": "replaces https://SHOP, e.g. the fake Admin API's URL",
    "TIKTOK_RELAY_TENANTS": "a tenants document (many shops); replaces the single-shop settings",
    "SHOPIFY_SOURCE_CHANNELS": "overrides of the channel table, e.g. pos=none",
    "SHOPIFY_STOREFRONT_DOMAIN": "the storefront's own host, for page.url",
    "TIKTOK_OFFLINE_EVENT_SET_ID": "the offline event set in-store and draft orders go to",
    "TIKTOK_MAX_EVENT_AGE": "older events are not sent without --force (default 48h, TikTok's dedup window)",
    "LEDGER_TABLE": "the DynamoDB ledger of delivered events (stack output LedgerTableName)",
    "EVENTS_QUEUE_URL": "the events queue (stack output EventsQueueUrl), if --events-queue-url is not given",
}
_BUILD_ENV = ("TIKTOK_PIXEL_ID", "TIKTOK_TEST_EVENT_CODE", "TIKTOK_PHONE_REGION")
_MAPPING_ENV = ("TIKTOK_PIXEL_ID", "TIKTOK_TEST_EVENT_CODE", "TIKTOK_PHONE_REGION", "SHOPIFY_TOPIC_EVENTS",
                "SHOPIFY_CURRENCY", "SHOPIFY_CONTENT_ID", "SHOPIFY_CONSENT", "WOOCOMMERCE_PAID_STATUSES",
                "WOOCOMMERCE_CONTENT_ID", "STRIPE_EVENTS")
_SECRETS_ENV = ("SHOPIFY_WEBHOOK_SECRET", "WOOCOMMERCE_WEBHOOK_SECRET", "STRIPE_WEBHOOK_SECRET")
_LOCAL_ENV = ("TIKTOK_RELAY_TENANTS", *_SECRETS_ENV, *_MAPPING_ENV,
              "TIKTOK_ACCESS_TOKEN", "TIKTOK_API_BASE_URL", "TIKTOK_API_VERSION")
COMMAND_ENVIRONMENT = {
    "build": _BUILD_ENV,
    "send": ("TIKTOK_ACCESS_TOKEN", *_BUILD_ENV, "TIKTOK_API_BASE_URL", "TIKTOK_API_VERSION"),
    "fake-tiktok": ("TIKTOK_ACCESS_TOKEN",),
    "fake-shopify": (),
    "map": ("TIKTOK_RELAY_TENANTS", *_MAPPING_ENV),
    "sign": ("TIKTOK_RELAY_TENANTS", *_SECRETS_ENV),
    "register": ("TIKTOK_RELAY_TENANTS", "SHOPIFY_ADMIN_ACCESS_TOKEN", "SHOPIFY_ADMIN_BASE_URL",
                 "SHOPIFY_TOPIC_EVENTS"),
    "replay": _LOCAL_ENV,
    "serve": _LOCAL_ENV,
    "snippet": ("TIKTOK_PIXEL_ID", "SHOPIFY_TOPIC_EVENTS", "SHOPIFY_CONTENT_ID"),
    "snippet woocommerce": (),
    "tenants": ("TIKTOK_RELAY_TENANTS",),
    "reconcile": ("TIKTOK_RELAY_TENANTS", "SHOPIFY_ADMIN_ACCESS_TOKEN", "SHOPIFY_ADMIN_BASE_URL", "LEDGER_TABLE",
                  "TIKTOK_ACCESS_TOKEN", "TIKTOK_API_BASE_URL", "TIKTOK_API_VERSION", "TIKTOK_MAX_EVENT_AGE",
                  *_MAPPING_ENV, "SHOPIFY_SOURCE_CHANNELS", "SHOPIFY_STOREFRONT_DOMAIN", "TIKTOK_OFFLINE_EVENT_SET_ID"),
    "quality": (),
    "redrive": ("TIKTOK_ACCESS_TOKEN", "TIKTOK_RELAY_TENANTS", "TIKTOK_API_BASE_URL", "TIKTOK_API_VERSION",
                "TIKTOK_MAX_EVENT_AGE", "EVENTS_QUEUE_URL"),
}
_NOTES = {
    "fake-tiktok": "TIKTOK_ACCESS_TOKEN here is the token the fake accepts (default fake-tiktok-token).",
    "replay": "Without --live everything goes to the embedded fake TikTok, whatever the environment holds; "
              "TIKTOK_ACCESS_TOKEN, TIKTOK_API_BASE_URL and TIKTOK_API_VERSION are read only with --live.",
    "redrive": "From a file, events go to the Events API TIKTOK_ACCESS_TOKEN and TIKTOK_API_BASE_URL configure, "
               "as with send (there is no embedded fake, unlike replay). From a queue, AWS credentials as for the "
               "AWS CLI; the region is the queue URL's.",
    "serve": "Without --live everything goes to the embedded fake TikTok, whatever the environment holds; "
             "TIKTOK_ACCESS_TOKEN, TIKTOK_API_BASE_URL and TIKTOK_API_VERSION are read only with --live, "
             "which also requires the secret of each store it receives (SHOPIFY_WEBHOOK_SECRET, "
             "WOOCOMMERCE_WEBHOOK_SECRET, STRIPE_WEBHOOK_SECRET).",
    "reconcile": "Missed orders go to the Events API TIKTOK_ACCESS_TOKEN and TIKTOK_API_BASE_URL name (point "
                 "them at fake-tiktok to try it); what TikTok accepts is recorded in the ledger. Exit status 1: "
                 "some paid order is still not at TikTok (old, failed, or a dry run's would_send).",
}


# What --topic and --shop-domain are, for map and sign alike.
_TOPIC_HELP = ("webhook topic, e.g. orders/paid or order.updated (required for shopify and woocommerce; a Stripe "
               "event's type is in its body)")
_SHOP_HELP = ("the shop's myshopify.com domain (default example.myshopify.com), or the WooCommerce store's home URL "
              "(default: the order's own store); with TIKTOK_RELAY_TENANTS, the store whose pixel, secret and "
              "settings to use")


def _epilog(command: str) -> str:
    names = COMMAND_ENVIRONMENT[command]
    lines = ["environment:"] + [f"  {name:<28}{ENVIRONMENT[name]}" for name in names] if names else \
        ["environment: none"]
    if command in _NOTES:
        lines += ["", *textwrap.wrap(_NOTES[command], 78)]
    return "\n".join(lines)


def _command(commands, name: str, help_text: str, *, env_key: str | None = None) -> argparse.ArgumentParser:
    return commands.add_parser(name, help=help_text, description=help_text, epilog=_epilog(env_key or name),
                               formatter_class=argparse.RawDescriptionHelpFormatter)


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tiktok-relay", description=__doc__.split("\n\n")[0],
                                     epilog="`tiktok-relay COMMAND --help` says what each command takes and reads.")
    parser.add_argument("--version", action="version", version=f"tiktok-relay {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    build = _command(commands, "build", "NDJSON events -> NDJSON request bodies (hashed)")
    add_build_options(build)
    build.set_defaults(run="build:run_build")

    send = _command(commands, "send", "build, post to TikTok and print a summary")
    add_build_options(send)
    send.set_defaults(run="build:run_send")

    fake = _command(commands, "fake-tiktok", "serve a fake Events API on 127.0.0.1")
    fake.add_argument("--port", type=int, default=8765, help="port on 127.0.0.1 (default 8765)")
    fake.set_defaults(run="fakes:run_fake_tiktok")

    shop = _command(commands, "fake-shopify", "serve a fake Shopify Admin GraphQL API on 127.0.0.1")
    shop.add_argument("--port", type=int, default=8766, help="port on 127.0.0.1 (default 8766)")
    shop.add_argument("--token", help="the access token it accepts (default shpat_fake_admin_token)")
    shop.add_argument("--scopes", help="granted access scopes, comma-separated (default read_orders,read_customers)")
    shop.add_argument("--page-size", type=int, default=100, help="subscriptions per page (default 100)")
    shop.add_argument("--orders", metavar="FILE",
                      help="orders in the webhook (REST) shape, served through the GraphQL queries reconcile makes: "
                           'a JSON array, {"orders": [...]} (as orders.json answers) or one order')
    shop.set_defaults(run="fakes:run_fake_shopify")

    mapping = _command(commands, "map", "show the request a store webhook payload becomes")
    mapping.add_argument("--platform", required=True, help="the store platform").choices = _Platforms()
    mapping.add_argument("--topic", help=_TOPIC_HELP)
    mapping.add_argument("--shop-domain", help=_SHOP_HELP)
    mapping.add_argument("file", metavar="FILE", help="the webhook's JSON body (- for stdin)")
    mapping.set_defaults(run="map:run_map")

    sign = _command(commands, "sign", "sign a webhook payload: an API Gateway event for replay, or a curl command")
    # The choices are set after add_argument, which would read them at once (see _Platforms).
    sign.add_argument("--platform", required=True, help="the store platform").choices = _Platforms()
    sign.add_argument("--topic", help=_TOPIC_HELP)
    sign.add_argument("--shop-domain", help=_SHOP_HELP)
    sign.add_argument("--webhook-id", metavar="ID",
                      help="the delivery's webhook id (default: a new one; the receiver deduplicates on the "
                           "topic, shop and body, whatever the id)")
    sign.add_argument("--curl", metavar="URL",
                      help="print a curl command posting FILE to URL (serve, or a deployed receiver) instead")
    sign.add_argument("file", metavar="FILE", help="the webhook's JSON body, signed byte for byte (- for stdin)")
    sign.set_defaults(run="sign:run_sign")

    register = _command(commands, "register", "subscribe store webhooks to the deployed URL")
    register_platforms = register.add_subparsers(dest="platform", required=True, metavar="PLATFORM")
    shopify = _command(register_platforms, "shopify", "Shopify Admin GraphQL API", env_key="register")
    shopify.add_argument("--shop", help="SHOP.myshopify.com (not needed with --print-toml; with "
                                        "TIKTOK_RELAY_TENANTS, the shop of the document)")
    shopify.add_argument("--access-token", help="Admin API access token (default $SHOPIFY_ADMIN_ACCESS_TOKEN)")
    destination = shopify.add_mutually_exclusive_group(required=True)
    destination.add_argument("--url", help="the deployed webhook URL (stack output ShopifyWebhookUrl)")
    destination.add_argument("--eventbridge", metavar="ARN",
                             help="subscribe to this Amazon EventBridge partner event source instead "
                                  "(arn:aws:events:REGION::event-source/aws.partner/shopify.com/APP_ID/NAME)")
    shopify.add_argument("--topics", nargs="+", help="topics to subscribe (default: every mapped topic)")
    shopify.add_argument("--api-version", default=None, help="Admin API version (default: a recent stable one)")
    shopify.add_argument("--print-toml", action="store_true",
                         help="print the shopify.app.toml [webhooks] block instead of calling the API")
    shopify.set_defaults(run="register:run_register")

    reconcile = _command(commands, "reconcile", "send the paid orders the relay missed, and report its coverage")
    reconcile_platforms = reconcile.add_subparsers(dest="platform", required=True, metavar="PLATFORM")
    orders = _command(reconcile_platforms, "shopify", "Shopify: the GraphQL Admin API's paid orders",
                      env_key="reconcile")
    orders.add_argument("--shop", required=True, help="SHOP.myshopify.com")
    orders.add_argument("--access-token", help="Admin API access token (default $SHOPIFY_ADMIN_ACCESS_TOKEN)")
    orders.add_argument("--since", required=True, metavar="DURATION",
                        help="the window's start: that long ago (24h, 90m, 2d) or an ISO 8601 date-time")
    orders.add_argument("--until", metavar="DURATION",
                        help="the window's end, likewise (default now); orders processed before it count")
    orders.add_argument("--dry-run", action="store_true", help="send nothing, write nothing: report what would be sent")
    orders.add_argument("--json", action="store_true", help="the coverage report as one JSON object on stdout")
    orders.add_argument("--ledger", metavar="PATH",
                        help="the ledger of delivered events in a local file (default: the DynamoDB table "
                             "LEDGER_TABLE names)")
    orders.add_argument("--force", action="store_true",
                        help="send missed orders older than TIKTOK_MAX_EVENT_AGE (48h) too: TikTok no longer "
                             "deduplicates them against the storefront pixel's copy")
    orders.set_defaults(run="reconcile:run_reconcile")

    replay = _command(commands, "replay", "replay API Gateway events through receiver -> queue -> sender")
    target = replay.add_mutually_exclusive_group()
    target.add_argument("--live", action="store_true",
                        help="post to the Events API the environment configures (default: the embedded fake)")
    target.add_argument("--dry-run", action="store_true", help="send nothing to TikTok")
    replay.add_argument("--json", action="store_true", help="JSON lines on stdout, logs on stderr")
    replay.add_argument("--batch-size", type=int, default=10, help="records per sender invocation (default 10)")
    replay.add_argument("--max-receives", type=int, default=5,
                        help="deliveries of a failing record before it is dead-lettered (default 5)")
    replay.add_argument("--dead-letter", default="dead-letters.ndjson", metavar="PATH",
                        help="NDJSON file for dead-lettered records (default dead-letters.ndjson)")
    replay.add_argument("files", nargs="+", metavar="EVENT_FILE",
                        help="API Gateway HTTP API (v2) event files, e.g. events/shopify/*.json")
    replay.set_defaults(run="replay:run_replay")

    serve = _command(commands, "serve", "serve the receiver on localhost, like sam local start-api")
    serve.add_argument("--port", type=int, default=3000, help="port on 127.0.0.1 (default 3000)")
    serve.add_argument("--live", action="store_true",
                       help="post to the Events API the environment configures (default: the embedded fake)")
    serve.add_argument("--dead-letter", default="dead-letters.ndjson", metavar="PATH",
                       help="NDJSON file for dead-lettered records (default dead-letters.ndjson)")
    serve.set_defaults(run="serve:run_serve")

    snippet = _command(commands, "snippet", "print the storefront code (Shopify's theme snippet and custom pixel, "
                                            "WooCommerce's plugin), filled in")
    snippet_platforms = snippet.add_subparsers(dest="platform", required=True, metavar="PLATFORM")
    shopify_code = _command(snippet_platforms, "shopify", "Shopify: the theme snippet and the custom pixel",
                            env_key="snippet")
    shopify_code.add_argument("--pixel-id", metavar="ID",
                              help="the TikTok pixel the custom pixel loads (default $TIKTOK_PIXEL_ID)")
    shopify_code.add_argument("--kind", choices=("theme", "pixel"),
                              help="theme: snippets/tiktok-relay.liquid; pixel: the custom pixel (default: both)")
    shopify_code.set_defaults(run="snippet:run_snippet")
    woocommerce_code = _command(snippet_platforms, "woocommerce",
                                "WooCommerce: the plugin that saves ttclid and _ttp into each order's meta",
                                env_key="snippet woocommerce")
    woocommerce_code.set_defaults(run="snippet:run_woocommerce_snippet")

    tenants = _command(commands, "tenants", "tenants documents: many shops in one deployment")
    tenant_actions = tenants.add_subparsers(dest="action", required=True, metavar="ACTION")
    check = _command(tenant_actions, "check", "validate a tenants document without printing any secret",
                     env_key="tenants")
    check.add_argument("path", nargs="?", metavar="PATH",
                       help="the document (default $TIKTOK_RELAY_TENANTS)")
    check.set_defaults(run="tenants:run_tenants_check")

    redrive = _command(commands, "redrive", "bring dead letters back: a dead-letter file's events to TikTok, or the "
                                            "dead-letter queue's to the events queue")
    where = redrive.add_mutually_exclusive_group(required=True)
    where.add_argument("--dead-letter", metavar="PATH",
                       help="the dead-letter file replay and serve write: post its events with the configured token")
    where.add_argument("--queue-url", metavar="URL",
                       help="the dead-letter queue (stack output DeadLetterQueueUrl): back to the events queue")
    redrive.add_argument("--events-queue-url", metavar="URL",
                         help="with --queue-url: the events queue (default $EVENTS_QUEUE_URL, else the queue whose "
                              "dead-letter queue --queue-url is)")
    redrive.add_argument("--shop", metavar="SHOP",
                         help="with --queue-url: the shop of dead letters that name none (written by older versions)")
    redrive.add_argument("--force", action="store_true",
                         help="send stale events too (older than TIKTOK_MAX_EVENT_AGE), if TikTok never counted them")
    redrive.add_argument("--include-rejected", action="store_true",
                         help="send events TikTok refused for their data too (once the cause is fixed)")
    redrive.add_argument("--dry-run", action="store_true", help="say what would be redriven; move nothing")
    redrive.add_argument("--json", action="store_true", help="one JSON object on stdout")
    redrive.set_defaults(run="redrive:run_redrive")

    quality = _command(commands, "quality", "how well events would match: each match key's coverage, an estimate "
                                            "of Event Match Quality, and what would bring the missing keys")
    quality.add_argument("--json", action="store_true", help="one JSON object on stdout")
    quality.add_argument("files", nargs="+", metavar="FILE",
                         help="NDJSON request bodies (as build prints them) or replay --json output (- for stdin)")
    quality.set_defaults(run="quality:run_quality")
    return parser


class _Platforms:
    """The local platforms' names, as argparse choices: read from local/platforms.py only when
    argparse checks or shows them. Importing it (and dataclasses with it) costs ~5 ms, a fifth
    of what `build` of one event takes besides the interpreter; only map and sign need it."""

    def __iter__(self):
        from tiktok_relay.local.platforms import PLATFORMS

        return iter(tuple(PLATFORMS))

    def __contains__(self, name: object) -> bool:
        return name in tuple(self)


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
