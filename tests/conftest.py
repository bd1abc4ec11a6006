"""Shared fixtures. Take the cheapest one that tests what the test is about.

IN PROCESS: no socket, no subprocess, about 20 ms to start. The real `create_app()` on a database
of its own, its lifespan running on an event loop in a thread, reached through
`httpx.ASGITransport` (tests/inprocess.py). For every plain HTTP check: pages, forms, redirects,
status codes, CSRF, rate limits, downloads, what is stored.
  inproc           a fresh app per test, on a copy of a migrated SQLite file with the test account
                   (t@example.org, harness.PASSWORD). `inproc.login()` is a logged-in browser,
                   `inproc.client()` a new anonymous one (`address=` another client address),
                   `inproc.async_client()` the same for async tests, `inproc.cli(...)` runs
                   `tovholder ...` in process on its data, `inproc.log()` is what it printed and
                   logged (a request that raises fails the test at once).
  inproc_both      the same, once on SQLite and once on PostgreSQL (`CREATE DATABASE ... TEMPLATE`).
  fresh_inproc     a first start: migrated, no account (the setup link is in `.log()`).
  shared_inproc    one app for a whole module, for tests that each make their own run.
  migrated_settings, migrated_engine
                   no app: a migrated SQLite file (no account) for runner-level tests.
  templates        the session's migrated databases; `templates.copy(kind, data_dir)` makes one.

A REAL SERVER: `tovholder run` under uvicorn in a process of its own on a free port, forked from a
warm process (harness.ForkServer), about 0.3 s to start. Only where a test needs what only a
process has: socket.io clients, reconnects, restarts and crashes, two processes through Redis, a
browser. Every test that uses one is marked `server` by itself (through the `uvicorn` fixture);
`make test-fast` leaves them out. A test that starts a server it does not need is a defect.
  shared_sqlite_server
                   one server for a whole module: for socket tests that each make their own run.
  sqlite_server, postgres_server, server (both databases)
                   a server of its own for one test (restarts, counting everything).
  uvicorn          for more: `with uvicorn.running(data_dir, database_url, redis_url, channel)`
                   on a copy from `templates` (see test_realtime.py's two servers); `cold=True`
                   for a new process from the entry point instead of a fork (test_auth.py).

Both kinds answer `.url`, `.data_dir`, `.database_url` (resolved), `.client()`, `.login()`,
`.cli()` and `.log()`. `databases.add_account(site.database_url, email)` adds another account that
logs in with PASSWORD (no subprocess, no scrypt per account). The process container of an app in
process is `house_of(inproc.asgi)`, and only through that. Browser tests take `chromium` (one per
module, from tests/browser.py: `pytest_plugins = ["tests.browser"]`) and are marked `browser`.
Each test gets its own database; the rate limits of an app in process are per client address,
and each app's clients get an address of their own. Redis: each server its own channel."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from app.config import Settings
from app.db import make_engine
from tests.databases import Templates
from tests.harness import ForkServer, Server, free_port, remember_shipped_flows, server_env
from tests.inprocess import InProcess


def house_of(app: Any) -> Any:
    """The process container of an app made by create_app(): settings, engine, runner, realtime.
    The one place that knows where it lives (the FastAPI app under the socket.io wrapper)."""
    api = getattr(app, "other_asgi_app", app)
    return api.state.house


# --- the shipped flows, parsed once ---------------------------------------------------------------


_REAL_LOAD_FLOW = pytest.StashKey[Callable[..., Any]]()


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_REAL_LOAD_FLOW] = remember_shipped_flows()


def pytest_unconfigure(config: pytest.Config) -> None:
    import app.flows

    if _REAL_LOAD_FLOW in config.stash:
        app.flows.load_flow = config.stash[_REAL_LOAD_FLOW]  # type: ignore[assignment]


# --- markers ----------------------------------------------------------------------------------------


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """`server` on every test that starts a real server, `browser` on every test that drives
    Chromium: `make test-fast` runs the rest. The modules with such tests go first: they are the
    long ones, and two xdist workers (one module each at a time) then finish close together."""
    slow_modules = set()
    for item in items:
        names = getattr(item, "fixturenames", ())
        if "uvicorn" in names:
            item.add_marker(pytest.mark.server)
        if "chromium" in names:
            item.add_marker(pytest.mark.browser)
        if "uvicorn" in names or "chromium" in names:
            slow_modules.add(item.nodeid.split("::")[0])
    items.sort(key=lambda item: item.nodeid.split("::")[0] not in slow_modules)  # stable otherwise


# --- databases ------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Templates]:
    """Databases migrated once per test session (per xdist worker); each test gets a copy."""
    made = Templates(tmp_path_factory.mktemp("templates"))
    try:
        yield made
    finally:
        made.close()


BOTH = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture
def migrated_settings(templates: Templates, tmp_path: Path) -> Settings:
    """Settings for a fresh data dir whose SQLite file has the real Alembic migrations applied
    (a copy of the session's migrated file) and no account."""
    templates.sqlite_copy(tmp_path, account=False)
    return Settings(_env_file=None, data_dir=tmp_path, database_url="")


@pytest.fixture
def migrated_engine(migrated_settings: Settings) -> Iterator[Engine]:
    """An engine (with the app's SQLite pragmas) on the migrated file."""
    engine = make_engine(migrated_settings.resolved_database_url)
    try:
        yield engine
    finally:
        engine.dispose()


# --- the app in process ---------------------------------------------------------------------------


@contextlib.contextmanager
def running_inprocess(
    templates: Templates,
    data_dir: Path,
    kind: str = "sqlite",
    account: bool = True,
    url: str = "http://127.0.0.1:8000",
    **settings: Any,
) -> Iterator[InProcess]:
    """An in-process app on a fresh copy of the migrated database of `kind`; `url` its public
    URL, `settings` more of its Settings."""
    with templates.copy(kind, data_dir, account) as database:
        app = InProcess(data_dir, database, url=url, settings=settings).start()
        try:
            yield app
        finally:
            app.stop()


@pytest.fixture
def inproc(templates: Templates, tmp_path: Path) -> Iterator[InProcess]:
    with running_inprocess(templates, tmp_path) as app:
        yield app


@pytest.fixture(params=BOTH)
def inproc_both(request: pytest.FixtureRequest, templates: Templates, tmp_path: Path) -> Iterator[InProcess]:
    with running_inprocess(templates, tmp_path, request.param) as app:
        yield app


@pytest.fixture
def fresh_inproc(templates: Templates, tmp_path: Path) -> Iterator[InProcess]:
    with running_inprocess(templates, tmp_path, account=False) as app:
        yield app


@pytest.fixture(scope="module")
def shared_inproc(templates: Templates, tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcess]:
    with running_inprocess(templates, tmp_path_factory.mktemp("shared-app")) as app:
        yield app


# --- real servers -----------------------------------------------------------------------------------


class Uvicorn:
    """Starts real servers: `tovholder run --no-migrate` in a process of its own on a free port,
    forked from a warm process that imported the app once (harness.ForkServer): a start takes a
    fraction of a second instead of the seconds of a new Python process."""

    def __init__(self) -> None:
        self._forks: ForkServer | None = None

    def close(self) -> None:
        if self._forks is not None:
            self._forks.close()

    @contextlib.contextmanager
    def running(
        self,
        data_dir: Path,
        database_url: str = "",
        redis_url: str = "",
        redis_channel: str = "",
        migrate: bool = False,
        cold: bool = False,
    ) -> Iterator[Server]:
        """A server on data_dir and database_url, a migrated copy (see `templates`) unless
        `migrate`: then `tovholder run` migrates it first, as on a real first start. `cold`: a new
        Python process from the entry point (`python -m app.cli run`), not a fork. Stopped after."""
        data_dir.mkdir(parents=True, exist_ok=True)
        if self._forks is None and not cold:
            self._forks = ForkServer()
        for attempt in range(3):
            # The port is free when chosen; another process on the machine may take it before the
            # server binds it. Then the server says so and exits, and another port is chosen.
            port = free_port()
            env = server_env(data_dir, port, database_url, redis_url, redis_channel)
            forks = None if cold else self._forks
            server = Server(env=env, port=port, data_dir=data_dir, migrate=migrate, forks=forks)
            try:
                server.start()
                break
            except RuntimeError:
                server.stop()
                if attempt == 2 or "address already in use" not in server.log().lower():
                    raise
        try:
            yield server
        finally:
            server.stop()


@pytest.fixture(scope="session")
def uvicorn() -> Iterator[Uvicorn]:
    starter = Uvicorn()
    try:
        yield starter
    finally:
        starter.close()


@contextlib.contextmanager
def _real_server(uvicorn: Uvicorn, templates: Templates, data_dir: Path, kind: str) -> Iterator[Server]:
    with templates.copy(kind, data_dir) as url, uvicorn.running(data_dir, url) as server:
        yield server


@pytest.fixture
def sqlite_server(uvicorn: Uvicorn, templates: Templates, tmp_path: Path) -> Iterator[Server]:
    with _real_server(uvicorn, templates, tmp_path, "sqlite") as server:
        yield server


@pytest.fixture
def postgres_server(uvicorn: Uvicorn, templates: Templates, tmp_path: Path) -> Iterator[Server]:
    with _real_server(uvicorn, templates, tmp_path, "postgres") as server:
        yield server


@pytest.fixture(params=BOTH)
def server(
    request: pytest.FixtureRequest, uvicorn: Uvicorn, templates: Templates, tmp_path: Path
) -> Iterator[Server]:
    """The same test on both databases, each on a real server."""
    with _real_server(uvicorn, templates, tmp_path, request.param) as started:
        yield started


@pytest.fixture(scope="module")
def shared_sqlite_server(
    uvicorn: Uvicorn, templates: Templates, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """One real SQLite server for a whole test module: for tests that each start their own run.
    Use `sqlite_server` when a test needs a server alone (restarts, counting everything)."""
    with _real_server(uvicorn, templates, tmp_path_factory.mktemp("shared-server"), "sqlite") as server:
        yield server
