"""A storefront stand-in on 127.0.0.1 for the browser tests: pages the test composes (Shopify's
browser APIs stubbed in them, then the real storefront code), and `/cart/update.js`, which records
what the theme snippet writes and answers like Shopify's Ajax API.

Headless Chromium (Debian's package, driven by Playwright) runs the pages; `chromium_problem()`
says why a browser test cannot run here, for the skip reason."""

from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path

from tiktok_relay.testing.local_server import LocalServer, ServiceHandler

CHROMIUM = Path("/usr/bin/chromium")
# The network is closed here: anything Chromium does in the background only fails, noisily.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
INSTALL_LOG = Path(__file__).resolve().parents[2] / ".build" / "chromium-install.log"


def chromium_problem() -> str | None:
    """Why the browser tests cannot run on this machine (None: they can)."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is missing: pip install -e '.[dev]'"
    if not (CHROMIUM.is_file() or shutil.which("chromium")):
        why = f" ({INSTALL_LOG.read_text().strip().splitlines()[-1]})" if INSTALL_LOG.is_file() else ""
        return (f"Chromium is not installed at {CHROMIUM} and could not be installed here{why}: `make test` installs "
                "Debian's chromium package with apt-get when it runs as root")
    return None


class _Handler(ServiceHandler):
    service: StorefrontStub

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        page = self.service.pages.get(self.path.split("?", 1)[0])
        if page is None:
            self.send_body(404, b"not found", "text/plain")
            return
        self.send_body(200, page.encode("utf-8"), "text/html; charset=utf-8")

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        if self.path != "/cart/update.js":
            self.send_body(404, b"not found", "text/plain")
            return
        body = json.loads(raw)
        with self.service.lock:
            self.service.cart_updates.append(body)
            self.service.attributes.update(body.get("attributes") or {})
            cart = {"token": self.service.cart_token, "attributes": dict(self.service.attributes), "items": []}
        self.send_body(200, json.dumps(cart).encode(), "application/json")


class StorefrontStub(LocalServer):
    thread_name = "storefront-stub"
    handler_class = _Handler

    def __init__(self, port: int = 0):
        self.pages: dict[str, str] = {}
        self.cart_updates: list[dict] = []  # every body POSTed to /cart/update.js, in order
        self.attributes: dict[str, str] = {}  # the cart's attributes as the updates left them
        self.cart_token = "Z2NwLXVzLWVhc3QxOjAxSlRFU1RDQVJU"
        self.lock = threading.Lock()
        self._listen(port)

    def page(self, path: str, *scripts: str) -> str:
        """Serve a page running `scripts` in order (each a <script> element or an HTML fragment); its URL."""
        self.pages[path] = "<!doctype html><html><head><meta charset='utf-8'></head><body>\n" + "\n".join(
            scripts) + "\n</body></html>"
        return self.base_url + path
