"""When the hub cannot commit, Twilio's webhooks get a 5xx (so the number's fallback URL
takes over, as the README says) and nothing is half-written; the same webhook delivered
again once the database is back is stored once. The database really fails here: the
``messages`` table is renamed away for the length of one webhook."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from sqlalchemy import select, text

from hub.storage import tables as t
from tests.fakes.sms_hub import CUSTOMER, HUB_NUMBER, sms_hub
from tests.fakes.voice_hub import voice_hub
from tests.functional.test_voice import count


@contextlib.asynccontextmanager
async def messages_table_gone(store: Any) -> AsyncIterator[None]:
    async with store.engine.begin() as conn:
        await conn.execute(text("ALTER TABLE messages RENAME TO messages_away"))
    try:
        yield
    finally:
        async with store.engine.begin() as conn:
            await conn.execute(text("ALTER TABLE messages_away RENAME TO messages"))


async def test_voice_menu_choice_answers_5xx_when_nothing_can_be_committed(
    tmp_path: Path,
) -> None:
    async with voice_hub(tmp_path) as s:
        agent = await s.agent()
        flow = s.call()
        menu = await flow.ring()
        store = s.running.hub.store
        async with messages_table_gone(store):
            gather = menu.first("Gather")
            answer = await flow.post(gather.attrib["action"], flow.form(Digits="1"))
            assert answer.status >= 500, answer.text
        # Nothing half-written: no interaction, no message, the call still in the menu.
        assert await count(s, t.interactions) == 0
        assert await count(s, t.messages) == 0
        async with store.engine.connect() as conn:
            query = select(t.voice_calls.c.stage, t.voice_calls.c.interaction_id)
            assert (await conn.execute(query)).all() == [("ivr", None)]
        assert agent.pending("offer") == []
        # Twilio (or the caller, through the fallback) tries again: queued once.
        flow.last = menu
        assert (await flow.press("1")).verbs == ["Enqueue"]
        assert await count(s, t.interactions) == 1
        offer = await agent.next("offer")
        assert offer["channel"] == "voice"


async def test_sms_answers_5xx_when_nothing_can_be_committed(tmp_path: Path) -> None:
    async with sms_hub(tmp_path) as s:
        agent = await s.agent()
        form = s.twilio.sms_form(from_number=CUSTOMER, to_number=HUB_NUMBER, body="Hello?")
        async with messages_table_gone(s.running.hub.store):
            answer = await s.twilio.post("/twilio/sms", form)
            assert answer.status >= 500, answer.text
        async with s.running.hub.store.engine.connect() as conn:
            rows = await conn.execute(text("SELECT count(*) FROM interactions"))
            assert rows.scalar_one() == 0
        assert agent.pending("offer") == []
        # Twilio retries the same MessageSid: stored and routed once.
        retried = await s.twilio.post("/twilio/sms", form)
        assert retried.status == 200, retried.text
        again = await s.twilio.post("/twilio/sms", form)
        assert again.status == 200
        offer = await agent.next("offer")
        assert offer["channel"] == "sms"
        async with s.running.hub.store.engine.connect() as conn:
            rows = await conn.execute(text("SELECT count(*) FROM messages"))
            assert rows.scalar_one() == 1


async def test_voice_voicemail_answers_5xx_then_is_taken_on_the_retry(tmp_path: Path) -> None:
    async with voice_hub(tmp_path, closed=True) as s:
        agent = await s.agent()
        flow = s.call()
        record = (await flow.ring()).first("Record")
        url = "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE5"
        await flow.follow(record.attrib["action"], RecordingUrl=url, RecordingDuration="9")
        callback = record.attrib["recordingStatusCallback"]
        async with messages_table_gone(s.running.hub.store):
            failed = await flow.post(callback, flow.recording_form(url, 9))
            assert failed.status >= 500, failed.text
        assert await count(s, t.interactions) == 0
        assert agent.pending("offer") == []
        # Twilio delivers the recording callback again: the voicemail is taken once.
        assert (await flow.post(callback, flow.recording_form(url, 9))).status == 204
        assert (await flow.post(callback, flow.recording_form(url, 9))).status == 204
        offer = await agent.next("offer")
        assert url in offer["preview"]
        assert await count(s, t.interactions) == 1
