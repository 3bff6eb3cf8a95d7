"""A small keep-alive HTTP/1.1 load generator on asyncio streams (cheap per request,
so the server, not the client, is what gets measured on a 2-core machine)."""

from __future__ import annotations

import asyncio
import gc
import json
import time
from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass
class LoadResult:
    requests: int
    errors: int
    elapsed: float
    latencies_ms: list[float]

    @property
    def rps(self) -> float:
        return self.requests / self.elapsed

    @classmethod
    def pooled(cls, results: list[LoadResult]) -> LoadResult:
        """Several runs of the same load as one: their requests over their time."""
        return cls(sum(r.requests for r in results), sum(r.errors for r in results),
                   sum(r.elapsed for r in results),
                   [ms for r in results for ms in r.latencies_ms])

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies_ms)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def build_request(url: str, method: str, headers: dict[str, str], body: bytes | None) -> bytes:
    parts = urlsplit(url)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    lines = [f"{method} {path} HTTP/1.1", f"Host: {parts.netloc}", "Connection: keep-alive"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    if body is not None:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + (body or b"")


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    return status, await reader.readexactly(length)


async def run_load(
    url: str,
    *,
    connections: int,
    seconds: float,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
    check_graphql: bool = False,
    bodies: list[bytes] | None = None,
) -> LoadResult:
    """Each connection sends one request at a time, back to back, until time is up;
    with ``bodies``, each connection goes round them, each starting at another."""
    requests = [build_request(url, method, headers or {}, b) for b in (bodies or [body])]
    parts = urlsplit(url)
    latencies: list[float] = []
    counts = {"ok": 0, "errors": 0}
    deadline = time.perf_counter() + seconds

    async def client(n: int) -> None:
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        try:
            while time.perf_counter() < deadline:
                request = requests[n % len(requests)]
                n += 1
                started = time.perf_counter()
                writer.write(request)
                status, payload = await _read_response(reader)
                latencies.append((time.perf_counter() - started) * 1000)
                bad = status != 200 or (check_graphql and b'"errors"' in payload)
                counts["errors" if bad else "ok"] += 1
        finally:
            writer.close()

    # The load generator's own heap (a bench that generated a log holds a large one) out
    # of its collector's sight while it measures: its pauses are not the server's latency.
    gc.collect()
    gc.freeze()
    try:
        start = time.perf_counter()
        await asyncio.gather(*(client(i * 7) for i in range(connections)))
        elapsed = time.perf_counter() - start
    finally:
        gc.unfreeze()
    return LoadResult(counts["ok"] + counts["errors"], counts["errors"], elapsed, latencies)


def graphql_body(query: str, variables: dict[str, object] | None = None) -> bytes:
    return json.dumps({"query": query, "variables": variables or {}}).encode()
