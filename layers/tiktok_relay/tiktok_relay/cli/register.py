"""`tiktok-relay register shopify`: subscribe a shop's webhooks to the deployed receiver URL
(`--url`) or to the stack's EventBridge partner event source (`--eventbridge ARN`), or print the
`shopify.app.toml` block (tiktok_relay/sources/shopify/register.py does the work).

With TIKTOK_RELAY_TENANTS, `--shop` picks a shop of the tenants document (it may be left out
when the document lists one): its own SHOPIFY_TOPIC_EVENTS decide the default topics, and its
`admin_access_token` is the token when neither --access-token nor SHOPIFY_ADMIN_ACCESS_TOKEN is given.

Exit status: 0 every topic is subscribed; 1 some topic is not (Shopify refused it, or kept
failing); 2 invalid input or configuration (bad --shop/--url/--topics, no token, token or shop
refused by Shopify). The access token is never printed.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING

from tiktok_relay.cli.common import EXIT_OK, EXIT_UNDELIVERED, admin_api_command, say
from tiktok_relay.errors import UsageError
from tiktok_relay.pipeline.tenants import TENANTS_FILE_VARIABLE
from tiktok_relay.sources.shopify.admin import TOKEN_ENV

if TYPE_CHECKING:
    from tiktok_relay.pipeline.ports import Tenant
    from tiktok_relay.sources.shopify.register import Registration
    from tiktok_relay.sources.shopify.settings import ShopifySettings


def run_register(args: argparse.Namespace) -> int:
    return admin_api_command(lambda: _run(args))


def _run(args: argparse.Namespace) -> int:
    from tiktok_relay.sources.shopify import register
    from tiktok_relay.sources.shopify.admin import ShopifyAdminClient
    from tiktok_relay.sources.shopify.topics import resolve_topics

    shop, tenant, settings = _shop(args)
    topics = resolve_topics(args.topics, settings.mapped_topics)
    if not topics:
        raise UsageError("no topic is mapped to a TikTok event (SHOPIFY_TOPIC_EVENTS); pass --topics")
    uri = register.validate_event_source_arn(args.eventbridge) if args.eventbridge else register.validate_url(args.url)
    api_version = register.validate_api_version(args.api_version)
    register.check_destination_version(uri, api_version)
    if args.topics is not None:
        whose = f"shop {tenant.key}'s" if tenant is not None else "the current"
        for topic in topics:
            if not settings.event_for(topic):
                say(f"note: {topic} sends no TikTok event with {whose} SHOPIFY_TOPIC_EVENTS; the receiver "
                    "acknowledges it and drops it")

    if args.print_toml:
        sys.stdout.write(register.toml_block(topics, uri, api_version))
        return EXIT_OK

    assert shop is not None  # checked by _shop
    token = register.validate_token(args.access_token or (tenant.admin_access_token if tenant else None)
                                    or os.environ.get(TOKEN_ENV), also="the shop's admin_access_token in "
                                    f"{TENANTS_FILE_VARIABLE}" if tenant is not None else None)
    base_url = register.admin_base_url(shop)
    if base_url != f"https://{shop}":
        say(f"note: {register.BASE_URL_ENV} is set: calling {base_url} instead of https://{shop}")
    client = ShopifyAdminClient(shop, token, api_version, base_url, sleep=args.sleep)
    registration = register.register_topics(client, topics, uri)
    _print(registration)
    return EXIT_OK if not registration.failed else EXIT_UNDELIVERED


def _shop(args: argparse.Namespace) -> tuple[str | None, Tenant | None, ShopifySettings]:
    """The shop to subscribe (None with --print-toml and no --shop), its tenant when
    TIKTOK_RELAY_TENANTS lists it, and the settings that decide the default topics: the
    tenant's own, else the environment's."""
    from tiktok_relay.local.tenants import local_tenants, tenant_of
    from tiktok_relay.sources.shopify import register
    from tiktok_relay.sources.shopify.settings import ShopifySettings

    shop = register.normalize_shop(args.shop) if args.shop is not None else None
    tenants = local_tenants()
    if tenants is not None and (shop is not None or not args.print_toml):
        tenant = tenant_of(tenants, "shopify", shop, flag="--shop")
        return tenant.key, tenant, tenant.parsed["shopify"]
    if shop is None and not args.print_toml:
        raise UsageError("--shop is required (SHOP.myshopify.com), unless --print-toml")
    return shop, None, ShopifySettings.from_env()


def _print(registration: Registration) -> None:
    for result in registration.topics:
        print(f"{result.outcome:<7} {result.topic} -> {registration.url}")
        for problem in result.problems:
            say(f"{result.topic}: {problem}")
        for other in result.other_uris:
            say(f"note: {result.topic} is also subscribed to {other} (left alone; each subscription gets its own "
                "delivery, so remove it if it is an old deployment)")
    print(registration.summary())
