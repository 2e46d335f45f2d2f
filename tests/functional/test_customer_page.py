"""The customer page's routes: a signed-in staff member gets the page (its script a module
file, under the strict CSP); anyone else is sent to sign in and comes back to the same
search or record afterwards. What a record shows is the customers API's to decide."""

from __future__ import annotations

import aiohttp
import pytest

from hub.model import Role
from tests.functional.conftest import Running


@pytest.mark.parametrize("path", ["/console/customers", "/console/customers/42"])
async def test_customer_page_sends_anonymous_visitors_to_sign_in(
    hub_server: Running, path: str
) -> None:
    status, _ = await hub_server.get(path)
    assert status == 302
    async with aiohttp.ClientSession() as http:
        resp = await http.get(f"{hub_server.base}{path}", allow_redirects=False)
        assert resp.headers["Location"] == f"/login?next={path}"


@pytest.mark.parametrize("role", [Role.AGENT, Role.SUPERVISOR, Role.ADMIN])
async def test_customer_page_is_served_to_staff_with_its_module_and_csp(
    hub_server: Running, role: Role
) -> None:
    await hub_server.add_user("staff@example.com", "Staff Member", role)
    token = await hub_server.sign_in("staff@example.com")
    async with aiohttp.ClientSession(cookies={"hub_session": token}) as http:
        for path in ("/console/customers", "/console/customers/7"):
            resp = await http.get(f"{hub_server.base}{path}", allow_redirects=False)
            assert resp.status == 200, path
            html = await resp.text()
            assert '<script type="module" src="/console/static/customers.js"></script>' in html
            assert "<script>" not in html  # no inline script: the CSP would block it
            csp = resp.headers["Content-Security-Policy"]
            assert "script-src 'self';" in csp
