"""The authorisation matrix: every HTTP route of the built hub (the /twilio sub-app included)
and every Socket.IO event of every namespace, and who gets what, run against one real hub
with every channel configured.

``ROUTES`` and ``EVENTS`` classify each door; ``expected`` turns a door and a caller into
the answer a user would see. A route or an event handler that exists but is not in the
tables fails the test, so each new one must be classified here.

Callers: anonymous; a web-chat visitor (sockets; on HTTP a visitor holds no credential and is
anonymous); an agent on their own interaction (alice) and on another's (ben); a supervisor;
an admin; an integration's API key with the route's scope and one without it.

"Through the door" means the answer is not 401/403 (nor a redirect to sign in) and not a
crash: it may still be 400/404/409, since the cells send door-only input where the real
action would change what later cells see (log an agent out, revoke a key).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml
from aiohttp import web

from channels.twilio.device import TAKES_CALLS
from hub.apikeys import SCOPES
from hub.auth import ADMINS, STAFF, SUPERVISORS
from hub.config import load_settings
from hub.csrf import csrf_token
from hub.model import Role
from tests.fakes.sms_hub import ACCOUNT_SID, AUTH_TOKEN, environ
from tests.fakes.twilio_api import FakeTwilioApi
from tests.fakes.voice_hub import BROWSER_PHONE, VOICE_NUMBER, voice_config
from tests.functional.conftest import (
    Client,
    Running,
    connect,
    connect_refused,
    csrf_headers,
    free_port,
    serve,
)
from tests.functional.test_email_support import mail, send

ANONYMOUS, VISITOR, AGENT_OWN, AGENT_OTHER = "anonymous", "visitor", "agent_own", "agent_other"
SUPERVISOR, ADMIN, KEY_WITH, KEY_WITHOUT = "supervisor", "admin", "key_with", "key_without"
# A supervisor of another queue ("calls", agents[].supervises) than alice's ("support").
SUPERVISOR_OTHER = "supervisor_other_queue"
HTTP_CALLERS = (
    ANONYMOUS,
    AGENT_OWN,
    AGENT_OTHER,
    SUPERVISOR,
    SUPERVISOR_OTHER,
    ADMIN,
    KEY_WITH,
    KEY_WITHOUT,
)
ROLE_OF = {
    AGENT_OWN: Role.AGENT,
    AGENT_OTHER: Role.AGENT,
    SUPERVISOR: Role.SUPERVISOR,
    SUPERVISOR_OTHER: Role.SUPERVISOR,
    ADMIN: Role.ADMIN,
}
THROUGH = "through"  # passes the door (see the module docstring)
NOBODY = 999_999  # an id that names nothing: door-only input for actions that would bite


@dataclass(frozen=True)
class Door:
    kind: str  # public, static, network, twilio, sockets, page, api
    roles: frozenset[Role] = frozenset()
    scope: str | None = None  # the API key scope an api route takes
    owned: bool = False  # names alice's interaction or customer: other agents are refused
    held: bool = False  # only the agent holding the interaction may (supervisors neither)
    queued: bool = False  # names alice's queue or interaction: other queues' supervisors refused
    body: Any = None  # what the cell sends ("multipart": a reply form; "{name}": a parameter)
    params: tuple[tuple[str, Any], ...] = ()  # path parameters overriding the scene's


PUBLIC = Door("public")
STATIC = Door("static")
TWILIO = Door("twilio")


def api(
    roles: frozenset[Role],
    scope: str | None = None,
    *,
    owned: bool = False,
    held: bool = False,
    queued: bool = False,
    body: Any = None,
    **params: Any,
) -> Door:
    return Door("api", roles, scope, owned or held, held, queued, body, tuple(params.items()))


def page(roles: frozenset[Role]) -> Door:
    return Door("page", roles)


ROUTES: dict[tuple[str, str], Door] = {
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/api/v1/openapi.json"): PUBLIC,
    ("POST", "/api/v1/session"): Door("public", body={}),
    ("DELETE", "/api/v1/session"): PUBLIC,
    ("POST", "/api/v1/session/password"): api(STAFF, body={}),
    ("GET", "/api/v1/me"): api(STAFF),
    ("PUT", "/api/v1/me/language"): api(STAFF, body={}),
    ("GET", "/api/v1/customers/{customer_id}"): api(
        STAFF, "customers:read", owned=True, queued=True
    ),
    ("GET", "/api/v1/interactions"): api(STAFF, "interactions:read"),
    # A task for the contact centre (channel api): integrations and supervisors, not agents.
    ("POST", "/api/v1/interactions"): api(SUPERVISORS, "interactions:write", body={}),
    ("GET", "/api/v1/interactions/{interaction_id}"): api(
        STAFF, "interactions:read", owned=True, queued=True
    ),
    ("GET", "/api/v1/interactions/{interaction_id}/notes"): api(
        STAFF, "interactions:read", owned=True, queued=True
    ),
    # As the console's add_note: the agent holding it, supervisors of its queue, and keys.
    ("POST", "/api/v1/interactions/{interaction_id}/notes"): api(
        STAFF, "interactions:write", owned=True, queued=True, body={"body": "a note"}
    ),
    ("GET", "/api/v1/queues/{name}/stats"): api(SUPERVISORS, "reports:read", queued=True),
    ("GET", "/api/v1/agents"): api(STAFF, "agents:read"),
    ("GET", "/api/v1/queues"): api(SUPERVISORS, "reports:read"),
    # A limited supervisor sees the agents serving their queues (alice serves both here).
    ("GET", "/api/v1/agents/{agent_id}"): api(STAFF, "agents:read", agent_id="{alice_id}"),
    # Alice's own figures: a colleague is refused, as for her ratings.
    ("GET", "/api/v1/agents/{agent_id}/stats"): api(
        STAFF, "agents:read", owned=True, agent_id="{alice_id}"
    ),
    ("POST", "/api/v1/admin/routing/reload"): api(ADMINS, body={}),
    ("GET", "/api/v1/users"): api(ADMINS),
    ("POST", "/api/v1/users"): api(ADMINS, body={}),
    ("GET", "/api/v1/users/{user_id}"): api(ADMINS),
    ("PATCH", "/api/v1/users/{user_id}"): api(ADMINS, body={}),
    ("GET", "/api/v1/reports/interactions.csv"): api(SUPERVISORS, "reports:read"),
    ("GET", "/api/v1/reports/today"): api(SUPERVISORS, "reports:read"),
    ("GET", "/api/v1/reports/history"): api(SUPERVISORS, "reports:read"),
    # An agent's own ratings (alice's): a colleague is refused; supervisors of a queue she
    # serves (both queues here) see them.
    ("GET", "/api/v1/agents/{agent_id}/satisfaction"): api(
        STAFF, "reports:read", owned=True, agent_id="{alice_id}"
    ),
    ("POST", "/api/v1/agents/{agent_id}/state"): api(SUPERVISORS, body={}, agent_id=NOBODY),
    ("POST", "/api/v1/agents/{agent_id}/logout"): api(SUPERVISORS, body={}, agent_id=NOBODY),
    ("POST", "/api/v1/interactions/{interaction_id}/move"): api(SUPERVISORS, queued=True, body={}),
    ("GET", "/api/v1/admin/audit"): api(ADMINS),
    ("GET", "/api/v1/admin/audit.csv"): api(ADMINS),
    ("GET", "/api/v1/admin/apikeys"): api(ADMINS),
    ("POST", "/api/v1/admin/apikeys"): api(ADMINS, body={}),
    ("DELETE", "/api/v1/admin/apikeys/{key_id}"): api(ADMINS, key_id=NOBODY),
    ("GET", "/api/v1/voice/device"): api(TAKES_CALLS),
    ("PUT", "/api/v1/voice/device"): api(TAKES_CALLS, body={}),
    ("GET", "/api/v1/voice/token"): api(TAKES_CALLS),
    ("POST", "/api/v1/customers/{customer_id}/call"): api(
        TAKES_CALLS, owned=True, queued=True, body={}
    ),
    ("GET", "/api/v1/interactions/{interaction_id}/email"): api(
        STAFF, "interactions:read", owned=True, queued=True
    ),
    ("POST", "/api/v1/interactions/{interaction_id}/email/reply"): api(
        STAFF, held=True, body="multipart"
    ),
    ("GET", "/api/v1/email/attachments/{attachment_id}"): api(
        STAFF, "interactions:read", owned=True, queued=True
    ),
    ("POST", "/api/v1/session/totp"): api(SUPERVISORS, body={}),
    ("POST", "/api/v1/session/totp/confirm"): api(SUPERVISORS, body={}),
    ("DELETE", "/api/v1/session/totp"): api(STAFF, body={}),
    ("GET", "/api/v1/customers"): api(STAFF, "customers:read"),
    ("POST", "/api/v1/customers"): api(STAFF, "customers:write", body={}),
    ("PATCH", "/api/v1/customers/{customer_id}"): api(
        STAFF, "customers:write", owned=True, queued=True, body={}
    ),
    ("POST", "/api/v1/customers/{customer_id}/identities"): api(
        STAFF, "customers:write", owned=True, queued=True, body={}
    ),
    ("DELETE", "/api/v1/customers/{customer_id}/identities/{identity_id}"): api(
        STAFF, "customers:write", owned=True, queued=True, identity_id=NOBODY
    ),
    # Alice's customer into itself: those who may act on it get past the door to a 400.
    ("POST", "/api/v1/customers/{customer_id}/merge"): api(
        STAFF, owned=True, queued=True, body={"from_customer_id": "{customer_id}"}
    ),
    ("POST", "/api/v1/customers/{customer_id}/unmerge"): api(ADMINS, body={}),
    ("GET", "/api/v1/customers/{customer_id}/export"): api(ADMINS),
    ("POST", "/api/v1/customers/{customer_id}/erase"): api(ADMINS, body={}),
    # Follow-ups: on a customer, whoever may act on them; the listing scopes itself (an
    # agent's own); a cancel of a follow-up that does not exist is past the door (404).
    ("POST", "/api/v1/customers/{customer_id}/followups"): api(
        STAFF, "customers:write", owned=True, queued=True, body={}
    ),
    ("GET", "/api/v1/customers/{customer_id}/followups"): api(
        STAFF, "customers:read", owned=True, queued=True
    ),
    ("GET", "/api/v1/followups"): api(STAFF, "customers:read"),
    ("DELETE", "/api/v1/followups/{followup_id}"): api(
        STAFF, "customers:write", followup_id=NOBODY
    ),
    ("GET", "/api/v1/admin/webhooks"): api(ADMINS),
    ("POST", "/api/v1/admin/webhooks"): api(ADMINS, body={}),
    ("GET", "/api/v1/admin/webhooks/{subscription_id}"): api(ADMINS, subscription_id=NOBODY),
    ("PATCH", "/api/v1/admin/webhooks/{subscription_id}"): api(
        ADMINS, body={}, subscription_id=NOBODY
    ),
    ("DELETE", "/api/v1/admin/webhooks/{subscription_id}"): api(ADMINS, subscription_id=NOBODY),
    ("POST", "/api/v1/admin/webhooks/{subscription_id}/secret"): api(
        ADMINS, body={}, subscription_id=NOBODY
    ),
    ("POST", "/api/v1/admin/webhooks/{subscription_id}/ping"): api(
        ADMINS, body={}, subscription_id=NOBODY
    ),
    ("GET", "/api/v1/admin/webhooks/{subscription_id}/deliveries"): api(
        ADMINS, subscription_id=NOBODY
    ),
    ("POST", "/api/v1/admin/webhooks/{subscription_id}/deliveries/{delivery_id}/redeliver"): api(
        ADMINS, body={}, subscription_id=NOBODY, delivery_id=NOBODY
    ),
    ("GET", "/api/v1/kb/articles"): api(STAFF, "kb:read"),
    ("POST", "/api/v1/kb/articles"): api(SUPERVISORS, "kb:write", body={}),
    ("GET", "/api/v1/kb/articles/{article_id}"): api(STAFF, "kb:read", article_id=NOBODY),
    ("PATCH", "/api/v1/kb/articles/{article_id}"): api(
        SUPERVISORS, "kb:write", body={}, article_id=NOBODY
    ),
    ("DELETE", "/api/v1/kb/articles/{article_id}"): api(SUPERVISORS, "kb:write", article_id=NOBODY),
    ("POST", "/api/v1/kb/preview"): api(SUPERVISORS, "kb:write", body={}),
    ("GET", "/"): PUBLIC,
    ("GET", "/favicon.ico"): PUBLIC,
    ("GET", "/login"): PUBLIC,
    ("GET", "/console"): page(STAFF),
    ("GET", "/console/supervisor"): page(SUPERVISORS),
    ("GET", "/console/supervisor/history"): page(SUPERVISORS),
    # The page only; what it shows comes from the customers API and its own access rules.
    ("GET", "/console/customers"): page(STAFF),
    ("GET", "/console/customers/{customer_id}"): page(STAFF),
    ("GET", "/console/kb"): page(SUPERVISORS),
    ("GET", "/console/admin/audit"): page(ADMINS),
    ("GET", "/chat"): PUBLIC,
    ("GET", "/widget.js"): PUBLIC,
    ("GET", "/widget-demo"): PUBLIC,
    ("GET", "/metrics"): Door("network"),
    ("GET", "/console/static"): STATIC,
    ("GET", "/chat/static"): STATIC,
    ("GET", "/static/vendor"): STATIC,
    ("GET", "/socket.io/"): Door("sockets"),
    ("POST", "/socket.io/"): Door("sockets"),
    ("OPTIONS", "/socket.io/"): Door("sockets"),
    ("POST", "/twilio/sms"): TWILIO,
    ("POST", "/twilio/sms/status"): TWILIO,
    ("POST", "/twilio/voice"): TWILIO,
    ("POST", "/twilio/voice/agent"): TWILIO,
    ("POST", "/twilio/voice/callback"): TWILIO,
    ("POST", "/twilio/voice/client"): TWILIO,
    ("POST", "/twilio/voice/conference"): TWILIO,
    ("POST", "/twilio/voice/consult"): TWILIO,
    ("POST", "/twilio/voice/menu"): TWILIO,
    ("POST", "/twilio/voice/monitor"): TWILIO,
    ("POST", "/twilio/voice/outbound/agent"): TWILIO,
    ("POST", "/twilio/voice/outbound/customer"): TWILIO,
    ("POST", "/twilio/voice/recording"): TWILIO,
    ("POST", "/twilio/voice/status"): TWILIO,
    ("POST", "/twilio/voice/survey"): TWILIO,
    ("POST", "/twilio/voice/survey/rated"): TWILIO,
    # A survey mail's rating links: the signed token is the authority (a forged one: 404).
    ("GET", "/csat/{token}/{score}"): Door("public", params=(("token", "x"), ("score", "5"))),
    ("POST", "/csat/{token}"): Door("public", body={}, params=(("token", "x"),)),
    ("POST", "/twilio/voice/voicemail"): TWILIO,
    ("POST", "/twilio/voice/wait"): TWILIO,
    ("POST", "/twilio/voice/waited"): TWILIO,
}


def expected(door: Door, who: str) -> int | str:
    """What ``who`` gets at ``door``: a status code, or THROUGH."""
    if door.kind in ("public", "network"):
        return THROUGH  # /metrics: the test runs on loopback, which is allowed
    if door.kind == "twilio":
        return 403  # no valid X-Twilio-Signature, whoever asks
    role = ROLE_OF.get(who)
    if door.kind == "page":
        if role is None:
            return 302  # to /login: an API key is not a session
        return 200 if role in door.roles else 403
    if who in (KEY_WITH, KEY_WITHOUT):
        return THROUGH if who == KEY_WITH and door.scope is not None else 403
    if role is None:
        return 401
    if role not in door.roles or (door.owned and who == AGENT_OTHER):
        return 403
    if door.held and who != AGENT_OWN:
        return 403
    if door.queued and who == SUPERVISOR_OTHER:
        return 403
    return THROUGH


# ---------------------------------------------------------------------- Socket.IO events


@dataclass(frozen=True)
class Event:
    payload: Any  # "{iid}" is alice's interaction
    owned: bool = False  # acts on alice's interaction: other agents are refused
    queued: bool = False  # acts on alice's interaction: other queues' supervisors are refused


NAMESPACE_ROLES: dict[str, frozenset[Role] | None] = {
    "/agent": STAFF,
    "/supervisor": SUPERVISORS,
    "/chat": None,  # visitors: anyone, with a signed visitor token or a new one
}
IID = "{iid}"
EVENTS: dict[tuple[str, str], Event] = {
    ("/agent", "keep_alive"): Event({}),
    ("/agent", "set_state"): Event({"state": "bogus"}),
    ("/agent", "accept"): Event({"interaction_id": IID}, owned=True),
    ("/agent", "decline"): Event({"interaction_id": IID}, owned=True),
    ("/agent", "send_message"): Event({"interaction_id": IID, "body": "hello"}, owned=True),
    ("/agent", "typing"): Event({"interaction_id": IID, "typing": True}, owned=True),
    ("/agent", "add_note"): Event({"interaction_id": IID, "body": "a note"}, owned=True),
    ("/agent", "transfer"): Event({"interaction_id": IID}, owned=True),
    ("/agent", "call_control"): Event({"interaction_id": IID, "action": "hold"}, owned=True),
    ("/agent", "call_consult"): Event({"interaction_id": IID, "action": "start"}, owned=True),
    ("/agent", "save_wrap_up"): Event({"interaction_id": IID}, owned=True),
    ("/agent", "end_wrap_up"): Event({"interaction_id": IID}, owned=True),
    ("/agent", "close"): Event({"interaction_id": IID}, owned=True),  # last: it ends the work
    ("/supervisor", "keep_alive"): Event({}),
    ("/supervisor", "call_monitor"): Event({"interaction_id": IID}, queued=True),
    ("/supervisor", "set_agent_state"): Event({"agent_id": NOBODY, "state": "away"}),
    ("/supervisor", "log_out_agent"): Event({"agent_id": NOBODY}),
    ("/supervisor", "move_interaction"): Event({"interaction_id": IID}, queued=True),
    ("/supervisor", "current_interactions"): Event({}),
    ("/supervisor", "watch"): Event({"interaction_id": IID}, queued=True),
    ("/supervisor", "unwatch"): Event({}),
    ("/supervisor", "whisper"): Event({"interaction_id": IID, "body": ""}, queued=True),
    ("/chat", "message"): Event({"body": ""}),
    ("/chat", "profile"): Event({}),
    ("/chat", "typing"): Event({"typing": True}),
    ("/chat", "receipt"): Event({"message_ids": [NOBODY], "status": "read"}),
    ("/chat", "suggestion_answer"): Event({"article_id": NOBODY, "helpful": True}),
    ("/chat", "close"): Event({}),
    ("/chat", "rate"): Event({"interaction_id": NOBODY, "score": 5}),
}
REFUSED_ACKS = frozenset({"forbidden", "unauthorised"})
# An agent acting on a colleague's interaction: refused by the desk (forbidden), or by the
# router or the store, which only let the holder change it (conflict).
OTHERS_REFUSED_ACKS = frozenset({"forbidden", "conflict"})


# ---------------------------------------------------------------------- the scene


@dataclass
class Scene:
    running: Running
    tokens: dict[str, str]  # caller -> session token
    keys: dict[str, str]  # scope -> a key with only that scope
    params: dict[str, Any]  # path parameter -> value naming alice's work
    alice: Client
    ben: Client


def config_for(public_url: str, api_base_url: str) -> dict[str, Any]:
    """Every channel: web chat and email (support), voice and SMS (calls), the browser phone."""
    config = voice_config(
        public_url=public_url, api_base_url=api_base_url, twilio=BROWSER_PHONE["twilio"]
    )
    config["queues"][0]["channels"] = ["webchat", "email"]
    config["queues"][1]["channels"] = ["voice", "sms"]
    config["twilio"]["numbers"][0]["purposes"] = ["voice", "sms"]
    config["agents"].append({"email": "quinn@example.com", "supervises": ["calls"]})
    config["email"] = {"domain": "hub.example.com", "addresses": {"support@example.com": "support"}}
    config["http"] = {"public_url": public_url}  # survey mails' rating links (/csat)
    return config


@contextlib.asynccontextmanager
async def scene(tmp_path: Path) -> AsyncIterator[Scene]:
    fake = FakeTwilioApi(ACCOUNT_SID, AUTH_TOKEN)
    fake.add_number(VOICE_NUMBER)
    await fake.start()
    port = free_port()
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config_for(f"http://127.0.0.1:{port}", fake.base_url)))
    env = (
        environ(tmp_path, port)
        | BROWSER_PHONE["env"]
        | {
            "HUB_EMAIL__SMTP_PORT": str(free_port()),
            "HUB_EMAIL__RELAY_PORT": str(free_port()),  # nothing listens: replies wait
        }
    )
    settings = load_settings(path, env)
    try:
        async with serve(settings) as running:
            people = {
                AGENT_OWN: ("alice@example.com", "Alice"),
                AGENT_OTHER: ("ben@example.com", "Ben"),
                SUPERVISOR: ("sue@example.com", "Sue"),
                SUPERVISOR_OTHER: ("quinn@example.com", "Quinn"),
                ADMIN: ("ada@example.com", "Ada"),
            }
            ids, tokens = {}, {}
            for who, (email, name) in people.items():
                ids[who] = await running.add_user(email, name, ROLE_OF[who])
                tokens[who] = await running.sign_in(email)
            alice = await connect(running.base, "/agent", token=tokens[AGENT_OWN])
            ben = await connect(running.base, "/agent", token=tokens[AGENT_OTHER])
            await alice.next("hello")
            await ben.next("hello")
            assert (await alice.call("set_state", {"state": "available"}))["ok"]
            msg = mail(message_id="matrix@example.org")
            msg.add_attachment(b"%PDF-1.4", maintype="application", subtype="pdf", filename="a.pdf")
            await send(settings, msg)
            offer = await alice.next("offer")
            iid = offer["interaction_id"]
            assert (await alice.call("accept", {"interaction_id": iid}))["ok"]
            _, thread = await running.get(f"/api/v1/interactions/{iid}/email", tokens[AGENT_OWN])
            attachment_id = thread["messages"][0]["attachments"][0]["url"].rsplit("/", 1)[1]
            keys = {}
            for scope in SCOPES:
                status, body = await running.send(
                    "POST",
                    "/api/v1/admin/apikeys",
                    tokens[ADMIN],
                    json={"name": scope, "scopes": [scope]},
                )
                assert status == 201, body
                keys[scope] = body["key"]
            params = {
                "customer_id": offer["customer"]["customer_id"],
                "interaction_id": iid,
                "attachment_id": attachment_id,
                "user_id": ids[AGENT_OTHER],
                "agent_id": ids[AGENT_OTHER],
                "alice_id": ids[AGENT_OWN],
                "name": "support",
                "key_id": NOBODY,
            }
            yield Scene(running, tokens, keys, params, alice, ben)
            await alice.close()
            await ben.close()
    finally:
        await fake.close()


# ---------------------------------------------------------------------- enumeration


def routes_of(app: web.Application) -> set[tuple[str, str]]:
    """(method, path) of every route of ``app`` and its sub-apps; HEAD goes with GET."""
    found: set[tuple[str, str]] = set()
    for resource in app.router.resources():
        if isinstance(resource, web.PrefixedSubAppResource):
            found |= routes_of(resource._app)  # their paths carry the prefix already
            continue
        for route in resource:
            if route.method != "HEAD":
                found.add((route.method, resource.canonical))
    return found


def events_of(running: Running) -> set[tuple[str, str]]:
    found = set()
    for namespace, handler in running.hub.sio.namespace_handlers.items():
        for name in dir(type(handler)):
            if name.startswith("on_") and name not in ("on_connect", "on_disconnect"):
                found.add((namespace, name.removeprefix("on_")))
    return found


# ---------------------------------------------------------------------- running the cells


def other_key(scope: str | None, keys: dict[str, str]) -> str:
    return next(k for s, k in keys.items() if s != scope)


def filled(body: Any, params: dict[str, Any]) -> Any:
    """``body`` with each value written "{name}" replaced by that parameter."""
    if not isinstance(body, dict):
        return body
    return {
        k: params[v[1:-1]] if isinstance(v, str) and v[:1] + v[-1:] == "{}" else v
        for k, v in body.items()
    }


async def http_cell(s: Scene, method: str, path: str, door: Door, who: str) -> tuple[int, Any]:
    params = {**s.params, **filled(dict(door.params), s.params)}
    url = s.running.base + path.format(**params)
    headers: dict[str, str] = {}
    cookies: dict[str, str] = {}
    if who == KEY_WITH:
        headers["Authorization"] = f"Bearer {s.keys[door.scope or 'agents:read']}"
    elif who == KEY_WITHOUT:
        headers["Authorization"] = f"Bearer {other_key(door.scope, s.keys)}"
    elif who in s.tokens:
        cookies["hub_session"] = s.tokens[who]
        if method != "GET":
            headers |= csrf_headers(s.running.base, s.tokens[who])
    kwargs: dict[str, Any] = {}
    if door.body == "multipart":
        form = aiohttp.FormData()
        form.add_field("body", "Thanks, on its way.", content_type="text/plain")
        kwargs["data"] = form
    elif door.body is not None:
        kwargs["json"] = filled(door.body, params)
    async with aiohttp.ClientSession(cookies=cookies) as http:
        resp = await http.request(method, url, headers=headers, allow_redirects=False, **kwargs)
        text = await resp.text()
        return resp.status, text


def outcome(door: Door, status: int) -> int | str:
    """THROUGH for an answer past the door; a public page may redirect (/ to /login)."""
    refusals = (401, 403) if door.kind == "public" else (302, 401, 403)
    return THROUGH if status not in refusals and status < 500 else status


async def test_every_route_is_in_the_matrix_and_answers_as_it_says(tmp_path: Path) -> None:
    async with scene(tmp_path) as s:
        present = routes_of(s.running.hub.app)
        unlisted = present - set(ROUTES)
        assert not unlisted, f"classify these routes in ROUTES: {sorted(unlisted)}"
        gone = set(ROUTES) - present
        assert not gone, f"these routes no longer exist; drop them from ROUTES: {sorted(gone)}"
        wrong = []
        for (method, path), door in ROUTES.items():
            if door.kind in ("static", "sockets"):
                continue  # files anyone may fetch; the namespaces are the events' matrix
            # A public door and the Twilio gate answer everyone alike: one caller shows it.
            callers = HTTP_CALLERS if door.kind in ("api", "page") else (ANONYMOUS,)
            if (method, path) == ("DELETE", "/api/v1/session"):
                callers = (ANONYMOUS,)  # signing the others out would end their cells
            for who in callers:
                status, text = await http_cell(s, method, path, door, who)
                want = expected(door, who)
                got = outcome(door, status) if want == THROUGH else status
                if got != want:
                    wrong.append(f"{method} {path} as {who}: {status} (want {want}) {text[:120]}")
        # /metrics is for this machine only: a request relayed by a proxy is refused.
        async with aiohttp.ClientSession() as http:
            relayed = {"X-Forwarded-For": "203.0.113.9"}
            resp = await http.get(f"{s.running.base}/metrics", headers=relayed)
            if resp.status != 403:
                wrong.append(f"GET /metrics relayed by a proxy: {resp.status} (want 403)")
        assert not wrong, "\n".join(wrong)


def _payload(event: Event, iid: int) -> Any:
    return {k: (iid if v == IID else v) for k, v in event.payload.items()}


async def refused_with(base: str, namespace: str, headers: dict[str, str], auth: Any = None) -> Any:
    """The error code a socket connection is refused with."""
    return (await connect_refused(base, namespace, headers, auth))["data"]["code"]


async def test_every_socket_event_is_in_the_matrix_and_answers_as_it_says(
    tmp_path: Path,
) -> None:
    async with scene(tmp_path) as s:
        present = events_of(s.running)
        assert set(s.running.hub.sio.namespace_handlers) == set(NAMESPACE_ROLES)
        unlisted = present - set(EVENTS)
        assert not unlisted, f"classify these Socket.IO events in EVENTS: {sorted(unlisted)}"
        assert not set(EVENTS) - present, sorted(set(EVENTS) - present)
        base, iid = s.running.base, s.params["interaction_id"]

        # Who may connect: the namespace's roles; never an API key or nobody.
        for namespace, roles in NAMESPACE_ROLES.items():
            if roles is None:
                continue
            refused = await refused_with(base, namespace, {})
            assert refused == "unauthorised", (namespace, refused)
            key = next(iter(s.keys.values()))
            refused = await refused_with(base, namespace, {"Authorization": f"Bearer {key}"})
            assert refused == "unauthorised", (namespace, "api key", refused)
            for who, role in ROLE_OF.items():
                if role in roles:
                    continue
                token = s.tokens[who]
                refused = await refused_with(
                    base,
                    namespace,
                    {"Cookie": f"hub_session={token}", "Origin": base},
                    {"csrf_token": csrf_token(token)},
                )
                assert refused == "forbidden", (namespace, who, refused)

        wrong: list[str] = []
        supervisors = {
            who: await connect(base, "/supervisor", token=s.tokens[who])
            for who in (SUPERVISOR, SUPERVISOR_OTHER, ADMIN)
        }
        visitor = await connect(base, "/chat")
        await visitor.next("session")
        for (namespace, event), spec in EVENTS.items():
            data = _payload(spec, iid)
            if namespace == "/chat":
                cells = {VISITOR: visitor}
            elif namespace == "/supervisor":
                cells = dict(supervisors)
            else:
                cells = {AGENT_OTHER: s.ben, AGENT_OWN: s.alice}  # the other first
            for who, client in cells.items():
                ack = await client.call(event, data)
                code = (ack.get("error") or {}).get("code") if isinstance(ack, dict) else None
                if who == AGENT_OTHER and spec.owned:
                    ok = code in OTHERS_REFUSED_ACKS
                elif who == SUPERVISOR_OTHER and spec.queued:
                    ok = code == "forbidden"
                else:
                    ok = code not in REFUSED_ACKS and code != "error"
                if not ok:
                    wrong.append(f"{namespace} {event} as {who}: {ack}")
        for client in (*supervisors.values(), visitor):
            await client.close()
        assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("who", [AGENT_OWN, SUPERVISOR, ADMIN, KEY_WITH, ANONYMOUS])
def test_matrix_expectations_are_what_the_policy_says(who: str) -> None:
    """The table's reading for a few doors, so a slip in ``expected`` shows here too."""
    customers = ROUTES[("GET", "/api/v1/customers/{customer_id}")]
    users = ROUTES[("GET", "/api/v1/users")]
    want = {
        AGENT_OWN: (THROUGH, 403),
        SUPERVISOR: (THROUGH, 403),
        ADMIN: (THROUGH, THROUGH),
        KEY_WITH: (THROUGH, 403),
        ANONYMOUS: (401, 401),
    }[who]
    assert (expected(customers, who), expected(users, who)) == want


@pytest.mark.parametrize(
    ("who", "want"),
    [
        (AGENT_OWN, THROUGH),
        (AGENT_OTHER, 403),
        (SUPERVISOR, THROUGH),
        (SUPERVISOR_OTHER, 403),
        (KEY_WITH, 403),
    ],
)
def test_a_merge_is_open_to_whoever_may_act_on_the_customer_that_goes(
    who: str, want: int | str
) -> None:
    """Linking a conversation to another customer: the agent working with it may, others not."""
    assert expected(ROUTES[("POST", "/api/v1/customers/{customer_id}/merge")], who) == want
