"""Sign-in and sessions: argon2id password hashes, opaque session tokens stored hashed."""

from __future__ import annotations

import hashlib
import logging
import math
import secrets
import time
from collections.abc import Callable, Iterable
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from hub.errors import Forbidden, InvalidInput, RateLimited, Unauthorised
from hub.model import Role, User
from hub.ports import Clock, Store
from hub.throttle import FailureThrottle

log = logging.getLogger(__name__)

SESSION_COOKIE = "hub_session"
MIN_PASSWORD_CHARS = 10
MAX_PASSWORD_CHARS = 1024

STAFF = frozenset({Role.AGENT, Role.SUPERVISOR, Role.ADMIN})
SUPERVISORS = frozenset({Role.SUPERVISOR, Role.ADMIN})
ADMINS = frozenset({Role.ADMIN})


def check_password_policy(password: str) -> None:
    if len(password) < MIN_PASSWORD_CHARS:
        raise InvalidInput(f"password must be at least {MIN_PASSWORD_CHARS} characters")
    if len(password) > MAX_PASSWORD_CHARS:
        raise InvalidInput(f"password must be at most {MAX_PASSWORD_CHARS} characters")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def require_role(user: User | None, roles: Iterable[Role]) -> User:
    """The signed-in user if their role is one of ``roles``; else Unauthorised / Forbidden."""
    if user is None:
        raise Unauthorised("sign in first")
    if user.role not in frozenset(roles):
        raise Forbidden(f"the {user.role.value} role may not do this")
    return user


class Authenticator:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        *,
        session_ttl_s: int,
        accounts: FailureThrottle | None = None,
        addresses: FailureThrottle | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._clock = clock
        self._ttl = timedelta(seconds=session_ttl_s)
        # Failed sign-ins lock an account, and the address they come from, for a while.
        self._accounts = accounts
        self._addresses = addresses
        self._monotonic = monotonic
        self._hasher = PasswordHasher()  # argon2id with the library's current parameters
        self._dummy_hash = self._hasher.hash(secrets.token_urlsafe(16))

    def hash_password(self, password: str) -> str:
        check_password_policy(password)
        return self._hasher.hash(password)

    async def sign_in(
        self, email: str, password: str, address: str | None = None
    ) -> tuple[str, User]:
        """A new session token for valid credentials; Unauthorised otherwise (same message
        whether the account exists or not); RateLimited while the account or the ``address``
        is locked after repeated failures (checked before the password, so a locked account
        cannot be probed)."""
        keys = [(self._accounts, "account:" + email.strip().lower())]
        if address:
            keys.append((self._addresses, "address:" + address))
        tick = self._monotonic()
        wait = max((t.locked_for(k, tick) for t, k in keys if t is not None), default=0.0)
        if wait > 0:
            minutes = max(1, math.ceil(wait / 60))
            raise RateLimited(
                f"too many failed sign-ins; try again in {minutes} minute(s)", retry_after_s=wait
            )
        found = await self._store.user_by_email(email.strip())
        stored_hash = found[1] if found else self._dummy_hash
        try:
            self._hasher.verify(stored_hash, password)
            if found is None or found[0].disabled:
                raise VerificationError("no such active user")
        except (VerificationError, InvalidHashError):
            log.info("failed sign-in")
            for throttle, key in keys:
                if throttle is not None:
                    throttle.failed(key, tick)
            raise Unauthorised("wrong email or password") from None
        for throttle, key in keys:
            if throttle is not None:
                throttle.succeeded(key)
        user = found[0]
        if self._hasher.check_needs_rehash(stored_hash):
            await self._store.update_user(user.user_id, password_hash=self._hasher.hash(password))
        token = secrets.token_urlsafe(32)
        now = self._clock()
        await self._store.create_session(token_hash(token), user.user_id, now, now + self._ttl)
        log.info("user_id=%s signed in", user.user_id)
        return token, user

    async def user_for(self, token: str | None) -> User | None:
        if not token or len(token) > 200:
            return None
        return await self._store.session_user(token_hash(token), self._clock())

    async def sign_out(self, token: str | None) -> None:
        if token:
            await self._store.delete_session(token_hash(token))
