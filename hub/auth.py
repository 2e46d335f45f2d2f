"""Sign-in and sessions: argon2id password hashes, opaque session tokens stored hashed.

A session ends when it expires (``session_ttl_s`` after sign-in), when it has not been used
for ``idle_timeout_s`` (any authenticated request or socket event uses it; the console's
socket says so once a minute while it is open, so an open console keeps its session), at
sign-out, and for all of a user's sessions when they are disabled or their role or password
changes. Every ending is announced (``SessionsRevoked``) so the sockets close at once.

Supervisors and admins may add a second factor (TOTP, ``hub.totp``): enrol, confirm with a
first code, then every sign-in needs a fresh code too. A wrong code counts as a failed sign-in
(lockout); a code already used is refused (the last step used is kept per process).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
import secrets
import time
from collections.abc import Callable, Iterable
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from hub import totp
from hub.errors import Conflict, Forbidden, InvalidInput, RateLimited, TotpRequired, Unauthorised
from hub.events import SessionsRevoked
from hub.model import Role, User
from hub.passwords import MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS, check_password_policy
from hub.ports import Clock, EventBus, Store
from hub.throttle import FailureThrottle

log = logging.getLogger(__name__)

__all__ = ["MAX_PASSWORD_CHARS", "MIN_PASSWORD_CHARS", "check_password_policy"]

SESSION_COOKIE = "hub_session"
# A session's last_seen_at is written at most this often, not on every request.
TOUCH_EVERY = timedelta(seconds=60)

STAFF = frozenset({Role.AGENT, Role.SUPERVISOR, Role.ADMIN})
SUPERVISORS = frozenset({Role.SUPERVISOR, Role.ADMIN})
ADMINS = frozenset({Role.ADMIN})


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def require_role(user: User | None, roles: Iterable[Role]) -> User:
    """The signed-in user if their role is one of ``roles``; else Unauthorised / Forbidden."""
    if user is None:
        raise Unauthorised("sign in first")
    if user.role not in frozenset(roles):
        raise Forbidden(f"the {user.role.value} role may not do this")
    return user


class _NoBus:
    async def publish(self, event: object) -> None:
        return None


class Authenticator:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        *,
        session_ttl_s: int,
        idle_timeout_s: int | None = None,
        accounts: FailureThrottle | None = None,
        addresses: FailureThrottle | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        bus: EventBus | None = None,
    ) -> None:
        self._store = store
        self._clock = clock
        self._ttl = timedelta(seconds=session_ttl_s)
        self._idle = timedelta(seconds=idle_timeout_s or session_ttl_s)
        # Failed sign-ins lock an account, and the address they come from, for a while.
        self._accounts = accounts
        self._addresses = addresses
        self._monotonic = monotonic
        self._bus: EventBus | _NoBus = bus or _NoBus()
        self._hasher = PasswordHasher()  # argon2id with the library's current parameters
        self._totp_steps: dict[int, int] = {}  # user_id -> last TOTP step used
        self._dummy_hash = self._hasher.hash(secrets.token_urlsafe(16))

    def hash_password(self, password: str, *, email: str | None = None) -> str:
        check_password_policy(password, email=email)
        return self._hasher.hash(password)

    def _throttle_keys(
        self, email: str, address: str | None
    ) -> list[tuple[FailureThrottle | None, str]]:
        keys = [(self._accounts, "account:" + email.strip().lower())]
        if address:
            keys.append((self._addresses, "address:" + address))
        return keys

    async def _check_password(
        self, email: str, password: str, address: str | None, refusal: str
    ) -> tuple[User, str]:
        """The active user and stored hash if ``password`` is theirs. RateLimited while the
        account or address is locked (checked first, so a locked account cannot be probed);
        otherwise Unauthorised(``refusal``), the same whether the account exists or not."""
        keys = self._throttle_keys(email, address)
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
            # argon2 takes tens of milliseconds of CPU: off the event loop, so sign-ins never
            # stall the sockets of everyone else.
            await asyncio.to_thread(self._hasher.verify, stored_hash, password)
            if found is None or found[0].disabled:
                raise VerificationError("no such active user")
        except (VerificationError, InvalidHashError):
            log.info("failed sign-in")
            done = self._monotonic()  # the lockout runs from the end of the failed attempt
            for throttle, key in keys:
                if throttle is not None:
                    throttle.failed(key, done)
            raise Unauthorised(refusal) from None
        for throttle, key in keys:
            if throttle is not None:
                throttle.succeeded(key)
        return found

    async def _new_session(self, user: User) -> str:
        token = secrets.token_urlsafe(32)
        now = self._clock()
        await self._store.create_session(token_hash(token), user.user_id, now, now + self._ttl)
        return token

    async def sign_in(
        self, email: str, password: str, address: str | None = None, code: str | None = None
    ) -> tuple[str, User]:
        """A new session token for valid credentials; Unauthorised otherwise (same message
        whether the account exists or not); RateLimited while the account or the ``address``
        is locked after repeated failures. An account with TOTP also needs ``code``:
        TotpRequired without one, Unauthorised (a failure) for a wrong or used one."""
        user, stored_hash = await self._check_password(
            email, password, address, "wrong email or password"
        )
        if user.totp_enabled:
            if not code:
                raise TotpRequired("enter the 6-digit code from your authenticator app")
            if not await self._take_code(user, code):
                log.info("user_id=%s failed sign-in: wrong TOTP code", user.user_id)
                tick = self._monotonic()
                for throttle, key in self._throttle_keys(email, address):
                    if throttle is not None:
                        throttle.failed(key, tick)
                raise Unauthorised("wrong or already used authenticator code")
        if self._hasher.check_needs_rehash(stored_hash):
            fresh_hash = await asyncio.to_thread(self._hasher.hash, password)
            await self._store.update_user(user.user_id, password_hash=fresh_hash)
        token = await self._new_session(user)
        log.info("user_id=%s signed in", user.user_id)
        return token, user

    def locked(self, email: str, address: str | None = None) -> list[str]:
        """Which of the account and the address are locked out now ("account", "address")."""
        tick = self._monotonic()
        return [
            key.partition(":")[0]
            for throttle, key in self._throttle_keys(email, address)
            if throttle is not None and throttle.locked_for(key, tick) > 0
        ]

    async def user_for(self, token: str | None) -> User | None:
        """The user of a live session, counting this as activity; None for an unknown,
        expired or idle session (an idle one is deleted)."""
        if not token or len(token) > 200:
            return None
        session_hash, now = token_hash(token), self._clock()
        found = await self._store.session_user(session_hash, now)
        if found is None:
            return None
        user, last_seen_at = found
        unused = now - last_seen_at
        if unused >= self._idle:
            await self._store.delete_session(session_hash)
            log.info(
                "user_id=%s session ended: idle for %d s", user.user_id, unused.total_seconds()
            )
            await self._bus.publish(SessionsRevoked(user.user_id, session_hash, "idle"))
            return None
        if unused >= TOUCH_EVERY:
            await self._store.touch_session(session_hash, now)
        return user

    async def sign_out(self, token: str | None) -> None:
        if not token or len(token) > 200:
            return
        session_hash = token_hash(token)
        found = await self._store.session_user(session_hash, self._clock())
        await self._store.delete_session(session_hash)
        if found is not None:
            log.info("user_id=%s signed out", found[0].user_id)
            await self._bus.publish(SessionsRevoked(found[0].user_id, session_hash, "signed_out"))

    async def change_password(
        self, user: User, current: str, new: str, address: str | None = None
    ) -> tuple[str, User]:
        """Set the user's own new password, given their current one: every session of theirs
        ends (their sockets close) and a fresh session token is returned for this browser.
        The new password must pass the policy and differ from the current one."""
        try:
            _, stored_hash = await self._check_password(user.email, current, address, "")
        except Unauthorised:
            raise InvalidInput("current_password is wrong") from None
        check_password_policy(new, email=user.email)
        try:
            await asyncio.to_thread(self._hasher.verify, stored_hash, new)
        except (VerificationError, InvalidHashError):
            pass
        else:
            raise InvalidInput("the new password must differ from the current one")
        await self._store.update_user(
            user.user_id, password_hash=self._hasher.hash(new), must_change_password=False
        )
        log.info("user_id=%s changed their password", user.user_id)
        await self._bus.publish(SessionsRevoked(user.user_id, None, "password_changed"))
        fresh = await self._store.user(user.user_id)
        assert fresh is not None
        return await self._new_session(fresh), fresh

    # ------------------------------------------------------------------ TOTP second factor
    async def _take_code(self, user: User, code: str) -> bool:
        """Whether ``code`` is the user's current one and not used before (then it is used)."""
        secret = await self._store.totp_secret(user.user_id)
        step = totp.matching_step(secret, code, self._clock()) if secret else None
        if step is None or step <= self._totp_steps.get(user.user_id, -1):
            return False
        self._totp_steps[user.user_id] = step
        return True

    async def start_totp(self, user: User) -> tuple[str, str]:
        """A new secret and its ``otpauth://`` URI for the user's authenticator app; the
        second factor is on once ``confirm_totp`` sees a code from it."""
        require_role(user, SUPERVISORS)
        if user.totp_enabled:
            raise Conflict("the authenticator is already on; turn it off first")
        secret = totp.new_secret()
        await self._store.set_totp(user.user_id, secret, enabled=False)
        return secret, totp.provisioning_uri(secret, user.email)

    async def confirm_totp(self, user: User, code: str) -> None:
        require_role(user, SUPERVISORS)
        if user.totp_enabled:
            raise Conflict("the authenticator is already on")
        if await self._store.totp_secret(user.user_id) is None:
            raise Conflict("start the enrolment first (POST /api/v1/session/totp)")
        if not await self._take_code(user, code):
            raise InvalidInput("code is wrong; enter the one your authenticator app shows now")
        await self._store.set_totp(
            user.user_id, await self._store.totp_secret(user.user_id), enabled=True
        )
        log.info("user_id=%s turned on the authenticator", user.user_id)

    async def stop_totp(self, user: User, code: str) -> None:
        """Turn the second factor off, with a current code (an admin can reset it instead)."""
        if not user.totp_enabled:
            raise Conflict("the authenticator is not on")
        if not await self._take_code(user, code):
            raise InvalidInput("code is wrong; enter the one your authenticator app shows now")
        await self._store.set_totp(user.user_id, None, enabled=False)
        log.info("user_id=%s turned off the authenticator", user.user_id)
