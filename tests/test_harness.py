"""The test fixtures themselves: an app in process really uses the database it was given, on
SQLite and PostgreSQL; a forked test server dies and restarts as a process does."""

from __future__ import annotations

import os
import signal

import sqlalchemy as sa

from tests.harness import Server, start_run
from tests.inprocess import InProcess


def test_the_app_in_process_keeps_what_it_is_sent_in_its_own_database(inproc_both: InProcess) -> None:
    tov = inproc_both.login()
    run_id, code = start_run(tov)
    engine = sa.create_engine(inproc_both.database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT id, code FROM run")).all()
            accounts = conn.execute(sa.text("SELECT email FROM facilitator")).scalars().all()
    finally:
        engine.dispose()
    assert [tuple(r) for r in rows] == [(run_id, code)]  # a fresh copy: nothing of another test
    assert accounts == ["t@example.org"]
    assert inproc_both.house.settings.resolved_database_url == inproc_both.database_url


def test_a_killed_server_says_how_it_ended_and_starts_again(sqlite_server: Server) -> None:
    tov = sqlite_server.login()
    run_id, _ = start_run(tov)
    assert sqlite_server.proc is not None
    os.killpg(sqlite_server.proc.pid, signal.SIGKILL)
    assert sqlite_server.proc.wait(timeout=10) == -signal.SIGKILL
    sqlite_server.start()
    again = sqlite_server.login()
    assert again.get(f"/runs/{run_id}/console").status_code == 200  # the run outlived the crash
