"""Feed metrics in Prometheus form: counters kept by this process's dispatcher, and
per-endpoint lag read from the database at scrape time (whichever process delivers)."""

from __future__ import annotations

from collections import Counter
from uuid import UUID

import asyncpg


class FeedMetrics:
    def __init__(self) -> None:
        self.events: Counter[str] = Counter()
        self.attempts: Counter[str] = Counter()

    def delivered(self, partner_id: UUID, count: int) -> None:
        self.events[str(partner_id)] += count

    def attempt(self, outcome: str) -> None:
        self.attempts[outcome] += 1

    async def render(self, pool: asyncpg.Pool) -> str:
        lines = ["# HELP program_feed_events_delivered_total Events acknowledged by webhook "
                 "receivers (this process).",
                 "# TYPE program_feed_events_delivered_total counter"]
        lines += [f'program_feed_events_delivered_total{{partner="{p}"}} {n}'
                  for p, n in sorted(self.events.items())]
        lines += ["# HELP program_feed_webhook_attempts_total Webhook attempts by outcome "
                  "(this process).", "# TYPE program_feed_webhook_attempts_total counter"]
        lines += [f'program_feed_webhook_attempts_total{{outcome="{o}"}} {n}'
                  for o, n in sorted(self.attempts.items())]
        lines += ["# HELP program_feed_endpoint_lag_events Events of the partner's feed not yet "
                  "acknowledged by the endpoint.", "# TYPE program_feed_endpoint_lag_events gauge"]
        try:
            rows = await pool.fetch(
                "SELECT d.endpoint_id, p.head - d.delivered AS lag FROM feed_deliveries d "
                "JOIN feed_partners p USING (partner_id) JOIN feed_endpoints e USING (endpoint_id) "
                "WHERE NOT e.removed")
        except asyncpg.PostgresError:
            rows = []
        lines += [f'program_feed_endpoint_lag_events{{endpoint="{r[0]}"}} {r[1]}' for r in rows]
        return "\n".join(lines) + "\n"


FEED_METRICS = FeedMetrics()
