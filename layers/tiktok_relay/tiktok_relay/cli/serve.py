"""`tiktok-relay serve [--port 3000] [--live] [--dead-letter PATH]`: the receiver over HTTP on
localhost, like `sam local start-api`, with the queue and sender behind it
(tiktok_relay/local/serve.py).

It says on stderr where each store platform's webhooks go (POST /webhooks/shopify,
/webhooks/woocommerce, /webhooks/stripe) and which secret checks their signatures (never the
value), where events go and where dead letters are written, then one line per delivery (the
receiver's answer) and what reached TikTok after it (the embedded fake's, or with `--live` the
Events API's answer). With `--live`, a platform whose secret variable is not set has its
deliveries refused (500, naming the variable): the local development secret is public.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from tiktok_relay.cli.common import EXIT_OK, fail, say
from tiktok_relay.local import check_local_extra

if TYPE_CHECKING:
    from tiktok_relay.local.harness import Drained


def _line(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def run_serve(args: argparse.Namespace) -> int:
    check_local_extra()  # before the harness is imported: it needs the extra itself
    from tiktok_relay.local.harness import open_local_pipeline
    from tiktok_relay.local.platforms import PLATFORMS, platform
    from tiktok_relay.local.serve import make_server

    local = open_local_pipeline(live=args.live, dead_letter_path=args.dead_letter, require_secret=args.live)
    target = local.target.description

    def answered(method: str, path: str, status: int, body: Any) -> None:
        body = body if isinstance(body, dict) else {}
        detail = body.get("reason") or (f"{body.get('events')} event(s)" if body.get("status") == "queued" else "")
        _line(f"{method} {path} -> {status} {body.get('status', '?')}" + (f" ({detail})" if detail else ""))

    def drained(report: Drained) -> None:
        events = ", ".join(f"{name} {event_id}" for name, event_id in report.events)
        _line(f"  sent to {target}: delivered {report.delivered} of {len(report.events)}"
              + (f" [{events}]" if events else "")
              + (f"; dead-lettered {report.dead_lettered} to {local.pipeline.dead_letters.path}"
                 if report.dead_lettered else ""))
        for problem in report.problems:
            _line(f"  {problem}")

    try:
        server = make_server(local.pipeline, args.port, on_answer=answered, on_drained=drained)
    except OSError as exc:
        local.close()
        return fail(f"cannot listen on 127.0.0.1:{args.port}: {exc.strerror}")
    for note in local.notes:
        say(f"note: {note}")
    base = f"http://127.0.0.1:{server.server_address[1]}"
    shop = " --shop-domain SHOP" if local.tenants is not None else ""  # which shop's secret signs it
    routes = []
    for name in PLATFORMS:
        store, secret = platform(name), local.secrets.get(name)
        if secret is None and name == "stripe":
            checked = "refused: a tenants document serves no Stripe account (README \"Stripe\")"
        elif secret is None:  # a tenants document: each store's own secrets
            checked = f"signatures checked with {local.describe_secrets()}"
        elif args.live and not secret.from_environment:
            checked = f"refused: {secret.variable} is not set"
        else:
            checked = f"signatures checked with {secret.describe()}"
        routes.append(f"receiver listening on {base}{store.path} ({store.display_name})\n  {checked}\n")
    _line("".join(routes)
          + f"  events sent to {target}\n"
          f"  dead letters appended to {local.pipeline.dead_letters.path} (NDJSON, one record per line)\n"
          f"  try it: tiktok-relay sign --platform shopify --topic orders/paid{shop} --curl {base}/webhooks/shopify "
          "ORDER.json | sh\n"
          "Ctrl-C stops")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        local.close()
    return EXIT_OK
