"""Shared fixtures: real servers on SQLite and PostgreSQL, and a logged-in tovholder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from app.config import Settings
from app.db import make_engine
from tests.harness import PASSWORD, Server, free_port, postgres_database, server_env


def _server(tmp_path: Path, database_url: str = "", redis_url: str = "") -> Iterator[Server]:
    port = free_port()
    env = server_env(tmp_path, port, database_url, redis_url)
    server = Server(env=env, port=port, data_dir=tmp_path)
    created = server.cli(
        "user", "add", "t@example.org", "--name", "Tove Holder", "--password-stdin", stdin=PASSWORD + "\n"
    )
    assert created.returncode == 0, created.stderr
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def sqlite_server(tmp_path: Path) -> Iterator[Server]:
    yield from _server(tmp_path)


@pytest.fixture
def postgres_server(tmp_path: Path) -> Iterator[Server]:
    with postgres_database() as url:
        yield from _server(tmp_path, url)


@pytest.fixture(params=["sqlite", "postgres"])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Server]:
    """The same test on both databases."""
    if request.param == "sqlite":
        yield from _server(tmp_path)
    else:
        with postgres_database() as url:
            yield from _server(tmp_path, url)


# --- added for the runner tests: a real, migrated SQLite file --------------------------------


@pytest.fixture
def migrated_settings(tmp_path: Path) -> Settings:
    """Settings for a fresh data dir whose SQLite file has the real Alembic migrations applied."""
    from app.cli import _migrate

    settings = Settings(_env_file=None, data_dir=tmp_path, database_url="")  # type: ignore[call-arg]
    _migrate(settings)
    return settings


@pytest.fixture
def migrated_engine(migrated_settings: Settings) -> Iterator[Engine]:
    """An engine (with the app's SQLite pragmas) on the migrated file."""
    engine = make_engine(migrated_settings.resolved_database_url)
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def shared_sqlite_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One real SQLite server for a whole test module: for tests that each start their own run,
    so a server start per test is saved. Use `sqlite_server` when a test needs a server alone
    (rate limits, first start, counting everything)."""
    yield from _server(tmp_path_factory.mktemp("shared-server"))
