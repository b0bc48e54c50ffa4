"""Receiver Lambda: POST /webhooks/shopify, /webhooks/woocommerce and /webhooks/stripe behind an
API Gateway HTTP API (tiktok_relay/sources/routes.py).

Only wiring lives here: Powertools routing, logs, traces and metrics around the library's
Receiver of the route's platform (tiktok_relay/pipeline/receive.py), which verifies,
deduplicates, maps, hashes and enqueues. Lambda runs it through functions/receiver/app.py;
`tiktok-relay replay` and `serve` run this very module.

Metrics (handlers/intake.py, shared with the EventBridge intake), the same for every platform
(the alarms read them without a platform dimension): WebhooksRejected counts deliveries refused
for good (400, 401: sent again unchanged, they would be refused again); WebhooksFailed counts
answers the store retries (409, 5xx). Both carry a `reason` dimension. UnroutedRequests counts
requests to any other route (404). With each queued delivery, EventsEnqueued and one
EventsWith<Key> per match key (handlers/__init__.py). Every log line of a delivery names its
`platform`.
"""

from __future__ import annotations

import functools
import gc
import json

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from tiktok_relay.errors import ConfigurationError
from tiktok_relay.handlers import intake, metrics_disabled
from tiktok_relay.pipeline import runtime
from tiktok_relay.sources.routes import WEBHOOK_PATHS

logger = Logger()
tracer = Tracer()
metrics = Metrics()
app = APIGatewayHttpResolver()
# Log lines and metrics of an invocation name the delivery once its signature checked out.
_identify = functools.partial(intake.identify, logger=logger, metrics=metrics)


# What is alive now (Powertools, the library: ~100k objects) lives as long as the
# container. Freezing it keeps the cyclic collector from walking all of it again in every full
# collection (about 50 ms each, several per busy invocation); runtime.py does the same after
# building the receiver and sender on the first invocation.
gc.freeze()


@app.post(WEBHOOK_PATHS["shopify"])
@tracer.capture_method
def shopify_webhook() -> Response:
    return deliver("shopify")


@app.post(WEBHOOK_PATHS["woocommerce"])
@tracer.capture_method
def woocommerce_webhook() -> Response:
    return deliver("woocommerce")


@app.post(WEBHOOK_PATHS["stripe"])
@tracer.capture_method
def stripe_webhook() -> Response:
    return deliver("stripe")


def deliver(platform: str) -> Response:
    """One delivery through `platform`'s receiver, with its log lines and metrics."""
    event = app.current_event
    logger.append_keys(platform=platform)
    if (refusal := runtime.not_received(platform)) is not None:
        # A route of a platform the deployment does not receive: unknown, never a 5xx that pages someone.
        metrics.add_metric(name="UnroutedRequests", unit=MetricUnit.Count, value=1)
        logger.warning("no such route", extra={"method": event.http_method, "path": event.path[:200]})
        return _json(404, {"status": "not_found", "reason": refusal})
    metrics.add_metric(name="WebhooksReceived", unit=MetricUnit.Count, value=1)
    reply = runtime.receiver(platform).handle(event.headers or {}, event.body, bool(event.is_base64_encoded),
                                              app.lambda_context, on_verified=_identify)
    intake.report(reply, logger=logger, metrics=metrics)
    return _json(reply.status, reply.body)


@app.not_found
def no_such_route(error: NotFoundError) -> Response:
    # Powertools' own 404 body has no `status`; every answer of the receiver has one.
    event = app.current_event
    metrics.add_metric(name="UnroutedRequests", unit=MetricUnit.Count, value=1)  # e.g. a webhook URL without its path
    logger.warning("no such route", extra={"method": event.http_method, "path": event.path[:200]})
    routes = ", ".join(f"POST {path}" for path in WEBHOOK_PATHS.values())
    return _json(404, {"status": "not_found", "reason": f"no such route; webhooks go to {routes}"})


@app.exception_handler(ConfigurationError)
def misconfigured(error: ConfigurationError) -> Response:
    # The relay's own settings are wrong: answer 5xx so the store retries once they are fixed.
    logger.error("relay misconfigured", extra={"reason": str(error)})
    intake.count(metrics, "WebhooksFailed", "misconfigured")
    return _json(500, {"status": "misconfigured", "reason": str(error)})


def _json(status: int, body: dict) -> Response:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=json.dumps(body))


# No correlation_id_path: the webhook id header is not signed; identify() sets it once verified.
@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=not metrics_disabled())
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
