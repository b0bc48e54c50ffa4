"""`tiktok-relay snippet shopify [--pixel-id ID] [--kind theme|pixel]`, `tiktok-relay snippet woocommerce`

Prints the storefront code (README "The storefront code") on stdout, filled in, ready to paste:

- `--kind theme`: the theme snippet, for snippets/tiktok-relay.liquid (it needs no pixel id).
- `--kind pixel`: the custom pixel, for Settings > Customer events, with the pixel id (`--pixel-id`,
  else TIKTOK_PIXEL_ID, checked like everywhere else) and the purchase event and content ids the
  relay's settings give the server (SHOPIFY_TOPIC_EVENTS, SHOPIFY_CONTENT_ID), so both sides match.
- no `--kind`: both, each under a comment line saying where it goes.

A missing or invalid pixel id exits 2 and prints nothing.

`snippet woocommerce` prints the plugin that saves ttclid and _ttp into each order's meta at
checkout (README "WooCommerce"): save it as wp-content/plugins/tiktok-relay/tiktok-relay.php, or
paste it into the theme's functions.php.
"""

from __future__ import annotations

import argparse
import os
import sys

from tiktok_relay.cli.common import EXIT_OK, say

THEME_HEADER = "<!-- tiktok-relay theme snippet: snippets/tiktok-relay.liquid (README \"The storefront code\") -->"
PIXEL_HEADER = ("// tiktok-relay custom pixel: Settings > Customer events > Add custom pixel "
                "(README \"The storefront code\")")


def run_snippet(args: argparse.Namespace) -> int:
    from tiktok_relay.config import check_pixel_id, env_value
    from tiktok_relay.errors import ConfigurationError
    from tiktok_relay.sources.shopify.settings import ShopifySettings
    from tiktok_relay.storefront import shopify_custom_pixel, shopify_theme_snippet

    kinds = [args.kind] if args.kind else ["theme", "pixel"]
    given = check_pixel_id(args.pixel_id, "--pixel-id")
    parts: list[tuple[str, str]] = []
    if "theme" in kinds:
        parts.append((THEME_HEADER, shopify_theme_snippet()))
    if "pixel" in kinds:
        setting = "--pixel-id" if given else "TIKTOK_PIXEL_ID"
        pixel_id = given or check_pixel_id(env_value(os.environ, "TIKTOK_PIXEL_ID"), setting)
        if not pixel_id:
            raise ConfigurationError("TIKTOK_PIXEL_ID is not set and no --pixel-id was given; the custom pixel "
                                     "loads your pixel (its code in TikTok Events Manager)")
        parts.append((PIXEL_HEADER, shopify_custom_pixel(pixel_id, ShopifySettings.from_env(), setting=setting)))
    elif given:
        say("note: --pixel-id is not used by the theme snippet (only the custom pixel loads your pixel)")
    text = "\n".join(f"{header}\n{code}" if len(parts) > 1 else code for header, code in parts)
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
    sys.stdout.flush()
    return EXIT_OK


def run_woocommerce_snippet(args: argparse.Namespace) -> int:
    from tiktok_relay.storefront import woocommerce_plugin

    sys.stdout.write(woocommerce_plugin())
    sys.stdout.flush()
    return EXIT_OK
