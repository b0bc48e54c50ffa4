"""The browser tests skip only where Chromium is missing and could not be installed, and their skip
reason says so, quoting what the install step (make test-browser) wrote."""

from __future__ import annotations

from tests.support import storefront


def test_a_missing_chromium_is_a_skip_reason_that_quotes_the_install_log(monkeypatch, tmp_path):
    log = tmp_path / "chromium-install.log"
    log.write_text("Reading package lists...\napt-get install chromium failed (exit 100)\n")
    monkeypatch.setattr(storefront, "CHROMIUM", tmp_path / "no-chromium")
    monkeypatch.setattr(storefront, "INSTALL_LOG", log)
    monkeypatch.setattr(storefront.shutil, "which", lambda name: None)
    reason = storefront.chromium_problem()
    assert reason.startswith("Chromium is not installed") and "(apt-get install chromium failed (exit 100))" in reason
    assert "make test" in reason


def test_an_installed_chromium_is_no_reason_to_skip(monkeypatch, tmp_path):
    binary = tmp_path / "chromium"
    binary.write_text("")
    monkeypatch.setattr(storefront, "CHROMIUM", binary)
    assert storefront.chromium_problem() is None
