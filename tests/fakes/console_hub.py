"""A hub configured for the console's work tools: two chat queues (one requiring a
disposition), disposition codes, and canned responses with placeholders."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from hub.config import load_settings
from tests.functional.conftest import Running, free_port, serve

ZH_HELLO = "{customer.name}\uff0c\u60a8\u597d\uff01\u6211\u662f{agent.first_name}\u3002"

CONFIG = """
dispositions: [resolved, follow_up, no_answer]
queues:
  - name: support
    channels: [webchat]
    wrap_up_s: {wrap_up_s}
    disposition_required: true
  - name: sales
    channels: [webchat]
    wrap_up_s: {wrap_up_s}
    dispositions: [sold, not_interested]
canned_responses:
  - shortcut: hello
    title: Greeting
    text: "Hello {{customer.name}}, this is {{agent.first_name}}. How can I help?"
  - shortcut: bye
    title: Goodbye
    text: "Thank you, {{customer.name}}! {{agent.name}} from {{team}} signing off."
  - shortcut: hello
    language: zh-CN
    title: 问候
    text: "{zh_hello}"
  - shortcut: refund
    title: Refund by email
    text: "Your refund is on its way."
    channels: [email]
"""


@contextlib.asynccontextmanager
async def console_hub(tmp_path: Path, *, wrap_up_s: float = 300) -> AsyncIterator[Running]:
    config = tmp_path / "config.yaml"
    config.write_text(CONFIG.format(wrap_up_s=wrap_up_s, zh_hello=ZH_HELLO), encoding="utf-8")
    settings = load_settings(
        config,
        {
            "HUB_DATABASE__URL": f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}",
            "HUB_HTTP__PORT": str(free_port()),
            "HUB_SECURITY__SECRET_KEY": "test-secret-key-not-for-production",
        },
    )
    async with serve(settings) as running:
        yield running
