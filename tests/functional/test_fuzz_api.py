"""schemathesis against the hub's own ``/api/v1/openapi.json``: every documented operation,
with inputs that fit the schema and inputs that break it, sent by a signed-in admin with the
CSRF header (so requests reach the handlers): never a 5xx, never an unhandled exception.

Hypothesis runs in a worker thread (schemathesis calls with ``requests``) while the hub
serves on the test's event loop. Bounded examples per operation keep it well under a minute.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from hub.model import Role
from tests.functional.conftest import Running, csrf_headers, serve, settings_for

CASES_PER_OPERATION = 20
# Signing the admin out would leave every later case unauthenticated.
SKIPPED = {("DELETE", "/api/v1/session")}


def fuzz(running: Running, raw: dict[str, Any], token: str, tally: dict[str, Any]) -> None:
    schema = schemathesis.openapi.from_dict(raw)
    headers = csrf_headers(running.base, token)
    with requests.Session() as session:
        session.cookies.set("hub_session", token)
        for result in schema.get_all_operations():
            operation = result.ok()
            key = (operation.method.upper(), operation.path)
            if key in SKIPPED:
                continue
            cases = st.one_of(
                operation.as_strategy(schemathesis.GenerationMode.POSITIVE),
                operation.as_strategy(schemathesis.GenerationMode.NEGATIVE),
            )

            @settings(
                max_examples=CASES_PER_OPERATION,
                deadline=None,
                database=None,
                phases=[
                    Phase.explicit,
                    Phase.generate,
                ],  # shrinking would replay real I/O for minutes
                suppress_health_check=list(HealthCheck),
            )
            @given(case=cases)
            def run(case: schemathesis.Case) -> None:
                response = case.call(
                    base_url=running.base, session=session, headers=headers, timeout=10
                )
                tally["cases"] += 1
                name = f"{case.method.upper()} {case.operation.path}"
                statuses = tally["operations"].setdefault(name, {})
                statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
                assert response.status_code < 500, (name, case.path_parameters, case.query,
                                                    case.body, response.text[:300])  # fmt: skip

            run()


async def test_api_schemathesis_never_500(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    async with serve(settings_for(tmp_path)) as running:
        await running.add_user("ada@example.com", "Ada Admin", Role.ADMIN)
        await running.add_user("alice@example.com", "Alice Agent")
        token = await running.sign_in("ada@example.com")
        status, raw = await running.get("/api/v1/openapi.json")
        assert status == 200
        caplog.set_level(logging.WARNING)
        tally: dict[str, Any] = {"cases": 0, "operations": {}}
        await asyncio.to_thread(fuzz, running, raw, token, tally)
        summary = "\n".join(
            f"  {op}: {dict(sorted(s.items()))}" for op, s in tally["operations"].items()
        )
        print(
            f"\nschemathesis: {tally['cases']} requests over"
            f" {len(tally['operations'])} operations\n{summary}"
        )
        crashed = [r for r in caplog.records if r.exc_info or "unhandled" in r.getMessage()]
        assert crashed == [], [r.getMessage() for r in crashed]
        methods = {"get", "put", "post", "patch", "delete", "head", "options"}
        documented = sum(len(methods & set(item)) for item in raw["paths"].values()) - len(
            SKIPPED
        )  # a path item may also hold shared "parameters"
        assert len(tally["operations"]) == documented
