"""A jump of the machine's wall clock does not expire every offer at once: the hub times
offers with its steady clock (hub.clock). The same jump seen by a plain wall clock does,
which is the failure this guards against."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from hub.clock import SteadyClock
from tests.functional.conftest import connect, serve, settings_for


@pytest.mark.parametrize("steady", [True, False], ids=["steady clock", "plain wall clock"])
async def test_a_wall_clock_jump_leaves_offers_standing(tmp_path: Path, steady: bool) -> None:
    wall = [datetime.now(UTC)]
    clock: Callable[[], datetime] = SteadyClock(lambda: wall[0]) if steady else lambda: wall[0]
    # Sessions idle out after 30 minutes: here only the offers are under test.
    settings = settings_for(tmp_path, offer_timeout_s=30, HUB_SECURITY__IDLE_TIMEOUT_S="86400")
    async with serve(settings, clock) as running:
        await running.add_user("alice@example.com", "Alice")
        alice = await connect(
            running.base, "/agent", token=await running.sign_in("alice@example.com")
        )
        await alice.next("hello")
        assert (await alice.call("set_state", {"state": "available"}))["ok"]
        visitor = await connect(running.base, "/chat", auth={})
        await visitor.next("session")
        assert (await visitor.call("message", {"body": "hello"}))["ok"]
        offer = await alice.next("offer")

        wall[0] += timedelta(hours=1)  # `date -s` an hour ahead
        other = await connect(running.base, "/chat", auth={})  # any event makes the router look
        await other.next("session")
        assert (await other.call("message", {"body": "me too"}))["ok"]

        ack = await alice.call("accept", {"interaction_id": offer["interaction_id"]})
        if steady:
            assert ack.get("ok"), ack
        else:
            assert ack["error"]["code"] == "conflict", ack  # every offer expired at once
        for client in (alice, visitor, other):
            await client.close()
