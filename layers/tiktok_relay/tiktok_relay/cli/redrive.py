"""`tiktok-relay redrive (--dead-letter PATH | --queue-url URL) [--events-queue-url URL]
[--shop SHOP] [--force] [--include-rejected] [--dry-run] [--json]` (relied upon).

From a dead-letter file (what `replay` and `serve` write): posts its events to the Events API
that TIKTOK_ACCESS_TOKEN and TIKTOK_API_BASE_URL configure, as `send` does (each event keeps the
pixel and test event code it was queued with; with TIKTOK_RELAY_TENANTS, each letter's tenant's
token), then rewrites the file to hold what is still dead.

From the deployed dead-letter queue (stack output DeadLetterQueueUrl): puts each message's
events back on the events queue for the sender, then deletes the message; a message is deleted
only once the events queue took its events. The events queue is --events-queue-url, else
EVENTS_QUEUE_URL (the variable the functions read), else the one queue whose redrive policy
names the dead-letter queue. AWS credentials as for the AWS CLI; the region is the queue URL's.

Events older than TIKTOK_MAX_EVENT_AGE (default 48h) stay dead unless --force; events TikTok
refused for their data stay dead unless --include-rejected (local/redrive.py has the rules).

--json prints one object (relied upon); each event read is counted once, in redriven, stale,
rejected or failed, which add up to events:
    {"from": PATH or URL, "to": where the events went, "dry_run": true|false,
     "letters": records read, "events": events in them,
     "redriven": N, "stale": N (kept: too old), "rejected": N (kept: refused for their data),
     "failed": N (tried, still dead), "unreadable": records kept as they are,
     "requests_sent": N (to TikTok; 0 from a queue), "problems": ["...", ...]}
Otherwise a summary on stdout, each problem on stderr, and on a terminal a progress bar on stderr.

Exit status: 0 when every event tried was redriven (those kept by the rules do not count against
it), 1 when any failed, 2 on unusable input or configuration (nothing moved).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from tiktok_relay.cli.common import EXIT_OK, EXIT_UNDELIVERED, say
from tiktok_relay.config import TikTokSettings, env_value, max_event_age_from_env
from tiktok_relay.errors import ConfigurationError, UsageError

if TYPE_CHECKING:
    from tiktok_relay.local.redrive import Progress, RedriveReport, Rules
    from tiktok_relay.pipeline.aws import SqsQueue

# A person waits for this command: a few attempts with SDK backoff, and time for a long poll.
SQS_OPTIONS = {"connect_timeout": 5, "read_timeout": 25, "retries": {"total_max_attempts": 3, "mode": "standard"}}
_QUEUE_URL_REGION = re.compile(r"https://(?:sqs\.)?([a-z]{2}(?:-[a-z]+)+-\d+)\.(?:queue\.)?amazonaws\.com", re.I)
BAR_WIDTH = 30


def run_redrive(args: argparse.Namespace) -> int:
    from tiktok_relay.local.redrive import Rules

    rules = Rules(max_event_age=max_event_age_from_env(os.environ), force=args.force,
                  include_rejected=args.include_rejected, shop=args.shop, need_shop=args.queue_url is not None)
    progress = ProgressBar() if sys.stderr.isatty() and not args.json else None
    try:
        report = _from_file(args, rules, progress) if args.dead_letter else _from_queue(args, rules, progress)
    finally:
        if progress is not None:
            progress.finish()
    if args.json:
        print(json.dumps(report.as_dict(), separators=(",", ":")))
    else:
        for problem in report.problems:
            say(problem)
        print(summary(report, rules))
    return EXIT_UNDELIVERED if report.failed else EXIT_OK


def _from_file(args: argparse.Namespace, rules: Rules, progress: Progress | None) -> RedriveReport:
    """Posted with TIKTOK_ACCESS_TOKEN, or with a TIKTOK_RELAY_TENANTS document each letter's
    tenant's token, found as the sender finds it (runtime.tenant_router: ConfigurationError for a
    shop the document does not list, and the letter stays)."""
    from tiktok_relay.local.redrive import redrive_file
    from tiktok_relay.local.tenants import local_tenants
    from tiktok_relay.pipeline.runtime import tenant_router
    from tiktok_relay.tiktok.client import TikTokClient

    path = _checked_file(Path(args.dead_letter), writable=not args.dry_run)
    settings = TikTokSettings.from_env()
    base = settings.base_url.rstrip("/")
    target = f"TikTok ({base})" if base == TikTokSettings.DEFAULT_BASE_URL else f"the Events API at {base}"
    if args.dry_run:
        return redrive_file(path, client_for=None, rules=rules, target=target, **_bar(progress))
    tenants = local_tenants()
    if tenants is None:
        settings.require_token()
        client = TikTokClient.from_settings(settings, sleep=args.sleep)
        return redrive_file(path, client_for=lambda delivery: client, rules=rules, target=target, **_bar(progress))
    route = tenant_router(settings, tenants, max_event_age=rules.max_event_age, sleep=args.sleep)
    return redrive_file(path, client_for=lambda delivery: route(delivery).client(), rules=rules, target=target,
                        **_bar(progress))


def _from_queue(args: argparse.Namespace, rules: Rules, progress: Progress | None) -> RedriveReport:
    from tiktok_relay.local.redrive import redrive_queue
    from tiktok_relay.pipeline.ports import QueueError

    if importlib.util.find_spec("boto3") is None:
        raise ConfigurationError("redrive --queue-url reads SQS with boto3; install it with: "
                                 "pip install 'tiktok-relay[local]'")
    dead_letters = _queue(args.queue_url)
    try:
        expected = dead_letters.approximate_count()
    except QueueError as exc:
        raise UsageError(f"--queue-url: cannot read the queue ({exc}); check the URL, the region and your "
                         "AWS credentials") from None
    events_url, named_by = _events_queue_url(args, dead_letters)
    if events_url == args.queue_url:
        raise UsageError(f"{named_by} is the dead-letter queue itself; give the events queue (stack output "
                         "EventsQueueUrl)")
    events_queue = _queue(events_url)
    try:
        events_queue.approximate_count()
    except QueueError as exc:
        raise UsageError(f"{named_by}: cannot reach the events queue ({exc})") from None
    return redrive_queue(dead_letters, None if args.dry_run else events_queue, rules=rules, source=args.queue_url,
                         target=events_url, expected=expected, **_bar(progress))


def _queue(url: str) -> SqsQueue:
    from tiktok_relay.pipeline.aws import SqsQueue, aws_client

    match = _QUEUE_URL_REGION.match(url)
    return SqsQueue(url, aws_client("sqs", options=SQS_OPTIONS, region=match.group(1) if match else None))


def _events_queue_url(args: argparse.Namespace, dead_letters: SqsQueue) -> tuple[str, str]:
    """The events queue's URL, and what named it (for messages)."""
    from tiktok_relay.pipeline.ports import QueueError

    if args.events_queue_url:
        return args.events_queue_url, "--events-queue-url"
    if (url := env_value(os.environ, "EVENTS_QUEUE_URL")) is not None:
        return url, "EVENTS_QUEUE_URL"
    try:
        sources = dead_letters.source_queue_urls()
    except QueueError as exc:
        raise UsageError(f"cannot ask SQS which queue uses --queue-url as its dead-letter queue ({exc}); give "
                         "--events-queue-url (stack output EventsQueueUrl)") from None
    if len(sources) != 1:
        raise UsageError(f"{len(sources)} queues use --queue-url as their dead-letter queue; give the events "
                         "queue with --events-queue-url (stack output EventsQueueUrl)")
    return sources[0], "the queue whose dead-letter queue --queue-url is"


def _checked_file(path: Path, *, writable: bool) -> Path:
    if path.is_dir():
        raise UsageError(f"--dead-letter {path}: is a directory, not a file")
    if not path.is_file():
        raise UsageError(f"--dead-letter {path}: no such file (replay and serve write dead-letters.ndjson)")
    if writable and not (os.access(path, os.W_OK) and os.access(path.parent, os.W_OK | os.X_OK)):
        raise UsageError(f"--dead-letter {path}: cannot rewrite it (redrive keeps what is still dead there)")
    return path


def _bar(progress: Progress | None) -> dict:
    return {} if progress is None else {"progress": progress}


def summary(report: RedriveReport, rules: Rules) -> str:
    """The human summary: what went back, what stayed and why."""
    did = "would redrive" if report.dry_run else "redriven"
    lines = [f"{'dry run, nothing moved: ' if report.dry_run else ''}{did} {report.redriven} of {report.events} "
             f"event(s) from {report.source} to {report.target}"]
    if report.stale:
        age = f"{rules.max_event_age / 3600:g} h" if rules.max_event_age else "TIKTOK_MAX_EVENT_AGE"
        lines.append(f"  {report.stale} stale (event_time more than {age} ago, TIKTOK_MAX_EVENT_AGE): kept, as "
                     "TikTok could count them twice; --force sends them if you know it never counted them")
    if report.rejected:
        lines.append(f"  {report.rejected} refused by TikTok for their data: kept; fix the cause, then "
                     "--include-rejected sends them")
    if report.failed:
        lines.append(f"  {report.failed} failed (stderr says why): still dead, try again later")
    if report.unreadable:
        lines.append(f"  {report.unreadable} record(s) that cannot be redriven: kept as they are")
    return "\n".join(lines)


class ProgressBar:
    """`redrive [#######.......]  12/40` on stderr, redrawn in place (a terminal only)."""

    def __init__(self) -> None:
        self._drawn = False

    def __call__(self, done: int, total: int) -> None:
        filled = BAR_WIDTH * done // total if total else BAR_WIDTH
        sys.stderr.write(f"\rredrive [{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {done}/{total}")
        sys.stderr.flush()
        self._drawn = True

    def finish(self) -> None:
        if self._drawn:
            sys.stderr.write("\n")
            sys.stderr.flush()
