"""`tiktok-relay replay [--dry-run] [--json] [--batch-size N] [--max-receives N]
[--dead-letter PATH] EVENT_FILE...` (relied upon: keep this interface exactly).

--json output, one line per file, then a summary line:
    {"file": ..., "status": <HTTP status>, "body": <response body>, "request": <request body or null>}
    {"summary": {"webhooks": .., "events": .., "requests_sent": .., "delivered": .., "dead_lettered": ..}}
Exit status: 0 when everything was delivered (or on a dry run), 1 when anything was
dead-lettered, 2 on unusable input or configuration.
"""

from __future__ import annotations

import argparse
import json

from tiktok_relay.cli.common import EXIT_OK, EXIT_UNDELIVERED
from tiktok_relay.local.replay import ReplayRun


def run_replay(args: argparse.Namespace) -> int:
    from tiktok_relay.local.replay import replay

    run = replay(args.files, dry_run=args.dry_run, dead_letter_path=args.dead_letter,
                 batch_size=args.batch_size, max_receives=args.max_receives)
    if args.json:
        for row in run.rows:
            print(json.dumps(row.as_dict(), separators=(",", ":")))
        print(json.dumps({"summary": run.summary}, separators=(",", ":")))
    else:
        _print_human(run)
    return EXIT_UNDELIVERED if run.summary["dead_lettered"] else EXIT_OK


def _print_human(run: ReplayRun) -> None:
    for row in run.rows:
        body = row.body if isinstance(row.body, dict) else {}
        detail = body.get("reason") or (f"{body.get('events')} event(s)" if body.get("status") == "queued" else "")
        print(f"{row.status}  {body.get('status', '?'):<10} {row.file}" + (f"  ({detail})" if detail else ""))
        if row.request is not None:
            print("     request: " + json.dumps(row.request, separators=(",", ":")))
    summary = run.summary
    print(f"\nsent to {run.target}: " + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in summary.items()))
    if summary["dead_lettered"]:
        print(f"dead letters appended to {run.dead_letter_path}")
