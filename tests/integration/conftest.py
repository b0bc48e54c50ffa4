"""Fixtures for the Lambda handlers: AWS through moto, TikTok through the fake, the real
Powertools handlers (tiktok_relay.handlers, what functions/*/app.py hand to Lambda) with a
fake Lambda context."""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.support import clean_env, console_script
from tests.support.aws import LEDGER_TABLE, LOCAL_WEBHOOK_SECRET, PIXEL_ID, SHOPIFY_SECRET_NAME, TIKTOK_SECRET_NAME, Aws
from tests.support.serve import Serve, free_port, wait_until_listening


@pytest.fixture
def aws(monkeypatch):
    """moto SQS (events queue with a redrive policy to the DLQ), DynamoDB (idempotency, state and
    ledger tables shaped like template.yaml's) and Secrets Manager, and the receiver/sender environment."""
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
        for table in ("tiktok-relay-idempotency", "tiktok-relay-state", LEDGER_TABLE):
            boto3.client("dynamodb").create_table(
                TableName=table, BillingMode="PAY_PER_REQUEST",
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
            "STATE_TABLE": "tiktok-relay-state",
            "SHOPIFY_WEBHOOK_SECRET_NAME": SHOPIFY_SECRET_NAME,
            "TIKTOK_ACCESS_TOKEN_SECRET_NAME": TIKTOK_SECRET_NAME,
            "DEAD_LETTER_QUEUE_URL": dlq_url,
            "LEDGER_TABLE": LEDGER_TABLE,
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
    # The signed samples in events/ date from 2026-11 (written once, reproducibly): older than the
    # default 48 h, the sender would dead-letter them as stale. The stale rule has tests of its own
    # (test_faults.py), which set their own limit.
    monkeypatch.setenv("TIKTOK_MAX_EVENT_AGE", "3650d")
    runtime.install()
    return aws


@pytest.fixture(scope="session")
def receiver_app():
    from tiktok_relay.handlers import receiver

    return receiver


@pytest.fixture(scope="session")
def sender_app():
    from tiktok_relay.handlers import sender

    return sender


@pytest.fixture(scope="session")
def eventbridge_app():
    from tiktok_relay.handlers import eventbridge

    return eventbridge


@pytest.fixture(scope="session")
def reconcile_app():
    from tiktok_relay.handlers import reconcile

    return reconcile


class _CurrentStdout:
    """Writes to whatever sys.stdout is when a record is emitted (pytest swaps it per phase)."""

    def write(self, text: str) -> None:
        import sys

        sys.stdout.write(text)

    def flush(self) -> None:
        import sys

        sys.stdout.flush()


@pytest.fixture
def powertools_stdout(capsys, receiver_app, sender_app, eventbridge_app, reconcile_app):
    """Point the handlers' Powertools Logger at this test's captured stdout (the handler
    modules are imported once, and their log handler keeps the stream it started with)."""
    handlers = {app.logger.registered_handler for app in (receiver_app, sender_app, eventbridge_app, reconcile_app)}
    saved = {handler: handler.stream for handler in handlers}
    for handler in handlers:
        handler.stream = _CurrentStdout()  # not setStream(): it would flush a stream pytest closed
    yield capsys
    for handler, stream in saved.items():
        handler.stream = stream


@pytest.fixture
def serve(tmp_path):
    """`serve(*args, **env)` starts `tiktok-relay serve` on a free port (stopped after the test)."""
    started = []

    def start(*args: str, **env: str) -> Serve:
        port = free_port()
        process = subprocess.Popen(console_script() + ["serve", "--port", str(port), *args], env=clean_env(**env),
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path)
        started.append(process)
        wait_until_listening(port, process)
        return Serve(port, process)

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
            process.communicate()
