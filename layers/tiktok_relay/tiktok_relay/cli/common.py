"""What every command shares: the exit statuses and the one way to tell the user something."""

from __future__ import annotations

import sys
from collections.abc import Callable

# The exit statuses of every command (relied upon).
EXIT_OK = 0  # done: everything was delivered, subscribed, written
EXIT_UNDELIVERED = 1  # not everything was delivered (or subscribed); the output says what
EXIT_USAGE = 2  # unusable input or configuration; nothing was sent


def say(message: str) -> None:
    """A line for the user on stderr (errors, notes, warnings), as `tiktok-relay: message`."""
    print(f"tiktok-relay: {message}", file=sys.stderr)


def fail(message: str) -> int:
    """Say `message`; the exit status of unusable input."""
    say(message)
    return EXIT_USAGE


def admin_api_command(work: Callable[[], int]) -> int:
    """`work()` of a command that calls the Shopify Admin API, its errors said and made exit
    statuses: unusable input or configuration, and a token or shop Shopify refused, are 2;
    Shopify failing (it may pass) is 1."""
    from tiktok_relay.errors import ConfigurationError, UsageError
    from tiktok_relay.sources.shopify.admin import ShopifyAdminError

    try:
        return work()
    except (ConfigurationError, UsageError) as exc:
        return fail(str(exc))
    except ShopifyAdminError as exc:
        say(str(exc))
        return EXIT_USAGE if exc.refused else EXIT_UNDELIVERED
