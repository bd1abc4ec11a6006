"""Giving memory back after a join storm (app/memory.py): glibc's malloc_trim is found and runs,
the trimmer trims once the joins calm down, now and then during a long storm, never while nobody
joins, and the server's lifespan runs it."""

from __future__ import annotations

import asyncio
import logging
import platform
import threading
import time

import pytest
import socketio
import uvicorn

from app.memory import Trimmer, malloc_trim
from tests.harness import free_port
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


@pytest.mark.server
def test_a_phones_socket_keeps_neither_its_cookies_nor_the_request_body_reader(inproc: InProcess) -> None:
    """socket.io keeps each connection's request (its environ) as long as the socket: once the
    phone is admitted, the phone's cookies (its token) and engine.io's body reader (an object of
    a class made per request, about 2.5 KiB) are let go. The app served by a real uvicorn, here."""
    runner = inproc.house.runner
    run = runner.create_run("reflection", "en", None)
    token = runner.join(run.code, "Kari").token
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(inproc.asgi, host="127.0.0.1", port=port, lifespan="off", log_level="warning")
    )
    serving = threading.Thread(target=server.run, daemon=True)
    serving.start()

    async def phone() -> list[dict[str, object]]:
        client = socketio.AsyncClient(reconnection=False)
        for _ in range(200):  # the server is up within a second or two
            try:
                await client.connect(
                    f"http://127.0.0.1:{port}",
                    headers={"Cookie": f"tov_p={token}"},
                    transports=["websocket"],
                    auth={"role": "phone", "run": run.code},
                    wait_timeout=10,
                )
                break
            except socketio.exceptions.ConnectionError:
                await asyncio.sleep(0.05)
        assert client.connected
        kept = [dict(e) for e in inproc.house.realtime.sio.environ.values()]
        await client.disconnect()
        return kept

    try:
        kept = asyncio.run(phone())
    finally:
        server.should_exit = True
        serving.join(10)
    assert len(kept) == 1
    assert "HTTP_COOKIE" not in kept[0] and "wsgi.input" not in kept[0]
    assert kept[0]["REQUEST_METHOD"] == "GET"  # the rest of the request is still there
