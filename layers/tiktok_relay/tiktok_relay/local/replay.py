"""Replaying event files through the whole relay, as `tiktok-relay replay` does
(tiktok_relay/cli/replay.py prints the result).

Each file is an API Gateway HTTP API (v2) event, as `sam local invoke -e` takes, or an
EventBridge event of Shopify's partner event source (told apart by its `detail-type`, `source`
and `detail`; a Lambda on-failure record from the EventBridge intake's dead-letter queue is
read as the event it holds). It runs through the real receiver handler (or the EventBridge
intake's), the in-memory queue and the real sender handler.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tiktok_relay.errors import UsageError
from tiktok_relay.local.harness import open_local_pipeline
from tiktok_relay.local.platforms import WebhookSecret, platform_of_path
from tiktok_relay.sources.routes import WEBHOOK_PATHS
from tiktok_relay.sources.shopify.eventbridge import is_partner_event


def load_event(path: str) -> dict[str, Any]:
    """An event file, checked: UsageError naming the file when it is neither an API Gateway
    event nor an EventBridge event."""
    try:
        event = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"{path}: cannot read ({exc.strerror})") from None
    except (ValueError, UnicodeDecodeError):
        raise UsageError(f"{path}: not a JSON file") from None
    if isinstance(event, dict) and is_partner_event(event.get("requestPayload")):
        event = event["requestPayload"]  # Lambda's on-failure record: the event it could not take
    if isinstance(event, dict) and is_partner_event(event):
        return event
    if not isinstance(event, dict) or "requestContext" not in event or "headers" not in event:
        hint = " (a raw webhook body? `tiktok-relay map` takes those)" if isinstance(event, dict) else ""
        raise UsageError(f"{path}: neither an API Gateway HTTP API (v2) event nor an EventBridge event{hint}; "
                         "see events/shopify/ and events/eventbridge/")
    return event


def _route(event: dict[str, Any]) -> str:
    """The path an event is for (rawPath, else requestContext.http.path; Shopify's for an
    EventBridge event)."""
    if is_partner_event(event):
        return WEBHOOK_PATHS["shopify"]
    path = event.get("rawPath")
    if not isinstance(path, str):
        context = event.get("requestContext")
        http = context.get("http") if isinstance(context, dict) else None
        path = http.get("path") if isinstance(http, dict) else ""
    return path if isinstance(path, str) else ""


def _response_body(response: dict[str, Any]) -> Any:
    body = response.get("body")
    try:
        return json.loads(body) if isinstance(body, str) else body
    except ValueError:
        return body


@dataclass(frozen=True)
class ReplayRow:
    """What one file got: the receiver's HTTP status and body, and the request it enqueued."""

    file: str
    status: int | None
    body: Any
    request: dict[str, Any] | None

    def as_dict(self) -> dict[str, Any]:
        return {"file": self.file, "status": self.status, "body": self.body, "request": self.request}


@dataclass
class ReplayRun:
    rows: list[ReplayRow] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    target: str = "nowhere"  # where events went: the embedded fake, nowhere (dry run), or the Events API
    dry_run: bool = False
    dead_letter_path: Path | None = None
    secret: WebhookSecret | None = None  # what signatures were checked with (None: the tenants document's,
    # or the files are of several platforms)
    notes: list[str] = field(default_factory=list)
    tenants: str | None = None  # where the tenants document is, when there is one

    @property
    def all_unauthorized(self) -> bool:
        """Every delivery refused with 401: the files were signed with another secret."""
        return bool(self.rows) and all(row.status == 401 for row in self.rows)


def replay(files: list[str], *, dry_run: bool, dead_letter_path: str, batch_size: int = 10,
           max_receives: int = 5, live: bool = False) -> ReplayRun:
    """Every file through the receiver, then the queue drained through the sender. Raises
    UsageError or ConfigurationError, naming what is wrong, before anything is delivered."""
    events = [(path, load_event(path)) for path in files]
    local = open_local_pipeline(live=live, dry_run=dry_run, dead_letter_path=dead_letter_path,
                                batch_size=batch_size, max_receives=max_receives)
    pipeline = local.pipeline
    platforms = {platform_of_path(_route(event)) for _, event in events}
    only = platforms.pop() if len(platforms) == 1 else None
    secret = local.secrets.get(only) if only is not None else None
    run = ReplayRun(target=local.target.description, dry_run=dry_run, dead_letter_path=pipeline.dead_letters.path,
                    secret=local.secret if local.tenants is not None else secret, notes=local.notes,
                    tenants=local.tenants.origin if local.tenants is not None else None)
    try:
        for path, event in events:
            response, request = pipeline.deliver(event)
            run.rows.append(ReplayRow(path, response.get("statusCode"), _response_body(response), request))
        pipeline.drain()
    finally:
        local.close()
    run.summary = pipeline.tally.as_dict()
    return run
