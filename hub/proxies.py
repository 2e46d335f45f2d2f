"""The client's address and scheme behind a reverse proxy (nginx, a load balancer).

Rate limits, sign-in lockouts and the audit trail go by the client's address, and session
cookies are ``Secure`` on HTTPS: behind a proxy both would be the proxy's. A connection from
one of ``http.trusted_proxies`` has its ``X-Forwarded-For`` / ``-Proto`` / ``-Host`` read
(aiohttp-remotes' filtered reading: the right-most address that is not itself a trusted
proxy is the client); a connection from anywhere else is taken as it is, so a client that
talks to the hub directly cannot claim another address with a forged header.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from ipaddress import IPv4Network, IPv6Address, IPv6Network, ip_address

from aiohttp import web
from aiohttp.typedefs import Middleware
from aiohttp_remotes import XForwardedFiltered

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Networks = Sequence[IPv4Network | IPv6Network]


def address_in(peer: str | None, networks: Networks) -> bool:
    """Whether a connection's own address (``request.remote``) is in one of ``networks``."""
    try:
        address = ip_address(peer or "")
    except ValueError:
        return False  # a Unix socket, or no address at all
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in network for network in networks)


def forwarded_middleware(proxies: Networks) -> Middleware:
    """A middleware that gives handlers the client's address and scheme (see the module)."""
    filtered = XForwardedFiltered(set(proxies))

    @web.middleware
    async def forwarded(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not address_in(request.remote, proxies):
            return await handler(request)
        return await filtered.middleware(request, handler)

    return forwarded
