"""The SQL store on the databases users run: SQLite (embedded) and PostgreSQL (scale-out).

PostgreSQL is read from HUB_TEST_DATABASE_URL (see tests/functional/postgres.py); each test
gets a fresh database that is dropped afterwards. Unreachable: skipped locally, failed in CI.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from hub.errors import IllegalTransition
from hub.lifecycle import Action
from hub.model import Channel, Identity, IdentityKind, InteractionState, Role
from hub.ports import InboundContact
from hub.storage.migrate import upgrade
from hub.storage.sql import SqlStore, make_engine
from tests.functional.backend import BACKENDS
from tests.functional.postgres import postgres_database

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


async def _postgres_store() -> AsyncIterator[SqlStore]:
    async with postgres_database() as url:
        store = SqlStore(make_engine(url))
        try:
            yield store
        finally:
            await store.close()


@pytest.fixture(params=BACKENDS)
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[SqlStore]:
    if request.param == "sqlite":
        sqlite = SqlStore(make_engine(f"sqlite+aiosqlite:///{tmp_path / 'store.db'}"))
        await upgrade(sqlite.engine)
        yield sqlite
        await sqlite.close()
        return
    async for pg in _postgres_store():
        await upgrade(pg.engine)
        yield pg


def chat(visitor: str, body: str, name: str | None = None) -> InboundContact:
    return InboundContact(
        channel=Channel.WEBCHAT,
        identity=Identity(IdentityKind.WEBCHAT, visitor),
        thread_key=visitor,
        body=body,
        display_name=name,
    )


async def test_store_burst_of_first_messages_opens_one_conversation_and_interaction(
    store: SqlStore,
) -> None:
    results = await asyncio.gather(
        *(
            store.record_inbound(
                chat("v-burst", f"message {n}"), queue="support", priority=0, now=NOW
            )
            for n in range(8)
        )
    )
    assert len({r.interaction.interaction_id for r in results}) == 1
    assert len({r.interaction.conversation_id for r in results}) == 1
    assert sum(r.interaction_created for r in results) == 1
    assert len(await store.messages(results[0].interaction.conversation_id)) == 8


async def test_store_claim_is_atomic_only_one_accept_wins(store: SqlStore) -> None:
    agent_hash = "not-a-real-hash"
    a = await store.create_user(
        email="a@example.com", name="A", role=Role.AGENT, password_hash=agent_hash, now=NOW
    )
    recorded = await store.record_inbound(chat("v1", "hi"), queue="support", priority=0, now=NOW)
    iid = recorded.interaction.interaction_id
    await store.transition(iid, Action.OFFER, now=NOW, agent_id=a.user_id)
    outcomes = await asyncio.gather(
        *(store.transition(iid, Action.ACCEPT, now=NOW, agent_id=a.user_id) for _ in range(5)),
        return_exceptions=True,
    )
    winners = [o for o in outcomes if not isinstance(o, BaseException)]
    assert len(winners) == 1 and winners[0].state is InteractionState.ASSIGNED
    assert all(isinstance(o, IllegalTransition) for o in outcomes if o not in winners)
    with pytest.raises(IllegalTransition):
        await store.transition(iid, Action.ABANDON, now=NOW)


async def test_store_last_agent_counts_the_one_still_working_on_it(store: SqlStore) -> None:
    a = await store.create_user(
        email="a@example.com", name="A", role=Role.AGENT, password_hash="x", now=NOW
    )
    recorded = await store.record_inbound(chat("v9", "hi"), queue="support", priority=0, now=NOW)
    iid, customer_id = recorded.interaction.interaction_id, recorded.interaction.customer_id
    assert await store.last_agent(customer_id, Channel.WEBCHAT) is None
    await store.transition(iid, Action.OFFER, now=NOW, agent_id=a.user_id)
    assert await store.last_agent(customer_id, Channel.WEBCHAT) is None  # only offered
    await store.transition(iid, Action.ACCEPT, now=NOW, agent_id=a.user_id)
    assert await store.last_agent(customer_id, Channel.WEBCHAT) == a.user_id
    assert await store.last_agent(customer_id, Channel.EMAIL) is None


async def test_store_customer_record_keeps_times_in_utc_and_every_step(store: SqlStore) -> None:
    recorded = await store.record_inbound(
        chat("v2", "hello", name="Dana"), queue="support", priority=2, now=NOW
    )
    iid = recorded.interaction.interaction_id
    await store.transition(iid, Action.ABANDON, now=NOW, step="abandoned")
    record = await store.customer(recorded.interaction.customer_id)
    assert record.customer.name == "Dana"
    [entry] = record.interactions
    assert entry.interaction.state is InteractionState.ABANDONED
    assert entry.interaction.abandoned_at == NOW
    assert entry.interaction.queued_at.tzinfo is not None
    assert [s.step for s in entry.steps] == ["queued", "abandoned"]
    assert [m.body for m in entry.messages] == ["hello"]
    # The conversation closed with the abandon: the next message opens a new one.
    again = await store.record_inbound(chat("v2", "back"), queue="support", priority=0, now=NOW)
    assert again.interaction.conversation_id != recorded.interaction.conversation_id
    assert again.interaction.customer_id == recorded.interaction.customer_id


def _schema_drift(connection: object) -> list[object]:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from hub.storage.tables import metadata

    def ours(obj: object, name: str | None, kind: str, reflected: bool, other: object) -> bool:
        # The knowledge base's full-text search differs by database and lies outside the
        # metadata (hub.storage.knowledge): SQLite's FTS5 table, PostgreSQL's GIN index.
        return not (name or "").startswith(("kb_articles_fts", "ix_kb_articles_fts"))

    options = {"include_object": ours}
    context = MigrationContext.configure(connection, opts=options)  # type: ignore[arg-type]
    return list(compare_metadata(context, metadata))


async def test_store_migrations_build_exactly_the_schema_the_code_uses(store: SqlStore) -> None:
    # A column added to tables.py without a migration (or the reverse) would break upgrades
    # of users' databases; alembic compares the migrated database with the code's schema.
    async with store.engine.connect() as conn:
        drift = await conn.run_sync(_schema_drift)
    assert drift == [], drift
