"""What the fake services share: real HTTP on 127.0.0.1, run in a background thread by tests
(`with Fake() as fake:`) or in the foreground by a command (`fake.serve_forever()`)."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class LocalServer:
    """Subclasses call `_listen(port)` in __init__ and implement `_handler_class()`."""

    thread_name = "fake-service"
    base_path = ""  # appended to the host and port in `base_url`

    def _listen(self, port: int) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", port), self._handler_class())
        self._server.daemon_threads = True

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        raise NotImplementedError

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
