"""The API as ``program serve`` runs it, plus one bare JSON endpoint for the baseline.

Started by bench/read.py in its own process so the load generator does not share
its interpreter: ``python bench/_bench_server.py PORT`` with PROGRAM_* settings set.
"""

from __future__ import annotations

import sys
from typing import Any
from uuid import UUID

import uvicorn
from litestar import get
from litestar.datastructures import State

from program.api.app import create_app
from program.settings import Settings

BARE_SQL = "SELECT * FROM rm_cohort_dashboard.cohorts WHERE id = $1"


@get("/bench/bare/{cohort_id:uuid}")
async def bare(state: State, cohort_id: UUID) -> dict[str, Any]:
    """A plain Litestar JSON endpoint reading one row: the baseline GraphQL is compared to."""
    async with state.services.pool.acquire() as conn:
        row = await conn.fetchrow(BARE_SQL, cohort_id)
    return dict(row) if row is not None else {}


def main() -> None:
    port = int(sys.argv[1])
    app = create_app(Settings.from_env())
    app.register(bare)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
