"""Real things for tests: a uvicorn server in its own process on a free port (a new process, or
a fork of a warm one: ForkServer), an empty PostgreSQL database, the `tovholder` command in a
subprocess, and logged-in HTTP clients. The fixtures that use them are in conftest.py; the app in
process is in inprocess.py, the migrated database copies in databases.py."""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import httpx

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = os.environ.get("TOVHOLDER_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("TOVHOLDER_TEST_REDIS", "redis://127.0.0.1:6379/0")
IN_CI = bool(os.environ.get("CI"))
PASSWORD = "correct-horse-battery"


# Idle connections are dropped by the client after 2 s, before uvicorn's 5 s keep-alive closes them:
# with both at 5 s a request can go out on a connection the server is closing (httpx.ReadError).
POOL = httpx.Limits(keepalive_expiry=2.0)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def require_service(name: str, host: str, port: int) -> None:
    """Skip when a service is unreachable on a developer's machine; in CI it must be there."""
    import pytest

    if reachable(host, port):
        return
    if IN_CI:
        pytest.fail(f"{name} at {host}:{port} is unreachable, and CI must test against it")
    pytest.skip(f"{name} at {host}:{port} is unreachable (CI is unset, so this test is skipped)")


@contextlib.contextmanager
def postgres_database() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test; dropped afterwards."""
    import psycopg

    require_service("PostgreSQL", "127.0.0.1", 5432)
    name = f"tovholder_test_{secrets.token_hex(4)}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def cli(env: dict[str, str], *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        cwd=ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


def remember_shipped_flows() -> Callable[..., Any]:
    """Parse and validate each shipped flow file once per process (the first load is the real
    one; the YAML parse of one takes about 0.3 s), and give each caller its own deep copy. Every
    app start, `tovholder demo` and many tests load them. Returns the real `load_flow`."""
    import app.flows

    real = app.flows.load_flow
    shipped = (ROOT / "sessions").resolve()
    cache: dict[tuple[Any, ...], app.flows.Flow] = {}

    def load_flow(path: Path, registry: Any) -> app.flows.Flow:
        resolved = Path(path).resolve()
        if resolved.parent != shipped:
            return real(path, registry)
        stat = resolved.stat()
        key = (resolved, stat.st_mtime_ns, stat.st_size, tuple(sorted(registry)))
        if key not in cache:
            cache[key] = real(path, registry)
        return cache[key].model_copy(deep=True)

    app.flows.load_flow = load_flow  # type: ignore[assignment]
    return real


class Forked:
    """A process the fork server started, as much of `subprocess.Popen` as the tests use."""

    def __init__(self, forks: ForkServer, pid: int) -> None:
        self._forks = forks
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            self.returncode = self._forks.exit_code(self.pid)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while (code := self.poll()) is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(f"server {self.pid}", timeout or 0)
            time.sleep(0.02)
        return code


class ForkServer:
    """A warm process (tests/forkserver.py) that has imported the app and parsed the shipped flows
    once; each server it starts is a fork of it running `tovholder ...` from `app.cli.main`."""

    def __init__(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("TOVHOLDER_")}
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "tests.forkserver"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self._lock = threading.Lock()

    def _ask(self, request: dict[str, Any]) -> dict[str, Any]:
        assert self._proc.stdin is not None and self._proc.stdout is not None
        with self._lock:
            self._proc.stdin.write(json.dumps(request) + "\n")
            self._proc.stdin.flush()
            answer = self._proc.stdout.readline()
        if not answer:
            raise RuntimeError(f"the fork server ended (exit code {self._proc.wait()})")
        result: dict[str, Any] = json.loads(answer)
        return result

    def start(self, args: list[str], env: dict[str, str], log: Path) -> Forked:
        answer = self._ask({"op": "start", "args": args, "env": env, "log": str(log), "cwd": str(ROOT)})
        return Forked(self, int(answer["pid"]))

    def exit_code(self, pid: int) -> int | None:
        code = self._ask({"op": "poll", "pid": pid})["code"]
        return None if code is None else int(code)

    def close(self) -> None:
        if self._proc.stdin:
            self._proc.stdin.close()
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()


@dataclass
class Server:
    """One real server process. `env` is what it was started with (database, data dir...).
    With `forks`, each start is a fork of that warm process instead of a new Python process."""

    env: dict[str, str]
    port: int
    data_dir: Path
    proc: subprocess.Popen[bytes] | Forked | None = None
    log_path: Path = field(init=False)
    # `tovholder run` migrates first; a server on a migrated copy starts with --no-migrate instead.
    migrate: bool = True
    forks: ForkServer | None = None

    def __post_init__(self) -> None:
        self.log_path = self.data_dir / f"server-{self.port}.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Server:
        args = ["run", *([] if self.migrate else ["--no-migrate"])]
        if self.forks is not None:
            self.proc = self.forks.start(args, self.env, self.log_path)
        else:
            with self.log_path.open("ab") as log:
                self.proc = subprocess.Popen(
                    [sys.executable, "-m", "app.cli", *args],
                    cwd=ROOT,
                    env=self.env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
        deadline = time.monotonic() + 60
        with httpx.Client(timeout=2) as probe:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"server exited early:\n{self.log()}")
                if reachable("127.0.0.1", self.port):
                    try:
                        if probe.get(f"{self.url}/healthz").status_code == 200:
                            return self
                    except httpx.HTTPError:
                        pass
                time.sleep(0.05)
        raise RuntimeError(f"server did not start:\n{self.log()}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.proc = None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def cli(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return cli(self.env, *args, stdin=stdin)

    @property
    def database_url(self) -> str:
        """The resolved SQLAlchemy URL of the server's database."""
        default = f"sqlite:///{(self.data_dir / 'tovholder.db').resolve()}"
        return self.env.get("TOVHOLDER_DATABASE_URL") or default

    def client(self, **kwargs: Any) -> httpx.Client:
        """A new browser (its own cookies) for this server."""
        kwargs.setdefault("timeout", 30)
        kwargs.setdefault("limits", POOL)
        return httpx.Client(base_url=self.url, **kwargs)

    def login(self, email: str = "t@example.org", password: str = PASSWORD) -> httpx.Client:
        return login(self, email, password)


class Site(Protocol):
    """What tests need of a server, real (Server) or in process (inprocess.InProcess)."""

    @property
    def url(self) -> str: ...

    @property
    def data_dir(self) -> Path: ...

    @property
    def database_url(self) -> str: ...

    def client(self, **kwargs: Any) -> httpx.Client: ...


def server_env(
    data_dir: Path, port: int, database_url: str = "", redis_url: str = "", redis_channel: str = ""
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOVHOLDER_")}
    env.update(
        TOVHOLDER_DATA_DIR=str(data_dir),
        TOVHOLDER_PORT=str(port),
        TOVHOLDER_HOST="127.0.0.1",
        TOVHOLDER_PUBLIC_URL=f"http://127.0.0.1:{port}",
        TOVHOLDER_SECRET_KEY="test-secret-" + "x" * 20,
        TOVHOLDER_LOG_LEVEL="WARNING",
        TOVHOLDER_COALESCE_SECONDS="0.1",
        # One test server takes phones of many tests, all from 127.0.0.1: the join limit of a
        # meeting room (tests/test_trust.py tests it in process) would stop them.
        TOVHOLDER_JOINS_PER_MINUTE="100000",
    )
    if database_url:
        env["TOVHOLDER_DATABASE_URL"] = database_url
    if redis_url:
        env["TOVHOLDER_REDIS_URL"] = redis_url
        # One channel per test: parallel test runs sharing the Redis server never hear each other.
        env["TOVHOLDER_REDIS_CHANNEL"] = redis_channel or f"tovholder-test-{secrets.token_hex(4)}"
    return env


def csrf_of(html: str) -> str:
    match = re.search(r'<meta name="csrf-token" content="([^"]+)"', html)
    assert match, "page has no csrf meta tag"
    return match.group(1)


def login(site: Site | str, email: str = "t@example.org", password: str = PASSWORD) -> httpx.Client:
    """A browser logged in through the login form, with the CSRF header htmx would send (the
    login's token, read from the dashboard)."""
    client = httpx.Client(base_url=site, timeout=30, limits=POOL) if isinstance(site, str) else site.client()
    page = client.get("/login")
    response = client.post(
        "/login", data={"email": email, "password": password, "csrf_token": csrf_of(page.text)}
    )
    assert response.status_code == 303, response.text
    # The token of a login is its own (rotated at login): read it from a page of the login.
    client.headers["X-CSRF-Token"] = csrf_of(client.get("/dashboard").text)
    return client


def start_run(client: httpx.Client, flow: str = "reflection", locale: str = "en") -> tuple[int, str]:
    response = client.post("/runs", data={"flow": flow, "locale": locale})
    assert response.status_code == 303, response.text
    run_id = int(response.headers["location"].split("/")[2])
    console = client.get(f"/runs/{run_id}/console")
    code = re.search(r'data-run="([A-Z0-9]+)"', console.text)
    assert code
    return run_id, code.group(1)
