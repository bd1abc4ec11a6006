"""Databases for tests, migrated once per test session and copied for each test: a SQLite file is
copied, a PostgreSQL database is made with `CREATE DATABASE ... TEMPLATE`. The copies come with or
without the test account (t@example.org, PASSWORD); more accounts are rows written directly, with
a password hash computed once per session, never the CLI in a subprocess."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from functools import cache
from pathlib import Path

from tests.harness import PASSWORD, PG_ADMIN_URL, require_service

EMAIL = "t@example.org"
NAME = "Tove Holder"
SQLITE_FILE = "tovholder.db"


@cache
def password_hash() -> str:
    """A real scrypt hash of PASSWORD, computed once per process: every test account logs in with it."""
    from app.auth import hash_password

    return hash_password(PASSWORD)


def resolved_url(data_dir: Path, database_url: str = "") -> str:
    """The URL a server with this data dir and TOVHOLDER_DATABASE_URL uses (as Settings resolves it)."""
    return database_url or f"sqlite:///{(data_dir / SQLITE_FILE).resolve()}"


def add_account(url: str, email: str, name: str = "") -> int:
    """An account in the database at `url` (a resolved URL) that logs in with PASSWORD; its id.
    Written as `tovholder user add` writes it, without the process and the scrypt it costs."""
    from sqlmodel import Session

    from app.db import make_engine
    from app.models import Facilitator

    email = email.strip().lower()
    engine = make_engine(url)
    try:
        with Session(engine) as db:
            account = Facilitator(
                email=email, name=name or email.split("@")[0], password_hash=password_hash()
            )
            db.add(account)
            db.commit()
            db.refresh(account)
            assert account.id is not None
            return account.id
    finally:
        engine.dispose()


def _pg_name(prefix: str) -> str:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    return f"{prefix}_{worker}_{secrets.token_hex(4)}"


def _pg_url(name: str) -> str:
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"


def _pg_admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(sql)


class Templates:
    """The session's migrated databases: SQLite files under `root`, PostgreSQL templates made the
    first time a test asks for one (so a run without PostgreSQL tests never needs the server)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._sqlite: dict[bool, Path] = {}
        self._postgres: dict[bool, str] = {}

    def _migrate(self, data_dir: Path, database_url: str = "") -> None:
        from app.cli import _migrate
        from app.config import Settings

        _migrate(Settings(_env_file=None, data_dir=data_dir, database_url=database_url))

    def sqlite_template(self, account: bool) -> Path:
        if account not in self._sqlite:
            folder = self.root / ("sqlite-account" if account else "sqlite-empty")
            folder.mkdir(parents=True)
            if account:
                shutil.copyfile(self.sqlite_template(False), folder / SQLITE_FILE)
                add_account(resolved_url(folder), EMAIL, NAME)
            else:
                self._migrate(folder)
            path = folder / SQLITE_FILE
            with closing(sqlite3.connect(path)) as conn:  # everything in the one file, no -wal beside it
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            self._sqlite[account] = path
        return self._sqlite[account]

    def postgres_template(self, account: bool) -> str:
        require_service("PostgreSQL", "127.0.0.1", 5432)
        if account not in self._postgres:
            name = _pg_name("tovholder_tpl")
            if account:
                _pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{self.postgres_template(False)}"')
                add_account(_pg_url(name), EMAIL, NAME)
            else:
                _pg_admin(f'CREATE DATABASE "{name}"')
                self._postgres[account] = name  # dropped at the end even if the migration fails
                self._migrate(self.root, _pg_url(name))
            self._postgres[account] = name
        return self._postgres[account]

    def sqlite_copy(self, data_dir: Path, account: bool = True) -> str:
        """A migrated SQLite file in data_dir; the TOVHOLDER_DATABASE_URL for it (empty: the default)."""
        data_dir.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self.sqlite_template(account), data_dir / SQLITE_FILE)
        return ""

    @contextlib.contextmanager
    def postgres_copy(self, account: bool = True) -> Iterator[str]:
        """A migrated PostgreSQL database of its own; its URL. Dropped afterwards."""
        template = self.postgres_template(account)
        name = _pg_name("tovholder_test")
        _pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        try:
            yield _pg_url(name)
        finally:
            _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    @contextlib.contextmanager
    def copy(self, kind: str, data_dir: Path, account: bool = True) -> Iterator[str]:
        """A migrated database of `kind` ("sqlite" or "postgres") for a server with this data dir;
        its TOVHOLDER_DATABASE_URL (empty for SQLite: the file in data_dir)."""
        if kind == "sqlite":
            yield self.sqlite_copy(data_dir, account)
        elif kind == "postgres":
            with self.postgres_copy(account) as url:
                yield url
        else:
            raise ValueError(f"no database kind {kind!r}")

    def close(self) -> None:
        for account in (True, False):  # the copy with the account is made from the empty one
            name = self._postgres.pop(account, None)
            if name:
                _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
