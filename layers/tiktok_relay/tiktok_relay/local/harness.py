"""The whole relay in one process, without Docker or AWS: the real receiver handler, an
in-memory queue with SQS receive counts, the real sender handler, and TikTok (the embedded
fake, or the real API when TIKTOK_ACCESS_TOKEN is set). Used by `replay` and `serve`.

The handlers are the modules in functions/*/app.py, loaded from their files: the same code
Lambda runs, never a copy.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from tiktok_relay.errors import ConfigurationError, EventValidationError
from tiktok_relay.local.lambda_context import FakeLambdaContext
from tiktok_relay.local.memory import (
    FileDeadLetters,
    MemoryIdempotencyStore,
    MemoryQueue,
    MemoryStateStore,
    QueuedMessage,
)
from tiktok_relay.pipeline import runtime
from tiktok_relay.pipeline.messages import DeadLetter, QueuedDelivery
from tiktok_relay.pipeline.receive import Receiver
from tiktok_relay.pipeline.runtime import StaticSecret
from tiktok_relay.pipeline.send import BatchReport, QueueSender
from tiktok_relay.sources.shopify.receiver import ShopifySource
from tiktok_relay.sources.shopify.settings import ShopifySettings

# The secret that signed the files in events/. Public on purpose: for local runs only.
LOCAL_WEBHOOK_SECRET = "tiktok-relay-local-dev-secret"
# event_source_id used with the embedded fake when TIKTOK_PIXEL_ID is not set.
LOCAL_PIXEL_ID = "CLOCALDEVPIXEL0000000"
# What Lambda's environment (template.yaml Globals) sets for Powertools; local defaults only.
_POWERTOOLS_DEFAULTS = {
    "POWERTOOLS_SERVICE_NAME": "tiktok-relay",
    "POWERTOOLS_METRICS_NAMESPACE": "TikTokRelay",
    "POWERTOOLS_TRACE_DISABLED": "1",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
    "POWERTOOLS_METRICS_DISABLED": "1",
}


def use_local_powertools_defaults() -> None:
    """For the command-line tools only (they own their process): quiet, no EMF, no X-Ray.
    Anything already set in the environment wins."""
    for name, value in _POWERTOOLS_DEFAULTS.items():
        os.environ.setdefault(name, value)


def find_functions_dir() -> Path:
    """functions/ of this checkout: $TIKTOK_RELAY_FUNCTIONS_DIR, else found from the current
    directory upwards, else next to the package source (an editable install)."""
    if explicit := os.environ.get("TIKTOK_RELAY_FUNCTIONS_DIR"):
        candidates = [Path(explicit)]
    else:
        cwd = Path.cwd().resolve()
        candidates = [p / "functions" for p in (cwd, *cwd.parents)]
        # Next to the package source of an editable install: layers/tiktok_relay/tiktok_relay/local/.
        candidates.append(Path(__file__).resolve().parents[4] / "functions")
    for candidate in candidates:
        if (candidate / "receiver" / "app.py").is_file() and (candidate / "sender" / "app.py").is_file():
            return candidate
    raise ConfigurationError(
        "cannot find functions/receiver/app.py and functions/sender/app.py; run from the project "
        "checkout or set TIKTOK_RELAY_FUNCTIONS_DIR"
    )


def load_handler(path: Path, module_name: str) -> ModuleType:
    """Import a Lambda handler file as a module of its own (both are called app.py)."""
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ConfigurationError(f"{path} cannot be loaded as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except ModuleNotFoundError as exc:
        del sys.modules[module_name]
        if exc.name in ("boto3", "botocore", "aws_xray_sdk"):
            raise ConfigurationError(
                f"the Lambda handlers need {exc.name}, which Lambda provides; install it locally with "
                "pip install -e '.[local]'"
            ) from None
        raise
    return module


@dataclass
class Tally:
    webhooks: int = 0
    events: int = 0
    requests_sent: int = 0
    delivered: int = 0
    dead_lettered: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


class LocalPipeline:
    def __init__(
        self,
        *,
        client_factory,  # () -> TikTokClient, or None for a dry run
        pixel_id: str,
        webhook_secret: str,
        settings: ShopifySettings,
        dead_letter_path: str | Path,
        batch_size: int = 10,
        max_receives: int = 5,
        functions_dir: Path | None = None,
    ):
        if batch_size < 1 or max_receives < 1:
            raise ConfigurationError("--batch-size and --max-receives must be at least 1")
        self.queue = MemoryQueue()
        self.states = MemoryStateStore()  # carts remembered across the run's deliveries
        self.dead_letters = FileDeadLetters(dead_letter_path)
        self.tally = Tally()
        self.batch_size = batch_size
        self.max_receives = max_receives
        self.dry_run = client_factory is None
        source = ShopifySource(secrets=StaticSecret(webhook_secret), settings=settings, pixel_id=pixel_id)
        receiver = Receiver(source=source, queue=self.queue, idempotency_store=MemoryIdempotencyStore(),
                            state_store=self.states)
        sender = None if self.dry_run else QueueSender(
            client=client_factory, dead_letters=self.dead_letters, on_report=self._count
        )
        runtime.install(receiver=receiver, sender=sender)
        functions = functions_dir or find_functions_dir()
        with self.quiet():
            self.receiver_app = load_handler(functions / "receiver" / "app.py", "tiktok_relay_receiver_app")
            self.sender_app = load_handler(functions / "sender" / "app.py", "tiktok_relay_sender_app")

    @staticmethod
    def quiet():
        """Powertools writes logs and metrics to stdout; locally they belong on stderr."""
        return contextlib.redirect_stdout(sys.stderr)

    def _count(self, report: BatchReport) -> None:
        self.tally.requests_sent += report.requests_sent
        self.tally.delivered += report.delivered
        self.tally.dead_lettered += report.dead_lettered

    def deliver(self, event: dict) -> tuple[dict, dict | None]:
        """One API Gateway event through the receiver handler. Returns its HTTP response and
        the Events API request it enqueued (None if it enqueued nothing)."""
        before = len(self.queue.sent)
        with self.quiet():
            response = self.receiver_app.lambda_handler(event, FakeLambdaContext(function_name="receiver"))
        self.tally.webhooks += 1
        request = None
        if len(self.queue.sent) > before:
            queued = QueuedDelivery.parse(self.queue.sent[-1].body).request
            request = queued.model_dump(mode="json", exclude_none=True)
            self.tally.events += len(queued.data)
        return response, request

    def drain(self) -> None:
        """Run the sender over the queue until it is empty, redelivering failed records until
        they reach max_receives, then dead-lettering them, as SQS with a redrive policy does."""
        if self.dry_run:
            return
        while batch := self.queue.receive(self.batch_size):
            event = {"Records": [message.as_sqs_record() for message in batch]}
            with self.quiet():
                result = self.sender_app.lambda_handler(event, FakeLambdaContext(function_name="sender"))
            failed = {item["itemIdentifier"] for item in result.get("batchItemFailures", [])}
            for message in batch:
                if message.message_id not in failed:
                    continue
                if message.receive_count < self.max_receives:
                    self.queue.release(message)
                    continue
                self._dead_letter(message)

    def _dead_letter(self, message: QueuedMessage) -> None:
        """What SQS's redrive policy does after maxReceiveCount: the record, as it was queued."""
        try:
            queued: QueuedDelivery | None = QueuedDelivery.parse(message.body)
        except EventValidationError:
            queued = None
        self.dead_letters.put(DeadLetter(
            reason=f"not delivered after {message.receive_count} receives (max {self.max_receives})",
            webhook_id=queued.webhook_id if queued else None, body=message.body, receive_count=message.receive_count,
        ))
        self.tally.dead_lettered += len(queued.request.data) if queued else 0


def local_settings(args_dry_run: bool):
    """Settings for a local run: the real TikTok when TIKTOK_ACCESS_TOKEN is set, else the
    embedded fake (returned so the caller can start and stop it)."""
    from tiktok_relay.config import TikTokSettings
    from tiktok_relay.sources.common.signing import parse_secrets
    from tiktok_relay.testing.fake_tiktok import FakeTikTok

    tiktok = TikTokSettings.from_env()
    shopify = ShopifySettings.from_env()
    secret = os.environ.get("SHOPIFY_WEBHOOK_SECRET") or LOCAL_WEBHOOK_SECRET
    if not parse_secrets(secret):  # a clear error now rather than a 500 for every delivery
        raise ConfigurationError("SHOPIFY_WEBHOOK_SECRET holds no secret (only commas or spaces)")
    fake = None
    if tiktok.access_token:
        pixel_id = tiktok.require_pixel()
    else:
        pixel_id = tiktok.pixel_id or LOCAL_PIXEL_ID
        if not args_dry_run:
            fake = FakeTikTok()
            tiktok = TikTokSettings(access_token=fake.access_token, pixel_id=pixel_id,
                                    api_version=tiktok.api_version, base_url=fake.base_url)
    return tiktok, shopify, secret, pixel_id, fake


def open_local_pipeline(*, dry_run: bool, dead_letter_path: str | Path, batch_size: int = 10,
                        max_receives: int = 5):
    """What `replay` and `serve` run: the pipeline configured from the environment, and the
    embedded fake TikTok, started, when no TIKTOK_ACCESS_TOKEN is set (None otherwise; the
    caller stops it). Raises ConfigurationError naming what is wrong."""
    from tiktok_relay.pipeline.runtime import client_factory

    use_local_powertools_defaults()
    tiktok, shopify, secret, pixel_id, fake = local_settings(dry_run)
    try:
        pipeline = LocalPipeline(
            client_factory=None if dry_run else client_factory(tiktok, StaticSecret(tiktok.access_token)),
            pixel_id=pixel_id, webhook_secret=secret, settings=shopify, dead_letter_path=dead_letter_path,
            batch_size=batch_size, max_receives=max_receives,
        )
    except BaseException:
        if fake is not None:
            fake.close()
        raise
    if fake is not None:
        fake.start()
    return pipeline, fake
