"""The relay's performance budgets, measured in one run, each next to a baseline from the same run.

    .venv/bin/python tests/bench/bench_relay.py            # or: make bench (all of tests/bench)
    .venv/bin/python tests/bench/bench_relay.py --quick    # a smoke run, seconds; figures are rough
    .venv/bin/python tests/bench/bench_relay.py --only cold --profile   # where a cold start goes

What is measured (each part in fresh processes of its own, started from here):
  warm    the real receiver handler (tiktok_relay.handlers.receiver, what functions/receiver/app.py runs:
          Powertools resolver, Logger, Tracer, Metrics, idempotency) invoked in process with
          signed API Gateway v2 events of 1-, 10- and 250-item orders, a fresh webhook id each
          time, a queue that does nothing and the in-memory idempotency store: no network I/O
          is timed. Also Receiver.handle alone (the logic, without Powertools), and two
          baselines: `json.loads` + HMAC check of the same body (the least any receiver does),
          and a bare Powertools handler (same decorators and resolver, a route that does nothing).
          Wall time per call (what the budget is about) and CPU time per call (which the other
          processes of a shared machine do not inflate). GC stays on, as in Lambda.
  cold    a fresh interpreter (tests/bench/lambda_cold_start.py imports the handler file as
          Lambda's runtime does, then invokes it once) to the first delivery handled: our
          receiver built from the environment as in Lambda (boto3 SQS, DynamoDB idempotency,
          Secrets Manager through Powertools Parameters) against the bare handler
          (tests/bench/bare_receiver.py: Logger, Tracer, Metrics and a boto3 SQS client sending the
          body). Both talk to the same moto server (another process, AWS_ENDPOINT_URL, fake
          credentials; never AWS; `moto[server]` is in the dev extras). Environment as
          template.yaml sets it; LAMBDA_TASK_ROOT is unset on both sides, so Powertools' Tracer
          disables itself on both. Wall time from spawn, and the child's CPU time.
  sender  the real sender handler (tiktok_relay.handlers.sender, BatchProcessor, TikTokClient over
          urllib3) in one process, the fake TikTok (testing/fake_tiktok.py, checking requests as
          TikTok does, without keeping copies) in another on 127.0.0.1; SQS records as the
          receiver writes them (one 10-item order each, a distinct event id each); batches of 100
          (template.yaml's BatchSize) and as large as Lambda's 6 MB event limit allows. Baseline:
          urllib3 POSTs of the very bytes the sender sent, to the same fake.
  memory  a fresh process handling a 250-item order as its first delivery, then another, through
          the receiver built as in Lambda (boto3 included, moto server): max RSS (getrusage) against
          Lambda's 128 MB, and in a separate run the Python heap peak (tracemalloc) of INIT and of
          each invocation.
  layer   unzipped size of .aws-sam/build/RelayLayer (`make infra`), or of the layer's content
          built here with pip for arm64/3.13 if there is no sam build (or with --build-layer).

Runs alternate ours and baseline so that a busy machine slows both alike; quote the ratios,
the absolute figures depend on the machine. Not part of the test suite: nothing here fails on
a slow machine (tests/integration/test_bench_smoke.py only checks that it runs).
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import json
import os
import platform
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from decimal import Decimal
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
LAYER_SOURCE = ROOT / "layers" / "tiktok_relay"
RECEIVER_APP = ROOT / "functions" / "receiver" / "app.py"
SENDER_APP = ROOT / "functions" / "sender" / "app.py"
BARE_APP = HERE / "bare_receiver.py"
COLD_DRIVER = HERE / "lambda_cold_start.py"
FIXTURE = ROOT / "tests" / "fixtures" / "shopify" / "order_paid_gb_10_items.json"
BUILT_LAYER = ROOT / ".aws-sam" / "build" / "RelayLayer"

SECRET = "bench-webhook-secret"
SECRET_NAME = "tiktok-relay/shopify-webhook-secret"
TOKEN_SECRET_NAME = "tiktok-relay/tiktok-access-token"
DEAD_LETTER_QUEUE = "tiktok-relay-dead-letters"
TOKEN = "bench-tiktok-token"
PIXEL = "CBENCHPIXEL0000000001"
SHOP = "tea-shop.myshopify.com"
QUEUE = "tiktok-relay-events"
TABLE = "tiktok-relay-idempotency"
STATE_TABLE = "tiktok-relay-state"
LAMBDA_EVENT_LIMIT = 6 * 1024 * 1024  # bytes of an invocation's event, SQS batches included
SQS_MAX_BATCH = 10_000
MB = 1024 * 1024

TARGETS = {
    "p99_10": 1.0,  # ms
    "p99_250": 10.0,  # ms
    "cold_ratio": 1.5,
    "sender_eps": 20_000,
    "rss_mb": 100,
    "layer_mb": 10,
}
# What template.yaml sets (Globals and ReceiverFunction); "" is unset for the relay.
TEMPLATE_ENV = {
    "POWERTOOLS_SERVICE_NAME": "tiktok-relay",
    "POWERTOOLS_METRICS_NAMESPACE": "TikTokRelay",
    "POWERTOOLS_LOG_LEVEL": "INFO",
}
RECEIVER_TEMPLATE_ENV = {
    "TIKTOK_PIXEL_ID": PIXEL,
    "IDEMPOTENCY_TABLE": TABLE,
    "STATE_TABLE": STATE_TABLE,
    "SHOPIFY_WEBHOOK_SECRET_NAME": SECRET_NAME,
    "TIKTOK_TEST_EVENT_CODE": "",
    "TIKTOK_PHONE_REGION": "",
    "SHOPIFY_TOPIC_EVENTS": "",
    "SHOPIFY_CURRENCY": "shop",
    "SHOPIFY_CONTENT_ID": "variant_id,product_id,sku",
}


# What template.yaml sets for SenderFunction. The generated orders are dated 2026-11: no stale
# limit, so that the cold start sends (what it measures) rather than dead-letters.
SENDER_TEMPLATE_ENV = {
    "TIKTOK_ACCESS_TOKEN_SECRET_NAME": TOKEN_SECRET_NAME,
    "TIKTOK_API_VERSION": "v1.3",
    "TIKTOK_MAX_EVENT_AGE": "36500d",
    "TENANTS_SECRET_NAME": "",
}


# --- inputs (deterministic) ------------------------------------------------------------------


def make_order(items: int, number: int = 0) -> dict:
    """The 10-item fixture order with `items` line items (cycled, each with its own ids and SKU)
    and totals that add up. `number` varies the order id and the buyer's email."""
    base = json.loads(FIXTURE.read_bytes())
    template = base["line_items"]
    lines = []
    for k in range(items):
        line = copy.deepcopy(template[k % len(template)])
        line["id"] = 13_000_000_000_000 + k
        line["admin_graphql_api_id"] = f"gid://shopify/LineItem/{line['id']}"
        line["product_id"] = 8_100_000_000_000 + k
        line["variant_id"] = 45_000_000_000_000 + k
        line["sku"] = f"SKU-{k:04d}"
        lines.append(line)
    shop_total = sum(Decimal(line["price"]) * line["quantity"] for line in lines)
    presentment_total = sum(Decimal(line["price_set"]["presentment_money"]["amount"]) * line["quantity"]
                            for line in lines)
    base["line_items"] = lines
    base["total_price"] = f"{shop_total:.2f}"
    base["total_price_set"]["shop_money"]["amount"] = f"{shop_total:.2f}"
    base["total_price_set"]["presentment_money"]["amount"] = f"{presentment_total:.2f}"
    if number:
        base["id"] = base["id"] + number
        base["admin_graphql_api_id"] = f"gid://shopify/Order/{base['id']}"
        base["name"] = f"#{2000 + number}"
        user, domain = base["email"].split("@")
        base["email"] = base["contact_email"] = f"{user}+{number}@{domain}"
    return base


def order_body(items: int, number: int = 0) -> bytes:
    return json.dumps(make_order(items, number), separators=(",", ":")).encode()


def queued_messages(items: int, count: int) -> list[tuple[str, dict[str, str]]]:
    """`count` queue messages (body, attributes) as the receiver writes them, each a distinct
    `items`-line order."""
    from tiktok_relay.local.memory import MemoryQueue
    from tiktok_relay.pipeline.receive import Receiver
    from tiktok_relay.pipeline.runtime import StaticSecret
    from tiktok_relay.sources.shopify.receiver import ShopifySource
    from tiktok_relay.sources.shopify.settings import ShopifySettings

    queue = MemoryQueue()
    source = ShopifySource(secrets=StaticSecret(SECRET), settings=ShopifySettings.from_env({}), pixel_id=PIXEL)
    receiver = Receiver(source=source, queue=queue)
    for number in range(count):
        event = signed_event(order_body(items, number + 1), f"queued-{number}")
        reply = receiver.handle(event["headers"], event["body"], False)
        if reply.status != 202:
            raise SystemExit(f"receiver answered {reply.status}: {reply.reason}")
    return [(m.body, m.attributes) for m in queue.sent]


def sqs_record(message: tuple[str, dict[str, str]], serial: int) -> dict:
    """One record of an SQS event for the sender, holding `message`."""
    body, attributes = message
    return {
        "messageId": f"00000000-0000-4000-8000-{serial:012d}", "receiptHandle": f"bench-{serial}",
        "body": body, "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1795600000000"},
        "messageAttributes": {k: {"stringValue": v, "dataType": "String"} for k, v in attributes.items()},
        "md5OfBody": "", "eventSource": "aws:sqs", "awsRegion": "us-east-1",
        "eventSourceARN": "arn:aws:sqs:us-east-1:000000000000:tiktok-relay-events",
    }


def signed_event(body: bytes, webhook_id: str) -> dict:
    from tiktok_relay.local.apigw import shopify_event

    return shopify_event("orders/paid", body, SECRET, shop=SHOP, webhook_id=webhook_id)


# --- small helpers ----------------------------------------------------------------------------


def percentile(sorted_values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return float("nan")
    rank = max(1, min(len(sorted_values), round(fraction * len(sorted_values) + 0.5)))
    return sorted_values[rank - 1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def bypass_proxies_for_loopback(env) -> None:
    """The moto server and the fake TikTok are on 127.0.0.1: never through an HTTP proxy."""
    for name in ("NO_PROXY", "no_proxy"):
        present = [part for part in env.get(name, "").split(",") if part]
        env[name] = ",".join(present + [h for h in ("127.0.0.1", "localhost") if h not in present])


def child_env(**extra: str) -> dict[str, str]:
    """This environment without any AWS, Powertools, Lambda, TikTok or Shopify settings, plus the
    template's Powertools settings, fake credentials and a region. LAMBDA_TASK_ROOT stays unset."""
    prefixes = ("AWS_", "POWERTOOLS_", "TIKTOK_", "SHOPIFY_", "LAMBDA_", "_X_AMZN", "_HANDLER", "PYTHONTRACEMALLOC")
    env = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
    env.update(TEMPLATE_ENV)
    env.update(AWS_REGION="us-east-1", AWS_DEFAULT_REGION="us-east-1", AWS_ACCESS_KEY_ID="bench",
               AWS_SECRET_ACCESS_KEY="bench", AWS_EC2_METADATA_DISABLED="true",
               AWS_LAMBDA_FUNCTION_NAME="tiktok-relay-receiver", AWS_LAMBDA_FUNCTION_MEMORY_SIZE="256")
    env.update(extra)
    bypass_proxies_for_loopback(env)
    return env


def run_worker(name: str, args: argparse.Namespace, tmp: Path, **extra_env: str) -> dict:
    """Runs `bench_relay.py --worker NAME` in a fresh interpreter; returns the JSON it wrote."""
    result = tmp / f"{name}.json"
    command = [sys.executable, str(Path(__file__).resolve()), "--worker", name, "--result", str(result)]
    if args.quick:
        command.append("--quick")
    proc = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=child_env(**extra_env),
                          cwd=ROOT, timeout=600)
    if proc.returncode != 0:
        raise SystemExit(f"worker {name} failed ({proc.returncode}):\n{proc.stderr.decode(errors='replace')[-3000:]}")
    return json.loads(result.read_text())


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def quiet_stdout():
    """Powertools writes logs and EMF metrics to stdout; in a worker they go to /dev/null (still
    formatted and written, as in Lambda, where stdout goes to CloudWatch)."""
    devnull = open(os.devnull, "w")  # noqa: SIM115 (lives as long as the worker)
    sys.stdout = devnull
    return devnull


# --- warm latency (worker) ----------------------------------------------------------------------


class NullQueue:
    """The queue port, doing nothing: the SQS call is not part of the warm budget."""

    def __init__(self) -> None:
        self.sent = 0

    def send(self, body: str, attributes: dict[str, str]) -> None:
        self.sent += 1


def worker_warm(quick: bool) -> dict:
    import base64
    import hashlib
    import hmac

    quiet_stdout()
    from aws_lambda_powertools import Logger, Metrics, Tracer
    from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types

    from tiktok_relay.local.lambda_context import FakeLambdaContext
    from tiktok_relay.local.memory import MemoryIdempotencyStore
    from tiktok_relay.pipeline import runtime
    from tiktok_relay.pipeline.receive import Receiver
    from tiktok_relay.pipeline.runtime import StaticSecret
    from tiktok_relay.sources.shopify.receiver import ShopifySource
    from tiktok_relay.sources.shopify.settings import ShopifySettings

    class RemoteLikeStore(MemoryIdempotencyStore):
        """Keeps only in-progress records, like Lambda's process does with DynamoDB: the finished
        ones live in the table, not in the function's memory (every timed call has a fresh id,
        so none would be read back). Keeping them all here would only grow the heap that the
        garbage collector walks, a cost Lambda does not have."""

        def _update_record(self, data_record) -> None:
            self._delete_record(data_record)

    queue = NullQueue()
    source = ShopifySource(secrets=StaticSecret(SECRET), settings=ShopifySettings.from_env({}), pixel_id=PIXEL)
    receiver = Receiver(source=source, queue=queue, idempotency_store=RemoteLikeStore())
    runtime.install(receiver=receiver)
    from tiktok_relay.handlers import receiver as app
    context = FakeLambdaContext(function_name="receiver", timeout_seconds=10)

    # Baseline 1: a bare Powertools handler, same decorators, a route that does nothing.
    logger, tracer, metrics = Logger(), Tracer(), Metrics()
    bare = APIGatewayHttpResolver()

    @bare.post("/webhooks/shopify")
    def _nothing() -> Response:
        return Response(status_code=202, content_type=content_types.APPLICATION_JSON, body='{"status":"queued"}')

    @logger.inject_lambda_context(correlation_id_path='headers."x-shopify-webhook-id"', clear_state=True)
    @tracer.capture_lambda_handler(capture_response=False)
    @metrics.log_metrics(capture_cold_start_metric=True)
    def bare_handler(event, ctx):
        return bare.resolve(event, ctx)

    sizes = (1, 10, 250)
    plan = {1: (200, 3000), 10: (200, 3000), 250: (30, 400)}  # warm-up calls, timed calls per variant
    if quick:
        plan = {1: (20, 100), 10: (20, 100), 250: (3, 10)}
    rounds = 5 if not quick else 1
    out = {"sizes": {}, "iterations": {}}
    serial = 0
    key = SECRET.encode()
    for size in sizes:
        body = order_body(size)

        def fresh_event() -> dict:
            """A new delivery (another order: the receiver deduplicates on the signed body), made
            and signed before the clock starts."""
            nonlocal serial
            serial += 1
            return signed_event(order_body(size, serial), f"bench-{size}-{serial}")

        def call_handler(event):
            response = app.lambda_handler(event, context)
            if response["statusCode"] != 202:
                raise SystemExit(f"receiver answered {response['statusCode']}: {response['body']}")

        def call_logic(event):
            reply = receiver.handle(event["headers"], event["body"], False, context)
            if reply.status != 202:
                raise SystemExit(f"receiver answered {reply.status}: {reply.reason}")

        def call_bare(event):
            bare_handler(event, context)

        def call_floor(event):
            raw = event["body"].encode()
            digest = base64.b64decode(event["headers"]["x-shopify-hmac-sha256"])
            if not hmac.compare_digest(hmac.new(key, raw, hashlib.sha256).digest(), digest):
                raise SystemExit("HMAC mismatch")
            json.loads(raw)

        variants = {"handler": call_handler, "logic": call_logic, "bare_powertools": call_bare,
                    "floor_json_hmac": call_floor}
        warmup, timed = plan[size]
        for fn in variants.values():
            for _ in range(warmup):
                fn(fresh_event())
        samples: dict[str, list[float]] = {name: [] for name in variants}
        cpu_samples: dict[str, list[float]] = {name: [] for name in variants}
        per_round = max(1, timed // rounds)
        clock, cpu_clock = time.perf_counter, time.process_time
        for _ in range(rounds):  # variants alternate, so that a busy machine slows all alike
            for name, fn in variants.items():
                bucket, cpu_bucket = samples[name], cpu_samples[name]
                for _ in range(per_round):
                    event = fresh_event()
                    cpu = cpu_clock()
                    start = clock()
                    fn(event)
                    bucket.append(clock() - start)
                    cpu_bucket.append(cpu_clock() - cpu)
        stats = {}
        for name, values in samples.items():
            values.sort()
            cpu_values = sorted(cpu_samples[name])
            stats[name] = {"median_ms": statistics.median(values) * 1000, "p99_ms": percentile(values, 0.99) * 1000,
                           "cpu_median_ms": statistics.median(cpu_values) * 1000,
                           "cpu_p99_ms": percentile(cpu_values, 0.99) * 1000, "cpu_max_ms": cpu_values[-1] * 1000,
                           "n": len(values)}
        out["sizes"][str(size)] = {"body_bytes": len(body), "stats": stats}
    out["queued"] = queue.sent
    return out


# --- moto server (another process) ------------------------------------------------------------


@contextlib.contextmanager
def moto_server():
    """A moto server on 127.0.0.1 in its own process, with the relay's queues, tables and secrets.
    Yields {"endpoint", "queue_url", "dead_letter_url", "sqs" (a client)}."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=child_env(),
                            start_new_session=True)
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=2):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("the moto server did not start (pip install 'moto[server]')") from None
                time.sleep(0.1)
        import boto3

        session = boto3.session.Session(aws_access_key_id="bench", aws_secret_access_key="bench",
                                        region_name="us-east-1")
        sqs = session.client("sqs", endpoint_url=endpoint)
        queue_url = sqs.create_queue(QueueName=QUEUE)["QueueUrl"]
        for table in (TABLE, STATE_TABLE):
            session.client("dynamodb", endpoint_url=endpoint).create_table(
                TableName=table, BillingMode="PAY_PER_REQUEST",
                AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            )
        dead_letter_url = sqs.create_queue(QueueName=DEAD_LETTER_QUEUE)["QueueUrl"]
        secrets = session.client("secretsmanager", endpoint_url=endpoint)
        secrets.create_secret(Name=SECRET_NAME, SecretString=SECRET)
        secrets.create_secret(Name=TOKEN_SECRET_NAME, SecretString=TOKEN)
        yield {"endpoint": endpoint, "queue_url": queue_url, "dead_letter_url": dead_letter_url, "sqs": sqs}
    finally:
        stop(proc)


def stop(proc: subprocess.Popen) -> None:
    """Stops a child we started (its own process group: werkzeug may fork a reloader)."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def accepted(call: dict) -> str | None:
    """What is wrong with a receiver's (or the bare handler's) answer, if anything."""
    return None if call["status"] == 202 else f"answered {call['status']}: {call['body']}"


def delivered(call: dict) -> str | None:
    """What is wrong with a sender's answer (a partial batch response), if anything."""
    return None if call["item_failures"] == [] else f"reported item failures {call['item_failures']}"


def cold_run(handler: Path, events: list[dict], tmp: Path, env: dict[str, str], *, python_flags=(),
             check=accepted) -> dict:
    """One cold start: spawn -> first delivery handled, in ms, with INIT and first-invocation
    parts; further events are warm invocations of the same process (for the memory figures)."""
    events_path = tmp / "cold-events.json"
    events_path.write_text(json.dumps(events))
    result_path = tmp / "cold-result.json"
    result_path.unlink(missing_ok=True)
    command = [sys.executable, *python_flags, str(COLD_DRIVER), str(handler), str(events_path), str(result_path)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    spawned = time.monotonic()
    proc = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=ROOT, timeout=120)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0 or not result_path.exists():
        raise SystemExit(f"cold start of {handler.name} failed ({proc.returncode}):\n"
                         f"{proc.stderr.decode(errors='replace')[-3000:]}")
    result = json.loads(result_path.read_text())
    for call in result["calls"]:
        if (problem := check(call)) is not None:
            raise SystemExit(f"{handler.parent.name}/{handler.name} {problem}")
    result["total_ms"] = (result["first_done"] - spawned) * 1000
    result["init_ms"] = (result["init_done"] - spawned) * 1000  # interpreter start + handler import
    result["invoke_ms"] = (result["first_done"] - result["init_done"]) * 1000
    # CPU (user + sys) of the whole child: steadier than wall time on a busy machine; it leaves
    # out the waits for the moto server, and includes the (few) further events, if any.
    result["cpu_ms"] = ((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)) * 1000
    return result


def layer_directories(tmp: Path) -> dict[str, Path]:
    """The relay's layer as Lambda sees it in /opt/python, for this interpreter: phonenumbers and
    urllib3 as installed here, tiktok_relay from the source tree. "source": no bytecode (Lambda's
    /opt is read-only, so every cold start compiles each module it imports); "bytecode": every
    module precompiled as the built layer ships them (layers/tiktok_relay/Makefile: unchecked-hash
    .pyc, valid whatever the file dates the layer's zip gives)."""
    import importlib.util

    source = tmp / "layer-source"
    skip = shutil.ignore_patterns("__pycache__", "*.pyc")
    for package in ("phonenumbers", "urllib3"):
        spec = importlib.util.find_spec(package)
        shutil.copytree(Path(spec.origin).parent, source / package, ignore=skip)
    shutil.copytree(LAYER_SOURCE / "tiktok_relay", source / "tiktok_relay", ignore=skip)
    compiled = tmp / "layer-bytecode"
    shutil.copytree(source, compiled)
    subprocess.run([sys.executable, "-m", "compileall", "-q", "--invalidation-mode", "unchecked-hash", str(compiled)],
                   check=True)
    return {"source": source, "bytecode": compiled}


def cold_summary(results: dict[str, list[dict]], runs: int) -> dict:
    """Medians per side, and per-pair ratios (each run against the bare run next to it)."""
    cold: dict = {"runs": runs}
    for name, runs_of in results.items():
        cold[name] = {key: statistics.median(r[key] for r in runs_of)
                      for key in ("total_ms", "init_ms", "invoke_ms", "cpu_ms")}
        cold[name]["min_total_ms"] = min(r["total_ms"] for r in runs_of)
    for name in ("receiver", "sender", "receiver_source", "sender_source"):
        pairs = list(zip(results[name], results["bare"]))
        cold[name]["ratio"] = statistics.median(o["total_ms"] / b["total_ms"] for o, b in pairs)
        cold[name]["ratio_of_medians"] = cold[name]["total_ms"] / cold["bare"]["total_ms"]
        cold[name]["ratio_of_minimums"] = cold[name]["min_total_ms"] / cold["bare"]["min_total_ms"]
        cold[name]["cpu_ratio"] = statistics.median(o["cpu_ms"] / b["cpu_ms"] for o, b in pairs)
    for name in ("receiver", "sender"):  # what the precompiled bytecode saves
        pairs = list(zip(results[f"{name}_source"], results[name]))
        cold[name]["without_bytecode"] = statistics.median(o["total_ms"] / b["total_ms"] for o, b in pairs)
    return cold


def bench_cold_and_memory(args: argparse.Namespace, tmp: Path) -> tuple[dict, dict]:
    runs = 2 if args.quick else 7
    memory_runs = 1 if args.quick else 3
    body250 = order_body(250)
    layers = layer_directories(tmp)
    with moto_server() as aws, fake_tiktok_process() as tiktok_url:
        endpoint, queue_url, sqs = aws["endpoint"], aws["queue_url"], aws["sqs"]
        env_ours = child_env(AWS_ENDPOINT_URL=endpoint, EVENTS_QUEUE_URL=queue_url, **RECEIVER_TEMPLATE_ENV)
        env_sender = child_env(AWS_ENDPOINT_URL=endpoint, EVENTS_QUEUE_URL=queue_url, **SENDER_TEMPLATE_ENV,
                               DEAD_LETTER_QUEUE_URL=aws["dead_letter_url"], TIKTOK_API_BASE_URL=tiktok_url,
                               BENCH_FUNCTION_TIMEOUT="60", AWS_LAMBDA_FUNCTION_NAME="tiktok-relay-sender")
        env_bare = child_env(AWS_ENDPOINT_URL=endpoint, EVENTS_QUEUE_URL=queue_url)
        serial = 0

        def event(items: int) -> dict:
            """A new delivery of an `items`-line order (the receiver deduplicates on the signed
            body, and moto's table outlives each process)."""
            nonlocal serial
            serial += 1
            return signed_event(order_body(items, serial), f"cold-{os.getpid()}-{serial}")

        messages = queued_messages(10, 2 + 2 * runs)

        def batch() -> dict:
            """An SQS batch of one queue message (a 10-item order), as the receiver wrote it."""
            nonlocal serial
            serial += 1
            return {"Records": [sqs_record(messages.pop(), serial)]}

        def in_lambda(env: dict[str, str], layer: str) -> dict[str, str]:
            # /var/task and /opt are read-only in Lambda: nothing compiled at a cold start is kept.
            return {**env, "BENCH_LAYER_PATH": str(layers[layer]), "PYTHONDONTWRITEBYTECODE": "1"}

        sides = {
            "receiver": (RECEIVER_APP, in_lambda(env_ours, "bytecode"), lambda: event(10), accepted),
            "sender": (SENDER_APP, in_lambda(env_sender, "bytecode"), batch, delivered),
            "receiver_source": (RECEIVER_APP, in_lambda(env_ours, "source"), lambda: event(10), accepted),
            "sender_source": (SENDER_APP, in_lambda(env_sender, "source"), batch, delivered),
            # Powertools, boto3 and pydantic come with their bytecode on both sides (the venv's, as
            # the Powertools layer and the runtime's boto3 on Lambda).
            "bare": (BARE_APP, {**env_bare, "PYTHONDONTWRITEBYTECODE": "1"}, lambda: event(10), accepted),
        }
        # Untimed first runs: warm the page cache (and check that each side works).
        for handler, env, make, check in sides.values():
            cold_run(handler, [make()], tmp, env, check=check)
        results: dict[str, list[dict]] = {name: [] for name in sides}
        for _ in range(runs):  # alternating, so that a busy machine slows all alike
            for name, (handler, env, make, check) in sides.items():
                results[name].append(cold_run(handler, [make()], tmp, env, check=check))
        cold = cold_summary(results, runs)

        # Peak memory: a fresh process, one 250-item order as the first delivery (cold), then a
        # second one (warm), the receiver built as in Lambda. RSS and tracemalloc in separate runs.
        ours = [cold_run(RECEIVER_APP, [event(250), event(250)], tmp, env_ours) for _ in range(memory_runs)]
        bare = [cold_run(BARE_APP, [event(250), event(250)], tmp, env_bare) for _ in range(memory_runs)]
        traced = cold_run(RECEIVER_APP, [event(250), event(250)], tmp, env_ours,
                          python_flags=("-X", "tracemalloc"))
        memory = {
            "max_rss_mb": max(r["max_rss_kib"] for r in ours) / 1024,
            "init_rss_mb": max(r["init_max_rss_kib"] for r in ours) / 1024,
            "bare_max_rss_mb": max(r["max_rss_kib"] for r in bare) / 1024,
            "init_heap_peak_mb": traced["init_heap_peak"] / MB,
            "first_call_heap_peak_mb": traced["calls"][0]["heap_peak"] / MB,
            "first_call_heap_growth_mb": (traced["calls"][0]["heap_peak"] - traced["calls"][0]["heap_before"]) / MB,
            "second_call_heap_peak_mb": traced["calls"][1]["heap_peak"] / MB,
            "second_call_heap_growth_mb": (traced["calls"][1]["heap_peak"] - traced["calls"][1]["heap_before"]) / MB,
            "body_bytes": len(body250),
            "events": json.loads(ours[0]["body"]).get("events"),
        }
        profile = profile_cold(tmp, event(10), env_ours) if args.profile else None
        queued = int(sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages"])
                     ["Attributes"]["ApproximateNumberOfMessages"])
        cold["messages_on_queue"] = queued
        # receivers (two layers) and bare, a first run and `runs` each; the memory runs; the profile.
        cold["messages_expected"] = 3 * (1 + runs) + 4 * memory_runs + 2 + (1 if profile else 0)
        if profile:
            cold["profile"] = profile
    return cold, memory


def profile_cold(tmp: Path, event: dict, env: dict[str, str]) -> str:
    """Where our cold start goes: -X importtime (INIT) and cProfile of the first invocation."""
    import io
    import pstats

    event_path = tmp / "profile-event.json"
    event_path.write_text(json.dumps([event]))
    stats_path = tmp / "first-call.pstats"
    command = [sys.executable, "-X", "importtime", str(COLD_DRIVER), str(RECEIVER_APP), str(event_path),
               str(tmp / "profile-result.json")]
    proc = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT, timeout=120,
                          env={**env, "BENCH_CPROFILE": str(stats_path)})
    rows = []
    for line in proc.stderr.decode(errors="replace").splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        self_us, cumulative_us, name = line[len("import time:"):].split("|", 2)
        rows.append((int(cumulative_us), int(self_us), name.rstrip()))
    # Top-level imports (one space of indent) and their biggest children, in import order.
    lines = ["-X importtime of our cold start: imports taking >= 5 ms cumulative, nested as imported"]
    for cumulative, _, name in reversed(rows):  # importtime prints children before their parent
        depth = (len(name) - len(name.lstrip(" ")) - 1) // 2
        if cumulative >= 5000 and depth <= 2:
            lines.append(f"  {cumulative / 1000:7.1f} ms  {'  ' * depth}{name.strip()}")
    if stats_path.exists():
        buffer = io.StringIO()
        pstats.Stats(str(stats_path), stream=buffer).sort_stats("cumulative").print_stats(25)
        text = buffer.getvalue()
        lines += ["", "cProfile of the first invocation (cumulative, top 25):",
                  text[text.find("   ncalls"):].rstrip()]
    return "\n".join(lines)


# --- sender throughput (worker + fake TikTok process) -------------------------------------------


FAKE_SERVER = r"""
import sys
from tiktok_relay.testing.fake_tiktok import FakeTikTok

class CountingFake(FakeTikTok):
    # Parses and checks every request exactly as the stock fake does and answers the same;
    # keeps no copy of what it accepted (a long run would hold gigabytes).
    def _accept(self, body, token):
        pass

    def _record(self, body, status, reply, fault=None):
        return status, reply

fake = CountingFake(sys.argv[1], port=0)
print(fake.port, flush=True)
fake.serve_forever()
"""


@contextlib.contextmanager
def fake_tiktok_process():
    proc = subprocess.Popen([sys.executable, "-c", FAKE_SERVER, TOKEN], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, env=child_env(), start_new_session=True, text=True)
    try:
        line = proc.stdout.readline().strip()
        if not line.isdigit():
            raise SystemExit("the fake TikTok did not start")
        yield f"http://127.0.0.1:{int(line)}/open_api"
    finally:
        stop(proc)


def worker_sender(quick: bool) -> dict:
    quiet_stdout()
    from tiktok_relay.config import TikTokSettings
    from tiktok_relay.local.lambda_context import FakeLambdaContext
    from tiktok_relay.local.memory import MemoryDeadLetters
    from tiktok_relay.pipeline import runtime
    from tiktok_relay.pipeline.runtime import StaticSecret
    from tiktok_relay.pipeline.send import BatchReport, QueueSender
    from tiktok_relay.tiktok.client import shared_pool

    base_url = os.environ["BENCH_TIKTOK_URL"]
    messages = queued_messages(10, 50 if quick else 200)  # distinct 10-item orders
    serial = 0

    def records(count: int) -> list[dict]:
        """`count` SQS records, each a distinct event id (made outside the timed calls)."""
        nonlocal serial
        out = []
        for _ in range(count):
            serial += 1
            body, attributes = messages[serial % len(messages)]
            body = body.replace('"event_id":"shopify-order-', f'"event_id":"b{serial}-shopify-order-', 1)
            out.append(sqs_record((body, attributes), serial))
        return out

    sample = records(100)
    record_bytes = statistics.mean(len(json.dumps(r)) for r in sample)
    large = min(SQS_MAX_BATCH, int((LAMBDA_EVENT_LIMIT - 1024) / record_bytes) // 100 * 100)

    totals = BatchReport()

    def count(report: BatchReport) -> None:
        totals.delivered += report.delivered
        totals.failed += report.failed
        totals.rejected += report.rejected

    settings = TikTokSettings(access_token=TOKEN, pixel_id=PIXEL, base_url=base_url,
                              api_version=TikTokSettings.DEFAULT_API_VERSION)
    # No stale limit: the generated orders are dated 2026-11 and this measures sending them.
    runtime.install(sender=QueueSender(client=runtime.client_factory(settings, StaticSecret(TOKEN)),
                                       dead_letters=MemoryDeadLetters(), max_event_age=None, on_report=count))
    from tiktok_relay.handlers import sender as app
    pool = shared_pool()

    # Capture the bytes the sender posts, for the baseline (a pool that records, then forwards).
    captured: dict[int, list[bytes]] = {}

    class Recorder:
        def __init__(self, size: int):
            self.size = size

        def request(self, method, url, body=None, **kwargs):
            captured.setdefault(self.size, []).append((body, len(json.loads(body)["data"])))
            return pool.request(method, url, body=body, **kwargs)

    headers = {"Access-Token": TOKEN, "Content-Type": "application/json", "Accept": "application/json"}
    total_events = 5_000 if quick else 50_000
    rounds = 1 if quick else 5
    batch_sizes = (100, large)

    cpu_used: dict[str, float] = {}

    def invoke(batch: list[dict], name: str = "warm-up") -> float:
        event = {"Records": batch}
        context = FakeLambdaContext(function_name="sender", timeout_seconds=900)
        cpu = time.process_time()
        start = time.perf_counter()
        result = app.lambda_handler(event, context)
        elapsed = time.perf_counter() - start
        cpu_used[name] = cpu_used.get(name, 0.0) + time.process_time() - cpu
        if result.get("batchItemFailures"):
            raise SystemExit(f"sender reported {len(result['batchItemFailures'])} failures")
        return elapsed

    # Warm-up (imports, first connection) and capture of the wire bytes, batch by batch size.
    for size in batch_sizes:
        client = runtime.sender()._router(None).client()  # the one shop's route: its cached TikTokClient
        client._pool = Recorder(size)
        invoke(records(size))
        client._pool = pool
    for size in batch_sizes:
        if not captured.get(size) or not all(captured[size]):
            raise SystemExit("no request captured for the baseline")
    url = runtime.sender()._router(None).client().url

    def post_raw(body: bytes) -> None:
        response = pool.request("POST", url, body=body, headers=headers, retries=False, redirect=False)
        if response.status != 200 or json.loads(response.data).get("code") != 0:
            raise SystemExit(f"fake TikTok refused the baseline request: {response.status} {response.data[:200]!r}")

    if os.environ.get("BENCH_CPROFILE"):  # --profile: one batch of each size, profiled
        import cProfile

        profiler = cProfile.Profile()
        for size in batch_sizes:
            batch = records(size)
            profiler.runcall(invoke, batch)
        profiler.dump_stats(os.environ["BENCH_CPROFILE"])

    timings: dict[str, list[float]] = {}
    events: dict[str, int] = {}
    by_round: dict[str, list[float]] = {}
    for _ in range(rounds):
        for size in batch_sizes:
            name = f"ours_{size}"
            per_round = max(size, total_events // rounds // size * size)
            elapsed = 0.0
            for _ in range(per_round // size):
                batch = records(size)
                elapsed += invoke(batch, name)
                events[name] = events.get(name, 0) + size
            timings.setdefault(name, []).append(elapsed)
            by_round.setdefault(name, []).append(per_round // size * size / elapsed)
            # Baseline: the same requests' bytes, posted with the same urllib3 pool, same count.
            name = f"raw_{size}"
            bodies = captured[size]
            sent = index = 0
            while sent < per_round:
                body, body_events = bodies[index % len(bodies)]
                cpu = time.process_time()
                start = time.perf_counter()
                post_raw(body)
                timings.setdefault(name, []).append(time.perf_counter() - start)
                cpu_used[name] = cpu_used.get(name, 0.0) + time.process_time() - cpu
                sent += body_events
                index += 1
            events[name] = events.get(name, 0) + sent
    out = {"record_bytes": record_bytes, "large_batch": large, "batch_sizes": list(batch_sizes),
           "delivered": totals.delivered, "failed": totals.failed, "rejected": totals.rejected,
           "request_bytes": {str(size): statistics.mean(len(b) for b, _ in captured[size]) for size in batch_sizes}}
    for name, values in timings.items():
        out[name] = {"events": events[name], "seconds": sum(values), "eps": events[name] / sum(values),
                     "cpu_us_per_event": cpu_used[name] / events[name] * 1e6, "eps_by_round": by_round.get(name)}
    return out


def bench_sender(args: argparse.Namespace, tmp: Path) -> dict:
    extra = {"BENCH_CPROFILE": str(tmp / "sender.pstats")} if args.profile else {}
    with fake_tiktok_process() as url:
        result = run_worker("sender", args, tmp, BENCH_TIKTOK_URL=url, **extra)
    if args.profile:
        import io
        import pstats

        buffer = io.StringIO()
        pstats.Stats(extra["BENCH_CPROFILE"], stream=buffer).sort_stats("tottime").print_stats(20)
        text = buffer.getvalue()
        result["profile"] = ("cProfile of the sender handler, one batch of each size (internal time, top 20):\n"
                             + text[text.find("   ncalls"):].rstrip())
    return result


# --- layer size ---------------------------------------------------------------------------------


def tree_size(path: Path) -> tuple[int, int]:
    total = files = 0
    for item in path.rglob("*"):
        if item.is_file() and not item.is_symlink():
            total += item.stat().st_size
            files += 1
    return total, files


def bench_layer(args: argparse.Namespace, tmp: Path) -> dict:
    if BUILT_LAYER.is_dir() and not args.build_layer:
        where = BUILT_LAYER
        how = f"{BUILT_LAYER.relative_to(ROOT)} (sam build)"
        newest_source = max(p.stat().st_mtime for p in (LAYER_SOURCE / "tiktok_relay").rglob("*.py"))
        stale = newest_source > BUILT_LAYER.stat().st_mtime
    else:
        # What sam build runs (layers/tiktok_relay/Makefile), with a Python 3.13 from PATH or pyenv
        # (a pyenv shim on PATH may not run 3.13: each candidate is asked).
        candidates = [shutil.which("python3.13"),
                      *map(str, sorted(Path.home().glob(".pyenv/versions/3.13*/bin/python3.13"), reverse=True))]
        python313 = next((c for c in candidates if c and subprocess.run(
            [c, "-c", "import sys; sys.exit(sys.version_info[:2] != (3, 13))"], capture_output=True).returncode == 0),
            None)
        if python313 is None:
            return {"error": "no python3.13 to build the layer with (`make infra` builds it with sam build)"}
        where = tmp / "layer"
        proc = subprocess.run(["make", "-C", str(LAYER_SOURCE), "build-RelayLayer", f"ARTIFACTS_DIR={where}",
                               f"PYTHON={python313}"], capture_output=True, text=True, timeout=300)
        if proc.returncode != 0:
            return {"error": f"the layer's Makefile failed: {proc.stderr.strip().splitlines()[-1:]}"}
        how = "built here by layers/tiktok_relay/Makefile, as sam build does (manylinux2014_aarch64, cp313)"
        stale = False
    total, files = tree_size(where)
    parts = {}
    for child in sorted((where / "python").iterdir()):
        size = tree_size(child)[0] if child.is_dir() else child.stat().st_size
        parts[child.name] = size
    forbidden = [name for name in parts if name.startswith(("aws_lambda_powertools", "pydantic", "boto"))]
    pyc = sum(1 for _ in where.rglob("*.pyc"))
    return {"bytes": total, "files": files, "how": how, "stale": stale, "parts": parts, "powertools_inside": forbidden,
            "pyc_files": pyc}


# --- report ---------------------------------------------------------------------------------------


def report(results: dict, args: argparse.Namespace, elapsed: float) -> None:
    def verdict(ok: bool | None) -> str:
        text = "n/a" if ok is None else ("met" if ok else "MISSED")
        return f"{text} (quick run)" if args.quick and ok is not None else text

    print(f"\ntiktok-relay budgets (Python {platform.python_version()}, {platform.machine()}, "
          f"{os.cpu_count()} CPUs{', --quick: rough figures' if args.quick else ''}; {elapsed:.0f} s)")
    rows = []
    ratios = []
    warm = results.get("warm")
    if warm:
        print("\nReceiver warm latency, in process, no network (queue: no-op; idempotency: in memory), ms per call;"
              "\nwall time (the budget), and the call's CPU time, which a busy machine's scheduling does not inflate")
        print(f"| {'order':>9} | {'variant':<46} | {'median':>7} | {'p99':>7} | {'CPU med':>7} | {'CPU p99':>7} "
              f"| {'CPU max':>7} | {'calls':>5} |")
        print(f"|{'-' * 11}|{'-' * 48}|{'-' * 8}:|{'-' * 8}:|{'-' * 8}:|{'-' * 8}:|{'-' * 8}:|{'-' * 6}:|")
        labels = {"handler": "receiver handler (Powertools + logic)",
                  "logic": "Receiver.handle alone (logic)",
                  "bare_powertools": "baseline: bare Powertools handler, empty route",
                  "floor_json_hmac": "baseline: json.loads + HMAC of the body"}
        for size, data in warm["sizes"].items():
            for name, label in labels.items():
                s = data["stats"][name]
                print(f"| {size + ' items':>9} | {label:<46} | {s['median_ms']:7.3f} | {s['p99_ms']:7.3f} "
                      f"| {s['cpu_median_ms']:7.3f} | {s['cpu_p99_ms']:7.3f} | {s['cpu_max_ms']:7.2f} | {s['n']:5d} |")
        for size, key in (("1", None), ("10", "p99_10"), ("250", "p99_250")):
            s = warm["sizes"][size]["stats"]
            handler, bare, logic, floor = s["handler"], s["bare_powertools"], s["logic"], s["floor_json_hmac"]
            target = TARGETS.get(key) if key else None
            rows.append((f"Receiver warm p99, {size}-item order", f"{handler['p99_ms']:.2f} ms (median "
                         f"{handler['median_ms']:.2f}; CPU p99 {handler['cpu_p99_ms']:.2f})",
                         f"<= {target:g} ms" if target else "-",
                         verdict(handler["p99_ms"] <= target) if target else "-"))
            ratios.append(f"warm {size:>3} items: handler / bare Powertools handler = "
                          f"{handler['median_ms'] / bare['median_ms']:5.1f}x (median); logic / (json.loads + HMAC) = "
                          f"{logic['median_ms'] / floor['median_ms']:5.1f}x; Powertools wiring = "
                          f"{handler['median_ms'] - logic['median_ms']:.3f} ms of {handler['median_ms']:.3f}")
    cold = results.get("cold")
    if cold:
        print(f"\nCold start, fresh process to first delivery handled, median of {cold['runs']} runs, ms; all sides:"
              "\ntemplate.yaml's settings, the same moto server and fake TikTok, LAMBDA_TASK_ROOT unset (Powertools'"
              "\nTracer disables itself on all), no bytecode written (Lambda's /var/task and /opt are read-only)")
        print(f"| {'handler':<66} | {'total':>7} | {'INIT':>7} | {'1st call':>8} | {'min':>7} | {'CPU':>7} |")
        print(f"|{'-' * 68}|{'-' * 8}:|{'-' * 8}:|{'-' * 9}:|{'-' * 8}:|{'-' * 8}:|")
        for name, label in (("receiver", "receiver, 10-item order, the layer with its bytecode (as shipped)"),
                            ("receiver_source", "receiver, the layer without bytecode"),
                            ("sender", "sender, a 1-message batch to the fake, the layer with bytecode"),
                            ("sender_source", "sender, the layer without bytecode"),
                            ("bare", "baseline: bare Logger+Tracer+Metrics + boto3 SQS")):
            c = cold[name]
            print(f"| {label:<66} | {c['total_ms']:7.0f} | {c['init_ms']:7.0f} | {c['invoke_ms']:8.0f} "
                  f"| {c['min_total_ms']:7.0f} | {c['cpu_ms']:7.0f} |")
        for name in ("receiver", "sender"):
            c = cold[name]
            rows.append((f"Cold start, {name} (ours / bare)", f"{c['ratio']:.2f}x ({c['total_ms']:.0f} / "
                         f"{cold['bare']['total_ms']:.0f} ms)", f"<= {TARGETS['cold_ratio']}x",
                         verdict(c["ratio"] <= TARGETS["cold_ratio"])))
            ratios.append(f"cold start, {name}: ours / bare = {c['ratio']:.2f}x (median of per-pair ratios; "
                          f"of medians {c['ratio_of_medians']:.2f}x, of best runs {c['ratio_of_minimums']:.2f}x; "
                          f"CPU {c['cpu_ratio']:.2f}x); without the layer's bytecode {c['without_bytecode']:.2f}x "
                          f"slower ({cold[name + '_source']['ratio']:.2f}x the bare handler)")
        if cold["messages_on_queue"] != cold["messages_expected"]:
            print(f"note: {cold['messages_on_queue']} messages on the queue, expected {cold['messages_expected']}")
        if cold.get("profile"):
            print("\n" + cold["profile"])
    memory = results.get("memory")
    if memory:
        print(f"\nReceiver memory, fresh process built as in Lambda (boto3, moto server): a 250-item order "
              f"({memory['body_bytes']:,} bytes) as the first delivery, then another")
        print(f"  max RSS (getrusage), whole process:        {memory['max_rss_mb']:6.1f} MB   (after INIT "
              f"{memory['init_rss_mb']:.1f} MB; bare baseline handler, same events: "
              f"{memory['bare_max_rss_mb']:.1f} MB)")
        print(f"  Python heap peak (tracemalloc), INIT:       {memory['init_heap_peak_mb']:6.1f} MB")
        print(f"  Python heap peak, first call (cold):        {memory['first_call_heap_peak_mb']:6.1f} MB   "
              f"(+{memory['first_call_heap_growth_mb']:.1f} MB over the heap before it: boto3 clients, "
              "late imports, the delivery)")
        print(f"  Python heap peak, second call (warm):       {memory['second_call_heap_peak_mb']:6.1f} MB   "
              f"(+{memory['second_call_heap_growth_mb']:.1f} MB: what one 250-item delivery needs)")
        rows.append(("Receiver peak memory, 250-item order", f"{memory['max_rss_mb']:.0f} MB max RSS (Python heap "
                     f"peak {memory['first_call_heap_peak_mb']:.0f} MB; +{memory['second_call_heap_growth_mb']:.1f} MB "
                     "per warm delivery)",
                     f"<= {TARGETS['rss_mb']} MB (of 128)", verdict(memory["max_rss_mb"] <= TARGETS["rss_mb"])))
        ratios.append(f"memory: ours / bare handler max RSS = {memory['max_rss_mb'] / memory['bare_max_rss_mb']:.2f}x")
    sender = results.get("sender")
    if sender:
        print(f"\nSender throughput to the fake TikTok (another process, 127.0.0.1), one process; records of "
              f"{sender['record_bytes']:,.0f} bytes (one 10-item order each)")
        print(f"| {'variant':<72} | {'events':>7} | {'seconds':>7} | {'events/s':>9} | {'sender CPU µs/event':>19} |")
        print(f"|{'-' * 74}|{'-' * 8}:|{'-' * 8}:|{'-' * 10}:|{'-' * 20}:|")
        for size in sender["batch_sizes"]:
            why = "template.yaml BatchSize" if size == 100 else "largest within Lambda's 6 MB event"
            for name, label in ((f"ours_{size}", f"sender handler, {size:,} records/invocation ({why})"),
                                (f"raw_{size}", "baseline: urllib3 POST of the same bytes")):
                s = sender[name]
                print(f"| {label:<72} | {s['events']:7d} | {s['seconds']:7.2f} | {s['eps']:9,.0f} "
                      f"| {s['cpu_us_per_event']:19.1f} |")
            ours, raw = sender[f"ours_{size}"], sender[f"raw_{size}"]
            ratios.append(f"sender, batches of {size:,}: ours / raw POST of the same bytes = "
                          f"{ours['eps'] / raw['eps']:.2f}x events/s; the sender's own CPU, "
                          f"{ours['cpu_us_per_event']:.0f} µs/event, alone caps it at "
                          f"{1e6 / ours['cpu_us_per_event']:,.0f} events/s; the fake (raw POST) caps any "
                          f"sequential sender at {raw['eps']:,.0f} events/s")
        for size in sender["batch_sizes"]:
            eps = sender[f"ours_{size}"]["eps"]
            rows.append((f"Sender throughput, batches of {size:,}", f"{eps:,.0f} events/s",
                         f">= {TARGETS['sender_eps']:,}", verdict(eps >= TARGETS["sender_eps"])))
        if sender["failed"] or sender["rejected"]:
            print(f"note: {sender['failed']} events failed, {sender['rejected']} rejected")
        if sender.get("profile"):
            print("\n" + sender["profile"])
    layer = results.get("layer")
    if layer:
        if "error" in layer:
            rows.append(("Built layer size (unzipped)", layer["error"], f"<= {TARGETS['layer_mb']} MB", "n/a"))
        else:
            parts = ", ".join(f"{k} {v / MB:.2f}" for k, v in sorted(layer["parts"].items(), key=lambda kv: -kv[1])[:4])
            print(f"\nLayer: {layer['how']}: {layer['bytes'] / MB:.2f} MB in {layer['files']} files, "
                  f"{layer['pyc_files']} .pyc; largest (MB): {parts}")
            if layer["stale"]:
                print("note: sources changed after this sam build; `make infra` rebuilds it")
            if layer["powertools_inside"]:
                print(f"note: the layer carries {layer['powertools_inside']}, which the Powertools layer provides")
            rows.append(("Built layer size (unzipped)", f"{layer['bytes'] / MB:.2f} MB", f"<= {TARGETS['layer_mb']} MB",
                         verdict(layer["bytes"] <= TARGETS["layer_mb"] * MB)))

    print("\n| what | measured | target | verdict |")
    print("|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print("\nRatios (ours against a baseline measured in the same run):")
    for line in ratios:
        print(f"  {line}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a fast smoke run (seconds); rough figures")
    parser.add_argument("--only", action="append", choices=("warm", "cold", "sender", "layer"),
                        help="run only these parts (repeatable); cold includes memory")
    parser.add_argument("--profile", action="store_true",
                        help="also profile: the receiver's cold start (-X importtime, cProfile of the first call) "
                             "and the sender handler (cProfile)")
    parser.add_argument("--build-layer", action="store_true", help="build the layer with pip even if sam built one")
    parser.add_argument("--json", metavar="FILE", help="also write the raw figures to FILE")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.worker:
        worker = {"warm": worker_warm, "sender": worker_sender}[args.worker]
        result = worker(args.quick)
        Path(args.result).write_text(json.dumps(result))
        return 0

    chosen = args.only or ["warm", "cold", "sender", "layer"]
    bypass_proxies_for_loopback(os.environ)  # this process talks to the moto server too
    started = time.monotonic()
    results: dict = {}
    with tempfile.TemporaryDirectory(prefix="bench-relay-") as tmp_name:
        tmp = Path(tmp_name)
        if "warm" in chosen:
            log("warm latency ...")
            results["warm"] = run_worker("warm", args, tmp)
        if "cold" in chosen:
            log("cold start and peak memory (moto server) ...")
            results["cold"], results["memory"] = bench_cold_and_memory(args, tmp)
        if "sender" in chosen:
            log("sender throughput (fake TikTok) ...")
            results["sender"] = bench_sender(args, tmp)
        if "layer" in chosen:
            log("layer size ...")
            results["layer"] = bench_layer(args, tmp)
    report(results, args, time.monotonic() - started)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
