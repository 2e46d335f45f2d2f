"""The router lease in Redis: at most one node holds it, for ``ttl_s`` unless renewed.

Taking it and drawing its fencing token happen in one script, so every lease has a token
higher than any before it. Renewal and release compare the holder first (a node never
extends or drops a lease another node took after its own ran out).
"""

from __future__ import annotations

from typing import Any

from hub.cluster import keys

# KEYS: lease, token counter; ARGV: node id, ttl ms. The new token, or nil when held.
_ACQUIRE = """
if redis.call('EXISTS', KEYS[1]) == 1 then return nil end
local token = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], ARGV[1] .. ':' .. token, 'PX', ARGV[2])
return token
"""
# KEYS: lease; ARGV: holder value, ttl ms. 1 when extended, 0 when no longer ours.
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class RouterLease:
    def __init__(self, redis: Any, *, node_id: str, ttl_s: float) -> None:
        self._redis = redis
        self._node_id = node_id
        self._ttl_ms = int(ttl_s * 1000)
        self._acquire = redis.register_script(_ACQUIRE)
        self._renew = redis.register_script(_RENEW)
        self._release = redis.register_script(_RELEASE)

    def _value(self, token: int) -> str:
        return f"{self._node_id}:{token}"

    async def acquire(self) -> int | None:
        """The new fencing token when this node took the free lease, else None."""
        token = await self._acquire(
            keys=[keys.ROUTER_LEASE, keys.ROUTER_TOKEN], args=[self._node_id, self._ttl_ms]
        )
        return None if token is None else int(token)

    async def renew(self, token: int) -> bool:
        """Extend the lease taken with ``token``; False when it is no longer this node's."""
        done = await self._renew(keys=[keys.ROUTER_LEASE], args=[self._value(token), self._ttl_ms])
        return bool(done)

    async def release(self, token: int) -> None:
        await self._release(keys=[keys.ROUTER_LEASE], args=[self._value(token)])

    async def holder(self) -> str | None:
        """The node id holding the lease, or None."""
        value = await self._redis.get(keys.ROUTER_LEASE)
        if value is None:
            return None
        text = value.decode() if isinstance(value, bytes) else str(value)
        return text.rsplit(":", 1)[0]
