"""Headless Chromium (Debian's package) driven by Python Playwright, against a real hub."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.conftest import need

try:  # a page's first load on a busy CI machine (cold Chromium, ES modules, catalogues) can
    # take longer than Playwright's 5 s default for an expectation to come true
    from playwright.async_api import expect

    expect.set_options(timeout=15_000)
except ImportError:  # without Playwright the browser tests are skipped (see below)
    pass
from tests.functional.conftest import Running, serve, settings_for

CHROMIUM = os.environ.get("HUB_TEST_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture
def chromium_path() -> Iterator[str]:
    need(Path(CHROMIUM).exists(), f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    yield CHROMIUM


@pytest.fixture
async def browser(chromium_path: str) -> AsyncIterator[object]:
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=chromium_path, args=ARGS)
        try:
            yield browser
        finally:
            await browser.close()


@pytest.fixture
async def live_hub(tmp_path: Path) -> AsyncIterator[Running]:
    async with serve(settings_for(tmp_path, wrap_up_s=60)) as running:
        yield running
