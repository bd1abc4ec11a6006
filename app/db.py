"""The engine and sessions; SQLite gets WAL, a busy timeout and foreign keys."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine

READ_ONLY = "tovholder_read_only"


def reading(engine: Engine) -> Engine:
    """The engine for sessions that only read: on SQLite they take no write lock."""
    return engine.execution_options(**{READ_ONLY: True})


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            pool_size=20,
            max_overflow=20,
        )

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()
            # Take the write lock at BEGIN: a deferred transaction that reads, then writes, fails
            # at once (SQLITE_BUSY_SNAPSHOT) under concurrent phones instead of waiting.
            dbapi_connection.isolation_level = None

        @event.listens_for(engine, "begin")
        def _begin_immediate(connection: Any) -> None:
            # A session that only reads (see reading()) takes no write lock: in WAL mode it reads
            # its snapshot beside the writer instead of waiting for it.
            read_only = connection.get_execution_options().get(READ_ONLY)
            connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

        return engine
    return create_engine(url, pool_size=20, max_overflow=20, pool_pre_ping=True)


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as session:
        yield session


def read(db: Session, statement: Any, **params: Any) -> Any:
    """A statement built once, run on the session's own connection and transaction: its rows
    are plain tuples, without the ORM's execution around them (about half the CPU of `db.exec`
    for the small reads of every step and join, measured in process). For columns, not ORM rows;
    and for the run's compare-and-set, which reads back what it wrote. It does not flush."""
    return db.connection().execute(statement, params)  # a Result: typed Any, as its rows are
