"""API keys for integrations (an ERP, a CRM, a reporting job): the scopes, the key format and
the use cases create / list / revoke / authenticate.

Theory of operation
-------------------
A key is ``chk_<prefix>_<secret>``: 8 random characters that identify it in lists and logs,
then 43 more (256 bits). Only the SHA-256 of the whole key is stored, so a stolen database
holds no usable key; the key itself is shown once, when it is created. A key carries explicit
scopes from ``SCOPES``; a route names the scope it needs (``hub.web.api``) and refuses a key
without it, and a route that names none refuses every key. A revoked key is refused at once
and stays listed (revoked_at), so the audit trail's "api" actors keep a name.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from collections.abc import Iterable
from datetime import timedelta

from hub.errors import InvalidInput, NotFound
from hub.ports import ApiKey, ApiKeyStore, Clock

log = logging.getLogger(__name__)

__all__ = ["SCOPES", "ApiKey", "ApiKeys", "key_hash", "new_key", "parse_name", "parse_scopes"]

# Every scope a key may carry, and what it lets an integration do.
SCOPES: dict[str, str] = {
    "customers:read": "search and read customer records (GET /api/v1/customers...)",
    "customers:write": "create and change customers and their identities",
    "interactions:read": ("list interactions, read one whole, its notes and its email threads"),
    "interactions:write": (
        "hand the contact centre a task (POST /api/v1/interactions): an interaction of "
        "channel api, routed to an agent like any contact; and keep private notes on "
        "interactions (POST /api/v1/interactions/{interaction_id}/notes)"
    ),
    "agents:read": (
        "read every agent's state and load (GET /api/v1/agents...) and an agent's figures "
        "(GET /api/v1/agents/{agent_id}/stats)"
    ),
    "reports:read": (
        "read the queues with their live figures (GET /api/v1/queues...), today's figures, "
        "the day's interactions as CSV "
        "and historical reports"
    ),
    "kb:read": "search and read knowledge base articles, drafts included",
    "kb:write": "create, change, publish and delete knowledge base articles",
}
KEY_PREFIX = "chk_"
KEY_PATTERN = re.compile(r"^chk_([A-Za-z0-9]{8})_[A-Za-z0-9_-]{43}$")
MAX_NAME_CHARS = 100
MAX_KEY_CHARS = 200
# A key's last_used_at is written at most this often, not on every request.
TOUCH_EVERY = timedelta(seconds=60)
_ALPHANUMERIC = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def new_key() -> tuple[str, str]:
    """A fresh key and its prefix."""
    prefix = "".join(secrets.choice(_ALPHANUMERIC) for _ in range(8))
    return f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}", f"{KEY_PREFIX}{prefix}"


def parse_scopes(scopes: object) -> frozenset[str]:
    """The scopes asked for, each one known; InvalidInput naming the unknown ones otherwise."""
    if isinstance(scopes, str) or not isinstance(scopes, Iterable):
        raise InvalidInput("scopes must be a list of scope names")
    asked = list(scopes)
    if not asked:
        raise InvalidInput("give at least one scope: " + ", ".join(SCOPES))
    unknown = sorted(str(s) for s in asked if s not in SCOPES)
    if unknown:
        raise InvalidInput(f"unknown scope(s): {', '.join(unknown)}; known: {', '.join(SCOPES)}")
    return frozenset(str(s) for s in asked)


def parse_name(name: object) -> str:
    if not isinstance(name, str) or not name.strip():
        raise InvalidInput("name is required: what the key is for, e.g. erp")
    name = name.strip()
    if len(name) > MAX_NAME_CHARS:
        raise InvalidInput(f"name must be at most {MAX_NAME_CHARS} characters")
    return name


class ApiKeys:
    """The use cases; who did it goes on the audit trail at the edge (CLI, REST)."""

    def __init__(self, store: ApiKeyStore, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    async def create(self, name: object, scopes: object, *, by: str) -> tuple[ApiKey, str]:
        """A new key (returned once, never stored) and its record."""
        name, granted = parse_name(name), parse_scopes(scopes)
        key, prefix = new_key()
        record = await self._store.add_api_key(
            name=name,
            prefix=prefix,
            key_hash=key_hash(key),
            scopes=granted,
            created_by=by,
            now=self._clock(),
        )
        log.info("API key %s (%s) created", record.key_id, prefix)
        return record, key

    async def list(self) -> list[ApiKey]:
        return await self._store.api_keys()

    async def get(self, key_id: int) -> ApiKey:
        for record in await self._store.api_keys():
            if record.key_id == key_id:
                return record
        raise NotFound(f"no API key with key_id {key_id}")

    async def find(self, ref: str) -> ApiKey:
        """A key by its id, its prefix or its name (the command line's ``--key``)."""
        keys = await self._store.api_keys()
        found = [k for k in keys if ref in (str(k.key_id), k.prefix) and k.active]
        found = found or [k for k in keys if k.name == ref and k.active]
        if not found:
            raise NotFound(f"no active API key with id, prefix or name {ref!r}")
        if len(found) > 1:
            raise InvalidInput(f"{len(found)} active keys are named {ref!r}: give the prefix")
        return found[0]

    async def revoke(self, key_id: int) -> ApiKey:
        """Refuse the key from now on; revoking a revoked key changes nothing."""
        record = await self.get(key_id)
        if record.active:
            await self._store.revoke_api_key(key_id, self._clock())
            log.info("API key %s (%s) revoked", key_id, record.prefix)
        return await self.get(key_id)

    async def authenticate(self, key: str) -> ApiKey | None:
        """The active key's record, counting this as a use; None for anything else."""
        if len(key) > MAX_KEY_CHARS or not KEY_PATTERN.match(key):
            return None
        record = await self._store.api_key_by_hash(key_hash(key))
        if record is None or not record.active:
            return None
        now = self._clock()
        if record.last_used_at is None or now - record.last_used_at >= TOUCH_EVERY:
            await self._store.touch_api_key(record.key_id, now)
        return record
