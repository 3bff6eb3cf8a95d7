"""Waiting for an event with a time limit: a cancellation is never lost."""

from __future__ import annotations

import asyncio

import pytest

from program.waiting import woken


async def _follower(event: asyncio.Event) -> None:
    """The shape of every background loop: wait a while for news, look, wait again."""
    while True:
        await woken(event, 10)
        event.clear()


async def test_woken_given_the_event_set_as_its_task_is_cancelled_then_the_task_ends() -> None:
    # With asyncio.wait_for (3.11) the wake-up won and the cancellation was dropped: the
    # loop went round again and a service's close() awaited it for ever.
    event = asyncio.Event()
    task = asyncio.create_task(_follower(event))
    await asyncio.sleep(0)  # waiting now
    event.set()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        async with asyncio.timeout(2):
            await task


async def test_woken_given_the_event_set_in_time_then_true_and_given_none_then_false() -> None:
    event = asyncio.Event()
    asyncio.get_running_loop().call_later(0.01, event.set)
    assert await woken(event, 5) is True
    assert await woken(asyncio.Event(), 0.01) is False


async def test_woken_given_its_own_timeout_then_the_task_is_not_left_cancelling() -> None:
    assert await woken(asyncio.Event(), 0.01) is False
    task = asyncio.current_task()
    assert task is not None and task.cancelling() == 0
