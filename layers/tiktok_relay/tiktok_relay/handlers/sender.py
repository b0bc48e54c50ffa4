"""Sender Lambda: SQS batches -> TikTok Events API, with partial batch responses.

Only wiring lives here: Powertools logs, traces and metrics around the library's QueueSender
(tiktok_relay/pipeline/send.py), which gathers the batch's events into requests of at most
1000 and dead-letters what TikTok refuses for good. Records that failed transiently are
reported in the documented partial batch response (`batchItemFailures`), so SQS redelivers
only those. Lambda runs it through functions/sender/app.py; `tiktok-relay replay` and `serve`
run this very module.
"""

from __future__ import annotations

import gc

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from tiktok_relay.errors import ConfigurationError
from tiktok_relay.handlers import metrics_disabled
from tiktok_relay.pipeline import runtime
from tiktok_relay.pipeline.send import BatchReport, deadline_from

logger = Logger()
tracer = Tracer()
metrics = Metrics()


# What is alive now (Powertools, pydantic, the library: ~100k objects) lives as long as the
# container. Freezing it keeps the cyclic collector from walking all of it again in every full
# collection (about 50 ms each, several per busy invocation); runtime.py does the same after
# building the receiver and sender on the first invocation.
gc.freeze()


@tracer.capture_method
def send(records: list[dict], context: LambdaContext) -> BatchReport:
    try:
        report = runtime.sender().send_batch(records, deadline=deadline_from(context))
    except ConfigurationError as exc:
        # The relay's own settings are wrong (a missing variable, a token with a line break...):
        # one clear line naming the setting, then the invocation fails (the SenderErrors alarm
        # pages) and SQS redelivers the whole batch once it is fixed. The message never holds a value.
        logger.error("relay misconfigured", extra={"reason": str(exc)})
        raise
    for name, value in (("EventsSent", report.delivered), ("EventsRejected", report.rejected),
                        ("EventsStale", report.stale), ("EventsDeadLettered", report.dead_lettered),
                        ("EventsRetried", report.failed), ("EventsRequeued", report.requeued),
                        ("MalformedMessages", report.malformed), ("TikTokRequests", report.requests_sent),
                        ("EventsUnrecorded", report.unrecorded)):
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
    for seconds in report.tiktok_latencies:
        metrics.add_metric(name="TikTokLatency", unit=MetricUnit.Milliseconds, value=round(seconds * 1000, 1))
    for problem in report.problems:  # event ids, codes and TikTok's messages; no customer data
        logger.warning(problem)
    logger.info("batch sent", extra={"records": report.records, "events": report.events,
                                     "delivered": report.delivered, "dead_lettered": report.dead_lettered,
                                     "requeued": report.requeued, "to_retry": len(report.retry_message_ids),
                                     "shops": sorted(report.shops)})
    return report


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=not metrics_disabled())
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    # Even when every record must be retried, they are all reported as item failures rather
    # than failing the invocation: SQS redelivers the same way, and this invocation's metrics flush.
    return send(event.get("Records") or [], context).batch_item_failures()
