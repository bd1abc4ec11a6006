"""Giving memory back after a wave of joins.

A join storm (an all-hands of 2,000 phones joining in half a minute) leaves the C allocator with
many freed pages between the ones still in use: the requests, the handshakes and their buffers
are gone, the sockets stay. glibc keeps those pages in the process until `malloc_trim` hands
them back, so the server's resident memory stays at the storm's high-water mark. The trimmer
hands them back when the joins calm down (and now and then during a long storm), and not at
all when nobody joins.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import logging
import time
from collections.abc import Callable

log = logging.getLogger(__name__)

Trim = Callable[[int], object]


def malloc_trim() -> Trim | None:
    """glibc's malloc_trim, or None on a C library without it (musl, macOS)."""
    name = ctypes.util.find_library("c")
    if not name:
        return None
    try:
        trim: Trim = ctypes.CDLL(name).malloc_trim  # CDLL: the call releases the GIL
    except (OSError, AttributeError):
        return None
    return trim


class Trimmer:
    """`joined()` on every socket connect; `run()`, a task of the server's lifespan, trims in a
    worker thread once the joins calm down (`calm` seconds without one), and every `every`
    seconds during a long storm; never while nothing joins."""

    def __init__(self, calm: float = 0.5, every: float = 10.0, trim: Trim | None = None) -> None:
        self.calm, self.every = calm, every
        self.trim = trim if trim is not None else malloc_trim()
        self.trims = 0
        self._last_join: float | None = None  # since the last trim
        self._last_trim = 0.0

    def joined(self) -> None:
        self._last_join = time.monotonic()

    def due(self, now: float) -> bool:
        if self._last_join is None:
            return False
        return now - self._last_join >= self.calm or now - self._last_trim >= self.every

    async def run(self) -> None:
        if self.trim is None:
            return
        while True:
            await asyncio.sleep(min(self.calm, self.every) / 2)
            now = time.monotonic()
            if not self.due(now):
                continue
            self._last_join, self._last_trim = None, now
            try:
                await asyncio.to_thread(self.trim, 0)
            except Exception:  # never worth stopping the server for
                log.exception("giving memory back failed")
                return
            self.trims += 1
