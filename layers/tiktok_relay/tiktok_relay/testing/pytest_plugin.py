"""pytest fixtures shipped with the package (registered through the `pytest11` entry point).

    def test_send(fake_tiktok):
        client = TikTokClient(fake_tiktok.access_token, base_url=fake_tiktok.base_url)
        ...
        assert fake_tiktok.events[0]["event"] == "Purchase"
"""

from __future__ import annotations

import pytest

from tiktok_relay.testing.fake_tiktok import FakeTikTok


@pytest.fixture
def fake_tiktok():
    """A fresh fake TikTok Events API on 127.0.0.1 (random port) for one test.

    It stalls 0.5 s on a "timeout" fault; give clients a shorter read timeout in tests.
    """
    with FakeTikTok(stall_seconds=0.5) as fake:
        yield fake
