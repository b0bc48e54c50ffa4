"""The AWS side of the Lambda-path tests: moto's queues as Lambda's SQS event source sees
them, the names the template gives the secrets, and SQS records as the sender receives them."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

PIXEL_ID = "CTESTPIXEL0000000000"
LOCAL_WEBHOOK_SECRET = "tiktok-relay-local-dev-secret"  # tiktok_relay.local.harness's, checked there
TIKTOK_SECRET_NAME = "tiktok-relay/tiktok-access-token"
SHOPIFY_SECRET_NAME = "tiktok-relay/shopify-webhook-secret"
LEDGER_TABLE = "tiktok-relay-ledger"
# An hour ago: well inside TIKTOK_MAX_EVENT_AGE (48 h), so these events are sent, not dead-lettered as stale.
RECENT = int(time.time()) - 3600
HASHED_EMAIL = "e814ff3dc480a94c7ce9334062ec4733c75a002f4bcec0197f62ffea64059e2f"


def record(message_id: str, request: dict, *, webhook_id: str = "wh-1", receive_count: int = 1) -> dict:
    """An SQS record holding one queue message, as the sender Lambda receives it."""
    body = {"v": 1, "source": "shopify", "webhook_id": webhook_id, "shop": "demo.myshopify.com",
            "topic": "orders/paid", "request": request}
    return {"messageId": message_id, "receiptHandle": f"rh-{message_id}", "body": json.dumps(body),
            "attributes": {"ApproximateReceiveCount": str(receive_count)}, "messageAttributes": {},
            "md5OfBody": "", "eventSource": "aws:sqs", "eventSourceARN": "arn:aws:sqs:us-east-1:1:q",
            "awsRegion": "us-east-1"}


def purchase(event_id: str, value: float = 10.0, *, event_time: int = RECENT) -> dict:
    return {"event": "Purchase", "event_time": event_time, "event_id": event_id, "user": {"email": [HASHED_EMAIL]},
            "properties": {"currency": "GBP", "value": value, "order_id": event_id}}


def request_of(*events: dict, test_event_code: str | None = None) -> dict:
    body = {"event_source": "web", "event_source_id": PIXEL_ID, "data": list(events)}
    if test_event_code:
        body["test_event_code"] = test_event_code
    return body


@dataclass
class Aws:
    sqs: object
    queue_url: str
    dlq_url: str
    table: str

    def poll_and_send(self, sender_app, *, timeout_seconds: float = 30.0, contexts: list | None = None) -> dict:
        """What Lambda's SQS event source does once: receive a batch from the events queue,
        invoke the sender (with a Lambda timeout of `timeout_seconds`; the context is appended
        to `contexts`), delete the records it did not report as failed."""
        from tiktok_relay.local.lambda_context import FakeLambdaContext

        messages = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10,
                                            AttributeNames=["All"]).get("Messages", [])
        if not messages:
            return {"records": 0, "failed": []}
        records = [{"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
                    "attributes": m.get("Attributes", {}), "messageAttributes": {}, "md5OfBody": m["MD5OfBody"],
                    "eventSource": "aws:sqs", "awsRegion": "us-east-1",
                    "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:tiktok-relay-events"} for m in messages]
        context = FakeLambdaContext(function_name="sender", timeout_seconds=timeout_seconds)
        if contexts is not None:
            contexts.append(context)
        result = sender_app.lambda_handler({"Records": records}, context)
        failed = {f["itemIdentifier"] for f in result["batchItemFailures"]}
        for m in messages:
            if m["MessageId"] not in failed:
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=m["ReceiptHandle"])
        return {"records": len(messages), "failed": sorted(failed)}

    def dynamodb(self):
        """A DynamoDB client (inside the moto context of the `aws` fixture)."""
        import boto3

        return boto3.client("dynamodb")

    def messages(self, url: str | None = None, *, max_messages: int = 10) -> list[dict]:
        """Receive (and delete) what is on a queue now."""
        out = []
        while True:
            got = self.sqs.receive_message(QueueUrl=url or self.queue_url, MaxNumberOfMessages=10,
                                           AttributeNames=["All"], MessageAttributeNames=["All"]).get("Messages", [])
            if not got:
                return out
            for message in got:
                self.sqs.delete_message(QueueUrl=url or self.queue_url, ReceiptHandle=message["ReceiptHandle"])
            out.extend(got)
            if len(out) >= max_messages:
                return out
