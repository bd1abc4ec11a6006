"""A single writer for bursts: items handed in on the event loop are collected for a moment and
given, as one list, to a function that runs in a worker thread (the runner's `store_burst`: one
transaction for the lot). Each caller gets its own item's outcome once that list is done, so an
acknowledgement always follows the commit. One list at a time: what arrives meanwhile waits for
the next."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class Batcher(Generic[T, R]):
    def __init__(
        self,
        handle: Callable[[Sequence[T]], Sequence[R | BaseException]],
        max_items: int = 256,
        gather_seconds: float = 0.002,
    ) -> None:
        self.handle = handle
        self.max_items = max_items
        self.gather_seconds = gather_seconds
        self._queue: list[tuple[T, asyncio.Future[R]]] = []
        self._writer: asyncio.Task[None] | None = None
        self.batches = 0  # counted for tests and the benchmark

    async def submit(self, item: T) -> R:
        """The item's outcome, after the list it went in was handled; a refusal is raised."""
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._queue.append((item, future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.get_running_loop().create_task(self._write())
        return await future

    async def _write(self) -> None:
        while self._queue:
            await asyncio.sleep(self.gather_seconds)  # let the rest of a burst arrive
            batch, self._queue = self._queue[: self.max_items], self._queue[self.max_items :]
            self.batches += 1
            try:
                results = await asyncio.to_thread(self.handle, [item for item, _ in batch])
            except Exception as exc:  # the whole list failed: each caller hears it
                results = [exc] * len(batch)
            for (_, future), result in zip(batch, results, strict=True):
                if future.done():  # its caller went away
                    continue
                if isinstance(result, BaseException):
                    future.set_exception(result)
                else:
                    future.set_result(result)
