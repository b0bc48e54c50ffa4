"""The AWS side of the Lambda-path tests: moto's queues as Lambda's SQS event source sees
them, and the names the template gives the secrets."""

from __future__ import annotations

from dataclasses import dataclass

PIXEL_ID = "CTESTPIXEL0000000000"
LOCAL_WEBHOOK_SECRET = "tiktok-relay-local-dev-secret"  # tiktok_relay.local.harness's, checked there
TIKTOK_SECRET_NAME = "tiktok-relay/tiktok-access-token"
SHOPIFY_SECRET_NAME = "tiktok-relay/shopify-webhook-secret"


@dataclass
class Aws:
    sqs: object
    queue_url: str
    dlq_url: str
    table: str

    def poll_and_send(self, sender_app) -> dict:
        """What Lambda's SQS event source does once: receive a batch from the events queue,
        invoke the sender, delete the records it did not report as failed."""
        from tiktok_relay.local.lambda_context import FakeLambdaContext

        messages = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10,
                                            AttributeNames=["All"]).get("Messages", [])
        if not messages:
            return {"records": 0, "failed": []}
        records = [{"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
                    "attributes": m.get("Attributes", {}), "messageAttributes": {}, "md5OfBody": m["MD5OfBody"],
                    "eventSource": "aws:sqs", "awsRegion": "us-east-1",
                    "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:tiktok-relay-events"} for m in messages]
        result = sender_app.lambda_handler({"Records": records}, FakeLambdaContext(function_name="sender"))
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
