"""The satisfaction survey by email: a threaded survey mail through the outbox with five
one-click links; a click records the rating (no sign-in: the signed token is the authority),
the page that opens takes a comment; forged, expired and out-of-range links are refused."""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path
from typing import Any

import aiohttp
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from channels.email.survey import TOKEN_SALT
from tests.functional.conftest import Running, free_port
from tests.functional.test_email_outbound import answered_interaction, thread_view
from tests.functional.test_email_support import email_settings, serve, sink_server

SECRET = "test-secret-key-not-for-production"


def csat_env(port: int, enabled: bool = True) -> dict[str, str]:
    csat = "csat: {enabled: true, channels: [email]}" if enabled else "csat: {enabled: false}"
    return {
        "HUB_QUEUES": f"[{{name: support, channels: [webchat, email], wrap_up_s: 0, {csat}}}]",
        "HUB_HTTP__PORT": str(port),
        "HUB_HTTP__PUBLIC_URL": f"http://127.0.0.1:{port}",
    }


async def visit(url: str, form: dict[str, str] | None = None) -> tuple[int, str]:
    """What the customer's browser gets: no cookie, no CSRF token."""
    async with aiohttp.ClientSession() as http:
        if form is None:
            resp = await http.get(url)
        else:
            resp = await http.post(url, data=form)
        return resp.status, await resp.text()


async def rating_of(running: Running, token: str, iid: int) -> Any:
    _, listing = await running.get("/api/v1/interactions?channel=email", token)
    return {i["interaction_id"]: i["rating"] for i in listing["interactions"]}[iid]


async def test_csat_email_one_click_rating_then_comment(tmp_path: Path) -> None:
    async with sink_server() as sink:
        port = free_port()
        settings = email_settings(tmp_path, relay_port=sink.port, env=csat_env(port))
        async with serve(settings) as running:
            alice, token, offer = await answered_interaction(running, settings)
            iid = offer["interaction_id"]
            assert (await alice.call("close", {"interaction_id": iid}))["ok"]  # type: ignore[attr-defined]
            await sink.wait(1)
            _, rcpt, msg = sink.received[0]
            thread_id = (await thread_view(running, token, iid))["thread_id"]
            assert rcpt == ["carol@example.org"]
            assert msg["Subject"] == f"Re: My order #42 is late [#{thread_id}]"
            assert msg["In-Reply-To"] == "<q1@example.org>"
            assert msg["Auto-Submitted"] == "auto-generated"
            text = msg.get_body(("plain",)).get_content()
            assert text.startswith("How did we do?")
            links = re.findall(rf"http://127\.0\.0\.1:{port}/csat/\S+/[1-5]", text)
            assert [link[-1] for link in links] == ["1", "2", "3", "4", "5"]

            status, page = await visit(links[1])
            assert status == 200 and "You rated us 2 of 5 (Poor)." in page
            rated = await rating_of(running, token, iid)
            assert (rated["score"], rated["channel"], rated["comment"]) == (2, "email", "")

            form_action = re.search(r'action="([^"]+)"', page)
            assert form_action is not None
            status, page = await visit(
                f"{running.base}{form_action.group(1)}",
                {"score": "2", "comment": "<script>alert(1)</script> slow"},
            )
            assert status == 200 and "Your comment was saved." in page
            assert "<script>alert" not in page  # the customer's text, escaped
            assert "&lt;script&gt;alert(1)&lt;/script&gt; slow" in page
            # Clicking another score later changes it and keeps the comment.
            status, page = await visit(links[3])
            assert status == 200 and "You rated us 4 of 5" in page
            rated = await rating_of(running, token, iid)
            assert (rated["score"], rated["comment"]) == (4, "<script>alert(1)</script> slow")
            await alice.close()  # type: ignore[attr-defined]


async def test_csat_email_forged_expired_and_bad_links_are_refused(tmp_path: Path) -> None:
    async with sink_server() as sink:
        port = free_port()
        settings = email_settings(tmp_path, relay_port=sink.port, env=csat_env(port))
        async with serve(settings) as running:
            alice, token, offer = await answered_interaction(running, settings)
            iid = offer["interaction_id"]
            assert (await alice.call("close", {"interaction_id": iid}))["ok"]  # type: ignore[attr-defined]
            await sink.wait(1)
            text = sink.received[0][2].get_body(("plain",)).get_content()
            link = re.findall(rf"http://127\.0\.0\.1:{port}/csat/\S+/5", text)[0]
            signed = link.split("/")[-2]

            forged = signed[:-3] + ("aaa" if not signed.endswith("aaa") else "bbb")
            status, page = await visit(link.replace(signed, forged))
            assert status == 404 and "This rating link is not valid" in page

            class FifteenDaysAgo(TimestampSigner):
                def get_timestamp(self) -> int:
                    return int(time.time()) - 15 * 86400

            old = URLSafeTimedSerializer([SECRET], salt=TOKEN_SALT, signer=FifteenDaysAgo)
            status, page = await visit(link.replace(signed, old.dumps({"i": iid})))
            assert status == 410 and "This rating link has expired" in page

            status, page = await visit(link[:-1] + "9")
            assert status == 400 and "score" in page
            assert await rating_of(running, token, iid) is None
            await alice.close()  # type: ignore[attr-defined]


async def test_csat_email_disabled_queue_mails_no_survey(tmp_path: Path) -> None:
    async with sink_server() as sink:
        port = free_port()
        settings = email_settings(tmp_path, relay_port=sink.port, env=csat_env(port, False))
        async with serve(settings) as running:
            alice, _, offer = await answered_interaction(running, settings)
            assert (await alice.call("close", {"interaction_id": offer["interaction_id"]}))["ok"]  # type: ignore[attr-defined]
            await asyncio.sleep(0.5)
            assert sink.received == []
            await alice.close()  # type: ignore[attr-defined]
