"""`fake-tiktok [--port N]`: the fake Events API on 127.0.0.1, for users' own tests."""

from __future__ import annotations

import argparse
import json
import os
import sys

from tiktok_relay.cli.common import EXIT_OK, fail


def run_fake_tiktok(args: argparse.Namespace) -> int:
    from tiktok_relay.testing.fake_tiktok import DEFAULT_TOKEN, FakeTikTok

    token = os.environ.get("TIKTOK_ACCESS_TOKEN") or DEFAULT_TOKEN

    def show(body: dict) -> None:
        sys.stdout.write(json.dumps(body, separators=(",", ":")) + "\n")
        sys.stdout.flush()

    try:
        fake = FakeTikTok(token, port=args.port, on_accept=show)
    except OSError as exc:
        return fail(f"cannot listen on 127.0.0.1:{args.port}: {exc.strerror}")
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
