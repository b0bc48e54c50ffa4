"""What the receiver Lambda imports: its INIT and a usual delivery (an order whose events
tiktok/encode.py's rules accept) never import pydantic, which would cost ~609 M instructions of
the cold start (README "Performance"); a delivery whose event those rules decline is decided by
the models, imported then, and queued all the same.

Each case runs the real handler in a fresh interpreter (a clean sys.modules), imported from
functions/receiver/app.py as Lambda imports it, against moto's SQS, DynamoDB and Secrets Manager
(in that process), with the template's environment."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.support import event_file
from tests.support.aws import LOCAL_WEBHOOK_SECRET, PIXEL_ID, SHOPIFY_SECRET_NAME

ROOT = Path(__file__).resolve().parents[2]

CHILD = r"""
import json, os, sys
import boto3
from moto import mock_aws

def has_pydantic():
    return any(name == "pydantic" or name.startswith(("pydantic.", "pydantic_core")) for name in sys.modules)

report = {"before_handler": has_pydantic()}  # moto and boto3 bring none
events = json.loads(sys.stdin.read())
with mock_aws():
    queue_url = boto3.client("sqs").create_queue(QueueName="tiktok-relay-events")["QueueUrl"]
    os.environ["EVENTS_QUEUE_URL"] = queue_url
    for table in (os.environ["IDEMPOTENCY_TABLE"], os.environ["STATE_TABLE"]):
        boto3.client("dynamodb").create_table(
            TableName=table, BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}])
    boto3.client("secretsmanager").create_secret(Name=os.environ["SHOPIFY_WEBHOOK_SECRET_NAME"],
                                                 SecretString=sys.argv[2])
    sys.path.insert(0, sys.argv[1])  # Lambda's /var/task: the function's directory
    import app  # INIT

    report["after_init"] = has_pydantic()

    class Context:  # what Lambda passes (the attributes Powertools reads)
        function_name, function_version, memory_limit_in_mb = "tiktok-relay-receiver", "$LATEST", 256
        invoked_function_arn = "arn:aws:lambda:us-east-1:000000000000:function:tiktok-relay-receiver"
        aws_request_id = "00000000-0000-4000-8000-000000000001"

        def get_remaining_time_in_millis(self):
            return 10_000

    report["answers"] = []
    for event in events:
        response = app.lambda_handler(event, Context())
        report["answers"].append([response["statusCode"], json.loads(response["body"])])
    report["after_deliveries"] = has_pydantic()
    report["queued"] = [json.loads(m["Body"]) for m in
                        boto3.client("sqs").receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)["Messages"]]
print(json.dumps(report))
"""


def run_receiver(*events: dict) -> dict:
    prefixes = ("AWS_", "POWERTOOLS_", "TIKTOK_", "SHOPIFY_", "LAMBDA_", "_X_AMZN", "_HANDLER")
    env = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
    env.update(AWS_REGION="us-east-1", AWS_DEFAULT_REGION="us-east-1", AWS_ACCESS_KEY_ID="testing",
               AWS_SECRET_ACCESS_KEY="testing", AWS_EC2_METADATA_DISABLED="true",
               AWS_LAMBDA_FUNCTION_NAME="tiktok-relay-receiver", POWERTOOLS_SERVICE_NAME="tiktok-relay",
               POWERTOOLS_METRICS_NAMESPACE="TikTokRelay", POWERTOOLS_LOG_LEVEL="INFO",
               POWERTOOLS_TRACE_DISABLED="true", TIKTOK_PIXEL_ID=PIXEL_ID,
               IDEMPOTENCY_TABLE="tiktok-relay-idempotency", STATE_TABLE="tiktok-relay-state",
               SHOPIFY_WEBHOOK_SECRET_NAME=SHOPIFY_SECRET_NAME)
    done = subprocess.run([sys.executable, "-c", CHILD, str(ROOT / "functions" / "receiver"), LOCAL_WEBHOOK_SECRET],
                          input=json.dumps(list(events)), capture_output=True, text=True, env=env, cwd=ROOT,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    report: dict = json.loads(done.stdout.strip().splitlines()[-1])
    return report


def declined_order() -> dict:
    """orders/paid of a real order whose total encode.py leaves to the models (a value below 1e-4,
    which json.dumps and pydantic-core would write differently), signed as Shopify signs it."""
    from tiktok_relay.local.apigw import shopify_event

    sample = event_file("shopify/orders_paid.json")
    order = json.loads(sample["body"])
    order["total_price"] = "0.00001"
    headers = {k.lower(): v for k, v in sample["headers"].items()}
    return shopify_event("orders/paid", json.dumps(order).encode(), LOCAL_WEBHOOK_SECRET,
                         shop=headers["x-shopify-shop-domain"], webhook_id="declined-1")


def test_init_and_a_usual_delivery_import_no_pydantic():
    report = run_receiver(event_file("shopify/orders_paid.json"))
    assert report["answers"] == [[202, {"status": "queued", "events": 1}]]
    assert (report["before_handler"], report["after_init"], report["after_deliveries"]) == (False, False, False)
    [message] = report["queued"]
    assert message["request"]["event_source_id"] == PIXEL_ID and message["request"]["data"][0]["event"] == "Purchase"


def test_an_event_encode_declines_is_decided_by_the_models_imported_then():
    report = run_receiver(event_file("shopify/orders_paid.json"), declined_order())
    assert [status for status, _ in report["answers"]] == [202, 202]
    assert (report["after_init"], report["after_deliveries"]) == (False, True)
    values = sorted(m["request"]["data"][0]["properties"]["value"] for m in report["queued"])
    assert values[0] == 1e-05 and len(values) == 2
