"""Fixtures for the browser tests: Debian's headless Chromium driven by Playwright (never a browser
Playwright downloads), a fresh browser context per test, and the storefront stand-in on 127.0.0.1.
They skip, saying why, only where Chromium is not installed and could not be."""

from __future__ import annotations

import pytest

from tests.support.storefront import CHROMIUM, CHROMIUM_ARGS, StorefrontStub, chromium_problem


@pytest.fixture(scope="session")
def chromium():
    problem = chromium_problem()
    if problem:
        pytest.skip(problem)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        # launch() gives the browser a fresh temporary profile (its own --user-data-dir) and --headless.
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def storefront():
    with StorefrontStub() as stub:
        yield stub


@pytest.fixture
def page(chromium, storefront):
    """A page in a new context (its own cookies and storage); an error thrown by a page script fails the test."""
    context = chromium.new_context()
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert errors == [], errors
