"""What the two intakes (handlers/receiver.py over HTTPS, handlers/eventbridge.py from Shopify's
EventBridge partner event source) log and count for each delivery: one rule, so that the
template's alarms read the same metrics whichever intake a shop uses.

Metrics (namespace and `service` dimension from Powertools): WebhooksReceived, EventsEnqueued
(with one EventsWith<Key> per match key beside it), WebhooksIgnored, WebhooksDuplicate carry no
other dimension; WebhooksRejected (refused for good:
400, 401) and WebhooksFailed (to be retried: 409, 5xx) carry `reason`, one of a few fixed
values. The shop is never a dimension: an agency's shops are unbounded in number, and each
dimension value is a metric of its own (billed, and invisible to alarms written before it).
Once the delivery is vouched for (`identify`), the shop is in every log line and in the
metrics' EMF record as metadata (a field of the log record, not a dimension: no metric of its
own), so Logs Insights can count per shop: `stats count(*) by shop`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_lambda_powertools.metrics import MetricUnit, single_metric

from tiktok_relay.handlers import metrics_disabled, publish_match_keys

if TYPE_CHECKING:
    from aws_lambda_powertools import Logger, Metrics

    from tiktok_relay.pipeline.ports import Delivery
    from tiktok_relay.pipeline.receive import Reply


def report(reply: Reply, *, logger: Logger, metrics: Metrics) -> None:
    """Log lines and metrics for one answer (field names and reasons only, never values)."""
    for warning in reply.warnings:
        logger.warning("mapping adjusted the event", extra={"detail": warning})
    if reply.outcome == "queued":
        metrics.add_metric(name="EventsEnqueued", unit=MetricUnit.Count, value=reply.events)
        publish_match_keys(metrics, reply.match_keys)
        logger.info("delivery queued", extra={"events": reply.events})
    elif reply.outcome in ("ignored", "duplicate"):
        metrics.add_metric(name=f"Webhooks{reply.outcome.capitalize()}", unit=MetricUnit.Count, value=1)
        logger.info(f"delivery {reply.outcome}", extra={"reason": reply.reason})
    else:
        if reply.status < 409:
            count(metrics, "WebhooksRejected", str(reply.status))
        else:
            count(metrics, "WebhooksFailed", reply.outcome)
        log = logger.error if reply.status >= 500 else logger.warning
        extra: dict = {"status": reply.status, "reason": reply.reason}
        if reply.fingerprints:  # refused before its signature checked out: lengths and hashes only
            extra["unverified_headers"] = dict(reply.fingerprints)
        log("delivery not accepted", extra=extra)


def identify(delivery: Delivery, *, logger: Logger, metrics: Metrics) -> None:
    """Once the delivery is vouched for (a signature, an EventBridge envelope; not before:
    headers are not signed), every later log line of this invocation carries its id as
    correlation id, its shop and topic, and its metrics carry the shop as metadata."""
    logger.set_correlation_id(delivery.webhook_id)
    logger.append_keys(shop=delivery.shop, topic=delivery.topic)
    metrics.add_metadata(key="shop", value=delivery.shop)


def count(metrics: Metrics, name: str, reason: str) -> None:
    """`name` with its own `reason` dimension (not the invocation's other metrics)."""
    if metrics_disabled():  # single_metric prints even then (see tiktok_relay/handlers/__init__.py)
        return
    with single_metric(name=name, unit=MetricUnit.Count, value=1, namespace=metrics.namespace) as metric:
        metric.add_dimension(name="reason", value=reason)
