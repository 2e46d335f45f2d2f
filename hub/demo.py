"""Demo data: staff accounts with fresh passwords, so a newcomer can try the hub at once."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from hub.auth import Authenticator
from hub.model import Role
from hub.ports import Clock, Store


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


async def seed(store: Store, authenticator: Authenticator, clock: Clock) -> list[DemoAccount]:
    """Create (or reset the passwords of) the demo accounts; a new password every run."""
    accounts = []
    for email, name, role in DEMO_STAFF:
        password = secrets.token_urlsafe(9)
        password_hash = authenticator.hash_password(password)
        found = await store.user_by_email(email)
        if found is None:
            await store.create_user(
                email=email, name=name, role=role, password_hash=password_hash, now=clock()
            )
        else:
            await store.update_user(found[0].user_id, password_hash=password_hash, role=role)
        accounts.append(DemoAccount(email, name, role, password))
    return accounts
