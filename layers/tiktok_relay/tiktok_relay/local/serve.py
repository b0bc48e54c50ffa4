"""The receiver's routes over HTTP on localhost, like `sam local start-api`, with the queue and
sender running behind it: what `tiktok-relay serve` runs (tiktok_relay/cli/serve.py). Put a
tunnel in front of it to point a development store's webhooks at your machine.

Each HTTP request becomes an API Gateway HTTP API (v2) event for the real receiver handler;
after answering, the queue is drained through the real sender handler (to the embedded fake
TikTok, or with `--live` to the configured Events API).
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tiktok_relay.local.apigw import http_api_event
from tiktok_relay.local.harness import Drained, LocalPipeline

MAX_REQUEST_BYTES = 10 * 1024 * 1024  # API Gateway HTTP API's own limit


def _no_report(*_: Any) -> None:
    return None


def make_server(pipeline: LocalPipeline, port: int, host: str = "127.0.0.1", *,
                on_answer: Callable[[str, str, int, Any], None] = _no_report,
                on_drained: Callable[[Drained], None] = _no_report) -> ThreadingHTTPServer:
    """A server for `pipeline`. `on_answer(method, path, status, body)` gets each answer (the
    body parsed from JSON when it is JSON); `on_drained` what the sender did after it."""
    lock = threading.Lock()  # one invocation at a time, as one Lambda container does

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the stdlib's name
            pass  # on_answer reports each request, with the receiver's outcome

        def _invoke(self):
            path, _, query = self.path.partition("?")
            try:
                length = int(self.headers.get("Content-Length") or 0)
            except ValueError:
                return self._refuse(path, 400, "Content-Length is not a number")
            if length > MAX_REQUEST_BYTES:
                return self._refuse(path, 413, "body larger than 10 MiB (API Gateway's limit)")
            body = self.rfile.read(length) if length else None
            event = http_api_event(self.command, path, dict(self.headers.items()), body,
                                   source_ip=self.client_address[0])
            event["rawQueryString"] = query
            with lock:
                response, _ = pipeline.deliver(event)
            payload = response.get("body") or ""
            data = payload.encode() if not response.get("isBase64Encoded") else base64.b64decode(payload)
            status = response.get("statusCode", 500)
            on_answer(self.command, path, status, _parsed(data))  # reported first: the line precedes the answer
            self._reply(status, response.get("headers") or {}, data)
            with lock:
                drained = pipeline.drain()
            if drained.events or drained.problems:
                on_drained(drained)

        def _refuse(self, path: str, status: int, reason: str) -> None:
            body = {"status": "rejected", "reason": reason}
            on_answer(self.command, path, status, body)
            self._reply(status, {"content-type": "application/json"}, json.dumps(body).encode())
            self.close_connection = True

        def _reply(self, status: int, headers: dict, data: bytes) -> None:
            self.send_response(status)
            for name, value in headers.items():
                if name.lower() not in ("content-length", "connection"):
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_POST = do_GET = do_PUT = do_DELETE = do_PATCH = _invoke

    return ThreadingHTTPServer((host, port), Handler)


def _parsed(data: bytes) -> Any:
    try:
        return json.loads(data)
    except ValueError:
        return None
