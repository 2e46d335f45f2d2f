"""docs/deploy/nginx.conf, run as written in front of a hub: TLS, the websocket upgrade of a
web-chat visitor, the client's own address and scheme reaching the hub (http.trusted_proxies),
/healthz passed through and /metrics kept in. Needs nginx (skipped without it locally, a
failure under CI=true)."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import ssl
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import socketio
import trustme

from hub.model import Role
from tests.conftest import need
from tests.functional.conftest import PASSWORD, free_port, serve, settings_for
from tests.functional.test_audit import admin, by_action, entries
from tests.functional.test_chat_flow import agent, available

EXAMPLE = Path(__file__).parents[2] / "docs" / "deploy" / "nginx.conf"
CLIENT = "127.0.0.2"  # the browser: another loopback address than nginx's own 127.0.0.1


def render(example: str, *, hub_port: int, http_port: int, https_port: int, cert: Path) -> str:
    """The example with this machine's ports and a test certificate; nothing else changed."""
    upstreams = re.findall(r"^\s*server 10\.0\.0\.\d+:8080 .*;$", example, flags=re.M)
    assert len(upstreams) == 3, "the example lists three nodes"
    text = example.replace(upstreams[0], f"    server 127.0.0.1:{hub_port} max_fails=3;")
    for line in upstreams[1:]:
        text = text.replace(line + "\n", "")
    for old, new in (
        ("listen 80;", f"listen 127.0.0.1:{http_port};"),
        ("listen 443 ssl;", f"listen 127.0.0.1:{https_port} ssl;"),
        ("/etc/letsencrypt/live/support.example.com/fullchain.pem", str(cert)),
        ("/etc/letsencrypt/live/support.example.com/privkey.pem", str(cert)),
    ):
        assert old in text, old
        text = text.replace(old, new)
    return text


@asynccontextmanager
async def nginx_in_front(
    tmp_path: Path, hub_port: int
) -> AsyncIterator[tuple[str, ssl.SSLContext]]:
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    need(os.access(binary, os.X_OK), "nginx is not installed (apt-get install nginx-light)")
    ca = trustme.CA()
    cert = tmp_path / "server.pem"
    ca.issue_cert("127.0.0.1").private_key_and_cert_chain_pem.write_to_path(str(cert))
    https_port = free_port()
    site = tmp_path / "contact-hub.conf"
    site.write_text(
        render(
            EXAMPLE.read_text(),
            hub_port=hub_port,
            http_port=free_port(),
            https_port=https_port,
            cert=cert,
        )
    )
    temp = {k: tmp_path / k for k in ("client_body", "proxy")}
    for path in temp.values():
        path.mkdir()
    main = tmp_path / "nginx.conf"
    main.write_text(
        ("user root;\n" if os.geteuid() == 0 else "")
        + f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        + "http {\n  access_log off;\n"
        + "".join(f"  {k}_temp_path {v};\n" for k, v in temp.items())
        + f"  include {site};\n}}\n"
    )
    proc = subprocess.Popen(
        [binary, "-p", str(tmp_path), "-c", str(main), "-g", "daemon off;"],
        stderr=subprocess.PIPE,
    )
    context = ssl.create_default_context()
    ca.configure_trust(context)
    base = f"https://127.0.0.1:{https_port}"
    try:
        for _ in range(100):  # nginx is up once it answers
            try:
                async with aiohttp.ClientSession() as http:
                    async with http.get(f"{base}/healthz", ssl=context) as resp:
                        if resp.status == 200:
                            break
            except aiohttp.ClientError:
                pass
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            await asyncio.sleep(0.05)
        yield base, context
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if proc.stderr:
            proc.stderr.close()


def browser_session(context: ssl.SSLContext) -> aiohttp.ClientSession:
    """HTTP from the browser's address, trusting the test CA."""
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(ssl=context, local_addr=(CLIENT, 0))
    )


async def test_the_example_nginx_config_serves_the_hub_as_documented(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, HUB_HTTP__TRUSTED_PROXIES="127.0.0.1/32")
    async with (
        serve(settings) as running,
        nginx_in_front(tmp_path, settings.http.port) as (
            base,
            context,
        ),
    ):
        token = await admin(running)
        alice = await agent(running, "alice@example.com", "Alice Agent")
        await available(alice)
        await running.add_user("al@example.com", "Al Agent", Role.AGENT)

        async with browser_session(context) as http:
            async with http.get(f"{base}/healthz") as resp:
                assert resp.status == 200
            async with http.get(f"{base}/metrics") as resp:
                assert resp.status == 404  # scraped on the nodes, not through the front door
            sign_in = f"{base}/api/v1/session"
            async with http.post(sign_in, json={"email": "al@example.com", "password": "no"}) as r:
                assert r.status == 401
            body = {"email": "al@example.com", "password": PASSWORD}
            async with http.post(sign_in, json=body) as resp:
                assert resp.status == 200
                assert resp.cookies["hub_session"]["secure"]  # HTTPS at nginx: a Secure cookie
        # The hub saw the browser's address, not nginx's.
        failed = by_action(await entries(running, token), "signin.failed")
        assert [e["actor"]["address"] for e in failed] == [CLIENT]

        # A web-chat visitor through nginx: long-polling first, then the websocket upgrade.
        visitor = socketio.AsyncClient(reconnection=False, http_session=browser_session(context))
        try:
            await visitor.connect(base, namespaces=["/chat"], auth={}, wait_timeout=10)
            for _ in range(50):
                if visitor.transport() == "websocket":
                    break
                await asyncio.sleep(0.1)
            assert visitor.transport() == "websocket"
            ack = await visitor.call(
                "message", {"body": "Through the proxy"}, namespace="/chat", timeout=10
            )
            assert ack["ok"], ack
        finally:
            await visitor.disconnect()
            await visitor.eio.http.close()  # type: ignore[union-attr]
        offer = await alice.next("offer", timeout=10)
        assert offer["channel"] == "webchat" and offer["preview"] == "Through the proxy"
