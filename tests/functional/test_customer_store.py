"""Customer records' storage on SQLite and PostgreSQL: merging while messages arrive (nothing
is left on the merged customer, and an unmerge moves back exactly what the merge recorded),
opposite merges at once, what lists hide, and erasure down to the channels' own tables."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from hub.lifecycle import Action
from hub.model import Channel, Identity, IdentityKind
from hub.ports import InboundContact, MailAttachment, MailDetails, SmsDetails
from hub.storage import tables as t
from hub.storage.customers import SqlCustomerStore
from hub.storage.migrate import upgrade
from hub.storage.sql import SqlStore, make_engine

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
ROUNDS = 8


@pytest.fixture
async def stores(database_url: str) -> AsyncIterator[tuple[SqlStore, SqlCustomerStore]]:
    store = SqlStore(make_engine(database_url))
    await upgrade(store.engine)
    try:
        yield store, SqlCustomerStore(store)
    finally:
        await store.close()


def chat(visitor: str, thread: str, text: str) -> InboundContact:
    return InboundContact(Channel.WEBCHAT, Identity(IdentityKind.WEBCHAT, visitor), thread, text)


async def owners(store: SqlStore, table: t.Table, where: object) -> set[int]:
    async with store.engine.connect() as conn:
        return set((await conn.execute(select(table.c.customer_id).where(where))).scalars())


async def test_messages_arriving_during_a_merge_land_on_the_survivor(
    stores: tuple[SqlStore, SqlCustomerStore],
) -> None:
    store, customers = stores
    for n in range(ROUNDS):
        keep = await customers.create({"name": "Keep"}, [], now=NOW)
        visitor = Identity(IdentityKind.WEBCHAT, f"v-{n}")
        dup = await customers.create({"name": "Dup"}, [visitor], now=NOW)
        first = await store.record_inbound(
            chat(visitor.value, f"t-{n}", "first"), queue="support", priority=0, now=NOW
        )
        # A new thread and the open one both get a message while the merge runs.
        merge, *arrived = await asyncio.gather(
            customers.merge(keep.customer_id, dup.customer_id, by_user_id=None, now=NOW),
            store.record_inbound(
                chat(visitor.value, f"t-{n}", "second"), queue="support", priority=0, now=NOW
            ),
            store.record_inbound(
                chat(visitor.value, f"new-{n}", "other"), queue="support", priority=0, now=NOW
            ),
        )
        ids = {first.interaction.interaction_id} | {a.interaction.interaction_id for a in arrived}
        where_i = t.interactions.c.interaction_id.in_(ids)
        assert await owners(store, t.interactions, where_i) == {keep.customer_id}, n
        convs = {first.interaction.conversation_id} | {
            a.interaction.conversation_id for a in arrived
        }
        where_c = t.conversations.c.conversation_id.in_(convs)
        assert await owners(store, t.conversations, where_c) == {keep.customer_id}, n
        assert first.interaction.interaction_id in merge.moved.interactions

        # Unmerge moves back what the merge recorded, with the conversations' later work.
        await customers.unmerge(keep.customer_id, dup.customer_id, now=NOW)
        moved_back = t.interactions.c.interaction_id.in_(merge.moved.interactions)
        assert await owners(store, t.interactions, moved_back) == {dup.customer_id}
        assert (await customers.profile(dup.customer_id)).merged_into is None


async def test_opposite_merges_at_once_one_wins_and_nothing_is_lost(
    stores: tuple[SqlStore, SqlCustomerStore],
) -> None:
    _, customers = stores
    a = await customers.create({"name": "A"}, [Identity(IdentityKind.WEBCHAT, "va")], now=NOW)
    b = await customers.create({"name": "B"}, [Identity(IdentityKind.WEBCHAT, "vb")], now=NOW)
    results = await asyncio.gather(
        customers.merge(a.customer_id, b.customer_id, by_user_id=None, now=NOW),
        customers.merge(b.customer_id, a.customer_id, by_user_id=None, now=NOW),
        return_exceptions=True,
    )
    won = [r for r in results if not isinstance(r, BaseException)]
    assert len(won) == 1, results
    survivor = won[0].survivor_id
    profile = await customers.profile(survivor)
    assert {i.value for i in profile.identities} == {"va", "vb"}


async def test_a_visitor_folded_in_by_the_pre_chat_form_is_not_listed(
    stores: tuple[SqlStore, SqlCustomerStore],
) -> None:
    store, customers = stores
    known = await customers.create(
        {"name": "Known"}, [Identity(IdentityKind.EMAIL, "k@example.com")], now=NOW
    )
    anon = await store.record_inbound(
        chat("v-anon", "t-anon", "hi"), queue="support", priority=0, now=NOW
    )
    visitor = Identity(IdentityKind.WEBCHAT, "v-anon")
    identified = await store.identify(visitor, name=None, email="k@example.com", now=NOW)
    # The visitor's own record is folded into the known customer: a merge, said so.
    assert (identified.customer_id, identified.change, identified.merged_id) == (
        known.customer_id,
        "merged",
        anon.interaction.customer_id,
    )
    listed = await customers.all_live(after_id=None, limit=10)
    assert [p.customer_id for p in listed] == [known.customer_id]


async def test_erasure_removes_mail_and_text_details_and_keeps_the_interactions(
    stores: tuple[SqlStore, SqlCustomerStore],
) -> None:
    store, customers = stores
    sender = Identity(IdentityKind.EMAIL, "erin@example.com")
    mail = MailDetails(
        header_message_id="<m1@example.com>",
        subject="My card 4111",
        from_address="erin@example.com",
        mailbox="support@hub.example",
        reply_address="erin@example.com",
        from_name="Erin",
        html="<p>My card 4111</p>",
        attachments=(MailAttachment("id.pdf", "application/pdf", 3, b"PDF"),),
        raw=b"raw mail",
    )
    got = await store.record_inbound(
        InboundContact(Channel.EMAIL, sender, "", "My card 4111", "Erin", mail=mail),
        queue="support",
        priority=0,
        now=NOW,
    )
    text = await store.record_inbound(
        InboundContact(
            Channel.SMS,
            Identity(IdentityKind.PHONE, "+14155550100"),
            "sms:+14155550199:+14155550100",
            "call me",
            sms=SmsDetails("+14155550199", "+14155550100", message_sid="SM1"),
        ),
        queue="support",
        priority=0,
        now=NOW,
    )
    cid = got.interaction.customer_id
    keep = await customers.create({"name": "Other"}, [], now=NOW)
    await customers.merge(cid, text.interaction.customer_id, by_user_id=None, now=NOW)
    for recorded in (got, text):
        await store.transition(recorded.interaction.interaction_id, Action.ABANDON, now=NOW)

    erased = await customers.erase(cid, now=NOW)
    assert erased["identities"] == 2 and erased["attachments"] == 1

    async with store.engine.connect() as conn:
        dump = repr(
            [
                (await conn.execute(select(table))).all()
                for table in (
                    t.customers,
                    t.identities,
                    t.conversations,
                    t.messages,
                    t.email_messages,
                    t.email_attachments,
                    t.email_threads,
                    t.sms_messages,
                    t.notes,
                )
            ]
        )
        states = (await conn.execute(select(t.interactions.c.state))).scalars().all()
    for personal in ("4111", "erin", "Erin", "14155550100", "raw mail", "PDF"):
        assert personal not in dump, personal
    assert states == ["abandoned", "abandoned"]  # kept for statistics
    assert (await customers.profile(keep.customer_id)).name == "Other"
