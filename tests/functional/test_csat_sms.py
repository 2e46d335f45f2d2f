"""The satisfaction survey by text: after the agent closes, "How did we do? Reply 1-5" goes
from the number the customer wrote to (unless they opted out); a bare digit back is the
rating, never new work; anything else is a conversation as usual."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from hub.model import Channel
from tests.fakes.sms_hub import CUSTOMER, HUB_NUMBER, SmsScene, sms_hub
from tests.functional.test_sessions import FakeClock
from tests.functional.test_sms import accept_text, assert_empty_messaging_response

CSAT = {"enabled": True}
SURVEY = "How did we do? Reply 1-5 (1 = poor, 5 = excellent)."


async def text(scene: SmsScene, body: str) -> None:
    assert_empty_messaging_response(
        await scene.twilio.sms(from_number=CUSTOMER, to_number=HUB_NUMBER, body=body)
    )


async def served_and_closed(scene: SmsScene, agent: Any) -> int:
    work = await accept_text(scene, agent, "My bill is wrong")
    iid = int(work["interaction_id"])
    assert (await agent.call("close", {"interaction_id": iid}))["ok"]
    return iid


async def ratings(scene: SmsScene) -> dict[int, Any]:
    token = await scene.running.sign_in("alice@example.com")
    status, listing = await scene.running.get("/api/v1/interactions?channel=sms", token)
    assert status == 200
    return {i["interaction_id"]: i["rating"] for i in listing["interactions"]}


async def test_csat_sms_survey_texted_and_bare_digit_is_the_rating(tmp_path: Path) -> None:
    async with sms_hub(tmp_path, csat=CSAT) as scene:
        agent = await scene.agent()
        iid = await served_and_closed(scene, agent)
        [survey] = await scene.api.wait_for(1)
        assert survey.form["Body"] == SURVEY
        assert (survey.form["From"], survey.form["To"]) == (HUB_NUMBER, CUSTOMER)

        await text(scene, " 4. ")
        await asyncio.sleep(0.3)
        assert agent.pending("offer") == []  # a rating, not new work
        assert (await agent.next("interaction_rated"))["rating"]["score"] == 4
        rated = (await ratings(scene))[iid]
        assert (rated["score"], rated["channel"], rated["comment"]) == (4, "sms", "")

        # The survey is answered: another digit, like any other text, is a new conversation.
        await text(scene, "5")
        offer = await agent.next("offer")
        assert offer["preview"] == "5" and offer["interaction_id"] != iid
        assert (await ratings(scene))[iid]["score"] == 4


async def test_csat_sms_other_reply_starts_a_conversation(tmp_path: Path) -> None:
    async with sms_hub(tmp_path, csat=CSAT) as scene:
        agent = await scene.agent()
        iid = await served_and_closed(scene, agent)
        await scene.api.wait_for(1)
        await text(scene, "4 stars but the bill is still wrong")
        offer = await agent.next("offer")
        assert offer["preview"] == "4 stars but the bill is still wrong"
        assert (await ratings(scene))[iid] is None


async def test_csat_sms_not_texted_to_an_opted_out_customer(tmp_path: Path) -> None:
    async with sms_hub(tmp_path, csat=CSAT) as scene:
        agent = await scene.agent()
        work = await accept_text(scene, agent, "Stop texting me after this")
        await text(scene, "STOP")
        await agent.next("opt_out")
        assert (await agent.call("close", {"interaction_id": work["interaction_id"]}))["ok"]
        await asyncio.sleep(0.3)
        assert scene.api.calls_to("/Messages.json") == []


async def test_csat_sms_disabled_queue_texts_nothing(tmp_path: Path) -> None:
    async with sms_hub(tmp_path) as scene:
        agent = await scene.agent()
        iid = await served_and_closed(scene, agent)
        await asyncio.sleep(0.3)
        assert scene.api.calls_to("/Messages.json") == []
        await text(scene, "3")
        assert (await agent.next("offer"))["preview"] == "3"
        assert (await ratings(scene))[iid] is None


async def test_csat_sms_digit_after_24_hours_is_a_new_conversation(tmp_path: Path) -> None:
    clock = FakeClock()
    async with sms_hub(tmp_path, csat=CSAT, clock=clock) as scene:
        agent = await scene.agent()
        iid = await served_and_closed(scene, agent)
        await scene.api.wait_for(1)
        clock.advance(24 * 3600 + 60)
        await text(scene, "5")
        store = scene.running.hub.store
        texts = await store.interactions(channel=Channel.SMS)
        assert [r.interaction.interaction_id for r in texts][1:] == [iid]  # a new one, first
        assert all(r.rating is None for r in texts)
