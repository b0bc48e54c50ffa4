"""`tiktok-relay serve [--port 3000]`: the receiver over HTTP on localhost, like
`sam local start-api`, with the queue and sender behind it (tiktok_relay/local/serve.py)."""

from __future__ import annotations

import argparse
import sys

from tiktok_relay.cli.common import EXIT_OK, fail


def _log(line: str) -> None:
    print(line, file=sys.stderr)


def run_serve(args: argparse.Namespace) -> int:
    from tiktok_relay.local.harness import open_local_pipeline
    from tiktok_relay.local.serve import make_server

    pipeline, fake = open_local_pipeline(dry_run=False, dead_letter_path="dead-letters.ndjson")
    try:
        server = make_server(pipeline, args.port, log=_log)
    except OSError as exc:
        if fake is not None:
            fake.stop()
        return fail(f"cannot listen on 127.0.0.1:{args.port}: {exc.strerror}")
    target = f"the embedded fake TikTok ({fake.base_url})" if fake else "TikTok"
    print(f"receiver listening on http://127.0.0.1:{args.port}/webhooks/shopify, sending to {target}; "
          "Ctrl-C stops", file=sys.stderr)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        if fake is not None:
            fake.stop()
    return EXIT_OK
