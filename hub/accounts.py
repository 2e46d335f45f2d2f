"""Staff accounts as an administrator manages them (the CLI and the admin REST routes).

A new account, and an account whose password an administrator resets, gets a temporary
password: it must be changed at the next sign-in unless the caller says otherwise. Disabling
an account or changing its role or password ends all its sessions (the store deletes them in
the same transaction) and announces it, so its open sockets close at once.
"""

from __future__ import annotations

import logging

from hub.auth import Authenticator
from hub.errors import Forbidden, InvalidInput, NotFound
from hub.events import SessionsRevoked
from hub.model import Role, User
from hub.ports import Clock, EventBus, Store

log = logging.getLogger(__name__)

MAX_NAME_CHARS = 200


def parse_role(raw: object) -> Role:
    try:
        if not isinstance(raw, str):
            raise ValueError(raw)
        return Role(raw)
    except ValueError:
        allowed = ", ".join(r.value for r in Role)
        raise InvalidInput(f"role must be one of {allowed}; got {raw!r}") from None


class Accounts:
    def __init__(
        self, *, store: Store, authenticator: Authenticator, bus: EventBus, clock: Clock
    ) -> None:
        self._store = store
        self._auth = authenticator
        self._bus = bus
        self._clock = clock

    async def get(self, user_id: int) -> User:
        user = await self._store.user(user_id)
        if user is None:
            raise NotFound(f"no user {user_id}")
        return user

    async def by_email(self, email: str) -> User:
        found = await self._store.user_by_email(email.strip())
        if found is None:
            raise NotFound(f"no user with email {email.strip().lower()}")
        return found[0]

    async def list(self) -> list[User]:
        return await self._store.users()

    async def add(
        self, *, email: str, name: str, role: Role, password: str, temporary: bool = True
    ) -> User:
        email, name = email.strip(), name.strip()
        if "@" not in email or len(email) > 320:
            raise InvalidInput("email must be an email address of at most 320 characters")
        if not name or len(name) > MAX_NAME_CHARS:
            raise InvalidInput(f"name must be 1 to {MAX_NAME_CHARS} characters")
        user = await self._store.create_user(
            email=email,
            name=name,
            role=role,
            password_hash=self._auth.hash_password(password, email=email),
            now=self._clock(),
            must_change_password=temporary,
        )
        log.info("user_id=%s added as %s", user.user_id, role.value)
        return user

    async def set_role(self, user_id: int, role: Role, *, by: User | None = None) -> User:
        user = await self.get(user_id)
        if by is not None and by.user_id == user_id and role != user.role:
            raise Forbidden("you may not change your own role")
        if role != user.role:
            await self._store.update_user(user_id, role=role)
            log.info("user_id=%s role changed to %s", user_id, role.value)
            await self._bus.publish(SessionsRevoked(user_id, None, "role_changed"))
        return await self.get(user_id)

    async def set_disabled(self, user_id: int, disabled: bool, *, by: User | None = None) -> User:
        user = await self.get(user_id)
        if by is not None and by.user_id == user_id and disabled:
            raise Forbidden("you may not disable your own account")
        if disabled != user.disabled:
            await self._store.update_user(user_id, disabled=disabled)
            log.info("user_id=%s %s", user_id, "disabled" if disabled else "enabled")
            if disabled:
                await self._bus.publish(SessionsRevoked(user_id, None, "disabled"))
        return await self.get(user_id)

    async def set_password(self, user_id: int, password: str, *, temporary: bool = True) -> User:
        """An administrator sets someone's password (temporary unless said otherwise)."""
        user = await self.get(user_id)
        await self._store.update_user(
            user_id,
            password_hash=self._auth.hash_password(password, email=user.email),
            must_change_password=temporary,
        )
        log.info("user_id=%s password reset by an administrator", user_id)
        await self._bus.publish(SessionsRevoked(user_id, None, "password_changed"))
        return await self.get(user_id)

    async def reset_totp(self, user_id: int) -> User:
        """Turn off a user's authenticator (a lost phone); they sign in with the password."""
        await self.get(user_id)
        await self._store.set_totp(user_id, None, enabled=False)
        log.info("user_id=%s authenticator reset by an administrator", user_id)
        return await self.get(user_id)

    async def rename(self, user_id: int, name: str) -> User:
        name = name.strip()
        if not name or len(name) > MAX_NAME_CHARS:
            raise InvalidInput(f"name must be 1 to {MAX_NAME_CHARS} characters")
        await self.get(user_id)
        await self._store.update_user(user_id, name=name)
        return await self.get(user_id)
