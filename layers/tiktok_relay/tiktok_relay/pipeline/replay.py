"""`tiktok-relay replay [--dry-run] [--json] [--batch-size N] [--max-receives N]
[--dead-letter PATH] EVENT_FILE...` (relied upon: keep this interface exactly).

Each file is an API Gateway HTTP API (v2) event, as `sam local invoke -e` takes. It runs
through the real receiver handler, the in-memory queue and the real sender handler.

--json output, one line per file, then a summary line:
    {"file": ..., "status": <HTTP status>, "body": <response body>, "request": <request body or null>}
    {"summary": {"webhooks": .., "events": .., "requests_sent": .., "delivered": .., "dead_lettered": ..}}
Exit status: 0 when everything was delivered (or on a dry run), 1 when anything was
dead-lettered, 2 on unusable input or configuration.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from tiktok_relay.errors import ConfigurationError

EXIT_OK, EXIT_DEAD_LETTERED, EXIT_USAGE = 0, 1, 2


def _load_event(path: str) -> dict:
    try:
        event = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigurationError(f"{path}: cannot read ({exc.strerror})") from None
    except (ValueError, UnicodeDecodeError):
        raise ConfigurationError(f"{path}: not a JSON file") from None
    if not isinstance(event, dict) or "requestContext" not in event or "headers" not in event:
        hint = " (a raw webhook body? `tiktok-relay map` takes those)" if isinstance(event, dict) else ""
        raise ConfigurationError(f"{path}: not an API Gateway HTTP API (v2) event{hint}; see events/shopify/")
    return event


def _response_body(response: dict):
    body = response.get("body")
    try:
        return json.loads(body) if isinstance(body, str) else body
    except ValueError:
        return body


def run_replay(args) -> int:
    from tiktok_relay.pipeline.local import open_local_pipeline

    try:
        events = [(path, _load_event(path)) for path in args.files]
        pipeline, fake = open_local_pipeline(dry_run=args.dry_run, dead_letter_path=args.dead_letter,
                                             batch_size=args.batch_size, max_receives=args.max_receives)
    except ConfigurationError as exc:
        print(f"tiktok-relay replay: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        rows = []
        for path, event in events:
            response, request = pipeline.deliver(event)
            rows.append({"file": path, "status": response.get("statusCode"),
                         "body": _response_body(response), "request": request})
        pipeline.drain()
    finally:
        if fake is not None:
            fake.stop()

    summary = pipeline.tally.as_dict()
    if args.json:
        for row in rows:
            print(json.dumps(row, separators=(",", ":")))
        print(json.dumps({"summary": summary}, separators=(",", ":")))
    else:
        _print_human(rows, summary, args, fake, pipeline)
    return EXIT_DEAD_LETTERED if summary["dead_lettered"] else EXIT_OK


def _print_human(rows, summary, args, fake, pipeline) -> None:
    out = sys.stdout
    for row in rows:
        body = row["body"] if isinstance(row["body"], dict) else {}
        detail = body.get("reason") or (f"{body.get('events')} event(s)" if body.get("status") == "queued" else "")
        print(f"{row['status']}  {body.get('status', '?'):<10} {row['file']}" + (f"  ({detail})" if detail else ""),
              file=out)
        if row["request"] is not None:
            print("     request: " + json.dumps(row["request"], separators=(",", ":")), file=out)
    where = ("nowhere (--dry-run)" if args.dry_run else
             f"the embedded fake TikTok ({fake.base_url})" if fake is not None else "TikTok")
    print(f"\nsent to {where}: " + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in summary.items()), file=out)
    if summary["dead_lettered"]:
        print(f"dead letters appended to {pipeline.dead_letters.path}", file=out)
