"""The audit trail's rules (hub.audit) and its writer (hub.audit_trail) against a fake store."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import logging
from collections.abc import Collection
from datetime import UTC, datetime, timedelta

import pytest

from hub.audit import (
    REDACTED,
    Actor,
    ActorKind,
    AuditAction,
    AuditEntry,
    AuditQuery,
    csv_lines,
    csv_safe,
    jsonl_lines,
    next_cursor,
    query_from,
    redact,
)
from hub.audit_trail import Audit
from hub.errors import InvalidInput, Unavailable

NOW = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
ALICE = Actor(ActorKind.USER, "alice@example.com", 7, "203.0.113.9")


@pytest.mark.parametrize(
    ("details", "kept"),
    [
        ({"password": "hunter2hunter2"}, {"password": REDACTED}),
        (
            {"new_password": "x", "auth_token": "y"},
            {"new_password": REDACTED, "auth_token": REDACTED},
        ),
        (
            {"Session_Token": "abc", "api_key": "k"},
            {"Session_Token": REDACTED, "api_key": REDACTED},
        ),
        ({"body": "Hello, my card is 4111"}, {"body_bytes": 22}),
        ({"subject": "é"}, {"subject_bytes": 2}),
        ({"message_id": 5, "author_id": 3}, {"message_id": 5, "author_id": 3}),
        (
            {"relay": {"password": "p", "host": "smtp"}},
            {"relay": {"password": REDACTED, "host": "smtp"}},
        ),
        ({"state": AuditAction.SIGNOUT}, {"state": "signout"}),
        ({"since": NOW}, {"since": "2026-03-01T09:30:00+00:00"}),
        ({"long": "x" * 1000}, {"long": "x" * 200}),
        ({"a": {"b": {"c": {"d": 1}}}}, {"a": {"b": {"c": REDACTED}}}),
    ],
)
def test_audit_redact_keeps_ids_and_sizes_never_secrets_or_text(
    details: dict[str, object], kept: dict[str, object]
) -> None:
    assert redact(details) == kept


def test_audit_entry_redacts_whatever_a_caller_passes() -> None:
    entry = AuditEntry.of(
        NOW, ALICE, AuditAction.REPLY_SENT, target=("interaction", 12), details={"body": "secret"}
    )
    assert entry.details == {"body_bytes": 6}
    assert entry.target_id == "12"
    with pytest.raises(ValueError):
        AuditEntry.of(NOW.replace(tzinfo=None), ALICE, "x")


@pytest.mark.parametrize(
    ("cell", "shown"),
    [
        ('=HYPERLINK("http://evil")', '\'=HYPERLINK("http://evil")'),
        ("+1-555", "'+1-555"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("alice@example.com", "alice@example.com"),
        (None, ""),
        (42, "42"),
    ],
)
def test_audit_csv_cells_never_start_a_formula(cell: object, shown: str) -> None:
    assert csv_safe(cell) == shown


def test_audit_csv_and_jsonl_exports_round_trip_safely() -> None:
    evil = Actor(ActorKind.USER, "=cmd|' /C calc'!A0", None, "198.51.100.1")
    entries = [
        AuditEntry.of(NOW, evil, AuditAction.SIGNIN_FAILED),
        AuditEntry.of(NOW, ALICE, AuditAction.NOTE_ADDED, target=("interaction", 3)),
    ]
    rows = list(csv.reader(io.StringIO("".join(csv_lines(entries)))))
    assert rows[0][:3] == ["entry_id", "at", "actor_kind"]
    assert rows[1][4] == "'=cmd|' /C calc'!A0"
    assert rows[2][4:9] == ["alice@example.com", "203.0.113.9", "note.added", "interaction", "3"]
    lines = [json.loads(line) for line in jsonl_lines(entries)]
    assert lines[1]["actor"] == {
        "kind": "user",
        "actor_id": 7,
        "name": "alice@example.com",
        "address": "203.0.113.9",
    }


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"since": "yesterday"}, "since must be an ISO 8601 time"),
        ({"until": "2026-13-01"}, "until must be an ISO 8601 time"),
        ({"since": "2026-03-02", "until": "2026-03-01"}, "until must not be before since"),
        ({"cursor": "abc"}, "cursor must be a value from next_cursor"),
    ],
)
def test_audit_query_refuses_bad_filters_by_name(params: dict[str, str], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        query_from(params, limit=10)


def test_audit_query_reads_times_as_utc_and_cursor_as_before() -> None:
    q = query_from(
        {"since": "2026-03-01T10:00:00+01:00", "until": "2026-03-02Z", "cursor": "41"}, limit=5
    )
    assert q.since == NOW - timedelta(minutes=30)
    assert q.until == datetime(2026, 3, 2, tzinfo=UTC)
    assert (q.before_id, q.limit) == (41, 5)
    page = [AuditEntry.of(NOW, ALICE, "x").__class__(NOW, ALICE, "x", entry_id=i) for i in (9, 8)]
    assert next_cursor(page, 2) == "8"
    assert next_cursor(page, 3) is None


class FlakyStore:
    """An AuditStore that refuses the first ``failures`` appends (a database outage)."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.stored: list[AuditEntry] = []
        self.batches = 0

    async def append_audit(self, entries: Collection[AuditEntry]) -> None:
        if self.failures:
            self.failures -= 1
            raise Unavailable("the database is unavailable; try again shortly")
        self.batches += 1
        self.stored.extend(entries)

    async def audit_entries(self, query: AuditQuery) -> list[AuditEntry]:
        return list(reversed(self.stored))


async def test_audit_writer_keeps_entries_through_an_outage_in_order() -> None:
    store = FlakyStore(failures=2)
    audit = Audit(store, lambda: NOW, retry_initial_s=0.01)
    await audit.start()
    for n in range(5):
        audit.record(ALICE, AuditAction.AGENT_STATE_SET, details={"n": n})
    assert await audit.flush(timeout_s=5)
    assert [e.details["n"] for e in store.stored] == [0, 1, 2, 3, 4]
    audit.record(ALICE, AuditAction.SIGNOUT)
    await audit.stop()
    assert [e.action for e in store.stored][-1] == "signout"


async def test_audit_stop_logs_what_it_cannot_store(caplog: pytest.LogCaptureFixture) -> None:
    store = FlakyStore(failures=100)
    audit = Audit(store, lambda: NOW, retry_initial_s=0.001)
    audit.record(ALICE, AuditAction.NOTE_ADDED, target=("interaction", 5), details={"body": "x"})
    with caplog.at_level(logging.ERROR, logger="hub.audit_trail"):
        await audit.stop()
    lost = [r.getMessage() for r in caplog.records if "lost at shutdown" in r.getMessage()]
    assert len(lost) == 1 and '"note.added"' in lost[0] and '"body_bytes": 1' in lost[0]
    assert store.stored == []


async def test_audit_flush_without_a_writer_stores_at_once() -> None:
    store = FlakyStore()
    audit = Audit(store, lambda: NOW)
    audit.record(Actor.system("cli"), AuditAction.USER_ADDED, target=("user", 3))
    assert await audit.flush()
    assert [(e.actor.kind, e.target_id) for e in store.stored] == [(ActorKind.SYSTEM, "3")]


async def test_audit_flush_gives_up_after_its_timeout_and_keeps_the_entries() -> None:
    store = FlakyStore(failures=10_000)
    audit = Audit(store, lambda: NOW, retry_initial_s=0.01, retry_max_s=0.01)
    await audit.start()
    audit.record(ALICE, AuditAction.SIGNOUT)
    assert not await audit.flush(timeout_s=0.1)
    store.failures = 0
    assert await audit.flush(timeout_s=5)
    assert len(store.stored) == 1
    await audit.stop()
    await asyncio.sleep(0)
