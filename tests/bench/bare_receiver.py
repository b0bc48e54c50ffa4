"""The cold-start baseline of bench_relay.py: the least a Powertools receiver Lambda does.

The same Powertools Logger, Tracer and Metrics decorators as functions/receiver/app.py and a
boto3 SQS client created at import (module scope, as Lambda functions usually do); each
invocation sends the request body to the queue and answers 202. No routing, no signature
check, no idempotency, no secret, no mapping. Not a handler anyone should deploy.
"""

from __future__ import annotations

import os

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger()
tracer = Tracer()
metrics = Metrics()
sqs = boto3.client("sqs")
QUEUE_URL = os.environ["EVENTS_QUEUE_URL"]


@logger.inject_lambda_context(correlation_id_path='headers."x-shopify-webhook-id"', clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict, context) -> dict:
    sqs.send_message(QueueUrl=QUEUE_URL, MessageBody=event["body"])
    return {"statusCode": 202, "headers": {"Content-Type": "application/json"}, "body": '{"status":"queued"}'}
