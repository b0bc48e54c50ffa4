"""Receiver Lambda: POST /webhooks/shopify behind an API Gateway HTTP API.

Only wiring lives here: Powertools routing, logs, traces and metrics around the library's
Receiver (tiktok_relay/pipeline/receive.py), which verifies, deduplicates, maps, hashes and
enqueues. `tiktok-relay replay` and `serve` run this very module.
"""

from __future__ import annotations

import gc
import json

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.utilities.typing import LambdaContext

from tiktok_relay.errors import ConfigurationError
from tiktok_relay.pipeline import runtime
from tiktok_relay.sources.shopify.receiver import IDEMPOTENCY_KEY_PATH, SHOP_HEADER, TOPIC_HEADER

logger = Logger()
tracer = Tracer()
metrics = Metrics()
app = APIGatewayHttpResolver()


# What is alive now (Powertools, pydantic, the library: ~100k objects) lives as long as the
# container. Freezing it keeps the cyclic collector from walking all of it again in every full
# collection (about 50 ms each, several per busy invocation); runtime.py does the same after
# building the receiver and sender on the first invocation.
gc.freeze()


@app.post("/webhooks/shopify")
@tracer.capture_method
def shopify_webhook() -> Response:
    event = app.current_event
    headers = event.headers or {}
    logger.append_keys(shop=headers.get(SHOP_HEADER), topic=headers.get(TOPIC_HEADER))
    metrics.add_metric(name="WebhooksReceived", unit=MetricUnit.Count, value=1)
    reply = runtime.receiver().handle(headers, event.body, bool(event.is_base64_encoded), app.lambda_context)

    for warning in reply.warnings:  # field names only, never values
        logger.warning("mapping adjusted the event", extra={"detail": warning})
    if reply.outcome == "queued":
        metrics.add_metric(name="EventsEnqueued", unit=MetricUnit.Count, value=reply.events)
        logger.info("delivery queued", extra={"events": reply.events})
    elif reply.outcome in ("ignored", "duplicate"):
        metrics.add_metric(name=f"Webhooks{reply.outcome.capitalize()}", unit=MetricUnit.Count, value=1)
        logger.info(f"delivery {reply.outcome}", extra={"reason": reply.reason})
    else:
        count_rejected(reply.outcome if reply.status >= 409 else str(reply.status))
        log = logger.error if reply.status >= 500 else logger.warning
        log("delivery not accepted", extra={"status": reply.status, "reason": reply.reason})
    return Response(status_code=reply.status, content_type=content_types.APPLICATION_JSON,
                    body=json.dumps(reply.body))


@app.exception_handler(ConfigurationError)
def misconfigured(error: ConfigurationError) -> Response:
    # The relay's own settings are wrong: answer 5xx so Shopify retries once they are fixed.
    logger.error("relay misconfigured", extra={"reason": str(error)})
    count_rejected("misconfigured")
    return Response(status_code=500, content_type=content_types.APPLICATION_JSON,
                    body=json.dumps({"status": "misconfigured", "reason": str(error)}))


def count_rejected(reason: str) -> None:
    """WebhooksRejected with its own `reason` dimension (not the invocation's other metrics)."""
    with single_metric(name="WebhooksRejected", unit=MetricUnit.Count, value=1,
                       namespace=metrics.namespace) as metric:
        metric.add_dimension(name="reason", value=reason)


@logger.inject_lambda_context(correlation_id_path=IDEMPOTENCY_KEY_PATH, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
