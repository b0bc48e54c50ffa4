"""Fixtures for the Lambda handlers: AWS through moto, TikTok through the fake, the real
Powertools handlers loaded from functions/*/app.py with a fake Lambda context."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "events"
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


@pytest.fixture
def aws(monkeypatch):
    """moto SQS (events queue with a redrive policy to the DLQ), DynamoDB (idempotency table
    shaped like template.yaml's) and Secrets Manager, and the receiver/sender environment."""
    import boto3
    from aws_lambda_powertools.utilities import parameters
    from moto import mock_aws

    from tiktok_relay.pipeline import runtime

    with mock_aws():
        sqs = boto3.client("sqs")
        dlq_url = sqs.create_queue(QueueName="tiktok-relay-dlq")["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        queue_url = sqs.create_queue(
            QueueName="tiktok-relay-events",
            Attributes={"VisibilityTimeout": "0",
                        "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "3"})},
        )["QueueUrl"]
        boto3.client("dynamodb").create_table(
            TableName="tiktok-relay-idempotency", BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        )
        secrets = boto3.client("secretsmanager")
        secrets.create_secret(Name=SHOPIFY_SECRET_NAME, SecretString=LOCAL_WEBHOOK_SECRET)
        secrets.create_secret(Name=TIKTOK_SECRET_NAME, SecretString="fake-tiktok-token")
        env = {
            "TIKTOK_PIXEL_ID": PIXEL_ID,
            "EVENTS_QUEUE_URL": queue_url,
            "IDEMPOTENCY_TABLE": "tiktok-relay-idempotency",
            "SHOPIFY_WEBHOOK_SECRET_NAME": SHOPIFY_SECRET_NAME,
            "TIKTOK_ACCESS_TOKEN_SECRET_NAME": TIKTOK_SECRET_NAME,
            "DEAD_LETTER_QUEUE_URL": dlq_url,
        }
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        parameters.clear_caches()
        runtime.install()  # build from this environment, as in Lambda
        yield Aws(sqs, queue_url, dlq_url, "tiktok-relay-idempotency")
        runtime.install()
        parameters.clear_caches()


@pytest.fixture
def relay(aws, fake_tiktok, monkeypatch):
    """`aws`, with the sender's token (Secrets Manager) and API base URL pointing at the fake TikTok."""
    import boto3

    from tiktok_relay.pipeline import runtime

    boto3.client("secretsmanager").put_secret_value(SecretId=TIKTOK_SECRET_NAME,
                                                    SecretString=fake_tiktok.access_token)
    monkeypatch.setenv("TIKTOK_API_BASE_URL", fake_tiktok.base_url)
    runtime.install()
    return aws


@pytest.fixture(scope="session")
def receiver_app():
    from tiktok_relay.local.harness import load_handler

    return load_handler(ROOT / "functions" / "receiver" / "app.py", "tiktok_relay_receiver_app")


@pytest.fixture(scope="session")
def sender_app():
    from tiktok_relay.local.harness import load_handler

    return load_handler(ROOT / "functions" / "sender" / "app.py", "tiktok_relay_sender_app")


def event_file(name: str) -> dict:
    return json.loads((EVENTS / name).read_text())


def json_lines(text: str) -> list[dict]:
    """Powertools writes one JSON document per line (logs and EMF metrics) to stdout."""
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
    return out


class _CurrentStdout:
    """Writes to whatever sys.stdout is when a record is emitted (pytest swaps it per phase)."""

    def write(self, text: str) -> None:
        import sys

        sys.stdout.write(text)

    def flush(self) -> None:
        import sys

        sys.stdout.flush()


@pytest.fixture
def powertools_stdout(capsys, receiver_app, sender_app):
    """Point the handlers' Powertools Logger at this test's captured stdout (the handler
    modules are imported once, and their log handler keeps the stream it started with)."""
    handlers = {app.logger.registered_handler for app in (receiver_app, sender_app)}
    saved = {handler: handler.stream for handler in handlers}
    for handler in handlers:
        handler.stream = _CurrentStdout()  # not setStream(): it would flush a stream pytest closed
    yield capsys
    for handler, stream in saved.items():
        handler.stream = stream
