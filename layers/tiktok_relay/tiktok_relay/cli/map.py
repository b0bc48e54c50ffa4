"""`tiktok-relay map --platform shopify --topic TOPIC [--shop-domain D] FILE`

Prints the complete Events API request body the webhook payload in FILE becomes (the same
body the Lambda receiver queues), as indented JSON on stdout. Nothing is sent.

- Nothing to send: `data` is [] and the reason goes to stderr. Warnings go to stderr too.
  Both exit 0. Neither ever contains a customer's email, phone, name or address.
- FILE unreadable, not JSON, or not a JSON object: exit 2 with a message naming FILE.
- Settings come from the environment (SHOPIFY_*, TIKTOK_TEST_EVENT_CODE, TIKTOK_PHONE_REGION,
  TIKTOK_OFFLINE_EVENT_SET_ID). The payload is read as a first delivery: a cart's whole contents.
  Without TIKTOK_PIXEL_ID, `event_source_id` shows the placeholder "<TIKTOK_PIXEL_ID>" and
  stderr says so: map sends nothing, so a missing pixel is not an error here.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Any

from tiktok_relay.cli.common import EXIT_OK, EXIT_UNDELIVERED, say
from tiktok_relay.errors import UsageError

PIXEL_PLACEHOLDER = "<TIKTOK_PIXEL_ID>"
_REST_WRAPPERS = ("order", "checkout", "cart", "customer")


def _read(path: str) -> tuple[bytes, str]:
    if path == "-":
        return sys.stdin.buffer.read(), "stdin"
    try:
        with open(path, "rb") as handle:
            return handle.read(), path
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc.__class__.__name__}") from None


def _payload(path: str) -> tuple[dict[str, Any], str]:
    """The webhook body in `path` (and the name to call it by); UsageError when it is none."""
    raw, name = _read(path)
    try:
        payload = json.loads(raw)
    except RecursionError:
        raise UsageError(f"{name} is not valid JSON (nested too deeply)") from None
    except UnicodeDecodeError:
        raise UsageError(f"{name} is not valid JSON (not UTF-8 text)") from None
    except json.JSONDecodeError as exc:
        raise UsageError(f"{name} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    if not isinstance(payload, dict):
        kind = {list: "an array", str: "a string", int: "a number", float: "a number", bool: "a boolean",
                type(None): "null"}.get(type(payload), type(payload).__name__)
        raise UsageError(f"{name} must hold a JSON object (the webhook body), not {kind}")
    return payload, name


def _note_lookalikes(payload: dict[str, Any], name: str) -> None:
    """Say so when the file looks like something else than a webhook body."""
    if "requestContext" in payload and "body" in payload:
        say(f"note: {name} looks like an API Gateway event, not a webhook body; "
            "`tiktok-relay replay` takes event files (map reads the JSON body Shopify sends)")
    if len(payload) == 1:
        (key, value), = payload.items()
        if key in _REST_WRAPPERS and isinstance(value, dict):
            say(f"note: {name} looks like an Admin REST response ({{\"{key}\": ...}}); "
                f"webhooks send the {key} itself, unwrapped")


def run_map(args: argparse.Namespace) -> int:
    from tiktok_relay.config import env_value
    from tiktok_relay.sources.shopify.mapping import map_webhook, to_request_body
    from tiktok_relay.sources.shopify.settings import ShopifySettings

    payload, name = _payload(args.file)
    _note_lookalikes(payload, name)
    settings = ShopifySettings.from_env()
    pixel_id = env_value(os.environ, "TIKTOK_PIXEL_ID")
    if pixel_id is None:
        say(f"note: TIKTOK_PIXEL_ID is not set; event_source_id shows {PIXEL_PLACEHOLDER} (map sends nothing)")
        pixel_id = PIXEL_PLACEHOLDER

    try:
        result = map_webhook(args.topic, payload, args.shop_domain, settings, now=int(time.time()))
    except Exception as exc:  # a bug: say so without echoing payload values
        say(f"mapping failed unexpectedly ({type(exc).__name__}); this is a tiktok-relay bug")
        return EXIT_UNDELIVERED
    offline_id = settings.offline_event_set_id if result.event_source == "offline" else None
    body = to_request_body(result, pixel_id=pixel_id, test_event_code=settings.test_event_code,
                           offline_event_set_id=offline_id)
    for warning in result.warnings:
        say(f"warning: {warning}")
    if not result.events:
        say(f"nothing to send: {result.reason}")
    out = sys.stdout.buffer
    out.write(json.dumps(body, indent=2, ensure_ascii=False).encode("utf-8"))
    out.write(b"\n")
    out.flush()
    return EXIT_OK
