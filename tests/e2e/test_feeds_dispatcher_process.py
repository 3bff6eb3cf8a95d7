"""A real ``program feeds run`` process killed mid-delivery (SIGKILL) and started again:
no event lost, none out of order, the interrupted request resent with its webhook-id."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from feeds_support import Receiver, Serving, admin, cohort, endpoint, partner, person, programme
from program.bootstrap import Services, open_services
from program.feeds.settings import FeedSettings
from program.settings import Settings
from program.store.database import Database

EVENTS = 40


@pytest_asyncio.fixture(scope="module")
async def services(db_url: str, tmp_path_factory: pytest.TempPathFactory
                   ) -> AsyncIterator[Services]:
    settings = Settings(database_url=db_url, data_dir=Path(tmp_path_factory.mktemp("data")),
                        jwt_secret="x" * 48, feeds=FeedSettings(pseudonym_key="k" * 32, allow_private_urls=True))
    s = await open_services(settings, database=Database(url=db_url), run_projections=False,
                            run_feeds=False)
    yield s
    await s.close()


def _dispatcher(db_url: str, data_dir: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PROGRAM_DATABASE_URL": db_url, "PROGRAM_DATA_DIR": str(data_dir),
           "PROGRAM_PSEUDONYM_KEY": "k" * 32, "PROGRAM_WEBHOOK_ALLOW_PRIVATE": "1",
           "PROGRAM_WEBHOOK_BATCH_SIZE": "3", "PROGRAM_JWT_SECRET": "x" * 48,
           "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.Popen([sys.executable, "-m", "program", "feeds", "run"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


async def test_dispatcher_when_killed_mid_delivery_and_restarted_loses_and_reorders_nothing(
    services: Services, db_url: str, tmp_path: Path
) -> None:
    app = services.application
    prog = await programme(app)
    cid = await cohort(app, prog, capacity=EVENTS)
    pid = await partner(app, prog)
    rx = Receiver(delay=0.05)
    async with Serving(rx) as serving:
        rx.port = serving.port
        await endpoint(app, pid, rx)
        for i in range(EVENTS):
            await app.enrol_participant(admin(), cid, await person(app, prog, f"K{i}", [pid]))
        first = _dispatcher(db_url, tmp_path)
        try:
            await rx.wait_for(lambda: len(rx.receipts) >= 4, timeout=60)
            await asyncio.sleep(0.02)  # inside the receiver's delay: a request is in flight
        finally:
            first.send_signal(signal.SIGKILL)
            first.wait()
        killed_after = len(rx.receipts)
        second = _dispatcher(db_url, tmp_path)
        try:
            await rx.wait_for(lambda: set(rx.sequences()) >= set(range(1, EVENTS + 1)),
                              timeout=60)
        finally:
            second.send_signal(signal.SIGTERM)
            second.wait(timeout=30)

    assert killed_after < len(rx.receipts) and rx.bad_signatures == 0
    seen = 0
    for receipt in rx.receipts:  # each request starts at most one past what came before
        sequences = [e["sequence"] for e in receipt.events]
        assert sequences == list(range(sequences[0], sequences[-1] + 1))
        assert sequences[0] <= seen + 1
        seen = max(seen, sequences[-1])
    ids = {}
    for receipt in rx.receipts:  # a resent range keeps its webhook-id
        key = tuple(e["sequence"] for e in receipt.events)
        assert ids.setdefault(key, receipt.webhook_id) == receipt.webhook_id
    assert sorted(set(rx.sequences())) == list(range(1, EVENTS + 1))
