"""SMS through Twilio on a real hub: Twilio's side plays signed webhooks, the hub's real SDK
client talks to a local fake Twilio API, and agents are Socket.IO clients. Assertions are
what a customer or an agent would notice: who gets the text, what reaches Twilio, what the
agent's console is told."""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text

from hub.storage import tables as t
from tests.fakes.sms_hub import AUTH_TOKEN, CUSTOMER, HUB_NUMBER, SmsScene, sms_hub
from tests.fakes.twilio_webhooks import Answer, message_sid


def assert_empty_messaging_response(answer: Answer) -> None:
    assert answer.status == 200, answer.text
    assert answer.content_type == "text/xml"
    root = ET.fromstring(answer.text)
    assert root.tag == "Response"
    assert list(root) == []  # no auto-reply: Twilio sends nothing back to the customer


async def message_count(scene: SmsScene) -> int:
    async with scene.running.hub.store.engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(t.messages))).scalar_one())


@pytest.fixture
async def scene(tmp_path: Path) -> Any:
    async with sms_hub(tmp_path) as s:
        yield s


async def accept_text(scene: SmsScene, agent: Any, body: str) -> dict[str, Any]:
    assert_empty_messaging_response(
        await scene.twilio.sms(from_number=CUSTOMER, to_number=HUB_NUMBER, body=body)
    )
    offer = await agent.next("offer")
    ack = await agent.call("accept", {"interaction_id": offer["interaction_id"]})
    assert ack.get("ok"), ack
    work: dict[str, Any] = ack["work"]
    return work


async def test_sms_in_routed_reply_out_and_delivery_shown(
    scene: SmsScene, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    agent = await scene.agent()

    answer = await scene.twilio.sms(
        from_number="+1 (415) 555-0123", to_number=HUB_NUMBER, body="Where is my order?"
    )
    assert_empty_messaging_response(answer)
    offer = await agent.next("offer")
    assert offer["channel"] == "sms"
    assert offer["queue"] == "texts"
    assert offer["preview"] == "Where is my order?"
    assert offer["customer"]["contact"] == "+14155550123"  # who it is, without a name
    interaction = await scene.running.hub.store.interaction(offer["interaction_id"])
    assert interaction.attributes["address"] == HUB_NUMBER  # what routing rules see

    ack = await agent.call("accept", {"interaction_id": offer["interaction_id"]})
    work = ack["work"]
    assert work["sms"]["customer_number"] == CUSTOMER  # normalised to E.164
    assert work["sms"]["hub_number"] == HUB_NUMBER
    assert work["sms"]["opted_out"] is False
    assert work["sms"]["max_chars"] == 1600

    sent = await agent.call(
        "send_message", {"interaction_id": work["interaction_id"], "body": "It ships today."}
    )
    assert sent.get("ok"), sent
    message_id = sent["message"]["message_id"]
    [call] = await scene.api.wait_for(1)
    assert call.form["Body"] == "It ships today."
    assert call.form["From"] == HUB_NUMBER  # the number the customer wrote to
    assert call.form["To"] == CUSTOMER
    callback = call.form["StatusCallback"]
    assert callback == f"{scene.twilio.public_url}/twilio/sms/status?message_id={message_id}"
    queued = await agent.wait_for("message_details", lambda d: d["message_id"] == message_id)
    assert queued["sms"]["status"] == "queued"
    assert queued["interaction_id"] == work["interaction_id"]

    twilio_sid = scene.api.messages[0]["sid"]
    for status in ("sent", "delivered"):
        answer = await scene.twilio.status(callback, sid=twilio_sid, status=status)
        assert answer.status < 300
        shown = await agent.next("message_details")
        assert (shown["message_id"], shown["sms"]["status"]) == (message_id, status)
    # A late, out-of-order "sent" never hides "delivered".
    assert (await scene.twilio.status(callback, sid=twilio_sid, status="sent")).status < 300
    found = await scene.running.hub.store.user_by_email("alice@example.com")
    assert found is not None
    [item] = (await scene.running.hub.desk.hello(found[0]))["work"]  # what a reload shows
    assert item["sms"]["messages"][str(message_id)]["status"] == "delivered"
    status, got = await scene.running.get(  # and what the customer page reads later
        f"/api/v1/interactions/{work['interaction_id']}",
        await scene.running.sign_in("alice@example.com"),
    )
    assert status == 200 and got["sms"]["messages"][str(message_id)]["status"] == "delivered"

    # Another text from the customer continues the same conversation with the same agent.
    await scene.twilio.sms(from_number=CUSTOMER, to_number=HUB_NUMBER, body="Thanks!")
    more = await agent.wait_for("message", lambda d: d["message"]["direction"] == "in")
    assert more["interaction_id"] == work["interaction_id"]
    assert more["message"]["body"] == "Thanks!"
    status, record = await scene.running.get(
        f"/api/v1/customers/{work['customer']['customer_id']}",
        await scene.running.sign_in("alice@example.com"),
    )
    assert status == 200
    assert [(i["kind"], i["value"]) for i in record["identities"]] == [("phone", CUSTOMER)]

    assert AUTH_TOKEN not in caplog.text  # the token is never logged


async def test_sms_duplicate_webhook_is_stored_once(scene: SmsScene) -> None:
    agent = await scene.agent()
    form = scene.twilio.sms_form(
        from_number=CUSTOMER, to_number=HUB_NUMBER, body="hello", sid=message_sid()
    )
    first = await scene.twilio.post("/twilio/sms", form)
    assert_empty_messaging_response(first)
    before = await message_count(scene)
    again = await scene.twilio.post("/twilio/sms", form)  # Twilio retries the same MessageSid
    assert_empty_messaging_response(again)
    assert await message_count(scene) == before
    await agent.next("offer")
    offer = await agent.call("accept", {"interaction_id": 1})
    assert [m["body"] for m in offer["work"]["messages"]] == ["hello"]


@pytest.mark.parametrize("signature", [None, "bad-signature", "wrong-url"])
async def test_sms_webhook_without_valid_signature_is_refused(
    scene: SmsScene, signature: str | None
) -> None:
    agent = await scene.agent()
    form = scene.twilio.sms_form(from_number=CUSTOMER, to_number=HUB_NUMBER, body="hi")
    if signature == "wrong-url":
        answer = await scene.twilio.post(
            "/twilio/sms", form, signed_url=scene.twilio.public_url + "/twilio/other"
        )
    else:
        answer = await scene.twilio.post("/twilio/sms", form, signature=signature)
    assert answer.status == 403
    tampered = {**form, "Body": "changed after signing"}
    good_signature = scene.twilio.sign(scene.twilio.public_url + "/twilio/sms", form)
    assert (
        await scene.twilio.post("/twilio/sms", tampered, signature=good_signature)
    ).status == 403
    status = await scene.twilio.post(
        "/twilio/sms/status?message_id=1",
        {"MessageSid": message_sid(), "MessageStatus": "delivered"},
        signature=None,
    )
    assert status.status == 403
    assert await message_count(scene) == 0
    assert agent.pending("offer") == []


async def test_sms_signature_is_checked_on_the_public_url(tmp_path: Path) -> None:
    # Behind a proxy: Twilio calls https://support.example.com/..., the hub listens locally.
    async with sms_hub(tmp_path, public_url="https://support.example.com") as scene:
        form = scene.twilio.sms_form(from_number=CUSTOMER, to_number=HUB_NUMBER, body="hi")
        local = scene.running.base + "/twilio/sms"
        signed_locally = await scene.twilio.post("/twilio/sms", form, signed_url=local)
        assert signed_locally.status == 403
        assert_empty_messaging_response(await scene.twilio.post("/twilio/sms", form))


async def test_sms_stop_opts_out_then_replies_are_refused_until_start(scene: SmsScene) -> None:
    agent = await scene.agent()
    work = await accept_text(scene, agent, "Hi, question about billing")
    interaction_id = work["interaction_id"]

    assert_empty_messaging_response(
        await scene.twilio.sms(from_number=CUSTOMER, to_number=HUB_NUMBER, body=" Stop ")
    )
    shown = await agent.wait_for("message", lambda d: d["message"]["direction"] == "in")
    assert shown["message"]["body"] == " Stop "  # recorded on the conversation the agent sees
    opt_out = await agent.next("opt_out")
    assert opt_out == {
        "interaction_id": interaction_id,
        "channel": "sms",
        "address": CUSTOMER,
        "opted_out": True,
    }
    refused = await agent.call("send_message", {"interaction_id": interaction_id, "body": "Ok?"})
    assert refused["error"]["code"] == "conflict"
    assert "STOP" in refused["error"]["message"]
    assert scene.api.calls_to("/Messages.json") == []  # nothing went to Twilio
    assert agent.pending("offer") == []  # the keyword is not new work

    await scene.twilio.sms(from_number=CUSTOMER, to_number=HUB_NUMBER, body="START")
    assert (await agent.next("opt_out"))["opted_out"] is False
    ok = await agent.call(
        "send_message", {"interaction_id": interaction_id, "body": "Welcome back"}
    )
    assert ok.get("ok"), ok
    [call] = await scene.api.wait_for(1)
    assert call.form["Body"] == "Welcome back"


async def test_sms_keywords_never_become_work(scene: SmsScene) -> None:
    agent = await scene.agent()
    for body in ("STOP", "help", "UNSTOP"):
        assert_empty_messaging_response(
            await scene.twilio.sms(from_number=CUSTOMER, to_number=HUB_NUMBER, body=body)
        )
    assert await message_count(scene) == 3  # recorded
    assert agent.pending("offer") == []
    assert not await scene.running.hub.store.interactions()
    # A sentence that merely contains the word is a message for an agent.
    await scene.twilio.sms(from_number=CUSTOMER, to_number=HUB_NUMBER, body="please stop the order")
    assert (await agent.next("offer"))["preview"] == "please stop the order"


async def test_sms_reply_over_1600_characters_is_refused_before_sending(scene: SmsScene) -> None:
    agent = await scene.agent()
    work = await accept_text(scene, agent, "Tell me everything")
    refused = await agent.call(
        "send_message", {"interaction_id": work["interaction_id"], "body": "x" * 1601}
    )
    assert refused["error"]["code"] == "invalid_input"
    assert "1,601 characters" in refused["error"]["message"]
    assert "1,600" in refused["error"]["message"]
    longest = await agent.call(
        "send_message", {"interaction_id": work["interaction_id"], "body": "y" * 1600}
    )
    assert longest.get("ok"), longest
    [call] = await scene.api.wait_for(1)
    assert call.form["Body"] == "y" * 1600


async def test_sms_reply_twilio_refuses_is_marked_failed_with_the_reason(scene: SmsScene) -> None:
    agent = await scene.agent()
    work = await accept_text(scene, agent, "hello")
    scene.api.fail_messages = (400, 21211, "The 'To' number +14155550123 is not a valid number.")
    sent = await agent.call(
        "send_message", {"interaction_id": work["interaction_id"], "body": "Hi"}
    )
    assert sent.get("ok"), sent  # stored first: the agent sees it, and then why it failed
    failed = await agent.next("message_details")
    assert failed["message_id"] == sent["message"]["message_id"]
    assert failed["sms"]["status"] == "failed"
    assert failed["sms"]["error_code"] == "21211"
    assert "not a valid phone number" in failed["sms"]["error"]


async def test_sms_twilio_opt_out_error_marks_the_customer_opted_out(scene: SmsScene) -> None:
    agent = await scene.agent()
    work = await accept_text(scene, agent, "hello")
    scene.api.fail_messages = (400, 21610, "Attempt to send to unsubscribed recipient")
    await agent.call("send_message", {"interaction_id": work["interaction_id"], "body": "Hi"})
    assert (await agent.next("opt_out"))["opted_out"] is True
    again = await agent.call(
        "send_message", {"interaction_id": work["interaction_id"], "body": "?"}
    )
    assert again["error"]["code"] == "conflict"
    assert len(scene.api.calls_to("/Messages.json")) == 1


async def test_sms_mms_media_is_kept_on_the_message(scene: SmsScene) -> None:
    agent = await scene.agent()
    media = [
        ("https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1", "image/jpeg"),
        (
            "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME2",
            "application/pdf",
        ),
    ]
    await scene.twilio.sms(
        from_number=CUSTOMER, to_number=HUB_NUMBER, body="Photo of the damage", media=media
    )
    offer = await agent.next("offer")
    ack = await agent.call("accept", {"interaction_id": offer["interaction_id"]})
    [message] = ack["work"]["messages"]
    details = ack["work"]["sms"]["messages"][str(message["message_id"])]
    assert [(m["url"], m["content_type"]) for m in details["media"]] == media


async def test_sms_webhook_answers_5xx_when_the_database_cannot_commit(scene: SmsScene) -> None:
    async with scene.running.hub.store.engine.begin() as conn:
        await conn.execute(text("ALTER TABLE sms_messages RENAME TO sms_messages_gone"))
    answer = await scene.twilio.sms(from_number=CUSTOMER, to_number=HUB_NUMBER, body="hello?")
    assert answer.status >= 500  # Twilio then calls the number's fallback URL
    assert await message_count(scene) == 0  # nothing half-written


async def test_sms_to_a_number_not_configured_for_sms_is_refused(scene: SmsScene) -> None:
    answer = await scene.twilio.sms(from_number=CUSTOMER, to_number="+14155550199", body="hi")
    assert answer.status == 404
    assert "+14155550199" in answer.text
    bad = await scene.twilio.sms(from_number="not-a-number", to_number=HUB_NUMBER, body="hi")
    assert bad.status == 400
    assert "From" in bad.text
