"""What the fake services share: real HTTP on 127.0.0.1, run in a background thread by tests
(`with Fake() as fake:`) or in the foreground by a command (`fake.serve_forever()`)."""

from __future__ import annotations

import socket
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    service: LocalServer  # the fake this server runs; its request handlers reach it here


class ServiceHandler(BaseHTTPRequestHandler):
    """A request handler of a fake: `self.service` is the fake it answers for."""

    protocol_version = "HTTP/1.1"
    server: _Server

    @property
    def service(self) -> LocalServer:
        return self.server.service

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - keep test output quiet
        pass

    def send_body(self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        self._send_head(status, len(body), content_type, headers)
        self.wfile.write(body)

    def _send_head(self, status: int, length: int, content_type: str, headers: dict[str, str] | None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(length))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()

    def drop_connection(self) -> None:
        """Close the connection without answering."""
        self.close_connection = True
        self.connection.close()

    def reset_connection(self) -> None:
        """Abort the connection (TCP RST, as a crashing proxy does) without answering."""
        self.close_connection = True
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()

    def send_body_dripping(self, status: int, body: bytes, content_type: str, interval: float,
                           headers: dict[str, str] | None = None) -> int:
        """The status line and headers at once, then the body one byte every `interval` seconds
        (a server that keeps a connection busy without ever finishing its answer). Stops quietly
        when the client hangs up; returns how many bytes of the body it wrote."""
        self._send_head(status, len(body), content_type, headers)
        written = 0
        try:
            for index in range(len(body)):
                self.wfile.write(body[index:index + 1])
                written += 1
                time.sleep(interval)
        except OSError:  # the client gave up (as it should) and closed the connection
            self.close_connection = True
        return written


class LocalServer:
    """Subclasses call `_listen(port)` in __init__ and name their `handler_class`."""

    thread_name = "fake-service"
    base_path = ""  # appended to the host and port in `base_url`
    handler_class: type[ServiceHandler]

    def _listen(self, port: int) -> None:
        self._server = _Server(("127.0.0.1", port), self.handler_class)
        self._server.service = self

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.base_path}"

    def start(self):
        # A short poll interval: stop() (shutdown) otherwise waits up to 0.5 s, once per test.
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                         name=self.thread_name, daemon=True).start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def close(self) -> None:
        """Release the port of a server that was never started (stop() would wait for it)."""
        self._server.server_close()

    def serve_forever(self) -> None:
        self._server.serve_forever()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
