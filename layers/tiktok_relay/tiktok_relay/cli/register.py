"""`tiktok-relay register shopify`: subscribe a shop's webhooks to the deployed receiver URL, or
print the `shopify.app.toml` block (tiktok_relay/sources/shopify/register.py does the work).

Exit status: 0 every topic is subscribed; 1 some topic is not (Shopify refused it, or kept
failing); 2 invalid input or configuration (bad --shop/--url/--topics, no token, token or shop
refused by Shopify). The access token is never printed.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING

from tiktok_relay.cli.common import EXIT_OK, EXIT_UNDELIVERED, EXIT_USAGE, say

if TYPE_CHECKING:
    from tiktok_relay.sources.shopify.register import Registration


def run_register(args: argparse.Namespace) -> int:
    from tiktok_relay.errors import ConfigurationError, UsageError
    from tiktok_relay.sources.shopify.admin import ShopifyAdminError

    try:
        return _run(args)
    except (ConfigurationError, UsageError) as exc:
        say(str(exc))
        return EXIT_USAGE
    except ShopifyAdminError as exc:
        say(str(exc))
        return EXIT_USAGE if exc.refused else EXIT_UNDELIVERED


def _run(args: argparse.Namespace) -> int:
    from tiktok_relay.errors import UsageError
    from tiktok_relay.sources.shopify import register
    from tiktok_relay.sources.shopify.admin import TOKEN_ENV, ShopifyAdminClient
    from tiktok_relay.sources.shopify.settings import ShopifySettings
    from tiktok_relay.sources.shopify.topics import resolve_topics

    if args.shop is None and not args.print_toml:
        raise UsageError("--shop is required (SHOP.myshopify.com), unless --print-toml")
    shop = None if args.print_toml else register.normalize_shop(args.shop)
    settings = ShopifySettings.from_env()
    topics = resolve_topics(args.topics, settings.mapped_topics)
    if not topics:
        raise UsageError("no topic is mapped to a TikTok event (SHOPIFY_TOPIC_EVENTS); pass --topics")
    url = register.validate_url(args.url)
    api_version = register.validate_api_version(args.api_version)
    if args.topics is not None:
        for topic in topics:
            if not settings.event_for(topic):
                say(f"note: {topic} sends no TikTok event with the current SHOPIFY_TOPIC_EVENTS; the receiver "
                    "acknowledges it and drops it")

    if args.print_toml:
        sys.stdout.write(register.toml_block(topics, url, api_version))
        return EXIT_OK

    assert shop is not None  # checked above
    token = register.validate_token(args.access_token or os.environ.get(TOKEN_ENV))
    base_url = register.admin_base_url(shop)
    if base_url != f"https://{shop}":
        say(f"note: {register.BASE_URL_ENV} is set: calling {base_url} instead of https://{shop}")
    client = ShopifyAdminClient(shop, token, api_version, base_url, sleep=args.sleep)
    registration = register.register_topics(client, topics, url)
    _print(registration)
    return EXIT_OK if not registration.failed else EXIT_UNDELIVERED


def _print(registration: Registration) -> None:
    for result in registration.topics:
        print(f"{result.outcome:<7} {result.topic} -> {registration.url}")
        for problem in result.problems:
            say(f"{result.topic}: {problem}")
        for other in result.other_uris:
            say(f"note: {result.topic} is also subscribed to {other} (left alone; each subscription gets its own "
                "delivery, so remove it if it is an old deployment)")
    print(registration.summary())
