"""Reconcile Lambda: run by EventBridge Scheduler every ReconcileIntervalMinutes (template.yaml).

Only wiring lives here: Powertools logs, traces and metrics around the library's
ScheduledReconcile (tiktok_relay/pipeline/reconcile.py), which pages each shop's paid orders of
the window, looks their events up in the ledger and queues the missed ones for the sender.

Metrics (namespace TikTokRelay, dimension service, no shop: per-shop metrics would cost a
custom metric each; the log line "shop reconciled" names the shop):
    PaidOrders              orders paid in the window, by `channel` (the order's source_name)
    ReconciledOrders        by `channel` and `outcome`: delivered, reconciled, queued, old, failed
    IgnoredOrders           by `channel` and `reason`: test, channel, consent, no_event_for_topic,
                            unmappable, other
    WebOrdersDeliveredPercent  per shop with paid web orders: the share their webhooks delivered
                            (the WebOrdersDeliveredAlarm reads its minimum)
    ReconcileFailures       shops that could not be reconciled in this run (the ReconcileFailingAlarm);
                            a tenant without an Admin API token is skipped, not a failure
"""

from __future__ import annotations

import gc

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.utilities.typing import LambdaContext

from tiktok_relay.errors import ConfigurationError
from tiktok_relay.handlers import metrics_disabled
from tiktok_relay.pipeline import runtime
from tiktok_relay.pipeline.ports import Unavailable
from tiktok_relay.pipeline.reconcile import OUTCOMES, Report, ShopRun
from tiktok_relay.pipeline.send import deadline_from

logger = Logger()
tracer = Tracer()
metrics = Metrics()
MAX_LOGGED_ORDERS = 100  # of the missed orders, per shop and log line (ids and event_ids only)

# See receiver.py: what is alive now lives as long as the container.
gc.freeze()


def dimensioned(name: str, value: float, unit: MetricUnit = MetricUnit.Count, **dimensions: str) -> None:
    """`name` with dimensions of its own (not the invocation's other metrics)."""
    if metrics_disabled():  # single_metric prints even then (see tiktok_relay/handlers/__init__.py)
        return
    with single_metric(name=name, unit=unit, value=value, namespace=metrics.namespace) as metric:
        for key, text in dimensions.items():
            metric.add_dimension(name=key, value=text)


def publish(report: Report) -> None:
    for channel, counts in report.channels().items():
        dimensioned("PaidOrders", counts["orders"], channel=channel)
        for outcome in OUTCOMES[1:]:
            if counts[outcome]:
                dimensioned("ReconciledOrders", counts[outcome], channel=channel, outcome=outcome)
        for reason, count in counts["ignored"].items():
            if count:
                dimensioned("IgnoredOrders", count, channel=channel, reason=reason)
    share = report.web_delivered_share
    if share is not None:
        metrics.add_metric(name="WebOrdersDeliveredPercent", unit=MetricUnit.Percent, value=round(share * 100, 2))


def log(run: ShopRun) -> None:
    if run.skipped:  # not set up for reconciling (a tenant without an Admin API token)
        logger.info("shop skipped", extra={"shop": run.shop, "reason": run.error})
        return
    if run.report is None:
        logger.error("shop not reconciled", extra={"shop": run.shop, "reason": run.error})
        return
    data = run.report.to_json()
    summary = {key: value for key, value in data.items() if key not in ("missed", "ignored_orders", "channels")}
    logger.info("shop reconciled", extra={**summary, "channels": data["channels"],
                                          "missed": data["missed"][:MAX_LOGGED_ORDERS]})


@tracer.capture_method
def reconcile(context: LambdaContext) -> list[ShopRun]:
    try:
        runs = runtime.scheduled_reconcile().run(deadline=deadline_from(context))
    except ConfigurationError as exc:
        # A setting is wrong (SHOPIFY_SHOP, RECONCILE_WINDOW, the tenants document...): one line
        # naming it, then the invocation fails (the ReconcileFailingAlarm pages); the next run tries again.
        logger.error("relay misconfigured", extra={"reason": str(exc)})
        raise
    except Unavailable as exc:  # the tenants document's secret store did not answer
        logger.error("reconcile could not start", extra={"reason": str(exc)})
        raise
    failures = 0
    for run in runs:
        log(run)
        if run.report is not None:
            publish(run.report)
        elif not run.skipped:
            failures += 1
    metrics.add_metric(name="ReconcileFailures", unit=MetricUnit.Count, value=failures)
    return runs


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=not metrics_disabled())
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    runs = reconcile(context)
    return {"shops": [{"shop": run.shop, "reconciled": run.report is not None, "skipped": run.skipped,
                       "undelivered": run.report.undelivered if run.report else None} for run in runs]}
