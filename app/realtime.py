"""The socket server, its rooms and notify(). It holds no rules of the run and reads no table:
after the runner commits, it asks the runner (through the callback it was given) for a view,
renders it once per audience and emits it to the run's rooms. Tallies are coalesced. A step
change's phone screens are read and drawn in the thread that committed it, straight after the
commit, where that thread knows every language its phones use (one server: no Redis)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import socketio
from socketio.packet import Packet

from app.i18n import available_locales
from app.security import origin_allowed, origin_of

log = logging.getLogger(__name__)

# Kinds of change pushed at once; the others ("tally", "people") are coalesced.
IMMEDIATE_KINDS = {"step", "reveal", "timer", "action"}
# Kinds of change that change the phones' screens: drawn in the committing thread where it can.
PHONE_KINDS = frozenset({"step", "action"})


def room(run_id: int, audience: str, locale: str | None = None) -> str:
    return f"run:{run_id}:{audience}" + (f":{locale}" if locale else "")


def phone_room(run_id: int, locale: str, public_id: str) -> str:
    """One phone's own room (with its language): a screen for some phones only (a group's) goes
    to its phones' rooms."""
    return f"run:{run_id}:phone:{locale}:{public_id}"


@dataclass
class Push:
    room: str | list[str]
    region: str
    html: str
    version: int


@dataclass(frozen=True)
class Prepared:
    """A change's phone pushes, read and drawn right after its commit, for these languages."""

    locales: frozenset[str]
    pushes: list[Push]


# (run id, kinds of change, languages of the phones connected, the change's phone pushes as
# prepared, if they were) -> the pushes, phones' first.
Renderer = Callable[[int, frozenset[str], frozenset[str], Prepared | None], AsyncIterator[Push]]
# (run id, kinds of change, languages of the phones connected, the run's row as just committed)
# -> the phone pushes, drawn in the thread that calls it.
Preparer = Callable[[int, frozenset[str], frozenset[str], Any], list[Push]]
LOCALES_TTL = 3 * 24 * 3600  # a run's set of phone languages in Redis outlives any session

MAX_DIGITS = 100  # as engine.io's own reader
PUSH_LOCK_SECONDS = 10.0  # a run's push holds its Redis lock at most this long


class TooLong:
    """A whole number in an event longer than MAX_DIGITS: not read, so not an int."""

    def __repr__(self) -> str:
        return "<number too long>"


class _Json:
    """JSON for socket packets. Engine.io's reader refuses a number of more than 100 digits by
    dropping the whole packet, so the client would never get its acknowledgement; here the number
    arrives as TooLong, and the event's handler refuses it with a message."""

    dumps = staticmethod(json.dumps)

    @staticmethod
    def loads(text: str | bytes, **kwargs: Any) -> Any:
        return json.loads(text, parse_int=_whole_number, **kwargs)


def _whole_number(digits: str) -> int | TooLong:
    return int(digits) if len(digits.lstrip("-")) <= MAX_DIGITS else TooLong()


class _Packet(Packet):  # type: ignore[misc]
    json = _Json


class Realtime:
    def __init__(
        self,
        redis_url: str = "",
        coalesce_seconds: float = 0.25,
        channel: str = "tovholder",
        public_url: str = "",
    ) -> None:
        public = (origin_of(public_url),) if public_url else ()

        def our_origin(origin: str, environ: dict[str, Any]) -> bool:
            """A browser's socket comes from our own pages: the public URL's origin, or the
            address it came to. (An empty list would turn engine.io's check off altogether.)"""
            scheme = str(environ.get("wsgi.url_scheme", "http"))
            return origin_allowed(origin, scheme, str(environ.get("HTTP_HOST", "")), public)

        manager = socketio.AsyncRedisManager(redis_url, channel=channel) if redis_url else None
        self.sio = socketio.AsyncServer(
            async_mode="asgi",
            serializer=_Packet,
            client_manager=manager,
            transports=["websocket"],
            cors_allowed_origins=our_origin,
            ping_interval=20,
            ping_timeout=20,
            max_http_buffer_size=64 * 1024,
        )
        self.coalesce_seconds = coalesce_seconds
        self.channel = channel
        self.redis: Any = None
        if redis_url:
            import redis.asyncio as aioredis

            self.redis = aioredis.Redis.from_url(redis_url)
        self.loop: asyncio.AbstractEventLoop | None = None
        self.renderer: Renderer | None = None
        self.preparer: Preparer | None = None
        self._prepared: dict[int, Prepared] = {}
        self._pending: dict[int, set[str]] = {}
        self._scheduled: dict[int, asyncio.TimerHandle] = {}
        self._flushing: dict[int, asyncio.Task[None]] = {}
        self._last_flush: dict[int, float] = {}
        self._waiters: dict[int, list[asyncio.Future[None]]] = {}
        self._wake: dict[int, asyncio.Event] = {}
        self.pushes = 0  # counted for the benchmark and tests

    def start(self, renderer: Renderer, preparer: Preparer | None = None) -> None:
        self.loop = asyncio.get_running_loop()
        self.renderer = renderer
        self.preparer = preparer

    async def phone_entered(self, sid: str, run_id: int, locale: str, public_id: str) -> None:
        """A phone joins its run's room for its language, and its own room. With Redis, the
        language is also noted for the run, so every server renders it."""
        await self.sio.enter_room(sid, room(run_id, "phones", locale))
        await self.sio.enter_room(sid, phone_room(run_id, locale, public_id))
        if self.redis is not None:
            key = self._locales_key(run_id)
            await self.redis.sadd(key, locale)
            await self.redis.expire(key, LOCALES_TTL)

    def _locales_key(self, run_id: int) -> str:
        return f"{self.channel}:locales:{run_id}"

    async def phone_locales(self, run_id: int) -> frozenset[str]:
        """The languages of the run's phones that are connected (here, or with Redis, to any
        server since the run began): only those are rendered."""
        found = set(self._local_locales(run_id))
        if self.redis is not None:
            try:
                found |= {m.decode() for m in await self.redis.smembers(self._locales_key(run_id))}
            except Exception:  # Redis away: every language, as before
                log.exception("reading the phones' languages failed", extra={"run_id": run_id})
                return frozenset(available_locales())
        return frozenset(found)

    def notify(self, run_id: int, what: str, run: Any = None) -> None:
        """Called by the runner after a commit, from any thread. From a worker thread, a step
        change's phone screens are read and drawn here first (prepare), while that thread is
        still warm from the commit: the flush then only sends them."""
        loop = self.loop
        if loop is None or loop.is_closed():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._enqueue(run_id, what)
        else:
            loop.call_soon_threadsafe(self._enqueue, run_id, what, self._prepare(run_id, what, run))

    def _prepare(self, run_id: int, what: str, run: Any) -> Prepared | None:
        """The phone pushes of a step change, where this server alone knows every language its
        phones use (no Redis: with it, another server's phones may use another)."""
        if self.preparer is None or self.redis is not None or what not in PHONE_KINDS:
            return None
        locales = self._local_locales(run_id)
        if not locales:
            return None
        try:
            return Prepared(locales, self.preparer(run_id, frozenset({what}), locales, run))
        except Exception:  # the flush reads and draws them again, and says so if that fails too
            log.exception("preparing the phones' push failed", extra={"run_id": run_id})
            return None

    def _local_locales(self, run_id: int) -> frozenset[str]:
        rooms = self.sio.manager.rooms.get("/", {})
        return frozenset(loc for loc in available_locales() if rooms.get(room(run_id, "phones", loc)))

    def _enqueue(self, run_id: int, what: str, prepared: Prepared | None = None) -> None:
        if prepared is not None:
            self._prepared[run_id] = prepared
        elif what in IMMEDIATE_KINDS:  # a later change the prepared screens may not show
            self._prepared.pop(run_id, None)
        self._pending.setdefault(run_id, set()).add(what)
        if run_id in self._flushing:
            # The running flush picks the new kinds up when it ends; a step change does not wait
            # out the pause it takes between tally pushes.
            wake = self._wake.get(run_id)
            if wake is not None and what in IMMEDIATE_KINDS:
                wake.set()
            return
        if what in IMMEDIATE_KINDS:
            handle = self._scheduled.pop(run_id, None)
            if handle:
                handle.cancel()
            self._start_flush(run_id)
        elif run_id not in self._scheduled:
            assert self.loop is not None
            since = time.monotonic() - self._last_flush.get(run_id, 0.0)
            delay = max(0.0, self.coalesce_seconds - since)
            self._scheduled[run_id] = self.loop.call_later(delay, self._start_flush, run_id)

    def _start_flush(self, run_id: int) -> None:
        self._scheduled.pop(run_id, None)
        assert self.loop is not None
        self._flushing[run_id] = self.loop.create_task(self._flush(run_id))

    async def _flush(self, run_id: int) -> None:
        waiting: list[asyncio.Future[None]] = []
        try:
            while self._pending.get(run_id):
                kinds = frozenset(self._pending.pop(run_id))
                waiting = self._waiters.pop(run_id, [])  # their changes are among these kinds
                self._last_flush[run_id] = time.monotonic()
                assert self.renderer is not None
                locales = await self.phone_locales(run_id)
                prepared = self._prepared.pop(run_id, None)
                async with self._one_server_at_a_time(run_id):
                    async for push in self.renderer(run_id, kinds, locales, prepared):
                        self.pushes += 1
                        await self.sio.emit(
                            "screen",
                            {"region": push.region, "html": push.html, "version": push.version},
                            room=push.room,
                        )
                _release(waiting)
                if self._pending.get(run_id) and not (self._pending[run_id] & IMMEDIATE_KINDS):
                    # A push that took long (a big room's lobby) waits as long: tallies and joins
                    # take at most half of the time, whatever the size of the room.
                    took = time.monotonic() - self._last_flush[run_id]
                    await self._pause(run_id, max(self.coalesce_seconds, took))
        except Exception:
            log.exception("push failed", extra={"run_id": run_id})
        finally:
            self._flushing.pop(run_id, None)
            _release(waiting + self._waiters.pop(run_id, []))  # a push that failed keeps nobody waiting
            if not self._pending.get(run_id):
                self._pending.pop(run_id, None)

    @contextlib.asynccontextmanager
    async def _one_server_at_a_time(self, run_id: int) -> AsyncIterator[None]:
        """With Redis, a run's pushes are read and sent by one server at a time. Two servers'
        tally pushes carry the same version, so a screen keeps the one that came last: without
        this, one read before the other's answers were stored could be sent after it, and the
        projector would keep the older count. So whoever reads later also sends later."""
        if self.redis is None:
            yield
            return
        lock = self.redis.lock(
            f"{self.channel}:pushing:{run_id}",
            timeout=PUSH_LOCK_SECONDS,
            sleep=0.005,
            blocking_timeout=PUSH_LOCK_SECONDS,
        )
        try:
            held = bool(await lock.acquire())
        except Exception:  # Redis away: the push goes out unordered rather than not at all
            log.exception("ordering a push failed", extra={"run_id": run_id})
            held = False
        try:
            yield
        finally:
            if held:
                with contextlib.suppress(Exception):  # it expired (a push of over 10 s): let go
                    await lock.release()

    async def _pause(self, run_id: int, seconds: float) -> None:
        """The pause between two tally pushes of a run, cut short by a change that is immediate."""
        wake = self._wake[run_id] = asyncio.Event()
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), seconds)
        finally:
            self._wake.pop(run_id, None)

    def quiet(self, run_id: int) -> bool:
        """Nothing of the run waits to be pushed or is being pushed: its last push drew the run
        as it is now (joins and answers included, which do not change its version)."""
        return run_id not in self._flushing and not self._pending.get(run_id)

    async def settled(self, run_id: int, timeout: float = 1.0) -> None:
        """Wait (at most `timeout`) until the pushes of the run's last change have gone out: a
        control's reply comes after the phones' push, which then has the machine to itself, and
        finds the console its push drew (House.region_html). Returns at once when nothing is due now
        (a tally waiting for its coalescing interval is not waited for)."""
        if run_id not in self._flushing:
            return
        assert self.loop is not None
        done: asyncio.Future[None] = self.loop.create_future()
        self._waiters.setdefault(run_id, []).append(done)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(done, timeout)

    async def idle(self) -> None:
        """Wait until every pending push has gone out (for shutdown and tests)."""
        while self._scheduled or self._flushing:
            await asyncio.sleep(0.02)


def _release(waiting: list[asyncio.Future[None]]) -> None:
    for done in waiting:
        if not done.done():
            done.set_result(None)
