"""The transport's own limit: a bare python-socketio relay, no persistence, no routing.

A customer socket (``/chat``) sends ``message``; the relay passes it at once to the next agent
socket (``/agent``, round robin) as ``offer`` and acks. An agent's ``send_message`` goes
straight back to that customer as ``message``. Same server stack as the hub (aiohttp,
python-socketio, uvloop when installed), so ``bench/load.py`` can report the hub's figures as
ratios to this one's.

    python bench/relay.py --port 8099
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from pathlib import Path
from typing import Any

import socketio
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hub.cli import event_loop_factory


def build() -> web.Application:
    sio = socketio.AsyncServer(async_mode="aiohttp", logger=False, engineio_logger=False)
    agents: list[str] = []
    turn = [0]

    @sio.on("connect", namespace="/agent")
    async def agent_connect(sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        agents.append(sid)

    @sio.on("disconnect", namespace="/agent")
    async def agent_disconnect(sid: str, reason: Any = None) -> None:
        with contextlib.suppress(ValueError):
            agents.remove(sid)

    @sio.on("message", namespace="/chat")
    async def customer_message(sid: str, data: Any) -> dict[str, Any]:
        if not agents or not isinstance(data, dict):
            return {"error": {"code": "unavailable", "message": "no agent"}}
        turn[0] = (turn[0] + 1) % len(agents)
        offer = {"customer": sid, "preview": str(data.get("body", ""))}
        await sio.emit("offer", offer, to=agents[turn[0]], namespace="/agent")
        return {"ok": True}

    @sio.on("send_message", namespace="/agent")
    async def agent_reply(sid: str, data: Any) -> dict[str, Any]:
        if not isinstance(data, dict) or not isinstance(data.get("customer"), str):
            return {"error": {"code": "invalid_input", "message": "customer is required"}}
        message = {"message": {"body": str(data.get("body", ""))}}
        await sio.emit("message", message, to=data["customer"], namespace="/chat")
        return {"ok": True}

    app = web.Application()
    sio.attach(app)
    app.router.add_get("/healthz", lambda _request: web.json_response({"status": "ok"}))
    return app


async def serve(port: int) -> None:
    runner = web.AppRunner(build(), access_log=None, shutdown_timeout=1)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    print(f"relay listening on 127.0.0.1:{port}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await runner.cleanup()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    with asyncio.Runner(loop_factory=event_loop_factory()) as runner:
        runner.run(serve(parser.parse_args().port))
