"""The real app in this process: `create_app()` on a database of its own, its lifespan run on an
event loop in a thread of its own (as uvicorn would run it), and httpx clients that reach it
through `httpx.ASGITransport`: no socket, no subprocess, no start-up of seconds. And the
`tovholder` command called in this process, as `main()` runs it."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import io
import itertools
import logging
import os
import subprocess
import sys
import threading
from collections.abc import AsyncIterator, Coroutine, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
from asgi_lifespan import LifespanManager

from tests.databases import resolved_url
from tests.harness import PASSWORD, login, server_env

T = TypeVar("T")
TIMEOUT = 60.0  # seconds one request (or the start, or the stop) may take
_addresses = itertools.count(1)


def _next_address() -> str:
    """A client address no other app of this process was given: the app's rate limits are per
    address and live in module globals, so each app's clients stay apart from the others'."""
    n = next(_addresses)
    return f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}"


class _Loop:
    """An event loop running in its own thread: the app's lifespan and all its requests run on it."""

    def __init__(self, name: str) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name=name, daemon=True)
        self._thread.start()

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = TIMEOUT) -> T:
        return self.submit(coro).result(timeout)

    def close(self) -> None:
        self.run(self.loop.shutdown_default_executor())  # the threads of asyncio.to_thread
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()


class _Body(httpx.AsyncByteStream):
    """A request body, chunk by chunk as the client sent it (a chunked body stays in chunks)."""

    def __init__(self, chunks: list[bytes]) -> None:
        self._chunks = chunks

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self._chunks:
            yield chunk


async def _forward(asgi: httpx.ASGITransport, request: httpx.Request, chunks: list[bytes]) -> httpx.Response:
    forwarded = httpx.Request(
        request.method,
        request.url,
        headers=request.headers,
        stream=_Body(chunks),
        extensions=request.extensions,
    )
    response = await asgi.handle_async_request(forwarded)
    body = b"".join([chunk async for chunk in response.aiter_raw()])  # as sent: gzip stays gzip
    return httpx.Response(response.status_code, headers=response.headers.raw, stream=httpx.ByteStream(body))


class _SyncTransport(httpx.BaseTransport):
    """httpx.ASGITransport for a plain (sync) httpx.Client: each request runs on the app's loop."""

    def __init__(self, asgi: httpx.ASGITransport, loop: _Loop) -> None:
        self._asgi = asgi
        self._loop = loop

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        chunks = list(request.stream)  # type: ignore[arg-type]
        return self._loop.run(_forward(self._asgi, request, chunks))


class _AsyncTransport(httpx.AsyncBaseTransport):
    """The same for an httpx.AsyncClient on the test's own event loop."""

    def __init__(self, asgi: httpx.ASGITransport, loop: _Loop) -> None:
        self._asgi = asgi
        self._loop = loop

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        chunks = [chunk async for chunk in request.stream]  # type: ignore[union-attr]
        return await asyncio.wrap_future(self._loop.submit(_forward(self._asgi, request, chunks)))


class _Records(logging.Handler):
    """What the app logs at WARNING and above while it runs, tracebacks included."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@dataclass
class InProcess:
    """One app, as one server process would hold it, on its own data dir and database. `url` is
    the address it believes it has (its public URL); nothing listens there: reach it with
    `client()`, `async_client()` or `login()`."""

    data_dir: Path
    database: str = ""  # as TOVHOLDER_DATABASE_URL; empty: the SQLite file in data_dir
    url: str = "http://127.0.0.1:8000"
    address: str = field(default_factory=_next_address)
    settings: dict[str, Any] = field(default_factory=dict)  # more Settings (max_participants=...)
    asgi: Any = None
    env: dict[str, str] = field(init=False)
    _loop: _Loop | None = None
    _stop: asyncio.Event | None = None
    _serving: concurrent.futures.Future[None] | None = None
    _startup_output: str = ""
    _records: _Records = field(default_factory=_Records)

    def __post_init__(self) -> None:
        port = int(httpx.URL(self.url).port or 80)
        # The environment a server process would have: `cli()` and a real subprocess read it.
        self.env = server_env(self.data_dir, port, self.database)

    @property
    def database_url(self) -> str:
        """The resolved SQLAlchemy URL of the app's database."""
        return resolved_url(self.data_dir, self.database)

    @property
    def house(self) -> Any:
        from tests.conftest import house_of

        return house_of(self.asgi)

    def start(self) -> InProcess:
        from app.config import Settings
        from app.main import create_app

        chosen: dict[str, Any] = {"log_level": "WARNING", "coalesce_seconds": 0.1, **self.settings}
        settings = Settings(
            _env_file=None,
            data_dir=self.data_dir,
            database_url=self.database,
            public_url=self.url,
            host="127.0.0.1",
            port=int(httpx.URL(self.url).port or 80),
            secret_key="test-secret-" + "x" * 20,
            **chosen,
        )
        self.asgi = create_app(settings)
        self._loop = _Loop(f"app-{self.address}")
        ready: concurrent.futures.Future[None] = concurrent.futures.Future()

        async def serve() -> None:
            self._stop = asyncio.Event()
            async with LifespanManager(self.asgi, startup_timeout=TIMEOUT, shutdown_timeout=TIMEOUT):
                ready.set_result(None)
                await self._stop.wait()

        logging.getLogger().addHandler(self._records)
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):  # what the start-up prints (the setup link)
            self._serving = self._loop.submit(serve())
            concurrent.futures.wait([ready, self._serving], TIMEOUT, concurrent.futures.FIRST_COMPLETED)
        self._startup_output = printed.getvalue()
        if not ready.done():
            self.stop()
            raise RuntimeError(f"the app did not start:\n{self.log()}")
        return self

    def stop(self) -> None:
        if self._loop is None:
            return
        try:
            if self._stop is not None and self._serving is not None:
                self._loop.loop.call_soon_threadsafe(self._stop.set)
                self._serving.result(TIMEOUT)  # the lifespan's shutdown: pushes finish, engine closes
        finally:
            self._loop.close()
            self._loop = None
            logging.getLogger().removeHandler(self._records)

    def _asgi_transport(self, address: str | None) -> httpx.ASGITransport:
        assert self._loop is not None, "start() the app first"
        return httpx.ASGITransport(app=self.asgi, client=(address or self.address, 50000))

    def client(self, address: str | None = None, **kwargs: Any) -> httpx.Client:
        """A new browser (its own cookies) from `address` (default: this app's one address)."""
        kwargs.setdefault("base_url", self.url)
        kwargs.setdefault("timeout", 30)
        assert self._loop is not None
        return httpx.Client(transport=_SyncTransport(self._asgi_transport(address), self._loop), **kwargs)

    def async_client(self, address: str | None = None, **kwargs: Any) -> httpx.AsyncClient:
        kwargs.setdefault("base_url", self.url)
        kwargs.setdefault("timeout", 30)
        assert self._loop is not None
        return httpx.AsyncClient(
            transport=_AsyncTransport(self._asgi_transport(address), self._loop), **kwargs
        )

    def login(self, email: str = "t@example.org", password: str = PASSWORD) -> httpx.Client:
        return login(self, email, password)

    def cli(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        """`tovholder ARGS` in this process, on this app's data dir and database."""
        return run_cli(self.env, *args, stdin=stdin)

    def log(self) -> str:
        """What a server process would have printed: the start-up's output and the warnings and
        errors logged since (a request that raises fails its test at once instead)."""
        return self._startup_output + "".join(line + "\n" for line in self._records.lines)


_cli_lock = threading.Lock()


@contextlib.contextmanager
def _environment(env: Mapping[str, str]) -> Iterator[None]:
    """TOVHOLDER_* as in `env` and no other, for Settings(); restored afterwards."""
    saved = {k: v for k, v in os.environ.items() if k.startswith("TOVHOLDER_")}
    for key in saved:
        del os.environ[key]
    os.environ.update({k: v for k, v in env.items() if k.startswith("TOVHOLDER_")})
    try:
        yield
    finally:
        for key in [k for k in os.environ if k.startswith("TOVHOLDER_")]:
            del os.environ[key]
        os.environ.update(saved)


def run_cli(env: Mapping[str, str], *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """`tovholder ARGS` called in this process: the same parser and commands as the entry point,
    with `env`'s TOVHOLDER_* variables as the environment, the text `stdin` as standard input.
    The exit code, standard output and standard error come back as a subprocess's would."""
    from app.cli import main

    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", newline="")
    err = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", newline="")
    with _cli_lock, _environment(env):
        saved = sys.stdin, sys.stdout, sys.stderr
        sys.stdin, sys.stdout, sys.stderr = io.StringIO(stdin or ""), out, err
        try:
            code = main(list(args))
        except SystemExit as exc:  # argparse refusing the arguments
            code = exc.code if isinstance(exc.code, int) else 1
        finally:
            sys.stdin, sys.stdout, sys.stderr = saved
    texts = []
    for stream in (out, err):
        stream.flush()
        texts.append(stream.buffer.getvalue().decode("utf-8"))
    return subprocess.CompletedProcess(["tovholder", *args], code, texts[0], texts[1])
