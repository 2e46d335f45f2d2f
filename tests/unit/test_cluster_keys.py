"""Pub/sub channel names: each names its Redis database, since pub/sub ignores it."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from hub.app import redis_client
from hub.cluster import keys

CHANNELS: list[Callable[[keys.Channels], str]] = [
    lambda c: c.socketio,
    lambda c: c.router_elected,
    lambda c: c.router_view,
    lambda c: c.broadcast,
    lambda c: c.replies("node-1"),
]


@pytest.mark.parametrize("channel", CHANNELS)
def test_channels_of_two_databases_never_meet(channel: Callable[[keys.Channels], str]) -> None:
    names = {channel(keys.Channels(db)) for db in (0, 1, 11, 13)}
    assert len(names) == 4
    assert all(name.startswith(keys.PREFIX) for name in names)


def test_channels_of_every_kind_differ() -> None:
    assert len({channel(keys.Channels(11)) for channel in CHANNELS}) == len(CHANNELS)


@pytest.mark.parametrize(
    ("url", "database"),
    [
        ("redis://127.0.0.1:6379/11", 11),
        ("redis://127.0.0.1:6379", 0),
        ("redis://127.0.0.1:6379/0", 0),
        ("redis://127.0.0.1:6379?db=3", 3),
    ],
)
async def test_channels_follow_the_database_of_the_configured_url(url: str, database: int) -> None:
    redis = redis_client(url)  # no connection is made
    try:
        assert keys.Channels.of(redis) == keys.Channels(database)
    finally:
        await redis.aclose()
