"""The single writer for bursts (what arrives together is handled as one list, each caller gets
its own outcome or its own refusal), and the switch that turns the rate limits off for a load test."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from app.batcher import Batcher
from app.ratelimits import Limits


def test_a_burst_is_one_list_and_each_caller_gets_its_own_outcome() -> None:
    lists: list[list[int]] = []

    def handle(items: Sequence[int]) -> list[int | BaseException]:
        lists.append(list(items))
        return [ValueError(i) if i % 5 == 0 else i * 10 for i in items]

    async def burst() -> list[object]:
        batcher: Batcher[int, int] = Batcher(handle, max_items=8)
        return await asyncio.gather(*(batcher.submit(i) for i in range(1, 21)), return_exceptions=True)

    out = asyncio.run(burst())
    assert [o if isinstance(o, int) else str(o) for o in out] == [
        str(i) if i % 5 == 0 else i * 10 for i in range(1, 21)
    ]
    assert [len(items) for items in lists] == [8, 8, 4]
    assert sorted(i for items in lists for i in items) == list(range(1, 21))


def test_a_list_that_fails_whole_refuses_each_of_its_callers_and_the_writer_goes_on() -> None:
    calls = 0

    def handle(items: Sequence[int]) -> list[int | BaseException]:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("database away")
        return list(items)

    async def twice() -> tuple[list[object], int]:
        batcher: Batcher[int, int] = Batcher(handle)
        first = await asyncio.gather(batcher.submit(1), batcher.submit(2), return_exceptions=True)
        return first, await batcher.submit(3)

    first, later = asyncio.run(twice())
    assert all(isinstance(o, RuntimeError) for o in first) and later == 3


def test_rate_limits_switched_off_neither_count_nor_block() -> None:
    """`TOVHOLDER_RATE_LIMITS=false`, for a load test whose phones all come from one address."""
    on, off = Limits(), Limits(enabled=False)
    for _ in range(80):
        on.hit("join-address", "127.0.0.1")
        off.hit("join-address", "127.0.0.1")
    assert on.blocked("join-address", "127.0.0.1") and not off.blocked("join-address", "127.0.0.1")
