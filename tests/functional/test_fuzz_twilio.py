"""Every ``/twilio/*`` webhook under random, missing and oversized fields, each request signed
exactly as Twilio signs it (so it passes the gate and reaches the handler): the answer is a
clear 4xx or a valid TwiML document, never a 5xx or an unhandled exception in the log, and a
refused request writes nothing.

Hypothesis runs in a worker thread posting with urllib, while the hub serves on the test's
event loop; the database is a SQLite file the thread counts rows in directly.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from xml.etree import ElementTree

import pytest
from aiohttp import web
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator

from tests.fakes.sms_hub import ACCOUNT_SID, AUTH_TOKEN, HUB_NUMBER
from tests.fakes.voice_hub import BROWSER_PHONE, CALLER, VOICE_NUMBER, voice_hub

CASES = 300
TABLES = ("customers", "identities", "conversations", "interactions", "messages", "notes")
FIELDS = (
    "AccountSid", "ApiVersion", "Body", "CallDuration", "CallSid", "CallStatus", "Called",
    "Caller", "CallerName", "ConferenceSid", "Digits", "Direction", "ErrorCode", "From",
    "FriendlyName", "Hold", "MediaContentType0", "MediaUrl0", "MessageSid", "MessageStatus",
    "NumMedia", "NumSegments", "ParentCallSid", "QueueResult", "QueueTime", "RecordingDuration",
    "RecordingSid", "RecordingStatus", "RecordingUrl", "SequenceNumber", "SmsSid", "SmsStatus",
    "SpeechResult", "StatusCallbackEvent", "Timestamp", "To",
)  # fmt: skip
QUERY_KEYS = (
    "interaction_id", "path", "attempt", "silent", "kind", "then", "call", "agent_id",
    "message_id", "queue",
)  # fmt: skip
NUMBERS = st.sampled_from(
    [CALLER, VOICE_NUMBER, HUB_NUMBER, "+1", "client:alice", "anonymous", "266696687", ""]
)
NUMERIC = st.sampled_from(
    ["0", "1", "2", "-1", "1.5", "1e309", "NaN", "inf", " 3", "99999999999999999999999", ""]
)
STATUSES = st.sampled_from(
    [
        "queued", "ringing", "in-progress", "completed", "busy", "no-answer", "failed",
        "canceled", "sent", "delivered", "undelivered", "received", "absent", "bridged",
        "hangup", "redirected", "leave", "error", "system-error", "participant-join",
        "participant-leave", "conference-end", "conference-start", "STOP", "START", "HELP",
    ]
)  # fmt: skip
SIDS = st.sampled_from(["CA" + "0" * 32, "CA" + "1" * 32, "SM" + "0" * 32, "CF" + "0" * 32, "RE1"])
SMALL = st.one_of(
    NUMBERS,
    NUMERIC,
    STATUSES,
    SIDS,
    st.text(max_size=40),
    st.sampled_from(["https://api.twilio.com/rec/RE1", "javascript:alert(1)", "1.2.3", "*#"]),
)
# Form fields may be oversized; the query is our own URL's, so it stays within a request line.
VALUE = st.one_of(SMALL, st.integers(2_000, 300_000).map(lambda n: "9" * n))


@st.composite
def webhook(draw: st.DrawFn, paths: list[str]) -> tuple[str, dict[str, str], dict[str, str]]:
    path = draw(st.sampled_from(paths))
    query = draw(st.dictionaries(st.sampled_from(QUERY_KEYS), SMALL, max_size=3))
    # A plausible form (so handlers get past the first check), then fields replaced by
    # random or oversized values, random extra fields, and fields dropped.
    form = {
        "AccountSid": ACCOUNT_SID,
        "CallSid": draw(SIDS),
        "MessageSid": draw(SIDS),
        "From": CALLER,
        "To": draw(st.sampled_from([VOICE_NUMBER, HUB_NUMBER])),
        "CallStatus": draw(STATUSES),
        "Body": draw(st.text(max_size=20)),
    }
    form.update(
        draw(
            st.dictionaries(
                st.one_of(st.sampled_from(FIELDS), st.text(max_size=10)), VALUE, max_size=8
            )
        )
    )
    for name in draw(st.sets(st.sampled_from(sorted(form)), max_size=4)):
        del form[name]
    return path, query, form


def twilio_paths(app: web.Application) -> list[str]:
    """The POST routes of the ``/twilio`` sub-application."""
    [twilio] = [
        r for r in app.router.resources() if isinstance(r, web.PrefixedSubAppResource)
        and r.canonical == "/twilio"
    ]  # fmt: skip
    return sorted(
        res.canonical
        for res in twilio._app.router.resources()
        if any(route.method == "POST" for route in res)
    )


def counts(db: Path) -> dict[str, int]:
    with sqlite3.connect(db) as conn:
        return {t: conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in TABLES}


def post(base: str, public: str, path: str, query: dict[str, str], form: dict[str, str]) -> Any:
    target = path + ("?" + urlencode(query) if query else "")
    signature = RequestValidator(AUTH_TOKEN).compute_signature(public + target, form)
    request = urllib.request.Request(
        base + target,
        data=urlencode(form).encode(),
        headers={"X-Twilio-Signature": signature, "User-Agent": "TwilioProxy/1.1"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            return resp.status, resp.headers.get_content_type(), resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get_content_type(), exc.read()


def fuzz(base: str, paths: list[str], db: Path, tally: dict[str, Any]) -> None:
    @settings(
        max_examples=CASES,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],  # shrinking would replay real I/O for minutes
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(case=webhook(paths))
    def run(case: tuple[str, dict[str, str], dict[str, str]]) -> None:
        path, query, form = case
        before = counts(db)
        status, content_type, body = post(base, base, path, query, form)
        tally["cases"] += 1
        tally["by_status"][status] = tally["by_status"].get(status, 0) + 1
        tally["paths"].add(path)
        assert status < 500, (path, query, form, body[:300])
        if status == 200 and body:
            assert content_type == "text/xml", (path, content_type)
            assert ElementTree.fromstring(body).tag == "Response", body[:300]
        elif status >= 400:
            assert body, (path, status)  # a reason, not an empty refusal
            assert counts(db) == before, (path, query, form, status)

    # Every route at least once, whatever the random draw favours, and with ids in our own
    # callback query too large for a database column.
    plausible = {"AccountSid": ACCOUNT_SID, "CallSid": "CA" + "0" * 32, "From": CALLER}
    huge = dict.fromkeys(("interaction_id", "agent_id", "message_id"), "9" * 23)
    for path in paths:
        run = example(case=(path, {}, {**plausible, "To": VOICE_NUMBER}))(run)
        run = example(case=(path, huge, {**plausible, "To": VOICE_NUMBER}))(run)
    run()


async def test_twilio_webhooks_random_fields_get_4xx_or_twiml_and_no_partial_write(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db = tmp_path / "fuzz.db"
    numbers = [
        {
            "number": VOICE_NUMBER,
            "purposes": ["voice"],
            "queue": "calls",
            "business_hours": "lines",
        },
        {"number": HUB_NUMBER, "purposes": ["sms"], "queue": "calls"},
    ]
    env = {**BROWSER_PHONE["env"], "HUB_DATABASE__URL": f"sqlite+aiosqlite:///{db}"}
    twilio = {**BROWSER_PHONE["twilio"], "numbers": numbers}
    options: dict[str, Any] = {"queues": {"calls": {"channels": ["voice", "sms"]}}}
    async with voice_hub(tmp_path, env=env, twilio=twilio, **options) as scene:
        base = scene.running.base
        paths = twilio_paths(scene.running.hub.app)
        assert {"/twilio/sms", "/twilio/voice", "/twilio/voice/client"} <= set(paths), paths
        tally: dict[str, Any] = {"cases": 0, "by_status": {}, "paths": set()}
        caplog.set_level(logging.WARNING)
        await asyncio.to_thread(fuzz, base, paths, db, tally)
        print(
            f"\nTwilio webhook fuzz: {tally['cases']} signed requests over"
            f" {len(tally['paths'])}/{len(paths)} routes; answers by status"
            f" {dict(sorted(tally['by_status'].items()))}"
        )
        unhandled = [r for r in caplog.records if r.exc_info or "unhandled" in r.getMessage()]
        assert unhandled == [], [r.getMessage() for r in unhandled]
        assert tally["paths"] == set(paths)
