"""A load process: many phones as real python-socketio clients, driven by the bench over stdin.

One JSON command a line on stdin, one JSON reply a line on stdout (logs go to stderr):

- {"op": "join", "kind": "tov" | "floor", "urls": [...], "code": ..., "count": n, "first": i,
   "concurrency": c}: n phones join. A Tovholder phone joins as a browser does: GET /j/<code>, POST
   /j/<code> (name, unit, CSRF), whose reply is the phone's page, socket connect with the
   participant token, `sync` with the page's version. A floor phone connects and syncs.
- {"op": "wait", "version": v, "t0": monotonic, "timeout": s}: until every phone shows version v
  or later; the reply has each phone's latency from t0 (the clock is the machine's monotonic
  clock, shared by every process), and how many never got there.
- {"op": "answer", "step": id, "text": ..., "retry_every": k}: every phone answers at once over
  its socket and waits for the acknowledgement; every k-th phone also sends the same answer
  again with the same key, as a phone on a flaky network does.
- {"op": "seen"}: the versions each phone received; {"op": "stats"}: CPU time and memory;
  {"op": "close"}: disconnect everything and exit.

    python -m bench.load   (started by the bench, never by hand)
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import resource
import secrets
import sys
import time
from typing import Any

import aiohttp
import socketio

from bench.limits import raise_open_files

log = logging.getLogger("bench.load")
NAMES = ("Kari", "Ola", "Ingrid", "Lars", "Sigrid", "Jonas", "Maja", "Emil", "Sofie", "Henrik", "Astrid")
CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
VERSION = re.compile(r'data-version="(\d+)"')
UNIT = re.compile(r'name="unit" value="([^"]*)"')


class Phone:
    def __init__(self, pool: Pool, index: int, url: str, code: str) -> None:
        self.pool = pool
        self.index = index
        self.url = url
        self.code = code
        self.version = -1
        self.seen: dict[int, float] = {}  # version -> when it arrived (monotonic)
        self.sizes: dict[int, int] = {}  # version -> characters of the screen
        self.downloaded = 0
        self.http: aiohttp.ClientSession | None = None
        self.sio: socketio.AsyncClient | None = None
        self.connects = 0
        self.closing = False

    def got(self, version: int, size: int) -> None:
        now = time.monotonic()
        if version not in self.seen:
            self.seen[version] = now
            self.sizes[version] = size
        if version > self.version:
            old, self.version = self.version, version
            self.pool.progressed(old, version)

    async def on_screen(self, payload: dict[str, Any]) -> None:
        region = payload.get("region")
        if region == "sync":  # as the page's script: the phone asks for its own screen
            assert self.sio is not None
            reply = await self.sio.call("sync", {"version": -1}, timeout=120)
            if reply:
                self.got(int(reply["version"]), len(reply.get("html") or ""))
        elif region == "phone":
            self.got(int(payload.get("version", 0)), len(payload.get("html") or ""))

    def _client(self) -> socketio.AsyncClient:
        self.http = aiohttp.ClientSession(
            cookie_jar=aiohttp.CookieJar(unsafe=True),
            timeout=aiohttp.ClientTimeout(total=120),
            headers={"Accept-Language": "en", "User-Agent": "bench-phone"},
        )
        # Reconnects as the page's socket.io does (1 s, growing to 5 s, half of it random), and
        # then asks for the current screen, as the page's script does on every connect.
        sio = socketio.AsyncClient(
            reconnection=True,
            reconnection_delay=1,
            reconnection_delay_max=5,
            randomization_factor=0.5,
            http_session=self.http,
            request_timeout=120,
        )
        sio.on("screen", self.on_screen)
        sio.on("connect", self.on_connect)
        sio.on("disconnect", self.on_disconnect)
        self.sio = sio
        return sio

    async def on_connect(self) -> None:
        self.connects += 1
        if self.connects > 1:
            self.pool.reconnects += 1
            asyncio.get_running_loop().create_task(self.resync())

    async def on_disconnect(self, reason: Any = None) -> None:
        if not self.closing:
            self.pool.disconnects += 1

    async def resync(self) -> None:
        assert self.sio is not None
        try:
            reply = await self.sio.call("sync", {"version": self.version}, timeout=120)
        except Exception:
            return  # lost again: the next connect asks again
        if reply:
            self.got(int(reply["version"]), len(reply.get("html") or ""))

    async def join_tovholder(self) -> None:
        sio = self._client()
        assert self.http is not None
        async with self.http.get(f"{self.url}/j/{self.code}") as r:
            page = await r.read()
            if r.status != 200:
                raise RuntimeError(f"GET /j: {r.status}")
        self.downloaded += len(page)
        text = page.decode()
        csrf = CSRF.search(text)
        if not csrf:
            raise RuntimeError("GET /j: no csrf meta")
        units = UNIT.findall(text)
        form = {
            "csrf_token": csrf.group(1),
            "name": NAMES[self.index % len(NAMES)],
            "unit": units[self.index % len(units)] if units else "",
        }
        # The join's reply is the phone's page (the page's script then shows /p/ in the address bar).
        async with self.http.post(f"{self.url}/j/{self.code}", data=form, allow_redirects=False) as r:
            page = await r.read()
            if r.status != 200:
                raise RuntimeError(f"POST /j: {r.status}")
        self.downloaded += len(page)
        found = VERSION.search(page.decode())
        shown = int(found.group(1)) if found else 0
        token = next((c.value for c in self.http.cookie_jar if c.key == "tov_p"), "")
        await sio.connect(
            self.url,
            transports=["websocket"],
            auth={"role": "phone", "run": self.code, "token": token},
            wait_timeout=120,
        )
        reply = await sio.call("sync", {"version": shown}, timeout=120)
        if reply:
            self.got(int(reply["version"]), len(reply.get("html") or ""))
        else:
            self.got(shown, 0)

    async def join_floor(self) -> None:
        sio = self._client()
        await sio.connect(
            self.url, transports=["websocket"], auth={"room": self.code, "role": "phone"}, wait_timeout=120
        )
        reply = await sio.call("sync", {"version": 0}, timeout=120)
        self.got(int(reply["version"]), len(reply.get("html") or ""))

    async def answer(self, step: str, text: str, again: bool) -> list[tuple[float, dict[str, Any]]]:
        assert self.sio is not None
        payload = {"step": step, "key": secrets.token_urlsafe(16), "fields": {"text": text}}

        async def send() -> tuple[float, dict[str, Any]]:
            assert self.sio is not None
            t = time.monotonic()
            try:
                ack = await self.sio.call("answer", payload, timeout=120)
            except Exception as exc:  # a timeout or a lost socket: counted, never hidden
                ack = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
            return time.monotonic() - t, ack

        if again:
            return list(await asyncio.gather(send(), send()))
        return [await send()]

    async def close(self) -> None:
        self.closing = True
        try:
            if self.sio is not None and self.sio.connected:
                await self.sio.disconnect()
        finally:
            if self.http is not None:
                await self.http.close()


class Pool:
    def __init__(self) -> None:
        self.phones: list[Phone] = []
        self.target = 0
        self.reached = 0
        self.all_there = asyncio.Event()
        self.disconnects = 0
        self.reconnects = 0

    def progressed(self, old: int, new: int) -> None:
        if self.target and old < self.target <= new:
            self.reached += 1
            if self.reached >= len(self.phones):
                self.all_there.set()

    async def join(self, cmd: dict[str, Any]) -> dict[str, Any]:
        urls, count, first = cmd["urls"], int(cmd["count"]), int(cmd.get("first", 0))
        gate = asyncio.Semaphore(int(cmd.get("concurrency", 100)))
        durations: list[float] = []
        errors: list[str] = []
        joined: list[Phone] = []

        async def one(i: int) -> None:
            phone = Phone(self, first + i, urls[(first + i) % len(urls)], cmd["code"])
            async with gate:
                t = time.monotonic()
                try:
                    if cmd["kind"] == "tov":
                        await phone.join_tovholder()
                    else:
                        await phone.join_floor()
                except Exception as exc:
                    errors.append(f"{type(exc).__name__}: {exc}")
                    await phone.close()
                    return
                durations.append(time.monotonic() - t)
                joined.append(phone)

        t0 = time.monotonic()
        await asyncio.gather(*(one(i) for i in range(count)))
        self.phones.extend(joined)
        return {
            "joined": len(joined),
            "failed": len(errors),
            "errors": errors[:5],
            "seconds": time.monotonic() - t0,
            "durations": durations,
            "downloaded": sum(p.downloaded for p in joined),
        }

    async def wait(self, cmd: dict[str, Any]) -> dict[str, Any]:
        version, t0, timeout = int(cmd["version"]), float(cmd["t0"]), float(cmd["timeout"])
        self.target = version
        self.reached = sum(1 for p in self.phones if p.version >= version)
        self.all_there = asyncio.Event()
        if self.reached >= len(self.phones):
            self.all_there.set()
        remaining = max(0.0, t0 + timeout - time.monotonic())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.all_there.wait(), remaining)
        self.target = 0
        latencies, sizes, missing = [], [], 0
        for p in self.phones:
            at = next((p.seen[v] for v in sorted(p.seen) if v >= version), None)
            if at is None:
                missing += 1
                continue
            latencies.append(at - t0)
            sizes.append(p.sizes.get(version, 0))
        return {
            "latencies": latencies,
            "missing": missing,
            "size": max(sizes, default=0),
            "disconnects": self.disconnects,
            "reconnects": self.reconnects,
        }

    async def answer(self, cmd: dict[str, Any]) -> dict[str, Any]:
        every = int(cmd.get("retry_every", 0))

        async def one(p: Phone) -> list[tuple[float, dict[str, Any]]]:
            again = bool(every) and p.index % every == 0
            return await p.answer(cmd["step"], f"{cmd['text']} {p.index}", again)

        results = await asyncio.gather(*(one(p) for p in self.phones))
        acks: list[float] = []
        errors: list[str] = []
        created = repeated = 0
        for sent in results:
            for seconds, ack in sent:
                if ack.get("ok"):
                    acks.append(seconds)
                    created += 1 if ack.get("created") else 0
                    repeated += 0 if ack.get("created") else 1
                else:
                    errors.append(str(ack.get("error")))
        return {
            "acks": acks,
            "created": created,
            "repeated": repeated,
            "failed": len(errors),
            "errors": errors[:5],
            "last_ack": time.monotonic(),
            "sent": sum(len(s) for s in results),
        }

    def seen(self) -> dict[str, Any]:
        return {"phones": [sorted(p.seen) for p in self.phones]}

    @staticmethod
    def stats() -> dict[str, Any]:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return {"cpu": usage.ru_utime + usage.ru_stime, "max_rss_kib": usage.ru_maxrss}

    async def close(self) -> None:
        await asyncio.gather(*(p.close() for p in self.phones), return_exceptions=True)
        self.phones = []


async def serve() -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=2**24)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    pool = Pool()
    while True:
        line = await reader.readline()
        if not line:
            break
        cmd = json.loads(line)
        op = cmd["op"]
        try:
            if op == "join":
                reply = await pool.join(cmd)
            elif op == "wait":
                reply = await pool.wait(cmd)
            elif op == "answer":
                reply = await pool.answer(cmd)
            elif op == "seen":
                reply = pool.seen()
            elif op == "stats":
                reply = pool.stats()
            elif op == "close":
                await pool.close()
                reply = {}
            else:
                reply = {"error": f"no op {op!r}"}
        except Exception as exc:
            log.exception("load op %s failed", op)
            reply = {"error": f"{type(exc).__name__}: {exc}"}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()
        if op == "close":
            break


def main() -> None:
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    raise_open_files()
    try:
        import uvloop

        uvloop.run(serve())
    except ImportError:
        asyncio.run(serve())


if __name__ == "__main__":
    main()
