"""The socket server, its rooms and notify(). It holds no rules of the run and reads no table:
after the runner commits, it asks the runner (through the callback it was given) for a view,
renders it once per audience and emits it to the run's rooms. Tallies are coalesced."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import socketio
from socketio.packet import Packet

log = logging.getLogger(__name__)

# Kinds of change pushed at once; the others ("tally", "people") are coalesced.
IMMEDIATE_KINDS = {"step", "reveal", "timer", "action"}


def room(run_id: int, audience: str, locale: str | None = None) -> str:
    return f"run:{run_id}:{audience}" + (f":{locale}" if locale else "")


@dataclass
class Push:
    room: str
    region: str
    html: str
    version: int


Renderer = Callable[[int, frozenset[str]], Awaitable[list[Push]]]

MAX_DIGITS = 100  # as engine.io's own reader


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
        self, redis_url: str = "", coalesce_seconds: float = 0.25, channel: str = "tovholder"
    ) -> None:
        manager = socketio.AsyncRedisManager(redis_url, channel=channel) if redis_url else None
        self.sio = socketio.AsyncServer(
            async_mode="asgi",
            serializer=_Packet,
            client_manager=manager,
            transports=["websocket"],
            cors_allowed_origins=[],
            ping_interval=20,
            ping_timeout=20,
            max_http_buffer_size=64 * 1024,
        )
        self.coalesce_seconds = coalesce_seconds
        self.loop: asyncio.AbstractEventLoop | None = None
        self.renderer: Renderer | None = None
        self._pending: dict[int, set[str]] = {}
        self._scheduled: dict[int, asyncio.TimerHandle] = {}
        self._flushing: dict[int, asyncio.Task[None]] = {}
        self._last_flush: dict[int, float] = {}
        self.pushes = 0  # counted for the benchmark and tests

    def start(self, renderer: Renderer) -> None:
        self.loop = asyncio.get_running_loop()
        self.renderer = renderer

    def notify(self, run_id: int, what: str) -> None:
        """Called by the runner after a commit, from any thread."""
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
            loop.call_soon_threadsafe(self._enqueue, run_id, what)

    def _enqueue(self, run_id: int, what: str) -> None:
        self._pending.setdefault(run_id, set()).add(what)
        if run_id in self._flushing:
            return  # the running flush picks the new kinds up when it ends
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
        try:
            while self._pending.get(run_id):
                kinds = frozenset(self._pending.pop(run_id))
                self._last_flush[run_id] = time.monotonic()
                assert self.renderer is not None
                for push in await self.renderer(run_id, kinds):
                    self.pushes += 1
                    await self.sio.emit(
                        "screen",
                        {"region": push.region, "html": push.html, "version": push.version},
                        room=push.room,
                    )
                if self._pending.get(run_id) and not (self._pending[run_id] & IMMEDIATE_KINDS):
                    await asyncio.sleep(self.coalesce_seconds)
        except Exception:
            log.exception("push failed", extra={"run_id": run_id})
        finally:
            self._flushing.pop(run_id, None)
            if not self._pending.get(run_id):
                self._pending.pop(run_id, None)

    async def idle(self) -> None:
        """Wait until every pending push has gone out (for shutdown and tests)."""
        while self._scheduled or self._flushing:
            await asyncio.sleep(0.02)
