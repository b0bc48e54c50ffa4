"""`tiktok-relay` command line. Each command imports only what it needs, so start-up stays fast.

Commands (their names, flags and output shapes are relied upon; keep them):
    build       NDJSON data[] items -> NDJSON request bodies (normalized, hashed, <= 1000 events each)
    send        build, post to TikTok, print a summary; non-zero exit unless everything was delivered
    fake-tiktok serve the fake Events API on 127.0.0.1
    map         a Shopify webhook payload -> the request body it becomes
    register    subscribe a shop's webhooks to the deployed URL (or print shopify.app.toml)
    replay      run events/ files through receiver -> queue -> sender, like Lambda, without Docker
    serve       the receiver over HTTP on localhost, like `sam local start-api`

Exit status: 0 success, 1 something was not delivered, 2 invalid input or configuration.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import sys

EXIT_OK, EXIT_UNDELIVERED, EXIT_USAGE = 0, 1, 2


def _fail(message: str) -> int:
    print(f"tiktok-relay: {message}", file=sys.stderr)
    return EXIT_USAGE


def _read_lines(path: str | None):
    if path in (None, "-"):
        return _split_lines(sys.stdin.buffer.read())
    try:
        with open(path, "rb") as handle:
            return _split_lines(handle.read())
    except OSError as exc:
        raise SystemExit(_fail(f"cannot read {path}: {exc.strerror}"))


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
def _gc_paused(args):
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


def _build(args) -> tuple[list, list[int]] | int:
    """Shared by build and send: the requests, and the input line of every event."""
    with _gc_paused(args):
        return _validate_and_batch(args)


def _validate_and_batch(args) -> tuple[list, list[int]] | int:
    from tiktok_relay.config import TikTokSettings
    from tiktok_relay.errors import ConfigurationError
    from tiktok_relay.tiktok.ndjson import build_requests, parse_events

    try:
        settings = TikTokSettings.from_env()
        pixel_id = args.pixel_id or settings.require_pixel()
    except ConfigurationError as exc:
        return _fail(str(exc))
    parsed = parse_events(_read_lines(args.file), phone_region=args.phone_region or settings.phone_region)
    if parsed.problems:
        for problem in parsed.problems:
            print(problem, file=sys.stderr)
        lines = len({p.line for p in parsed.problems})
        print(f"tiktok-relay: {lines} invalid line(s); nothing was written", file=sys.stderr)
        return EXIT_USAGE
    test_code = args.test_event_code if args.test_event_code is not None else settings.test_event_code
    requests = build_requests(
        parsed.events, event_source=args.event_source, event_source_id=pixel_id, test_event_code=test_code or None
    )
    return requests, parsed.line_numbers


def cmd_build(args) -> int:
    with _gc_paused(args):  # over the serialization too
        built = _build(args)
        if isinstance(built, int):
            return built
        out = sys.stdout.buffer
        for request in built[0]:
            out.write(request.to_json())
            out.write(b"\n")
    return EXIT_OK


def cmd_send(args) -> int:
    from tiktok_relay.config import TikTokSettings
    from tiktok_relay.errors import ConfigurationError
    from tiktok_relay.tiktok.client import TikTokClient

    try:
        settings = TikTokSettings.from_env()
        settings.require_token()
    except ConfigurationError as exc:
        return _fail(str(exc))
    built = _build(args)
    if isinstance(built, int):
        return built
    requests, line_numbers = built
    result = TikTokClient.from_settings(settings).send(requests)
    for outcome in result.outcomes:
        if outcome.status.value != "delivered":
            print(
                f"line {line_numbers[outcome.index]}: {outcome.status.value}"
                f" (code {outcome.code}): {outcome.message} [request_id {outcome.request_id}]",
                file=sys.stderr,
            )
    print(json.dumps({**result.summary(), "request_ids": result.request_ids}))
    return EXIT_OK if result.ok else EXIT_UNDELIVERED


def cmd_fake_tiktok(args) -> int:
    from tiktok_relay.testing.fake_tiktok import DEFAULT_TOKEN, FakeTikTok

    token = os.environ.get("TIKTOK_ACCESS_TOKEN") or DEFAULT_TOKEN

    def show(body: dict) -> None:
        sys.stdout.write(json.dumps(body, separators=(",", ":")) + "\n")
        sys.stdout.flush()

    try:
        fake = FakeTikTok(token, port=args.port, on_accept=show)
    except OSError as exc:
        return _fail(f"cannot listen on 127.0.0.1:{args.port}: {exc.strerror}")
    print(
        f"fake TikTok Events API listening on {fake.base_url}\n"
        f"  export TIKTOK_API_BASE_URL={fake.base_url}\n"
        f"  export TIKTOK_ACCESS_TOKEN={token}\n"
        "accepted requests are printed on stdout, one JSON line each; Ctrl-C stops",
        file=sys.stderr,
    )
    try:
        fake.serve_forever()
    except KeyboardInterrupt:
        pass
    return EXIT_OK


def cmd_map(args) -> int:
    from tiktok_relay.sources.shopify.cli import run_map

    return run_map(args)


def cmd_register(args) -> int:
    from tiktok_relay.sources.shopify.register import run_register

    return run_register(args)


def cmd_replay(args) -> int:
    from tiktok_relay.pipeline.replay import run_replay

    return run_replay(args)


def cmd_serve(args) -> int:
    from tiktok_relay.pipeline.serve import run_serve

    return run_serve(args)


def _add_build_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--pixel-id", help="pixel code (event_source_id); default $TIKTOK_PIXEL_ID")
    parser.add_argument("--event-source", choices=("web", "app", "offline", "crm"), default="web")
    parser.add_argument("--test-event-code", help="send as test events; default $TIKTOK_TEST_EVENT_CODE")
    parser.add_argument("--phone-region", help="region (e.g. US) for phone numbers without +country code; "
                        "default $TIKTOK_PHONE_REGION")
    parser.add_argument("file", nargs="?", metavar="FILE", help="NDJSON, one data[] item per line (default stdin)")


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tiktok-relay", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    build = commands.add_parser("build", help="NDJSON events -> NDJSON request bodies (hashed)")
    _add_build_options(build)
    build.set_defaults(run=cmd_build)

    send = commands.add_parser("send", help="build, post to TikTok and print a summary")
    _add_build_options(send)
    send.set_defaults(run=cmd_send)

    fake = commands.add_parser("fake-tiktok", help="serve a fake Events API on 127.0.0.1")
    fake.add_argument("--port", type=int, default=8765)
    fake.set_defaults(run=cmd_fake_tiktok)

    mapping = commands.add_parser("map", help="show the request a store webhook payload becomes")
    mapping.add_argument("--platform", required=True, choices=("shopify",))
    mapping.add_argument("--topic", required=True, help="webhook topic, e.g. orders/paid")
    mapping.add_argument("--shop-domain", default="example.myshopify.com")
    mapping.add_argument("file", metavar="FILE", help="the webhook's JSON body")
    mapping.set_defaults(run=cmd_map)

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
    shopify.set_defaults(run=cmd_register)

    replay = commands.add_parser("replay", help="replay API Gateway events through receiver -> queue -> sender")
    replay.add_argument("--dry-run", action="store_true", help="send nothing to TikTok")
    replay.add_argument("--json", action="store_true", help="JSON lines on stdout, logs on stderr")
    replay.add_argument("--batch-size", type=int, default=10, help="records per sender invocation (default 10)")
    replay.add_argument("--max-receives", type=int, default=5,
                        help="deliveries of a failing record before it is dead-lettered (default 5)")
    replay.add_argument("--dead-letter", default="dead-letters.ndjson", metavar="PATH",
                        help="NDJSON file for dead-lettered records (default dead-letters.ndjson)")
    replay.add_argument("files", nargs="+", metavar="EVENT_FILE")
    replay.set_defaults(run=cmd_replay)

    serve = commands.add_parser("serve", help="serve the receiver on localhost, like sam local start-api")
    serve.add_argument("--port", type=int, default=3000)
    serve.set_defaults(run=cmd_serve)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = make_parser().parse_args(argv)
    args.whole_process = argv is None  # the `tiktok-relay` program itself, not a call from Python
    return args.run(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
