"""What every command shares: the exit statuses and the one way to tell the user something."""

from __future__ import annotations

import sys

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
