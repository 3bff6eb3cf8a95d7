"""POST /graphql is answered before Litestar's router (``asgi_post``); every answer —
status, body and headers — is the one the Litestar handler gives, and what the front
does not answer (chunked bodies, bodies past the limit) reaches Litestar intact."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from test_graphql_support import TokenFactory
from test_platform_ops import _metric

from program.api.graphql import asgi_post
from program.api.graphql.endpoint import MAX_BODY_BYTES


def _requests(token: TokenFactory) -> list[tuple[str, dict[str, Any]]]:
    admin = {"authorization": f"Bearer {token('ADMIN', subject='admin-transport')}",
             "content-type": "application/json"}
    return [
        ("a query", {"content": b'{"query": "{ me { subject role } }"}', "headers": admin}),
        ("no token", {"content": b'{"query": "{ me { subject } }"}',
                      "headers": {"content-type": "application/json"}}),
        ("a forged token", {"content": b'{"query": "{ me { subject } }"}',
                            "headers": {**admin, "authorization": "Bearer x.y.z"}}),
        ("not JSON", {"content": b"{nope", "headers": admin}),
        ("not a JSON object", {"content": b'[{"query": "{ me { subject } }"}]', "headers": admin}),
        ("plain text", {"content": b'{"query": "{ me { subject } }"}',
                        "headers": {**admin, "content-type": "text/plain"}}),
        ("no query", {"content": b'{"variables": {}}', "headers": admin}),
        ("a NUL in a variable", {"content": b'{"query": "query Q($a: String) { programmes(after:'
                                            b' $a) { edges { cursor } } }", "variables": '
                                            b'{"a": "x\\u0000"}}', "headers": admin}),
        ("a variable of the wrong type", {
            "content": b'{"query": "query Q($id: UUID!) { cohort(id: $id) { id } }", '
                       b'"variables": {"id": 5}}', "headers": admin}),
        ("a refused mutation", {
            "content": b'{"query": "mutation { activateProgramme(input: {id: '
                       b'\\"00000000-0000-0000-0000-000000000000\\"}) { position } }"}',
            "headers": admin}),
        ("a body past the limit", {"content": b" " * (MAX_BODY_BYTES + 1), "headers": admin}),
        ("a chunked body", {"content": _chunks(b'{"query": "{ me { subject } }"}'),
                            "headers": admin}),
    ]


def _chunks(body: bytes) -> Any:
    async def stream() -> AsyncIterator[bytes]:
        yield body[:5]
        yield body[5:]

    return stream


async def _answer(http: httpx.AsyncClient, request: dict[str, Any]) -> tuple[int, bytes, dict[str, str]]:
    content = request["content"]
    response = await http.post("/graphql", content=content() if callable(content) else content,
                               headers=request["headers"])
    kept = {k: v for k, v in response.headers.items() if k in ("content-type", "retry-after")}
    return response.status_code, response.content, kept


async def test_the_front_answers_as_the_litestar_handler_does(
        http: httpx.AsyncClient, token: TokenFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    answered: list[int] = []
    original = asgi_post.answer_body

    async def counted(*args: Any, **kwargs: Any) -> Any:
        answered.append(1)
        return await original(*args, **kwargs)

    monkeypatch.setattr(asgi_post, "answer_body", counted)
    for name, request in _requests(token):
        # given the front, when the request is sent
        before = len(answered)
        front = await _answer(http, request)
        through_front = len(answered) > before
        # and when it is sent again with the front passing everything on to Litestar
        monkeypatch.setattr(asgi_post, "PATH", "/not-graphql")
        litestar = await _answer(http, request)
        monkeypatch.setattr(asgi_post, "PATH", "/graphql")
        # then the answers are the same, and only what the front may answer went through it
        assert front == litestar, name
        assert through_front == (name not in ("a body past the limit", "a chunked body")), name


async def test_requests_the_front_answers_are_counted_under_their_route(
        http: httpx.AsyncClient, token: TokenFactory) -> None:
    def count(text: str) -> float:
        return _metric(text, "program_http_requests_total", method="POST", route="/graphql",
                       status="200") or 0

    before = count((await http.get("/metrics")).text)
    response = await http.post("/graphql", json={"query": "{ me { subject } }"},
                               headers={"authorization": f"Bearer {token('ADMIN')}"})
    assert response.status_code == 200 and response.headers["x-request-id"]
    assert count((await http.get("/metrics")).text) == before + 1


async def test_a_failure_in_the_front_answers_500_as_litestar_would_and_is_logged(
        http: httpx.AsyncClient, token: TokenFactory, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    async def broken(*_: Any, **__: Any) -> Any:
        raise RuntimeError("a bug in answering")

    monkeypatch.setattr(asgi_post, "answer_body", broken)
    with caplog.at_level("ERROR", logger=asgi_post.__name__):
        response = await http.post("/graphql", json={"query": "{ me { subject } }"},
                                   headers={"authorization": f"Bearer {token('ADMIN')}"})
    assert response.status_code == 500
    assert response.json() == {"status_code": 500, "detail": "Internal Server Error"}
    assert response.headers["x-request-id"]
    assert any("a bug in answering" in (r.exc_text or "") or r.exc_info for r in caplog.records)
