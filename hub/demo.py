"""Demo data: staff accounts with fresh passwords and a few knowledge base articles, so a
newcomer can try the hub at once (and see a chat answered by an article)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from hub.auth import Authenticator
from hub.knowledge import ArticleQuery, article_changes
from hub.model import Role
from hub.ports import Clock, KnowledgeStore, Store


@dataclass(frozen=True, slots=True)
class DemoAccount:
    email: str
    name: str
    role: Role
    password: str


DEMO_STAFF = (
    ("admin@example.com", "Ada Admin", Role.ADMIN),
    ("supervisor@example.com", "Sam Supervisor", Role.SUPERVISOR),
    ("alice@example.com", "Alice Agent", Role.AGENT),
    ("bob@example.com", "Bob Agent", Role.AGENT),
)


async def seed(
    store: Store, authenticator: Authenticator, clock: Clock, *, temporary: bool = True
) -> list[DemoAccount]:
    """Create (or reset the passwords of) the demo accounts; a new password every run. The
    passwords are temporary: the first sign-in asks for a new one (``temporary=False`` for
    test fixtures)."""
    accounts = []
    for email, name, role in DEMO_STAFF:
        password = secrets.token_urlsafe(9)
        password_hash = authenticator.hash_password(password, email=email)
        found = await store.user_by_email(email)
        if found is None:
            await store.create_user(
                email=email,
                name=name,
                role=role,
                password_hash=password_hash,
                now=clock(),
                must_change_password=temporary,
            )
        else:
            await store.update_user(
                found[0].user_id,
                password_hash=password_hash,
                role=role,
                disabled=False,
                must_change_password=temporary,
            )
        accounts.append(DemoAccount(email, name, role, password))
    return accounts


DEMO_ARTICLES = (
    {
        "title": "Resetting your password",
        "tags": ["account", "sign-in"],
        "body_markdown": (
            "If you forgot your password:\n\n"
            "1. Open the sign-in page and choose **Forgot password**.\n"
            "2. Enter the email address of your account.\n"
            "3. Follow the link we email you within 15 minutes.\n\n"
            "No email? Check your spam folder, or write to us in the chat."
        ),
    },
    {
        "title": "Delivery times and tracking your order",
        "tags": ["orders", "delivery"],
        "body_markdown": (
            "Orders placed before 14:00 ship the **same working day**; delivery takes 1 to 3 "
            "working days.\n\nYour tracking link is in the shipping confirmation email. "
            "A parcel that has not moved for 5 days can be reported in the chat."
        ),
    },
    {
        "title": "Returns and refunds",
        "tags": ["orders", "refund"],
        "body_markdown": (
            "You can return any item within **30 days**:\n\n"
            "- print the return label from your order page;\n"
            "- pack the item in its original packaging;\n"
            "- drop it at any post office.\n\n"
            "The refund reaches your card within 5 working days of our receiving it."
        ),
    },
    {
        "title": "重置密码",
        "language": "zh-CN",
        "tags": ["account"],
        # Chinese punctuation is full width.
        "body_markdown": "在登录页面选择 **忘记密码**，输入账户邮箱，然后按照邮件中的链接操作。",  # noqa: RUF001
    },
)


async def seed_articles(knowledge: KnowledgeStore, clock: Clock) -> int:
    """Publish the demo articles into an empty knowledge base; how many were added (none when
    it already has articles, so a supervisor's own are never disturbed)."""
    if await knowledge.search_articles(ArticleQuery(limit=1)):
        return 0
    for article in DEMO_ARTICLES:
        values = article_changes({**article, "published": True}, creating=True)
        await knowledge.add_article(values, by_user_id=None, now=clock())
    return len(DEMO_ARTICLES)
