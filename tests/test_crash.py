"""A crash in the middle of a room's answers: the server runs as its own process, 50 socket phones
answer continuously, and the server is killed with SIGKILL at a random moment and started again.
The phones reconnect and send again, with the same key, whatever was not acknowledged. Afterwards
every acknowledged answer is stored once and nothing is stored twice. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import random
import secrets
import signal
from contextlib import suppress
from typing import Any

import httpx
import socketio
import yaml
from sqlalchemy import create_engine, text

from tests.harness import Server, csrf_of
from tests.live import Tovholder
from tests.small_flows import small_flow, small_step

PHONES = 50
CARDS = 6  # each phone's answers (the step takes up to ten cards from each)
FLOW = small_flow(
    "crash-check", small_step("cards", "open_text", settings={"max_cards": 10}), title={"en": "Crash check"}
)


class CrashPhone:
    """A phone that sends its cards one after another, each with its own key, and on a lost
    connection reconnects (as the page's script does) and sends the unacknowledged one again."""

    def __init__(self, url: str, code: str, cookies: dict[str, str], n: int) -> None:
        self.url, self.code, self.cookies, self.n = url, code, cookies, n
        self.acked: list[str] = []
        self.resent = 0
        self.sio: socketio.AsyncClient | None = None
        self.lost = asyncio.Event()

    async def connect(self) -> None:
        while True:
            sio = socketio.AsyncClient(reconnection=False)
            lost = asyncio.Event()
            sio.on("disconnect", lost.set)
            try:
                await sio.connect(
                    self.url,
                    headers={"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())},
                    transports=["websocket"],
                    auth={"role": "phone", "run": self.code},
                    wait_timeout=5,
                )
            except (socketio.exceptions.ConnectionError, OSError):
                await asyncio.sleep(0.02)
                continue
            self.sio, self.lost = sio, lost
            return

    async def send(self, payload: dict[str, Any]) -> dict[str, Any] | None:
        """The ack, or None when the connection went before it came."""
        assert self.sio is not None
        call = asyncio.ensure_future(self.sio.call("answer", payload, timeout=20))
        lost = asyncio.ensure_future(self.lost.wait())
        await asyncio.wait([call, lost], return_when=asyncio.FIRST_COMPLETED)
        lost.cancel()
        if call.done() and not call.exception():
            ack: dict[str, Any] = call.result()
            return ack
        call.cancel()
        with suppress(BaseException):
            await call
        return None

    async def run(self) -> None:
        await self.connect()
        for i in range(self.n):
            payload = {"step": "cards", "key": secrets.token_urlsafe(12), "fields": {"text": f"card {i}"}}
            while (ack := await self.send(payload)) is None:
                self.resent += 1
                with suppress(Exception):
                    assert self.sio is not None
                    await self.sio.disconnect()
                await self.connect()
            assert ack.get("ok"), ack
            self.acked.append(payload["key"])
            await asyncio.sleep(0)
        assert self.sio is not None
        await self.sio.disconnect()


def join(url: str, code: str, n: int) -> list[dict[str, str]]:
    """The cookies of n phones that joined (one connection; each its own participant cookie)."""
    joined = []
    with httpx.Client(base_url=url, timeout=30) as phones:
        token = csrf_of(phones.get(f"/j/{code}").text)
        for _ in range(n):
            phones.cookies.delete("tov_p")
            assert phones.post(f"/j/{code}", data={"csrf_token": token}).status_code == 200
            joined.append(dict(phones.cookies.items()))
    return joined


def kill(server: Server) -> None:
    assert server.proc is not None
    os.killpg(server.proc.pid, signal.SIGKILL)
    server.proc.wait(timeout=10)


async def test_every_acknowledged_answer_survives_a_sigkill_once(server: Server) -> None:
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    tov = Tovholder(server.url)
    await tov.login()
    upload = yaml.safe_dump(FLOW).encode()
    r = await tov.http.post("/flows/import", files={"file": ("crash.yaml", upload, "application/x-yaml")})
    assert r.status_code == 303, r.text
    run_id, code = await tov.start("crash-check")
    assert (await tov.control(run_id, "next")).status_code == 200
    await tov.http.aclose()
    cookies = await asyncio.to_thread(join, server.url, code, PHONES)
    phones = [CrashPhone(server.url, code, c, CARDS) for c in cookies]

    kill_at = rng.randint(PHONES, PHONES * CARDS // 2)  # acknowledged answers before the kill
    answering = asyncio.gather(*(p.run() for p in phones))

    def acked() -> int:
        return sum(len(p.acked) for p in phones)

    while acked() < kill_at and not answering.done():
        await asyncio.sleep(0.005)
    assert not answering.done(), f"all answered before the kill (seed {seed})"
    at_kill = acked()
    kill(server)
    await asyncio.to_thread(server.start)
    await asyncio.wait_for(answering, 120)

    keys = [(phone_n, key) for phone_n, p in enumerate(phones) for key in p.acked]
    assert len(keys) == PHONES * CARDS
    engine = create_engine(server.database_url)
    try:
        with engine.connect() as db:
            rows = db.execute(
                text(
                    "SELECT idempotency_key, count(*) FROM answer WHERE run_id = :r GROUP BY idempotency_key"
                ),
                {"r": run_id},
            ).all()
    finally:
        engine.dispose()
    stored = {key: count for key, count in rows}
    twice = {k: c for k, c in stored.items() if c != 1}
    assert not twice, f"stored more than once (seed {seed}): {twice}"
    missing = [key for _, key in keys if key not in stored]
    assert not missing, f"{len(missing)} acknowledged answers lost (seed {seed}, killed at {at_kill})"
    assert len(stored) == len(keys), f"stored answers nobody sent (seed {seed})"
    assert sum(p.resent for p in phones) > 0, f"no phone lost its connection (seed {seed})"
