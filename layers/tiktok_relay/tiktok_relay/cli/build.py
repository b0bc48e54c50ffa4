"""`build` and `send`: NDJSON `data[]` items in; request bodies out, or posted to TikTok.

    build   NDJSON data[] items -> NDJSON request bodies (normalized, hashed, <= 1000 events each)
    send    build, post to TikTok, print a summary; exit 1 unless everything was delivered
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from tiktok_relay.cli.common import EXIT_OK, EXIT_UNDELIVERED, EXIT_USAGE, fail, say

if TYPE_CHECKING:
    from tiktok_relay.tiktok.ndjson import EncodedLines


def _read_lines(path: str | None) -> list[bytes]:
    if path in (None, "-"):
        return _split_lines(sys.stdin.buffer.read())
    try:
        with open(path, "rb") as handle:
            return _split_lines(handle.read())
    except OSError as exc:
        raise SystemExit(fail(f"cannot read {path}: {exc.strerror}")) from None


def _split_lines(data: bytes) -> list[bytes]:
    """`data.splitlines()`, a little faster: that tests every byte for both '\n' and '\r';
    without any '\r' in the data, split(b"\n") gives the same lines."""
    if b"\r" in data:
        return data.splitlines()
    lines = data.split(b"\n")
    if not lines[-1]:  # after a final newline (or of empty data): splitlines() has no such line
        lines.pop()
    return lines


@contextlib.contextmanager
def _gc_paused(args: argparse.Namespace) -> Iterator[None]:
    """No cyclic garbage collection meanwhile.

    Importing pydantic, validating and serializing allocate a great many objects but leave no
    reference cycles, so the collector would only walk the same live objects (every module, the
    growing list of events) again and again. When the command is the whole process (not main()
    called in-process with an argv), what is alive at the end is also frozen, so that the
    collection at interpreter exit skips it. Together a sixth of the time of `build`.
    """
    if not gc.isenabled():  # paused already (nested), or by the caller
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        if getattr(args, "whole_process", False):
            gc.freeze()
        gc.enable()


def _build(args: argparse.Namespace) -> tuple[EncodedLines, dict[str, Any]] | int:
    """Shared by build and send: every line's event, and the envelope (pixel, test code...)."""
    with _gc_paused(args):
        return _validate(args)


def _validate(args: argparse.Namespace) -> tuple[EncodedLines, dict[str, Any]] | int:
    from tiktok_relay.config import TikTokSettings, check_phone_region, check_pixel_id
    from tiktok_relay.errors import ConfigurationError

    try:  # every value checked before any line is read
        settings = TikTokSettings.from_env()
        pixel_id = check_pixel_id(args.pixel_id, "--pixel-id") or settings.require_pixel(alternative="--pixel-id")
        phone_region = check_phone_region(args.phone_region, "--phone-region") or settings.phone_region
    except ConfigurationError as exc:
        return fail(str(exc))
    encoded = _encoded_saying_deprecations(_read_lines(args.file), phone_region)
    if encoded.problems:
        for problem in encoded.problems:
            print(problem, file=sys.stderr)
        lines = len({p.line for p in encoded.problems})
        say(f"{lines} invalid line(s); nothing was written")
        return EXIT_USAGE
    test_code = args.test_event_code if args.test_event_code is not None else settings.test_event_code
    return encoded, {"event_source": args.event_source, "event_source_id": pixel_id,
                     "test_event_code": test_code or None}


def _encoded_saying_deprecations(lines: list[bytes], phone_region: str | None) -> EncodedLines:
    """encode_lines, with each deprecated event name it met said once (as a warning line)."""
    import warnings

    from tiktok_relay.errors import DeprecatedEventWarning
    from tiktok_relay.tiktok.ndjson import encode_lines

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DeprecatedEventWarning)
        encoded = encode_lines(lines, phone_region=phone_region)
    for message in dict.fromkeys(str(w.message) for w in caught if issubclass(w.category, DeprecatedEventWarning)):
        say(f"warning: {message}")
    return encoded


def run_build(args: argparse.Namespace) -> int:
    from tiktok_relay.tiktok.ndjson import request_bodies

    with _gc_paused(args):  # over the serialization too
        built = _build(args)
        if isinstance(built, int):
            return built
        encoded, envelope = built
        out = sys.stdout.buffer
        for body in request_bodies(encoded.events, **envelope):
            out.write(body)
            out.write(b"\n")
    return EXIT_OK


def run_send(args: argparse.Namespace) -> int:
    from tiktok_relay.config import TikTokSettings
    from tiktok_relay.errors import ConfigurationError
    from tiktok_relay.tiktok.client import TikTokClient
    from tiktok_relay.tiktok.models import Envelope

    try:
        settings = TikTokSettings.from_env()
        settings.require_token()
    except ConfigurationError as exc:
        return fail(str(exc))
    built = _build(args)
    if isinstance(built, int):
        return built
    encoded, envelope = built
    client = TikTokClient.from_settings(settings, sleep=args.sleep)
    result = client.send_encoded(Envelope(**envelope), zip(encoded.event_ids, encoded.events, strict=True))
    for outcome in result.outcomes:
        if outcome.status.value != "delivered":
            print(
                f"line {encoded.line_numbers[outcome.index]}: {outcome.status.value}"
                f" (code {outcome.code}): {outcome.message} [request_id {outcome.request_id}]",
                file=sys.stderr,
            )
    print(json.dumps({**result.summary(), "request_ids": result.request_ids}))
    return EXIT_OK if result.ok else EXIT_UNDELIVERED


def add_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--pixel-id", help="pixel code (event_source_id), letters and digits; default $TIKTOK_PIXEL_ID")
    parser.add_argument("--event-source", choices=("web", "app", "offline", "crm"), default="web",
                        help="where the events happened (default web)")
    parser.add_argument("--test-event-code", help="send as test events; default $TIKTOK_TEST_EVENT_CODE")
    parser.add_argument("--phone-region", help="region (e.g. US) for phone numbers without +country code; "
                        "default $TIKTOK_PHONE_REGION")
    parser.add_argument("file", nargs="?", metavar="FILE", help="NDJSON, one data[] item per line (default stdin)")


