"""Giving memory back after a join storm (app/memory.py): glibc's malloc_trim is found and runs,
the trimmer trims once the joins calm down, now and then during a long storm, never while nobody
joins, and the server's lifespan runs it."""

from __future__ import annotations

import asyncio
import logging
import platform
import time

import pytest

from app.memory import Trimmer, malloc_trim
from tests.inprocess import InProcess

glibc = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="malloc_trim is glibc's")


@glibc
def test_glibc_malloc_trim_is_found_and_gives_memory_back() -> None:
    trim = malloc_trim()
    assert trim is not None
    junk = [bytearray(4096) for _ in range(10_000)]  # 40 MB from the C allocator, then freed
    del junk
    assert trim(0) in (0, 1)  # 1: pages were given back; 0: there were none


async def until(condition: object, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:  # type: ignore[operator]
        await asyncio.sleep(0.01)


def test_the_trimmer_trims_once_after_the_joins_calm_down_and_not_while_nobody_joins() -> None:
    calls: list[int] = []
    trimmer = Trimmer(calm=0.05, every=60, trim=calls.append)

    async def scenario() -> None:
        task = asyncio.create_task(trimmer.run())
        await asyncio.sleep(0.3)
        assert calls == []  # nobody joined
        for _ in range(3):
            trimmer.joined()
        await until(lambda: calls)
        await asyncio.sleep(0.3)
        assert calls == [0]  # once for the three joins, none while nobody joins
        trimmer.joined()
        await until(lambda: len(calls) == 2)
        task.cancel()

    asyncio.run(scenario())
    assert trimmer.trims == 2


def test_a_long_storm_is_trimmed_now_and_then_before_it_calms_down() -> None:
    calls: list[int] = []
    trimmer = Trimmer(calm=60, every=0.1, trim=calls.append)

    async def scenario() -> None:
        task = asyncio.create_task(trimmer.run())
        storm_ends = time.monotonic() + 1.0
        while time.monotonic() < storm_ends:  # a join every 10 ms: never calm
            trimmer.joined()
            await asyncio.sleep(0.01)
        assert calls  # trimmed during the storm
        task.cancel()

    asyncio.run(scenario())


def test_a_trim_that_fails_is_logged_and_the_trimmer_stops(caplog: pytest.LogCaptureFixture) -> None:
    def broken(_: int) -> int:
        raise OSError("no")

    trimmer = Trimmer(calm=0.01, every=60, trim=broken)

    async def scenario() -> None:
        trimmer.joined()
        await asyncio.wait_for(trimmer.run(), 5)  # returns: it does not go on trying

    with caplog.at_level(logging.ERROR, logger="app.memory"):
        asyncio.run(scenario())
    assert "giving memory back failed" in caplog.text
    assert trimmer.trims == 0


@glibc
def test_the_server_trims_after_a_join(inproc: InProcess) -> None:
    trimmer = inproc.house.trimmer
    trimmer.calm = 0.05
    before = trimmer.trims
    trimmer.joined()
    deadline = time.monotonic() + 10
    while trimmer.trims == before and time.monotonic() < deadline:
        time.sleep(0.02)
    assert trimmer.trims == before + 1
