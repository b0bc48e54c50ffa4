"""`tiktok-relay reconcile shopify`: the orders paid in a window, against the ledger of what the
relay delivered; sends what it missed and prints the coverage report (README "Reconciliation";
tiktok_relay/pipeline/reconcile.py does the work). With TIKTOK_RELAY_TENANTS, `--shop` picks a
shop of the tenants document: its pixel, settings, TikTok token and (without --access-token) its
admin_access_token.

Exit status: 0 every paid order that should be at TikTok is (delivered before, or sent now);
1 some is not (a dry run's would_send, old orders not sent, failures; or Shopify kept failing);
2 invalid input or configuration (flags, no ledger, a token or shop Shopify refused).
Tokens are never printed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from tiktok_relay.cli.common import EXIT_OK, EXIT_UNDELIVERED, admin_api_command, say

if TYPE_CHECKING:
    from tiktok_relay.config import TikTokSettings
    from tiktok_relay.pipeline.ports import Ledger
    from tiktok_relay.pipeline.reconcile import Report
    from tiktok_relay.sources.shopify.receiver import ShopifySource

LEDGER_ENV = "LEDGER_TABLE"


def run_reconcile(args: argparse.Namespace) -> int:
    return admin_api_command(lambda: _reconcile(args))


def _reconcile(args: argparse.Namespace) -> int:
    from tiktok_relay.pipeline.ports import Unavailable

    try:
        report = _run(args)
    except Unavailable as exc:  # the ledger could not be read: nothing was sent
        say(f"{exc}; nothing was sent")
        return EXIT_UNDELIVERED
    for problem in report.problems:
        say(problem)
    if args.json:
        print(json.dumps(report.to_json(), separators=(",", ":")))
    else:
        sys.stdout.write(summary(report))
    return EXIT_OK if report.undelivered == 0 else EXIT_UNDELIVERED


def moment(text: str, now: float, flag: str) -> datetime:
    """A flag's time: a duration ago (24h, 90m, 2d, seconds) or an ISO 8601 date-time (UTC when
    it has no offset)."""
    from tiktok_relay.config import parse_duration
    from tiktok_relay.errors import UsageError

    seconds = parse_duration(text)
    if seconds is not None:
        return datetime.fromtimestamp(now - seconds, UTC)
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(f"{flag} must be a duration such as 24h, 90m or 2d (that long ago), or an ISO 8601 "
                         "date-time such as 2026-12-01T00:00:00Z") from None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def open_ledger(path: str | None, *, dry_run: bool) -> Ledger:
    """--ledger PATH (a file), else the DynamoDB table LEDGER_TABLE names."""
    from tiktok_relay.config import env_value
    from tiktok_relay.errors import UsageError

    if path is not None:
        from tiktok_relay.local.harness import check_dead_letter_path
        from tiktok_relay.local.memory import FileLedger

        return FileLedger(path if dry_run else check_dead_letter_path(path, "--ledger"))
    table = env_value(os.environ, LEDGER_ENV)
    if table is None:
        raise UsageError(f"reconcile needs the ledger of what was delivered: --ledger PATH (a file, for local runs) "
                         f"or {LEDGER_ENV} (the stack's LedgerTableName output, with AWS credentials)")
    from tiktok_relay.pipeline.aws import DynamoDBLedger

    return DynamoDBLedger(table)


@dataclass(frozen=True)
class _Shop:
    """The shop to reconcile and what its orders are mapped and sent with: the environment's
    single-shop settings, or its tenant's in TIKTOK_RELAY_TENANTS."""

    key: str
    tenant: str | None
    source: ShopifySource
    admin_token: str | None
    tiktok_token: str | None
    max_event_age: float


def _shop(args: argparse.Namespace, tiktok: TikTokSettings) -> _Shop:
    from tiktok_relay.config import max_event_age_from_env
    from tiktok_relay.local.tenants import local_tenants, tenant_of
    from tiktok_relay.sources.shopify import register
    from tiktok_relay.sources.shopify.receiver import ShopifySource
    from tiktok_relay.sources.shopify.settings import ShopifySettings

    shop = register.normalize_shop(args.shop)
    max_event_age = max_event_age_from_env(os.environ)
    if (tenants := local_tenants()) is not None:
        tenant = tenant_of(tenants, "shopify", shop, flag="--shop")
        own = tenant.parsed.get("sender")
        return _Shop(tenant.key, tenant.key, ShopifySource(tenants=tenants), tenant.admin_access_token,
                     tenant.access_token, max_event_age if own is None else own)
    source = ShopifySource(secrets=None, settings=ShopifySettings.from_env(), pixel_id=tiktok.require_pixel())
    return _Shop(shop, None, source, None, tiktok.access_token, max_event_age)


def _run(args: argparse.Namespace) -> Report:
    from tiktok_relay.config import TikTokSettings
    from tiktok_relay.errors import ConfigurationError
    from tiktok_relay.pipeline.reconcile import SenderDispatch, Window, reconcile
    from tiktok_relay.pipeline.runtime import StaticSecret, client_factory
    from tiktok_relay.pipeline.send import QueueSender
    from tiktok_relay.pipeline.tenants import TENANTS_FILE_VARIABLE
    from tiktok_relay.sources.shopify import register
    from tiktok_relay.sources.shopify.admin import TOKEN_ENV, ShopifyAdminClient
    from tiktok_relay.sources.shopify.orders import RECONCILE_RETRY, paid_orders

    now = time.time()
    tiktok = TikTokSettings.from_env()
    shop = _shop(args, tiktok)
    window = Window(moment(args.since, now, "--since"), moment(args.until, now, "--until") if args.until
                    else datetime.fromtimestamp(now, UTC))
    token = register.validate_token(args.access_token or shop.admin_token or os.environ.get(TOKEN_ENV),
                                    also=f"the shop's admin_access_token in {TENANTS_FILE_VARIABLE}"
                                    if shop.tenant is not None else None)
    dispatch = None
    if not args.dry_run:
        if not shop.tiktok_token and shop.tenant is None:
            tiktok.require_token()  # raises, naming TIKTOK_ACCESS_TOKEN
        if not shop.tiktok_token:
            raise ConfigurationError("the shop's access_token in the tenants document is missing")
        clients = client_factory(tiktok, StaticSecret(shop.tiktok_token, "TIKTOK_ACCESS_TOKEN"), sleep=args.sleep)
    ledger = open_ledger(args.ledger, dry_run=args.dry_run)
    window.check(now, ledger.retention_seconds)
    if not args.dry_run:
        dispatch = SenderDispatch(lambda dead_letters: QueueSender(client=clients, dead_letters=dead_letters,
                                                                   ledger=ledger, max_event_age=None))
    base_url = register.admin_base_url(shop.key)
    if base_url != f"https://{shop.key}":
        say(f"note: {register.BASE_URL_ENV} is set: calling {base_url} instead of https://{shop.key}")
    client = ShopifyAdminClient(shop.key, token, base_url=base_url, retry=RECONCILE_RETRY, sleep=args.sleep)
    return reconcile(paid_orders(client, window.since, window.until), shop=shop.key, source=shop.source,
                     ledger=ledger, dispatch=dispatch, window=window, now=now, max_event_age=shop.max_event_age,
                     force=args.force, tenant=shop.tenant)


def summary(report: Report) -> str:
    """The coverage report as text: a table per sales channel, then the orders not delivered."""
    data = report.to_json()
    columns = ("orders", "delivered", "reconciled", "would_send" if report.dry_run else "sent", "old", "failed")
    lines = [f"{report.shop}: orders paid from {data['since']} to {data['until']}"
             + (" (dry run: nothing sent)" if report.dry_run else "")]
    rows = [(name, counts) for name, counts in data["channels"].items()] + [("all", data)]
    width = max(8, *(len(name) for name, _ in rows))
    lines.append(f"{'channel':<{width}}" + "".join(f"{c:>12}" for c in [*columns, "ignored"]))
    for name, counts in rows:
        ignored = sum(counts["ignored"].values())
        lines.append(f"{name:<{width}}" + "".join(f"{counts[c]:>12}" for c in columns) + f"{ignored:>12}")
    for name, counts in rows[:-1]:
        reasons = ", ".join(f"{reason} {n}" for reason, n in counts["ignored"].items() if n)
        if reasons:
            lines.append(f"ignored on {name}: {reasons}")
    share = report.web_delivered_share
    delivered = sum(1 for o in report.web_orders if o.outcome == "delivered")
    lines.append(f"paid web orders delivered by their webhook: {delivered} of {data['web_orders']}"
                 + (f" ({share:.1%})" if share is not None else ""))
    missed = data["missed"]
    if missed:
        lines.append("not delivered by their webhook:")
    for order in missed:
        name = order["name"] or order["id"]
        why = f": {order['reason']}" if order["reason"] else ""
        lines.append(f"  {name}  {order['event_id']}  {order['channel']}  {order['outcome']}{why}")
    return "\n".join(lines) + "\n"
