"""Running `tiktok-relay serve` in the tests: a free port, waiting for it to listen, posting
signed deliveries to it, stopping it."""

from __future__ import annotations

import socket
import subprocess
import time

import urllib3

from tiktok_relay.local.apigw import shopify_headers


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_listening(port: int, process: subprocess.Popen) -> None:
    for _ in range(300):
        if process.poll() is not None:
            raise AssertionError(process.stderr.read().decode())
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise AssertionError("serve did not start listening")


class Serve:
    def __init__(self, port: int, process: subprocess.Popen):
        self.port, self.process = port, process
        self.url = f"http://127.0.0.1:{port}/webhooks/shopify"
        self.http = urllib3.PoolManager(retries=False)

    def post(self, body: bytes, secret: str, path: str = "/webhooks/shopify", **options):
        return self.http.request("POST", f"http://127.0.0.1:{self.port}{path}", body=body,
                                 headers=shopify_headers("orders/paid", body, secret, **options))

    def stop(self) -> str:
        """Stop it; its stderr."""
        self.process.terminate()
        _, err = self.process.communicate(timeout=10)
        return err.decode()


def wait_for(condition) -> None:
    for _ in range(200):  # the sender drains the queue after answering; a guard, not a timing assertion
        if condition():
            return
        time.sleep(0.05)
