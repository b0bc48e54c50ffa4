"""EventBridge intake Lambda: Shopify webhooks from its Amazon EventBridge partner event source
(template.yaml's EventBridgeFunction, on the rule that ShopifyEventSourceName adds).

Only wiring lives here: Powertools logs, traces and metrics around the library's Receiver
(`handle_event`: the same deduplication, mapping and enqueueing as the HTTPS receiver, without
a signature). Lambda runs it through functions/eventbridge/app.py; `tiktok-relay replay` runs
this very module for the EventBridge event files it is given.

EventBridge invokes it asynchronously. What a retry can fix (409, 5xx: the queue or a table did
not answer, the tenants document lacks the shop) raises DeliveryNotAccepted: Lambda retries
the event, then puts it in the dead-letter queue. Anything else returns the answer the HTTPS
receiver would have given ({"statusCode", "body"}: Lambda drops it, replay shows it); a
malformed event (400) is logged and counted, never retried. Logs and metrics are the
receiver's (handlers/intake.py).
"""

from __future__ import annotations

import functools
import gc
import json

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from tiktok_relay.errors import ConfigurationError, TikTokRelayError
from tiktok_relay.handlers import intake, metrics_disabled
from tiktok_relay.pipeline import runtime
from tiktok_relay.pipeline.receive import Reply

logger = Logger()
tracer = Tracer()
metrics = Metrics()
# Log lines and metrics of an invocation name the delivery once its envelope is read.
_identify = functools.partial(intake.identify, logger=logger, metrics=metrics)

# As in handlers/receiver.py: what is alive now lives as long as the container.
gc.freeze()


class DeliveryNotAccepted(TikTokRelayError):
    """The event was not accepted and a retry may succeed: Lambda retries it, then dead-letters
    it. The message is the receiver's reason (never a value); `reply` the whole answer."""

    def __init__(self, reply: Reply):
        super().__init__(f"{reply.status} {reply.outcome}: {reply.reason}")
        self.reply = reply


@tracer.capture_method
def receive(event: dict, context: LambdaContext) -> dict:
    metrics.add_metric(name="WebhooksReceived", unit=MetricUnit.Count, value=1)
    try:
        reply = runtime.event_receiver().handle_event(event, context, on_verified=_identify)
    except ConfigurationError as exc:  # the receiver could not be built from the environment
        reply = Reply(500, "misconfigured", str(exc))
    intake.report(reply, logger=logger, metrics=metrics)
    if reply.status >= 409:
        raise DeliveryNotAccepted(reply)
    return {"statusCode": reply.status, "body": json.dumps(reply.body)}


# The correlation id is EventBridge's event id until the delivery is read, then its webhook id.
@logger.inject_lambda_context(correlation_id_path=correlation_paths.EVENT_BRIDGE, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=not metrics_disabled())
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return receive(event, context)
