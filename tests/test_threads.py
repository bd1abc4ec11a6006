"""The pool FastAPI runs the plain (def) routes in has `threads` threads (app/config.py): under a
join storm, 40 threads taking turns at Python's lock cost a fifth more CPU a join than a few
(bench/FINDINGS.md)."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path
from typing import Any

from tests.conftest import running_inprocess
from tests.databases import Templates


def test_the_pages_run_at_most_threads_at_once(templates: Templates, tmp_path: Path) -> None:
    with running_inprocess(templates, tmp_path, threads=2, rate_limits=False) as app:
        runner = app.house.runner
        original = runner.join_form
        lock = threading.Lock()
        now = [0]
        most = [0]

        def slow_join_form(code: str) -> Any:
            with lock:
                now[0] += 1
                most[0] = max(most[0], now[0])
            try:
                time.sleep(0.15)
                return original(code)
            finally:
                with lock:
                    now[0] -= 1

        runner.join_form = slow_join_form

        async def six_phones() -> list[int]:
            async with app.async_client() as client:
                replies = await asyncio.gather(*(client.get("/j/NOSUCH") for _ in range(6)))
            return [r.status_code for r in replies]

        assert asyncio.run(six_phones()) == [404] * 6  # each page was served, two at a time
        assert most[0] == 2
