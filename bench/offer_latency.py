"""How fast a new web chat reaches an agent: visitor message sent -> offer shown to an agent.

Starts a real hub on 127.0.0.1 (temporary SQLite file), signs in agents as Socket.IO
clients, then has visitors write one after another and times each offer's arrival.

    .venv/bin/python bench/offer_latency.py [--chats 200] [--agents 10]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.functional.conftest import connect, serve, settings_for


async def main(chats: int, agents: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        settings = settings_for(
            Path(tmp),
            wrap_up_s=0,
            HUB_ROUTING__DEFAULT_CAPACITY__WEBCHAT="50",
            HUB_WEBCHAT__CONNECTIONS_PER_MINUTE_PER_ADDRESS="600000",  # all from 127.0.0.1
        )
        async with serve(settings) as running:
            clients = []
            for n in range(agents):
                email = f"agent{n}@example.com"
                await running.add_user(email, f"Agent {n}")
                client = await connect(running.base, "/agent", token=await running.sign_in(email))
                await client.next("hello")
                await client.call("set_state", {"state": "available"})
                clients.append(client)
            offers: asyncio.Queue[float] = asyncio.Queue()
            for client in clients:
                client.sio.on(
                    "offer", lambda data: offers.put_nowait(time.perf_counter()), namespace="/agent"
                )
            latencies = []
            for _ in range(chats):
                visitor = await connect(running.base, "/chat", auth={})
                await visitor.next("session")
                sent = time.perf_counter()
                ack = await visitor.call("message", {"body": "hello"})
                assert ack.get("ok"), ack
                arrived = await asyncio.wait_for(offers.get(), 5)
                latencies.append((arrived - sent) * 1000)
                await visitor.close()
            for client in clients:
                await client.close()
    latencies.sort()
    p95 = latencies[int(len(latencies) * 0.95) - 1]
    print(f"chats={chats} agents={agents}")
    print(
        f"message->offer ms: median={statistics.median(latencies):.1f} "
        f"p95={p95:.1f} max={latencies[-1]:.1f}"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--chats", type=int, default=200)
    parser.add_argument("--agents", type=int, default=10)
    args = parser.parse_args()
    asyncio.run(main(args.chats, args.agents))
