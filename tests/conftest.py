"""Shared test settings: which external services the suite may use, and how strictly."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

IN_CI = os.environ.get("CI", "").lower() == "true"


def need(condition: bool, reason: str) -> None:
    """Skip locally when a service or browser is missing; fail in CI, where it must be there."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"{reason} (required when CI=true)")
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def _test_databases() -> Iterator[None]:
    """Drop the PostgreSQL databases the test's hubs ran on (HUB_TEST_BACKEND=postgresql)."""
    yield
    from tests.functional.backend import drop_created  # imports the hub: only when needed

    drop_created()
