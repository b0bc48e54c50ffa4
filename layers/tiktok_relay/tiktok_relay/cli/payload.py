"""Reading a webhook body from a file (or stdin): what `map` and `sign` take."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from typing import Any

from tiktok_relay.cli.common import say
from tiktok_relay.errors import UsageError, json_problem

_REST_WRAPPERS = ("order", "checkout", "cart", "customer")


@dataclass(frozen=True)
class WebhookBody:
    raw: bytes  # the bytes as read: what a signature is computed over
    payload: dict[str, Any]
    name: str  # how to call it in messages: the path, or "stdin"


def _read(path: str) -> tuple[bytes, str]:
    if path == "-":
        return sys.stdin.buffer.read(), "stdin"
    try:
        with open(path, "rb") as handle:
            return handle.read(), path
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc.__class__.__name__}") from None


def read_webhook_body(path: str, *, command: str) -> WebhookBody:
    """The webhook body in `path`; UsageError when it is none. Says so on stderr when the file
    looks like something else (`command` is the one reading it, for the note)."""
    raw, name = _read(path)
    try:
        payload = json.loads(raw)
    except (RecursionError, ValueError) as exc:  # a decoding error is a ValueError too
        raise UsageError(f"{name} is not valid JSON ({json_problem(exc)})") from None
    if not isinstance(payload, dict):
        kind = {list: "an array", str: "a string", int: "a number", float: "a number", bool: "a boolean",
                type(None): "null"}.get(type(payload), type(payload).__name__)
        raise UsageError(f"{name} must hold a JSON object (the webhook body), not {kind}")
    _note_lookalikes(payload, name, command)
    return WebhookBody(raw, payload, name)


def _note_lookalikes(payload: dict[str, Any], name: str, command: str) -> None:
    """Say so when the file looks like something else than a webhook body."""
    if "requestContext" in payload and "body" in payload:
        say(f"note: {name} looks like an API Gateway event, not a webhook body; "
            f"`tiktok-relay replay` takes event files ({command} reads the JSON body Shopify sends)")
    if len(payload) == 1:
        (key, value), = payload.items()
        if key in _REST_WRAPPERS and isinstance(value, dict):
            say(f"note: {name} looks like an Admin REST response ({{\"{key}\": ...}}); "
                f"webhooks send the {key} itself, unwrapped")
