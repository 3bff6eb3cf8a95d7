"""One webhook request over a real socket. DNS rebinding: a host that resolves to a public
address when the URL is checked and to this machine when the connection is made reaches
nothing. And the answer: only its status counts; it is never asked to be compressed nor
inflated, and is not read whole."""

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


async def test_send_asks_for_no_compressed_answer_and_reads_no_more_than_it_needs() -> None:
    requests: list[bytes] = []

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                          if line.lower().startswith(b"content-length")))
        await reader.readexactly(length)
        requests.append(head.lower())
        # a gzip header and 1 MB claimed: never to be inflated or read whole
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-encoding: gzip\r\ncontent-length: 1048576\r\n"
                     b"\r\n" + b"\x1f\x8b" + b"\0" * 70_000)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with webhooks.new_client(5.0, allow_private=True) as client:
            outcome = await webhooks.send(client, f"http://127.0.0.1:{port}/hook",
                                          [webhooks.new_secret()], "msg_1", b"[]",
                                          allow_private=True)
    finally:
        server.close()
        await server.wait_closed()

    assert outcome.delivered and outcome.status == 200
    assert b"accept-encoding" not in requests[0]
    assert b"user-agent: program-feeds/1" in requests[0]
