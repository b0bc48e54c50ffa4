"""The coverage report's arithmetic and shape (pipeline/reconcile.py): every order in exactly one
outcome, the counts add up, the JSON object keeps its keys, the web share counts what webhooks
delivered; the window refuses what the ledger cannot answer; a scheduled run skips a shop the
deadline leaves no time for and reports one that fails."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tiktok_relay.errors import ConfigurationError, UsageError
from tiktok_relay.pipeline.reconcile import (
    OUTCOMES,
    OrderOutcome,
    ReconcileTarget,
    Report,
    ScheduledReconcile,
    Window,
)
from tiktok_relay.sources.common.result import IGNORED_REASONS

NOW = 1_800_000_000.0
WINDOW = Window(datetime.fromtimestamp(NOW - 86400, UTC), datetime.fromtimestamp(NOW, UTC))

outcomes = st.builds(
    lambda outcome, reason, channel, source: OrderOutcome(
        "1", "#1", channel, outcome, ignored=reason if outcome == "ignored" else None,
        event_source=None if outcome == "ignored" else source),
    st.sampled_from(OUTCOMES), st.sampled_from(IGNORED_REASONS), st.sampled_from(["web", "pos", "2604537"]),
    st.sampled_from(["web", "offline"]))


@settings(max_examples=200, deadline=None)
@given(st.lists(outcomes, max_size=30))
def test_the_counts_always_add_up_in_all_and_per_channel(orders):
    data = Report("s.myshopify.com", WINDOW, False, False, 172800.0, orders).to_json()
    for counts in [data, *data["channels"].values()]:
        assert counts["orders"] == sum(counts[o] for o in OUTCOMES[1:]) + sum(counts["ignored"].values())
    assert sum(c["orders"] for c in data["channels"].values()) == data["orders"] == len(orders)
    assert len(data["missed"]) + len(data["ignored_orders"]) + data["delivered"] + data["reconciled"] == len(orders)
    share = data["web_delivered_share"]
    assert share is None or 0 <= share <= 1


def test_the_json_object_keeps_its_keys():
    data = Report("s.myshopify.com", WINDOW, True, False, None, []).to_json()
    assert list(data) == ["version", "shop", "since", "until", "dry_run", "force", "max_event_age_seconds", "orders",
                          "delivered", "reconciled", "sent", "queued", "would_send", "old", "failed", "ignored",
                          "web_orders", "web_delivered_share", "channels", "missed", "ignored_orders", "problems"]
    assert (data["version"], data["since"], data["until"]) == (1, "2027-01-14T08:00:00Z", "2027-01-15T08:00:00Z")
    assert data["web_delivered_share"] is None and data["max_event_age_seconds"] is None


def test_the_web_share_counts_webhook_deliveries_of_pixel_orders_only():
    def web(outcome: str) -> OrderOutcome:
        return OrderOutcome("1", None, "web", outcome, event_source="web")

    orders = [web("delivered"), web("delivered"), web("reconciled"), web("old"),
              OrderOutcome("2", None, "pos", "delivered", event_source="offline"),
              OrderOutcome("3", None, "web", "ignored", ignored="consent")]
    report = Report("s.myshopify.com", WINDOW, False, False, 172800.0, orders)
    assert len(report.web_orders) == 4 and report.web_delivered_share == 0.5
    assert report.undelivered == 1


@pytest.mark.parametrize(("since", "until", "retention", "message"), [
    (NOW, NOW - 60, None, "--since must be before --until"),
    (NOW - 60, NOW + 3600, None, "--until is in the future"),
    (NOW - 9 * 86400, NOW, 8 * 86400.0, "further than the ledger remembers deliveries (8 days)"),
])
def test_a_window_the_ledger_cannot_answer_for_is_refused(since, until, retention, message):
    window = Window(datetime.fromtimestamp(since, UTC), datetime.fromtimestamp(until, UTC))
    with pytest.raises(UsageError, match=message.replace("(", r"\(").replace(")", r"\)")):
        window.check(NOW, retention)


def test_a_file_ledger_remembers_for_ever_so_any_past_window_is_answered():
    Window(datetime.fromtimestamp(NOW - 60 * 86400, UTC), datetime.fromtimestamp(NOW, UTC)).check(NOW, None)


class NoLedger:
    retention_seconds = None

    def delivered(self, keys):
        return {}

    def record(self, entries):
        raise AssertionError("a scheduled run records nothing itself")


class Nowhere:
    success = "queued"

    def send(self, deliveries):
        return {d.webhook_id: None for d in deliveries}


def target(shop: str, orders) -> ReconcileTarget:
    from tiktok_relay.sources.shopify.receiver import ShopifySource
    from tiktok_relay.sources.shopify.settings import ShopifySettings

    return ReconcileTarget(shop, ShopifySource(secrets=None, settings=ShopifySettings(), pixel_id="CPIXEL"), orders)


def test_a_scheduled_run_reports_a_failing_shop_and_goes_on_and_skips_what_it_has_no_time_for():
    def refused(since, until):
        raise ConfigurationError("SHOPIFY_SHOP is wrong")

    windows = []
    clock = iter([0.0, 10.0, 90.0])  # monotonic: each shop started later; the deadline is at 100
    run = ScheduledReconcile(
        targets=lambda: [target("a.myshopify.com", refused),
                         target("b.myshopify.com", lambda since, until: windows.append((since, until)) or []),
                         target("c.myshopify.com", lambda since, until: [])],
        ledger=NoLedger(), dispatch=Nowhere(), window_seconds=6 * 3600, max_event_age=172800.0,
        clock=lambda: NOW, monotonic=lambda: next(clock))

    runs = run.run(deadline=100.0)

    assert [(r.shop, r.report is not None) for r in runs] == [
        ("a.myshopify.com", False), ("b.myshopify.com", True), ("c.myshopify.com", False)]
    assert runs[0].error == "not reconciled: SHOPIFY_SHOP is wrong"
    assert runs[2].error.startswith("not reconciled: no time left in this run")
    [(since, until)] = windows
    assert until.timestamp() == NOW - 600 and since.timestamp() == NOW - 600 - 6 * 3600
