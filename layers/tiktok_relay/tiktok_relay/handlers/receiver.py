"""Receiver Lambda: POST /webhooks/shopify behind an API Gateway HTTP API.

Only wiring lives here: Powertools routing, logs, traces and metrics around the library's
Receiver (tiktok_relay/pipeline/receive.py), which verifies, deduplicates, maps, hashes and
enqueues. Lambda runs it through functions/receiver/app.py; `tiktok-relay replay` and `serve`
run this very module.

Metrics: WebhooksRejected counts deliveries refused for good (400, 401: sent again unchanged,
they would be refused again); WebhooksFailed counts answers Shopify retries (409, 5xx). Both
carry a `reason` dimension. UnroutedRequests counts requests to any other route (404).
"""

from __future__ import annotations

import gc
import json

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.utilities.typing import LambdaContext

from tiktok_relay.errors import ConfigurationError
from tiktok_relay.handlers import metrics_disabled
from tiktok_relay.pipeline import runtime
from tiktok_relay.pipeline.ports import Delivery
from tiktok_relay.sources.shopify.receiver import WEBHOOK_PATH

logger = Logger()
tracer = Tracer()
metrics = Metrics()
app = APIGatewayHttpResolver()


# What is alive now (Powertools, pydantic, the library: ~100k objects) lives as long as the
# container. Freezing it keeps the cyclic collector from walking all of it again in every full
# collection (about 50 ms each, several per busy invocation); runtime.py does the same after
# building the receiver and sender on the first invocation.
gc.freeze()


@app.post(WEBHOOK_PATH)
@tracer.capture_method
def shopify_webhook() -> Response:
    event = app.current_event
    metrics.add_metric(name="WebhooksReceived", unit=MetricUnit.Count, value=1)
    reply = runtime.receiver().handle(event.headers or {}, event.body, bool(event.is_base64_encoded),
                                      app.lambda_context, on_verified=identify)

    for warning in reply.warnings:  # field names only, never values
        logger.warning("mapping adjusted the event", extra={"detail": warning})
    if reply.outcome == "queued":
        metrics.add_metric(name="EventsEnqueued", unit=MetricUnit.Count, value=reply.events)
        logger.info("delivery queued", extra={"events": reply.events})
    elif reply.outcome in ("ignored", "duplicate"):
        metrics.add_metric(name=f"Webhooks{reply.outcome.capitalize()}", unit=MetricUnit.Count, value=1)
        logger.info(f"delivery {reply.outcome}", extra={"reason": reply.reason})
    else:
        if reply.status < 409:
            count("WebhooksRejected", str(reply.status))
        else:
            count("WebhooksFailed", reply.outcome)
        log = logger.error if reply.status >= 500 else logger.warning
        extra: dict = {"status": reply.status, "reason": reply.reason}
        if reply.fingerprints:  # refused before its signature checked out: lengths and hashes only
            extra["unverified_headers"] = dict(reply.fingerprints)
        log("delivery not accepted", extra=extra)
    return _json(reply.status, reply.body)


def identify(delivery: Delivery) -> None:
    """Once the signature checked out (and not before: the headers are not signed), every later
    log line of this invocation carries the delivery's id as correlation id, its shop and topic."""
    logger.set_correlation_id(delivery.webhook_id)
    logger.append_keys(shop=delivery.shop, topic=delivery.topic)


@app.not_found
def no_such_route(error: NotFoundError) -> Response:
    # Powertools' own 404 body has no `status`; every answer of the receiver has one.
    event = app.current_event
    metrics.add_metric(name="UnroutedRequests", unit=MetricUnit.Count, value=1)  # e.g. a webhook URL without its path
    logger.warning("no such route", extra={"method": event.http_method, "path": event.path[:200]})
    return _json(404, {"status": "not_found", "reason": f"no such route; webhooks go to POST {WEBHOOK_PATH}"})


@app.exception_handler(ConfigurationError)
def misconfigured(error: ConfigurationError) -> Response:
    # The relay's own settings are wrong: answer 5xx so Shopify retries once they are fixed.
    logger.error("relay misconfigured", extra={"reason": str(error)})
    count("WebhooksFailed", "misconfigured")
    return _json(500, {"status": "misconfigured", "reason": str(error)})


def _json(status: int, body: dict) -> Response:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=json.dumps(body))


def count(name: str, reason: str) -> None:
    """`name` with its own `reason` dimension (not the invocation's other metrics)."""
    if metrics_disabled():  # single_metric prints even then (see tiktok_relay/handlers/__init__.py)
        return
    with single_metric(name=name, unit=MetricUnit.Count, value=1, namespace=metrics.namespace) as metric:
        metric.add_dimension(name="reason", value=reason)


# No correlation_id_path: the webhook id header is not signed; identify() sets it once verified.
@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=not metrics_disabled())
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
