"""DNS rebinding: a webhook host that resolves to a public address when the URL is checked
and to this machine when the connection is made reaches nothing, over a real socket."""

from __future__ import annotations

import asyncio
import time

from program.feeds import urls, webhooks


async def test_send_when_the_name_rebinds_inward_after_the_check_connects_nowhere() -> None:
    connections: list[object] = []

    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(writer.get_extra_info("peername"))
        writer.close()

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    host = "rebind.hooks.example.org"
    # The check's lookup said public; the connection's lookup says this machine.
    urls._resolved[host] = (time.monotonic() + 60, ["93.184.216.34"])

    async def rebound(name: str, _port: int) -> list[str]:
        return ["127.0.0.1"]

    try:
        async with webhooks.new_client(5.0, allow_private=False, resolve=rebound) as client:
            outcome = await webhooks.send(client, f"https://{host}:{port}/hook",
                                          [webhooks.new_secret()], "msg_1", b"[]",
                                          allow_private=False)
    finally:
        urls._resolved.pop(host, None)
        server.close()
        await server.wait_closed()

    assert not outcome.delivered and outcome.status is None
    assert "loopback, private or link-local" in (outcome.error or "")
    assert connections == []
