"""Metrics with the projections running: every read model reports its position and lag."""

from __future__ import annotations

import re

import httpx

from program.application.context import Actor, CommandContext
from program.bootstrap import Services
from program.projections.registry import names


def _samples(text: str, name: str) -> dict[str, float]:
    """``{projection: value}`` for one per-projection metric."""
    pattern = re.compile(rf'^{name}\{{projection="([^"]+)"\}} (\S+)$', re.M)
    return {label: float(value) for label, value in pattern.findall(text)}


async def test_metrics_report_each_projection_catching_up_to_the_head(
    http: httpx.AsyncClient, services: Services
) -> None:
    result = await services.application.create_programme(
        CommandContext(Actor.system("metrics-test")), name="Lag check"
    )
    # Wait on the checkpoints (through the runner), never on a sleep of guessed length.
    assert await services.projections.wait_for(result.position, timeout=30)
    text = (await http.get("/metrics")).text
    positions = _samples(text, "program_projection_position")
    assert set(positions) >= set(names())
    assert all(p >= result.position for p in positions.values()), positions
    lag = _samples(text, "program_projection_lag_events")
    assert set(lag) >= set(names())
    assert all(v >= 0 for v in lag.values())
    assert set(_samples(text, "program_projection_lag_seconds")) >= set(names())
