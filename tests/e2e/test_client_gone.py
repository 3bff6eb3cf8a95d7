"""A client that goes away before its request is whole gets no answer, and is counted as
such (499, as nginx names it), not as a failure of ours (500)."""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

import httpx
import pytest
from test_platform_ops import _metric


HALF_BODIES = {
    # announced 1,000 bytes, 10 sent: answered before Litestar's router
    "length": b"Content-Length: 1000\r\n\r\n" + b'{"query": ',
    # chunked, one chunk and no end: answered by Litestar
    "chunked": b"Transfer-Encoding: chunked\r\n\r\na\r\n" + b'{"query": ' + b"\r\n",
}


async def _send_half_a_body(base_url: str, path: str, kind: str) -> None:
    """Send the head and part of a body, and hang up."""
    parts = urlsplit(base_url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    writer.write(f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 .encode() + HALF_BODIES[kind])
    await writer.drain()
    await asyncio.sleep(0.1)
    writer.close()
    await writer.wait_closed()


async def _count(http: httpx.AsyncClient, route: str, status: str) -> float:
    text = (await http.get("/metrics")).text
    return _metric(text, "program_http_requests_total", method="POST", route=route,
                   status=status) or 0.0


@pytest.mark.parametrize("kind", sorted(HALF_BODIES))
async def test_a_client_gone_mid_body_is_counted_499_not_500(
    base_url: str, http: httpx.AsyncClient, kind: str
) -> None:
    path = route = "/graphql"
    before_499 = await _count(http, route, "499")
    before_500 = await _count(http, route, "500")
    # when a client hangs up halfway through its body
    await _send_half_a_body(base_url, path, kind)
    for _ in range(50):  # the server notices the hang-up on its own time
        if await _count(http, route, "499") > before_499:
            break
        await asyncio.sleep(0.05)
    # then it is counted as gone, and not as a failure of the server
    assert await _count(http, route, "499") == before_499 + 1
    assert await _count(http, route, "500") == before_500
