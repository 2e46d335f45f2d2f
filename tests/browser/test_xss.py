"""Customers' text is inert everywhere it is shown: XSS payloads in every customer-supplied
field (chat name and messages, e-mail subject, From name, HTML body and attachment name, SMS
body, notes, transfer notes, whispers, the audit trail) render as text in the widget, the
agent console, the wallboard and the audit page.

The pages are opened with the Content-Security-Policy bypassed, so an element built from
customer text would really run its handler: the test proves the rendering itself is safe,
and the CSP (checked separately, on every page) is the second wall, not the only one.
"""

from __future__ import annotations

import base64
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from playwright.async_api import Page, expect

from hub.model import Role
from tests.browser.test_console_chat import sign_in
from tests.fakes.sms_hub import CUSTOMER, HUB_NUMBER, sms_hub
from tests.functional.conftest import PASSWORD, Client, Running, connect
from tests.functional.test_email_support import email_settings, send, serve, sink_server

pytestmark = pytest.mark.browser

# One string holding the classic vectors: an element with an inline handler, a script
# element, an attribute break-out into SVG, and a javascript: URL (plain and as a link).
PAYLOAD = (
    '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'
    '"><svg onload="window.__xss=3;alert(3)">'
    '<a href="javascript:window.__xss=4">javascript:alert(4)</a>'
)
HOSTILE_FILE = '<img src=x onerror="window.__xss=7">.pdf'
SAFE_FILE = "_img src=x onerror=_window.__xss=7__.pdf"
PREVIEW = PAYLOAD[:60]  # an offer card shows the start of a long message
# What an injected payload would leave in the DOM (the pages' own markup has none of it).
INJECTED = (
    'img[onerror], svg[onload], script:not([src]), a[href^="javascript:" i], iframe:not([sandbox])'
)


class Browsers:
    """Pages in contexts that bypass the CSP, recording dialogs and script errors."""

    def __init__(self, browser: Any) -> None:
        self.browser = browser
        self.pages: list[Page] = []
        self.dialogs: list[str] = []
        self.contexts: list[Any] = []

    async def page(self) -> Page:
        ctx = await self.browser.new_context(bypass_csp=True)
        self.contexts.append(ctx)
        page: Page = await ctx.new_page()
        page.on("dialog", self._dialog)
        self.pages.append(page)
        return page

    async def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        await dialog.dismiss()

    async def assert_inert(self) -> None:
        """Nothing ran and nothing was built from the payload, on any page and any frame."""
        for page in self.pages:
            for frame in page.frames:
                assert await frame.evaluate("window.__xss") is None, frame.url
                assert await frame.locator(INJECTED).count() == 0, frame.url
        assert self.dialogs == []

    async def close(self) -> None:
        for ctx in self.contexts:
            await ctx.close()


async def sign_in_at(page: Page, base: str, path: str, email: str) -> None:
    await page.goto(f"{base}{path}")
    await page.fill("#email", email)
    await page.fill("#password", PASSWORD)
    await page.click("#login-submit")
    await page.wait_for_url(f"{base}{path}")


async def available(running: Running, email: str, name: str) -> Client:
    await running.add_user(email, name)
    client = await connect(running.base, "/agent", token=await running.sign_in(email))
    await client.next("hello")
    assert (await client.call("set_state", {"state": "available"}))["ok"]
    return client


async def test_chat_names_messages_notes_whispers_and_audit_are_text(
    browser: Any, live_hub: Running
) -> None:
    base = live_hub.base
    pages = Browsers(browser)
    bob_id = await live_hub.add_user("bob@example.com", "Bob Agent")
    await live_hub.add_user("sam@example.com", "Sam Supervisor", Role.SUPERVISOR)
    await live_hub.add_user("ada@example.com", "Ada Admin", Role.ADMIN)
    # A stranger's typed e-mail lands in the audit trail the admin reads.
    async with aiohttp.ClientSession() as http:
        resp = await http.post(
            f"{base}/api/v1/session", json={"email": PAYLOAD, "password": "wrong password"}
        )
        assert resp.status == 401

    alice = await available(live_hub, "alice@example.com", "Alice Agent")
    visitor = await pages.page()
    await visitor.goto(f"{base}/chat")
    await visitor.fill("#prechat-name", PAYLOAD)
    await visitor.fill("#prechat-email", "carol@example.com")
    await visitor.click("#prechat-start")
    await visitor.fill("#chat-input", PAYLOAD)
    await visitor.press("#chat-input", "Enter")
    await expect(visitor.locator("#chat-messages .chat-body").last).to_have_text(PAYLOAD)

    offer = await alice.next("offer")
    assert offer["customer"]["name"] == PAYLOAD
    interaction_id = offer["interaction_id"]
    assert (await alice.call("accept", {"interaction_id": interaction_id}))["ok"]
    reply = {"interaction_id": interaction_id, "body": "reply " + PAYLOAD}
    assert (await alice.call("send_message", reply))["ok"]
    await expect(visitor.locator("#chat-messages .from-agent .chat-body").last).to_have_text(
        "reply " + PAYLOAD
    )
    note = {"interaction_id": interaction_id, "body": "note " + PAYLOAD}
    assert (await alice.call("add_note", note))["ok"]

    bob = await pages.page()
    await sign_in(bob, base, "bob@example.com")
    await bob.select_option("#state-select", "available")
    await expect(bob.locator("#state-label")).to_contain_text("vailable")
    transfer = {"interaction_id": interaction_id, "agent_id": bob_id, "note": "hand " + PAYLOAD}
    assert (await alice.call("transfer", transfer))["ok"], transfer
    card = bob.locator(".offer-card")
    await expect(card.locator(".offer-customer")).to_contain_text(PAYLOAD)
    await expect(card.locator(".offer-preview")).to_contain_text(PREVIEW)
    await expect(card.locator(".transfer-note-body")).to_have_text("hand " + PAYLOAD)
    await card.locator(".offer-accept").click()
    await expect(bob.locator("#customer-name")).to_contain_text(PAYLOAD)
    await expect(bob.locator("#customer-notes .note-body")).to_contain_text(
        ["hand " + PAYLOAD, "note " + PAYLOAD]
    )
    messages = bob.locator("#messages .message-body")
    await expect(messages.filter(has_text="reply ")).to_have_text("reply " + PAYLOAD)
    await expect(bob.locator(".message-transfer-note .message-body")).to_have_text(
        "hand " + PAYLOAD
    )
    await expect(bob.locator("#work-list .work-item")).to_contain_text(PAYLOAD)

    sam = await pages.page()
    await sign_in_at(sam, base, "/console/supervisor", "sam@example.com")
    await sam.locator(".wb-watch", has_text=f"#{interaction_id}").click()
    await expect(sam.locator("#live-view-title")).to_contain_text(PAYLOAD)
    await expect(sam.locator("#live-messages .wb-line-body").first).to_have_text(PAYLOAD)
    await sam.fill("#whisper-body", "psst " + PAYLOAD)
    await sam.click("#whisper-send")
    whisper = bob.locator("#messages .message-system", has_text="Whisper from Sam Supervisor")
    await expect(whisper.locator(".message-body")).to_have_text("psst " + PAYLOAD)
    await expect(sam.locator("#live-messages .wb-line-body").last).to_have_text("psst " + PAYLOAD)

    ada = await pages.page()
    await sign_in_at(ada, base, "/console/admin/audit", "ada@example.com")
    await ada.goto(f"{base}/console/admin/audit?action=signin")
    await expect(ada.locator(".audit-table tbody")).to_contain_text(PAYLOAD)
    # A hostile filter value is echoed back into the form as a value, not as markup.
    await ada.goto(f"{base}/console/admin/audit?actor={aiohttp.helpers.quote(PAYLOAD)}")
    await expect(ada.locator("#f-actor")).to_have_value(PAYLOAD)

    await pages.assert_inert()
    await alice.close()
    await pages.close()


def hostile_mail() -> bytes:
    msg = EmailMessage()
    msg["From"] = "Placeholder <carol@example.org>"
    msg["To"] = "support@example.com"
    msg["Subject"] = "subject " + PAYLOAD
    msg["Message-ID"] = "<xss-1@example.org>"
    msg.set_content("text " + PAYLOAD)
    msg.add_alternative(
        f"<p>html</p>{PAYLOAD}<form action='javascript:window.__xss=5'><button>go</button></form>"
        "<iframe src='javascript:window.top.__xss=6'></iframe>",
        subtype="html",
    )
    msg.add_attachment(
        b"DATA", maintype="application", subtype="octet-stream", filename=HOSTILE_FILE
    )
    # The display name as an encoded word, the way mailers send names with quotes and
    # brackets (the standard library folds such a quoted name into an invalid header).
    name = base64.b64encode(PAYLOAD.encode()).decode()
    return msg.as_bytes(policy=SMTP).replace(
        b"From: Placeholder", f"From: =?utf-8?b?{name}?=".encode(), 1
    )


async def test_email_subject_sender_html_and_attachment_name_are_text(
    browser: Any, tmp_path: Path
) -> None:
    async with sink_server() as sink:
        settings = email_settings(tmp_path, relay_port=sink.port, wrap_up_s=60)
        async with serve(settings) as running:
            await running.add_user("alice@example.com", "Alice Agent")
            pages = Browsers(browser)
            page = await pages.page()
            await sign_in(page, running.base, "alice@example.com")
            await page.select_option("#state-select", "available")
            await expect(page.locator("#state-label")).to_contain_text("vailable")

            await send(settings, hostile_mail())
            card = page.locator(".offer-card")
            await expect(card.locator(".offer-customer")).to_contain_text(PAYLOAD)
            await expect(card.locator(".offer-subject")).to_have_text("subject " + PAYLOAD)
            await card.locator(".offer-accept").click()
            await expect(page.locator("#email-subject")).to_have_text("subject " + PAYLOAD)
            first = page.locator("#email-messages .email-message").first
            await expect(first.locator(".email-from")).to_have_text(
                f"{PAYLOAD} <carol@example.org>"
            )
            await expect(first.locator(".email-body")).to_contain_text("text " + PAYLOAD)
            # The hub makes a safe file name of it; whatever is left is shown as text.
            await expect(first.locator(".email-attachment")).to_contain_text(SAFE_FILE)
            await expect(page.locator("#customer-name")).to_contain_text(PAYLOAD)
            await first.locator(".email-html summary").click()
            frame = first.locator(".email-html-frame")
            await expect(frame).to_have_attribute("sandbox", "")
            html = page.frame_locator(".email-html-frame")
            await expect(html.locator("p")).to_have_text("html")
            # The sanitiser dropped the active parts; the sandbox would stop them anyway.
            assert await html.locator("script, svg, form, iframe, [onerror]").count() == 0
            await pages.assert_inert()
            await pages.close()


async def test_sms_body_is_text(browser: Any, tmp_path: Path) -> None:
    async with sms_hub(tmp_path) as scene:
        await scene.running.add_user("alice@example.com", "Alice Agent")
        pages = Browsers(browser)
        page = await pages.page()
        await sign_in(page, scene.running.base, "alice@example.com")
        await page.select_option("#state-select", "available")
        await expect(page.locator("#state-label")).to_contain_text("vailable")
        answer = await scene.twilio.sms(from_number=CUSTOMER, to_number=HUB_NUMBER, body=PAYLOAD)
        assert answer.status == 200
        card = page.locator(".offer-card")
        await expect(card.locator(".offer-preview")).to_contain_text(PREVIEW)
        await card.locator(".offer-accept").click()
        incoming = page.locator("#messages .message-in .message-body").last
        await expect(incoming).to_have_text(PAYLOAD)
        await pages.assert_inert()
        await pages.close()


async def test_every_page_forbids_inline_script(live_hub: Running) -> None:
    """Every GET route without parameters, as the admin sees it: a CSP that allows scripts
    from the hub only (no inline, no eval), and no framing outside the chat box."""
    await live_hub.add_user("ada@example.com", "Ada Admin", Role.ADMIN)
    token = await live_hub.sign_in("ada@example.com")
    paths = sorted(
        {
            info["path"]
            for route in live_hub.hub.app.router.routes()
            if route.method == "GET" and "path" in (info := route.resource.get_info())
        }
        | {"/console/static/console.js", "/widget.js"}
    )
    assert {"/console", "/console/supervisor", "/console/admin/audit", "/chat"} <= set(paths)
    pages = 0
    async with aiohttp.ClientSession(cookies={"hub_session": token}) as http:
        for path in paths:
            async with http.get(f"{live_hub.base}{path}", allow_redirects=False) as resp:
                await resp.read()
                assert resp.headers.get("X-Content-Type-Options") == "nosniff", path
                if resp.content_type != "text/html":
                    continue  # data and downloads: nosniff is what matters there
                pages += 1
                csp = resp.headers.get("Content-Security-Policy", "")
                directives = dict(
                    d.strip().partition(" ")[::2] for d in csp.split(";") if d.strip()
                )
                script = directives.get("script-src", directives.get("default-src", ""))
                assert script == "'self'", (path, csp)
                assert directives.get("object-src") == "'none'", (path, csp)
                if path not in ("/chat", "/widget-demo"):
                    assert directives.get("frame-ancestors") == "'none'", (path, csp)
    assert pages >= 5
