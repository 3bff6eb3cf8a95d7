"""Helpers for feed tests: a world of programmes, people and consents built through the
application, and a real local webhook receiver (HTTP on 127.0.0.1) that verifies every
Standard Webhooks signature and answers as a test tells it to."""

from __future__ import annotations

import asyncio
import json
import socket
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

import uvicorn
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from program.application.context import Actor, CommandContext, Role

PURPOSE = "evaluation"
TODAY = datetime.now(UTC).date()


def admin() -> CommandContext:
    return CommandContext(Actor("admin-1", Role.ADMIN))


async def programme(app: Any) -> str:
    # The purposes a partner serves come from the programme's catalogue.
    pid = (await app.create_programme(admin(), "Bipolar peer group", "weekly", None,
                                      ["HHI"], 1, [PURPOSE]))["programme_id"]
    await app.activate_programme(admin(), pid)
    return pid


async def cohort(app: Any, programme_id: str, capacity: int = 50) -> str:
    cid = (await app.plan_cohort(admin(), programme_id, "Tuesday group", "ENROLLED", capacity,
                                 TODAY + timedelta(7), "Hall"))["cohort_id"]
    await app.open_cohort_enrolment(admin(), cid)
    return cid


async def person(app: Any, programme_id: str, name: str, partners: list[str],
                 until: date | None = None) -> str:
    """A person who consents to the programme, and to ``partners`` for ``PURPOSE``."""
    pid = (await app.register_participant(admin(), name, f"{name.lower()}@example.org",
                                          "07700 900123", "GP surgery",
                                          programme_id=programme_id))["participant_id"]
    await app.give_consent(admin(), pid, "programme-participation", "notice-1", "v1", "consent",
                           "paper-form", [], TODAY + timedelta(365))
    await app.give_consent(admin(), pid, PURPOSE, "notice-2", "v1", "consent", "paper-form",
                           partners, until or TODAY + timedelta(365))
    return pid


async def partner(app: Any, programme_id: str, name: str = "Evaluator") -> str:
    return str((await app.register_partner(admin(), name, [PURPOSE], [programme_id]))["partner_id"])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Receipt:
    webhook_id: str
    events: list[dict[str, Any]]
    status: int


@dataclass
class Receiver:
    """A webhook receiver: verifies signatures, answers from ``script`` then ``default``."""

    secrets: list[str] = field(default_factory=list)
    script: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    default: int = 200
    delay: float = 0.0
    answer: bytes = b""  # the body of every answer
    receipts: list[Receipt] = field(default_factory=list)
    bad_signatures: int = 0
    raw: list[bytes] = field(default_factory=list)
    port: int = 0
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def delivered(self) -> list[dict[str, Any]]:
        """Events of acknowledged requests, in the order received."""
        return [e for r in self.receipts if 200 <= r.status < 300 for e in r.events]

    def sequences(self) -> list[int]:
        return [e["sequence"] for e in self.delivered()]

    async def wait_for(self, check: Any, timeout: float = 20.0) -> None:
        async def loop() -> None:
            while not check():
                self.changed.clear()
                await self.changed.wait()
        await asyncio.wait_for(loop(), timeout)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        verified = False
        for secret in self.secrets:
            try:
                Webhook(secret).verify(body, headers)
                verified = True
                break
            except WebhookVerificationError:
                continue
        if self.delay:
            await asyncio.sleep(self.delay)
        status, extra = (401, {}) if not verified else (
            self.script.pop(0) if self.script else (self.default, {}))
        if not verified:
            self.bad_signatures += 1
        self.raw.append(body)
        self.receipts.append(Receipt(headers.get("webhook-id", ""), json.loads(body), status))
        await send({"type": "http.response.start", "status": status,
                    "headers": [(k.encode(), v.encode()) for k, v in extra.items()]})
        await send({"type": "http.response.body", "body": self.answer})
        self.changed.set()


class Serving:
    """Serve an ASGI app (a receiver) on 127.0.0.1 in this event loop."""

    def __init__(self, app: Any, port: int | None = None) -> None:
        self.port = port or free_port()
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port,
                                                    log_level="warning", lifespan="off"))
        self.task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Serving:
        self.task = asyncio.create_task(self.server.serve())
        while not self.server.started:
            if self.task.done():
                self.task.result()
            await asyncio.sleep(0.01)
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.server.should_exit = True
        assert self.task is not None
        await self.task


async def endpoint(app: Any, partner_id: str, receiver: Receiver) -> str:
    result = await app.add_webhook_endpoint(admin(), partner_id, receiver.url)
    receiver.secrets.append(result["secret"])
    return str(result["endpoint_id"])


async def wait_built(services: Any, position: int, timeout: float = 20.0) -> None:
    """Until the feed builder has read the log up to ``position``."""
    from program.feeds.queries import built_position

    async def loop() -> None:
        while await built_position(services.pool) < position:
            await asyncio.sleep(0.02)
    await asyncio.wait_for(loop(), timeout)


def as_uuid(value: str) -> UUID:
    return UUID(str(value))
