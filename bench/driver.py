"""The bench's own side of the room: the load processes it commands, and the tovholder (console
over HTTP, projector and console over sockets) it plays itself."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import socketio

from bench.servers import EMAIL, PASSWORD, ROOT

CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
VERSION = re.compile(r'data-version="(\d+)"')
# The projector's count of answers: the tally line when results show, the big number when hidden.
TALLY = re.compile(r'class="stage__tally">\s*(\d+)|class="hidden-results__count">\s*(\d+)')


class BenchError(RuntimeError):
    pass


class Loads:
    """Load processes (`python -m bench.load`), each holding a share of the phones."""

    def __init__(self, count: int, log_dir: Path) -> None:
        self.count = count
        self.log_dir = log_dir
        self.procs: list[asyncio.subprocess.Process] = []
        self.logs: list[Any] = []

    async def __aenter__(self) -> Loads:
        for i in range(self.count):
            log = (self.log_dir / f"load-{time.monotonic_ns()}-{i}.log").open("ab")
            self.logs.append(log)
            proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bench.load",
                cwd=ROOT,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=log,
                limit=2**26,
            )
            self.procs.append(proc)
        await self.each({"op": "stats"}, timeout=120)  # started and imported: ready for commands
        return self

    async def __aexit__(self, *exc: object) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.each({"op": "close"}), 60)
        for proc in self.procs:
            if proc.returncode is None:
                proc.kill()
            await proc.wait()
        for log in self.logs:
            log.close()

    async def ask(self, i: int, cmd: dict[str, Any], timeout: float = 600) -> dict[str, Any]:
        proc = self.procs[i]
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write((json.dumps(cmd) + "\n").encode())
        await proc.stdin.drain()
        line = await asyncio.wait_for(proc.stdout.readline(), timeout)
        if not line:
            raise BenchError(f"load process {i} ended (see {self.log_dir})")
        reply: dict[str, Any] = json.loads(line)
        if "error" in reply:
            raise BenchError(f"load process {i}: {reply['error']}")
        return reply

    async def each(self, cmd: dict[str, Any], timeout: float = 600) -> list[dict[str, Any]]:
        return list(await asyncio.gather(*(self.ask(i, cmd, timeout) for i in range(self.count))))

    async def join(
        self, kind: str, urls: list[str], code: str, phones: int, concurrency: int = 200
    ) -> dict[str, Any]:
        """`phones` join at once, split over the load processes; joins/s over the whole storm."""
        share = [phones // self.count + (1 if i < phones % self.count else 0) for i in range(self.count)]
        firsts = [sum(share[:i]) for i in range(self.count)]
        t0 = time.monotonic()
        replies = await asyncio.gather(
            *(
                self.ask(
                    i,
                    {
                        "op": "join",
                        "kind": kind,
                        "urls": urls,
                        "code": code,
                        "count": share[i],
                        "first": firsts[i],
                        "concurrency": max(1, concurrency // self.count),
                    },
                )
                for i in range(self.count)
            )
        )
        seconds = time.monotonic() - t0
        joined = sum(r["joined"] for r in replies)
        return {
            "joined": joined,
            "failed": sum(r["failed"] for r in replies),
            "errors": [e for r in replies for e in r["errors"]][:5],
            "seconds": seconds,
            "per_second": joined / seconds if seconds else 0.0,
            "durations": [d for r in replies for d in r["durations"]],
            "downloaded": sum(r["downloaded"] for r in replies),
        }

    async def wait(self, version: int, t0: float, timeout: float) -> dict[str, Any]:
        replies = await self.each({"op": "wait", "version": version, "t0": t0, "timeout": timeout})
        return {
            "latencies": [x for r in replies for x in r["latencies"]],
            "missing": sum(r["missing"] for r in replies),
            "size": max(r["size"] for r in replies),
            "disconnects": sum(r["disconnects"] for r in replies),
            "reconnects": sum(r["reconnects"] for r in replies),
        }

    async def answer(self, step: str, text: str, retry_every: int = 0) -> dict[str, Any]:
        replies = await self.each({"op": "answer", "step": step, "text": text, "retry_every": retry_every})
        return {
            "acks": [x for r in replies for x in r["acks"]],
            "created": sum(r["created"] for r in replies),
            "repeated": sum(r["repeated"] for r in replies),
            "failed": sum(r["failed"] for r in replies),
            "errors": [e for r in replies for e in r["errors"]][:5],
            "last_ack": max(r["last_ack"] for r in replies),
            "sent": sum(r["sent"] for r in replies),
        }

    async def cpu(self) -> float:
        return float(sum(r["cpu"] for r in await self.each({"op": "stats"})))

    async def seen(self) -> list[list[int]]:
        return [versions for r in await self.each({"op": "seen"}) for versions in r["phones"]]


class Screen:
    """A projector or console as a socket client; keeps when each count of answers showed."""

    def __init__(self) -> None:
        self.sio = socketio.AsyncClient(reconnection=False)
        self.shown: list[tuple[float, int]] = []  # (monotonic, answers on the projector)
        self.sio.on("screen", self._screen)

    async def _screen(self, payload: dict[str, Any]) -> None:
        found = TALLY.search(payload.get("html") or "")
        if found:
            self.shown.append((time.monotonic(), int(found.group(1) or found.group(2))))

    async def connect(self, url: str, auth: dict[str, Any], cookie: str = "") -> None:
        await self.sio.connect(
            url,
            headers={"Cookie": cookie} if cookie else {},
            transports=["websocket"],
            auth=auth,
            wait_timeout=60,
        )

    async def until_count(self, count: int, since: float, timeout: float) -> float | None:
        """When the projector first showed at least `count` answers after `since`, or None."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for at, shown in self.shown:
                if at >= since and shown >= count:
                    return at
            await asyncio.sleep(0.01)
        return None

    async def close(self) -> None:
        if self.sio.connected:
            await self.sio.disconnect()


class Tovholder:
    """The tovholder's console over HTTP, as htmx sends it."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.http = httpx.AsyncClient(base_url=url, timeout=180)
        self.version = 0

    async def login(self) -> None:
        page = await self.http.get("/login")
        token = CSRF.search(page.text)
        if not token:
            raise BenchError("the login page has no CSRF token")
        r = await self.http.post(
            "/login", data={"email": EMAIL, "password": PASSWORD, "csrf_token": token.group(1)}
        )
        if r.status_code != 303:
            raise BenchError(f"login failed: {r.status_code}")
        # A login has a token of its own: read it from a page behind the login.
        token = CSRF.search((await self.http.get("/dashboard")).text) or token
        self.http.headers["X-CSRF-Token"] = token.group(1)
        self.http.headers["HX-Request"] = "true"

    async def team(self, name: str, units: tuple[str, ...]) -> int | None:
        r = await self.http.post("/teams", data={"name": name, "units": "\n".join(units)})
        if r.status_code != 303:
            return None
        page = await self.http.get("/dashboard")
        found = re.search(rf'<option value="(\d+)">{re.escape(name)}</option>', page.text)
        return int(found.group(1)) if found else None

    async def start(self, flow: str, locale: str = "en", team: int | None = None) -> tuple[int, str]:
        data: dict[str, Any] = {"flow": flow, "locale": locale}
        if team is not None:
            data["team"] = team
        r = await self.http.post("/runs", data=data)
        if r.status_code != 303:
            raise BenchError(f"could not start a session: {r.status_code} {r.text[:300]}")
        run_id = int(r.headers["location"].split("/")[2])
        console = await self.http.get(f"/runs/{run_id}/console")
        code = re.search(r'data-run="([A-Z0-9]+)"', console.text)
        if not code:
            raise BenchError("the console shows no join code")
        found = VERSION.search(console.text)
        self.version = int(found.group(1)) if found else 0
        return run_id, code.group(1)

    async def move(self, run_id: int, action: str) -> tuple[int, float, str]:
        """Next or back as a compare-and-set on the version shown. Returns the version the phones
        should now get, how long the console's reply took, and what went wrong (or "")."""
        expected = self.version + 1
        t = time.monotonic()
        try:
            r = await self.http.post(f"/runs/{run_id}/{action}", data={"version": self.version})
            problem = "" if r.status_code == 200 else f"HTTP {r.status_code}"
            found = VERSION.search(r.text)
            if found:
                expected = int(found.group(1))
        except httpx.HTTPError as exc:
            problem = f"{type(exc).__name__}"
        self.version = expected
        return expected, time.monotonic() - t, problem

    @property
    def cookie(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.http.cookies.items())

    async def close(self) -> None:
        await self.http.aclose()
