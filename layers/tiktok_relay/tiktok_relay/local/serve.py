"""The receiver's routes over HTTP on localhost, like `sam local start-api`, with the queue and
sender running behind it: what `tiktok-relay serve` runs (tiktok_relay/cli/serve.py). Put a
tunnel in front of it to point a development store's webhooks at your machine.

Each HTTP request becomes an API Gateway HTTP API (v2) event for the real receiver handler;
after answering, the queue is drained through the real sender handler (to the embedded fake
TikTok, or to TikTok itself when TIKTOK_ACCESS_TOKEN is set).
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tiktok_relay.local.apigw import http_api_event
from tiktok_relay.local.harness import LocalPipeline

MAX_REQUEST_BYTES = 10 * 1024 * 1024  # API Gateway HTTP API's own limit


def make_server(pipeline: LocalPipeline, port: int, host: str = "127.0.0.1", *,
                log: Callable[[str], None] = lambda line: None) -> ThreadingHTTPServer:
    """A server for `pipeline`; `log` gets one line per request (method, path, status)."""
    lock = threading.Lock()  # one invocation at a time, as one Lambda container does

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the stdlib's name
            log(f"serve: {self.command} {self.path} -> {args[1] if len(args) > 1 else ''}")

        def _invoke(self):
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_REQUEST_BYTES:
                return self._reply(413, {"content-type": "application/json"},
                                   json.dumps({"message": "Request Entity Too Large"}).encode())
            body = self.rfile.read(length) if length else None
            path, _, query = self.path.partition("?")
            event = http_api_event(self.command, path, dict(self.headers.items()), body,
                                   source_ip=self.client_address[0])
            event["rawQueryString"] = query
            with lock:
                response, _ = pipeline.deliver(event)
            payload = response.get("body") or ""
            data = payload.encode() if not response.get("isBase64Encoded") else base64.b64decode(payload)
            self._reply(response.get("statusCode", 500), response.get("headers") or {}, data)
            with lock:
                pipeline.drain()

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
