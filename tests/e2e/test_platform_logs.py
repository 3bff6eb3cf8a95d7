"""Logs under failure: no secret or personal data in any log mode, and no stalled loop.

An unexpected error is forced inside a real request by replacing one application
method in the server's own process; the captured log output is then scanned.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from program.api.observability import configure_logging
from program.bootstrap import Services
from conftest import JWT_SECRET

NAME = "Zebedee Quartermain"
EMAIL = "zebedee.quartermain@example.org"
REGISTER = """mutation($input: RegisterParticipantInput!) {
  registerParticipant(input: $input) { participantId position } }"""


class Boom(RuntimeError):
    pass


@pytest.fixture(params=[False, True], ids=["console", "json"])
def log_mode(request: pytest.FixtureRequest, services: Services) -> Iterator[bool]:
    configure_logging(services.settings.with_(log_json=request.param))
    yield request.param
    configure_logging(services.settings)


@pytest.fixture
def failing_register(monkeypatch: pytest.MonkeyPatch, services: Services) -> asyncio.Event:
    """registerParticipant fails unexpectedly, with the person's data in its locals and
    message (as a driver error quoting a value would), once ``go`` is set."""
    go = asyncio.Event()
    go.set()
    entered: list[int] = []

    async def register_participant(ctx: Any, name: str, email: str, *args: Any, **kwargs: Any) -> Any:
        secret = JWT_SECRET  # noqa: F841 (a local a locals-rendering traceback would show)
        entered.append(1)
        await go.wait()
        raise Boom(f"could not store {name!r} <{email}>")

    monkeypatch.setattr(services.application, "register_participant", register_participant)
    go.entered = entered  # type: ignore[attr-defined]
    return go


async def _register(http: httpx.AsyncClient, token: str) -> httpx.Response:
    return await http.post(
        "/graphql",
        json={"query": REGISTER, "variables": {"input": {
            "name": NAME, "email": EMAIL, "programmeId": str(uuid.uuid4())}}},
        headers={"authorization": f"Bearer {token}"},
    )


async def test_an_unexpected_error_logs_a_traceback_without_secret_or_personal_data(
    http: httpx.AsyncClient, token: Any, log_mode: bool, failing_register: asyncio.Event,
    capsys: pytest.CaptureFixture[str],
) -> None:
    response = await _register(http, token("ADMIN"))
    body = response.json()
    assert body["errors"][0]["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert NAME not in response.text and EMAIL not in response.text

    err = capsys.readouterr().err
    assert "Boom" in err and "register_participant" in err, err  # the traceback is there
    for leak in (JWT_SECRET, NAME, EMAIL, "Zebedee"):
        assert leak not in err, f"{leak!r} reached the log:\n{err}"


async def test_health_answers_while_a_burst_of_failing_requests_is_logged(
    http: httpx.AsyncClient, token: Any, log_mode: bool, failing_register: asyncio.Event,
    capsys: pytest.CaptureFixture[str],
) -> None:
    burst = 20
    failing_register.clear()
    admin = token("ADMIN")
    calls = [asyncio.create_task(_register(http, admin)) for _ in range(burst)]
    entered: list[int] = failing_register.entered  # type: ignore[attr-defined]
    while len(entered) < burst:  # all of them in flight, inside the server
        await asyncio.sleep(0.01)
    failing_register.set()  # all fail now, each logging its traceback
    started = time.perf_counter()
    health = await http.get("/health")
    waited = time.perf_counter() - started
    answers = await asyncio.gather(*calls)
    assert health.status_code == 200
    assert all(a.json()["errors"][0]["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
               for a in answers)
    assert capsys.readouterr().err.count("Boom") >= burst
    assert waited < 1.0, f"/health took {waited:.2f} s behind {burst} failing requests"
