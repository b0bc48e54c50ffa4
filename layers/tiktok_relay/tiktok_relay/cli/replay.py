"""`tiktok-relay replay [--live] [--dry-run] [--json] [--batch-size N] [--max-receives N]
[--dead-letter PATH] EVENT_FILE...` (relied upon: keep this interface exactly).

Events go to the embedded fake TikTok unless `--live` is given, whatever the environment holds;
with `--live` they go to the Events API that TIKTOK_ACCESS_TOKEN, TIKTOK_PIXEL_ID and
TIKTOK_API_BASE_URL configure.

--json output, one line per file, then a summary line:
    {"file": ..., "status": <HTTP status>, "body": <response body>, "request": <request body or null>}
    {"summary": {"webhooks": .., "events": .., "requests_sent": .., "delivered": .., "dead_lettered": ..,
                 "match_keys": {"email": N, "phone": N, "external_id": N, "ip": N, "user_agent": N,
                                "ttclid": N, "ttp": N}}}
`match_keys` counts the delivered events that carry each key (tiktok/matching.py). The files'
requests are what `tiktok-relay quality` reads.
Exit status: 0 when everything was delivered (or on a dry run), 1 when anything was
dead-lettered, 2 on unusable input or configuration.
"""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING

from tiktok_relay.cli.common import EXIT_OK, EXIT_UNDELIVERED, say
from tiktok_relay.local import check_local_extra

if TYPE_CHECKING:
    from tiktok_relay.local.replay import ReplayRun


def run_replay(args: argparse.Namespace) -> int:
    check_local_extra()  # before the harness is imported: it needs the extra itself
    from tiktok_relay.local.replay import replay

    run = replay(args.files, dry_run=args.dry_run, dead_letter_path=args.dead_letter,
                 batch_size=args.batch_size, max_receives=args.max_receives, live=args.live)
    for note in run.notes:
        say(f"note: {note}")
    hint = unauthorized_hint(run)
    if args.json:
        for row in run.rows:
            print(json.dumps(row.as_dict(), separators=(",", ":")))
        print(json.dumps({"summary": run.summary}, separators=(",", ":")))
        if hint:
            say(hint)
    else:
        _print_human(run, hint)
    return EXIT_UNDELIVERED if run.summary["dead_lettered"] else EXIT_OK


def unauthorized_hint(run: ReplayRun) -> str | None:
    """Why every file got 401, and how to fix it; None unless every one did."""
    if not run.all_unauthorized:
        return None
    if run.tenants is not None:
        return (f"every delivery was refused with 401: the files are not signed with their shop's webhook_secret in "
                f"{run.tenants}, or name shops it does not list. Sign your payloads with `tiktok-relay sign "
                "--shop-domain SHOP` (it signs with that shop's secret), or unset TIKTOK_RELAY_TENANTS to replay "
                "events/ with the local development secret")
    if run.secret is None:
        return None
    if run.secret.from_environment:
        return (f"every delivery was refused with 401: the files are not signed with {run.secret.variable}. "
                f"The files in events/ are signed with the local development secret: unset {run.secret.variable} "
                f"to replay them, or sign your own payloads with `tiktok-relay sign` (it signs with "
                f"{run.secret.variable})")
    return ("every delivery was refused with 401: the files are not signed with the local development secret "
            f"(the one events/ uses). Set {run.secret.variable} to the secret they were signed with, or sign "
            "your payloads with `tiktok-relay sign`")


def _print_human(run: ReplayRun, hint: str | None) -> None:
    for row in run.rows:
        body = row.body if isinstance(row.body, dict) else {}
        detail = body.get("reason") or (f"{body.get('events')} event(s)" if body.get("status") == "queued" else "")
        print(f"{row.status}  {body.get('status', '?'):<10} {row.file}" + (f"  ({detail})" if detail else ""))
        if row.request is not None:
            print("     request: " + json.dumps(row.request, separators=(",", ":")))
    summary = run.summary
    counts = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in summary.items() if k != "match_keys")
    if run.dry_run:
        print(f"\ndry run, nothing sent: {counts}")
    elif summary["delivered"]:
        print(f"\nsent to {run.target}: {counts}")
    elif summary["requests_sent"]:  # tried, but nothing was taken (unreachable, or every event refused)
        print(f"\nnothing was delivered to {run.target}: {counts}")
    else:
        print(f"\nnothing was sent to {run.target}: {counts}")
    if summary["delivered"]:
        keys = ", ".join(f"{key} {events}" for key, events in summary["match_keys"].items())
        print(f"match keys of the delivered events: {keys}")
    if summary["dead_lettered"]:
        print(f"dead letters appended to {run.dead_letter_path}")
    if hint:
        print(hint)
