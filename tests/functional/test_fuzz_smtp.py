"""The hub's SMTP server under random dialogues: random command sequences, over-long lines,
bad addresses, random bytes and hostile MIME in DATA. It never crashes, every reply is a
valid SMTP reply, and a message is either answered 250 and stored whole (message, e-mail
details, interaction) or refused with 4xx/5xx and nothing of it is stored.

Hypothesis runs in a worker thread speaking raw sockets, while the hub serves on the test's
event loop; the database is a SQLite file the thread counts rows in directly.
"""

from __future__ import annotations

import asyncio
import re
import socket
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.functional.test_email_support import email_settings, serve, sink_server
from tests.mime_strategies import MAIL_BYTES

CASES = 150
REPLY = re.compile(rb"^[2-5][0-5][0-9]([ -].*)?$", re.S)
ACCEPTED = b"250 2.0.0 OK: message accepted"
PRINTABLE = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"),
    max_size=60,
)
ADDRESS = st.one_of(
    st.sampled_from(["support@example.com", "SUPPORT+c1@Example.com", "", "<>", "@", "a@b@c"]),
    st.emails().map(str),
    PRINTABLE,
)
PARAMS = st.lists(
    st.sampled_from(["SIZE=100", "SIZE=999999999", "SIZE=x", "BODY=8BITMIME", "SMTPUTF8", "X=Y"]),
    max_size=2,
).map(lambda p: (" " + " ".join(p)) if p else "")


def _line(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


COMMAND = st.one_of(
    st.builds(lambda v, a: _line(f"{v} {a}"), st.sampled_from(["HELO", "EHLO", "helo"]), PRINTABLE),
    st.builds(lambda a, p: _line(f"MAIL FROM:<{a}>{p}"), ADDRESS, PARAMS),
    st.builds(lambda a: _line(f"RCPT TO:<{a}>"), ADDRESS),
    st.builds(lambda a: _line(f"RCPT TO:{a}"), ADDRESS),
    st.sampled_from([b"RSET", b"NOOP", b"HELP", b"STARTTLS", b"AUTH PLAIN AGFAAGI=", b"DATA"]),
    st.builds(
        lambda v, a: _line(f"{v} {a}"), st.sampled_from(["VRFY", "EXPN", "XYZZY"]), PRINTABLE
    ),
    st.binary(max_size=120).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b"")),
    st.integers(900, 5000).map(lambda n: b"NOOP " + b"x" * n),  # over RFC 5321's 512
)
# A good envelope first, most of the time, so DATA is often reached with hostile content.
ENVELOPE = [
    b"EHLO fuzz.example.org",
    b"MAIL FROM:<carol@example.org>",
    b"RCPT TO:<support@example.com>",
]


@st.composite
def dialogue(draw: st.DrawFn) -> list[bytes | tuple[bytes, bytes]]:
    steps: list[bytes | tuple[bytes, bytes]] = list(draw(st.lists(COMMAND, max_size=4)))
    if draw(st.integers(0, 3)) > 0:
        steps.extend(ENVELOPE)
    if draw(st.integers(0, 3)) > 0:
        steps.append((b"DATA", draw(MAIL_BYTES)))
    steps.extend(draw(st.lists(COMMAND, max_size=4)))
    if draw(st.booleans()):
        steps.append(b"QUIT")
    return steps


def dot_stuffed(content: bytes) -> bytes:
    """``content`` as DATA lines: CRLF line ends, leading dots doubled, then the end mark."""
    lines = content.replace(b"\r\n", b"\n").replace(b"\r", b"\n").split(b"\n")
    return b"".join((b"." + ln if ln.startswith(b".") else ln) + b"\r\n" for ln in lines) + b".\r\n"


@dataclass
class Tally:
    cases: int = 0
    commands: int = 0
    accepted: int = 0
    duplicates: int = 0
    refused_data: int = 0
    codes: dict[bytes, int] = field(default_factory=dict)


class Dialogue:
    """One SMTP connection read reply by reply (multi-line replies joined)."""

    def __init__(self, port: int, tally: Tally) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.file = self.sock.makefile("rb")
        self.tally = tally

    def reply(self) -> bytes | None:
        """The next reply's last line, or None once the server closed the connection."""
        while True:
            line = self.file.readline(70000)
            if not line:
                return None
            assert line.endswith(b"\r\n"), line
            line = line[:-2]
            assert REPLY.match(line), line
            if line[3:4] != b"-":
                code = line[:3]
                self.tally.codes[code] = self.tally.codes.get(code, 0) + 1
                return line

    def send(self, data: bytes) -> bytes | None:
        self.tally.commands += 1
        try:
            self.sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            return None
        return self.reply()

    def close(self) -> None:
        self.file.close()
        self.sock.close()


def stored(db: Path) -> tuple[int, int]:
    """(inbound e-mails, those stored whole: with their message and thread, and routed as an
    interaction unless automated: auto-replies and bounces are kept on the thread unrouted)."""
    with sqlite3.connect(db) as conn:
        total = conn.execute(
            "SELECT COUNT(*) FROM email_messages WHERE direction = 'in'"
        ).fetchone()
        whole = conn.execute(
            "SELECT COUNT(*) FROM email_messages e"
            " JOIN messages m ON m.message_id = e.message_id"
            " JOIN email_threads t ON t.thread_id = e.thread_id"
            " LEFT JOIN interactions i ON i.interaction_id = m.interaction_id"
            " WHERE e.direction = 'in'"
            " AND (i.interaction_id IS NOT NULL OR e.automated IS NOT NULL)"
        ).fetchone()
    return int(total[0]), int(whole[0])


def fuzz(port: int, db: Path, tally: Tally) -> None:
    @settings(
        max_examples=CASES,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],  # shrinking would replay real I/O for minutes
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(steps=dialogue())
    def run(steps: list[bytes | tuple[bytes, bytes]]) -> None:
        tally.cases += 1
        before, _ = stored(db)
        accepted = 0
        client = Dialogue(port, tally)
        try:
            greeting = client.reply()
            assert greeting is not None and greeting.startswith(b"220"), greeting
            for step in steps:
                command, content = step if isinstance(step, tuple) else (step, None)
                answer = client.send(command + b"\r\n")
                if answer is None:
                    break
                if answer.startswith(b"354"):  # a bare DATA sends an empty message
                    answer = client.send(dot_stuffed(content or b""))
                    if answer is None:
                        break
                    if answer == ACCEPTED:
                        accepted += 1
                    elif answer.startswith(b"250"):
                        tally.duplicates += 1  # the same mail again: kept once
                    else:
                        tally.refused_data += 1
        finally:
            client.close()
        after, whole = stored(db)
        assert after - before == accepted  # nothing stored for a refusal or a duplicate
        assert whole == after  # and nothing stored half
        tally.accepted += accepted

    run()


async def test_smtp_random_dialogues_get_valid_replies_and_whole_or_no_storage(
    tmp_path: Path,
) -> None:
    db = tmp_path / "fuzz.db"
    async with sink_server() as sink:
        settings_ = email_settings(
            tmp_path,
            relay_port=sink.port,
            max_bytes=20_000,
            env={"HUB_DATABASE__URL": f"sqlite+aiosqlite:///{db}"},
        )
        async with serve(settings_):
            tally = Tally()
            await asyncio.to_thread(fuzz, settings_.email.smtp_port, db, tally)
            print(
                f"\nSMTP fuzz: {tally.cases} dialogues, {tally.commands} commands,"
                f" {tally.accepted} mails accepted and stored whole,"
                f" {tally.duplicates} repeats answered 250 and not stored again,"
                f" {tally.refused_data} refused after DATA; reply codes"
                f" {dict(sorted((k.decode(), v) for k, v in tally.codes.items()))}"
            )
            assert tally.cases >= CASES // 2
            # still serving after all that: a plain delivery is accepted
            assert await asyncio.to_thread(deliver, settings_.email.smtp_port, tally) == ACCEPTED


def deliver(port: int, tally: Tally) -> bytes | None:
    client = Dialogue(port, tally)
    try:
        assert client.reply() is not None
        for command in ENVELOPE:
            assert client.send(command + b"\r\n") is not None
        assert client.send(b"DATA\r\n") is not None
        body = b"Message-ID: <after-fuzz@example.org>\r\nSubject: hi\r\n\r\nstill here"
        return client.send(dot_stuffed(body))
    finally:
        client.close()
