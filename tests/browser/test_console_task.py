"""A task from another system (channel api) in headless Chromium: the agent is offered it as
a task with its subject, accepts it, reads its text as text (markup in it stays literal),
keeps a private note from the composer, sees the other system's note arrive live, and closes
it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import expect

from hub.model import Role
from tests.browser.test_console_work import agent_page
from tests.functional.conftest import serve, settings_for
from tests.functional.test_api_keys import new_key, with_key

pytestmark = pytest.mark.browser
HOSTILE = "<img src=x onerror=alert(1)>"
TEXT = f"Order 1234 arrived broken {HOSTILE} call the customer to send a new one."


async def test_agent_works_a_task_from_another_system_as_text_with_notes_only(
    browser: Any, tmp_path: Path
) -> None:
    settings = settings_for(
        tmp_path, wrap_up_s=60, HUB_QUEUES="[{name: support, channels: [webchat, api]}]"
    )
    async with serve(settings) as running:
        await running.add_user("ada@example.com", "Ada Admin", Role.ADMIN)
        await running.add_user("alice@example.com", "Alice Agent")
        key, _ = await new_key(
            running, await running.sign_in("ada@example.com"), "erp", "interactions:write"
        )
        async with agent_page(browser, running, "alice@example.com") as page:
            dialogs: list[str] = []
            page.on("dialog", lambda d: dialogs.append(d.message))
            status, made = await with_key(
                running,
                key,
                "POST",
                "/api/v1/interactions",
                {
                    "customer": {"email": "grace@example.com", "name": "Grace Hopper"},
                    "subject": f"Broken parcel {HOSTILE}",
                    "text": TEXT,
                },
            )
            assert status == 201, made
            iid = made["interaction_id"]

            card = page.locator(".offer-card", has_text="Grace Hopper")
            await expect(card.locator(".channel-badge")).to_have_text("\u2611 task")
            await expect(card.locator(".offer-subject")).to_have_text(f"Broken parcel {HOSTILE}")
            await expect(card.locator(".offer-preview")).to_have_text(TEXT)
            await card.locator(".offer-accept").click()

            task = page.locator("#messages .message-task")
            await expect(task.locator(".message-body")).to_have_text(TEXT)
            await expect(task.locator(".message-author")).to_have_text("erp")
            await expect(task.locator(".message-time")).not_to_be_empty()
            await expect(page.locator("#thread-meta .thread-subject")).to_have_text(
                f"Broken parcel {HOSTILE}"
            )
            item = page.locator(f'.work-item[data-interaction-id="{iid}"]')
            await expect(item.locator(".work-channel")).to_have_text("\u2611 task")
            await expect(item.locator(".work-subject")).to_have_text(f"Broken parcel {HOSTILE}")
            await expect(item.locator(".work-preview")).to_contain_text("Order 1234 arrived broken")
            assert await page.locator("#messages img, .offer-card img, .work-list img").count() == 0

            # Notes only: the composer keeps a private note in the thread; nothing is sent.
            await expect(page.locator("#send")).to_have_text("Add note")
            await page.locator("#composer").fill("Called, no answer; left a voicemail.")
            await page.locator("#composer").press("Enter")
            note = page.locator("#messages .message-note")
            await expect(note.locator(".message-body")).to_have_text(
                "Called, no answer; left a voicemail."
            )
            await expect(note.locator(".message-author")).to_contain_text("Alice Agent")
            await expect(page.locator("#composer")).to_have_value("")

            # The ERP adds a note of its own over REST: it appears at once, under its name.
            status, added = await with_key(
                running, key, "POST", f"/api/v1/interactions/{iid}/notes", {"body": HOSTILE}
            )
            assert status == 201, added
            await expect(note).to_have_count(2)
            await expect(note.nth(1).locator(".message-body")).to_have_text(HOSTILE)
            await expect(note.nth(1).locator(".message-author")).to_contain_text("erp")

            await page.locator("#close-conversation").click()
            await expect(page.locator("#end-wrap-up")).to_be_visible()
            await page.locator("#end-wrap-up").click()
            await expect(item).to_have_count(0)

            status, whole = await running.get(
                f"/api/v1/interactions/{iid}", await running.sign_in("ada@example.com")
            )
            assert status == 200, whole
            assert whole["state"] == "ended"
            assert [m["body"] for m in whole["messages"]] == [TEXT]  # no reply was sent
            assert [n["body"] for n in whole["notes"]] == [
                "Called, no answer; left a voicemail.",
                HOSTILE,
            ]
            assert dialogs == []
