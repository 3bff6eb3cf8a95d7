"""Where a webhook may point: ``https`` to a public address. Loopback, private,
link-local, multicast, reserved and unspecified addresses are refused (they reach the
server's own network: SSRF), unless a setting allows them for local development.
Checked when an endpoint is added and again before every delivery, after resolving
the host, so a name that later resolves inward is caught too. And the connection itself
goes only to an address that passed: the webhook client resolves names through
``PublicOnly``, which checks every address, and connects to one of those very
addresses, so a DNS server that answers a public address to the check and an inward one
to the connection (DNS rebinding) gets nowhere. (A host given as an address is never
resolved: the check before each delivery judges it, and it cannot change.)
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from aiohttp.abc import AbstractResolver, ResolveResult


class UnsafeUrl(ValueError):
    """A webhook URL the program will not call."""

    code = "BAD_USER_INPUT"


_resolved: dict[str, tuple[float, list[str]]] = {}
_TTL = 60.0


def check_syntax(url: str, allow_private: bool) -> tuple[str, int]:
    """The host and port of an acceptable URL; ``UnsafeUrl`` otherwise."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeUrl(f"not a URL: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme != "https" and not (allow_private and scheme == "http"):
        raise UnsafeUrl("webhook URLs must use https")
    if not parts.hostname:
        raise UnsafeUrl("webhook URL has no host")
    if parts.username or parts.password:
        raise UnsafeUrl("webhook URL must not carry credentials")
    host = parts.hostname
    if not allow_private and host.rstrip(".").lower() in ("localhost", "localhost.localdomain"):
        raise UnsafeUrl("webhook URL points at this machine")
    return host, port or (443 if scheme == "https" else 80)


_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def _forbidden(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        # An IPv6 form that carries an IPv4 address (mapped, 6to4, NAT64) is judged by
        # that address too: each can lead to it.
        inner = ip.ipv4_mapped or ip.sixtofour or (
            ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF) if ip in _NAT64 else None)
        if inner is not None and _inward(inner):
            return True
    return _inward(ip)


def _inward(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return (ip.is_loopback or ip.is_private or ip.is_link_local or ip.is_multicast
            or ip.is_reserved or ip.is_unspecified or not ip.is_global)


async def check(url: str, allow_private: bool) -> None:
    """Refuse ``url`` unless every address its host resolves to is public."""
    host, port = check_syntax(url, allow_private)
    if allow_private:
        return
    for address in await _resolve(host, port):
        if _forbidden(address):
            raise UnsafeUrl("webhook URL resolves to a loopback, private or link-local address")


async def _resolve(host: str, port: int) -> list[str]:
    try:
        return [str(ipaddress.ip_address(host.strip("[]")))]
    except ValueError:
        pass
    hit = _resolved.get(host)
    if hit is not None and hit[0] > time.monotonic():
        return hit[1]
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError:
        raise UnsafeUrl(f"cannot resolve the webhook host {host!r}") from None
    addresses = sorted({info[4][0] for info in infos})
    _resolved[host] = (time.monotonic() + _TTL, addresses)
    return addresses


Resolve = Callable[[str, int], Awaitable[list[str]]]


class PublicOnly(AbstractResolver):
    """The webhook client's resolver: a host resolves only when every address it resolves
    to is public, and the client connects to one of the addresses answered here (by
    address; TLS still names and verifies the host). A refused host raises
    ``UnsafeUrl`` from the request."""

    def __init__(self, resolve: Resolve | None = None) -> None:
        self._resolve = resolve or _resolve

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        addresses = await self._resolve(host, port)
        if not addresses or any(_forbidden(a) for a in addresses):
            raise UnsafeUrl("webhook URL resolves to a loopback, private or link-local address")
        return [ResolveResult(hostname=host, host=a, port=port,
                              family=socket.AF_INET6 if ":" in a else socket.AF_INET,
                              proto=0, flags=socket.AI_NUMERICHOST) for a in addresses]

    async def close(self) -> None:
        return None
