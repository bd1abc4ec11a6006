"""The processes the bench measures: Tovholder servers (`python -m app.cli run`, as `make run`
starts it) and the floor (`python -m bench.baseline`), each on 127.0.0.1 and a free port, on a
scratch data dir; a fresh PostgreSQL database for the scale-out run."""

from __future__ import annotations

import contextlib
import http.client
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from bench.flow import write_sessions_dir
from tests.harness import free_port  # one for the tests and the bench

ROOT = Path(__file__).resolve().parent.parent
EMAIL = "bench@example.org"
PASSWORD = "bench-password-" + "x" * 10
PG_ADMIN_URL = os.environ.get("TOVHOLDER_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("TOVHOLDER_BENCH_REDIS", "redis://127.0.0.1:6379/0")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process (all its threads) so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def machine_busy_seconds() -> float:
    """CPU seconds every core of the machine has spent busy since boot (not idle, not waiting)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields[:8]) - idle) / CLOCK_TICKS


def own_cpu_seconds() -> float:
    """This process's CPU seconds (the bench's own side: console, projector, commands)."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class Process:
    """A server process in its own process group, its output in a log file."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], port: int, log: Path) -> None:
        self.name = name
        self.args = args
        self.env = env
        self.port = port
        self.log_path = log
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self, timeout: float = 60) -> Process:
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                self.args,
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited early:\n{self.log_tail()}")
            if self.healthy():
                return self
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{self.name} did not start in {timeout} s:\n{self.log_tail()}")

    def healthy(self) -> bool:
        # http.client, not httpx: a new httpx client builds an SSL context each time, which is
        # whole milliseconds of CPU per poll on a machine that is busy starting a server.
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=1)
        try:
            conn.request("GET", "/healthz")
            return conn.getresponse().status == 200
        except OSError:
            return False
        finally:
            conn.close()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.proc = None

    def rss_kib(self) -> int:
        return rss_kib(self.pid)

    def cpu(self) -> float:
        return cpu_seconds(self.pid)

    def log_tail(self, lines: int = 30) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


class Scratch:
    """A scratch folder: the flows, a migrated SQLite file with the bench's account (copied for
    each server that runs on SQLite), and every server's log."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.sessions = write_sessions_dir(path / "sessions")
        self.template = path / "template"
        self.template.mkdir()
        self.secret = "bench-secret-" + secrets.token_hex(16)
        self._made = 0
        self.add_account(self.env(self.template, free_port()))

    def add_account(self, env: dict[str, str]) -> None:
        """The bench's tovholder account (which migrates the database first)."""
        made = subprocess.run(
            [sys.executable, "-m", "app.cli", "user", "add", EMAIL, "--password-stdin"],
            cwd=ROOT,
            env=env,
            input=PASSWORD + "\n",
            capture_output=True,
            text=True,
            timeout=120,
        )
        if made.returncode != 0:
            raise RuntimeError(f"could not create the bench account:\n{made.stderr}")

    def env(
        self, data_dir: Path, port: int, database_url: str = "", redis_url: str = "", channel: str = ""
    ) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("TOVHOLDER_")}
        env.update(
            TOVHOLDER_DATA_DIR=str(data_dir),
            TOVHOLDER_HOST="127.0.0.1",
            TOVHOLDER_PORT=str(port),
            TOVHOLDER_PUBLIC_URL=f"http://127.0.0.1:{port}",
            TOVHOLDER_SECRET_KEY=self.secret,
            TOVHOLDER_SESSIONS_DIR=str(self.sessions),
            TOVHOLDER_RATE_LIMITS="false",  # every phone comes from 127.0.0.1
            TOVHOLDER_MAX_PARTICIPANTS="10000",
        )
        if database_url:
            env["TOVHOLDER_DATABASE_URL"] = database_url
        if redis_url:
            env["TOVHOLDER_REDIS_URL"] = redis_url
            # Redis is shared by everyone on the machine: the bench's servers share a channel of
            # their own (make one with new_channel()).
            env["TOVHOLDER_REDIS_CHANNEL"] = channel or new_channel()
        return env

    def tovholder(self, name: str, database_url: str = "", redis_url: str = "", channel: str = "") -> Process:
        """A Tovholder server as `make run` starts it (default log level, coalescing interval and
        access log), on a copy of the migrated SQLite file or on the given database."""
        self._made += 1
        data_dir = self.path / f"{name}-{self._made}"
        data_dir.mkdir()
        if not database_url:
            for item in self.template.iterdir():
                if item.is_file():
                    shutil.copy(item, data_dir / item.name)
        port = free_port()
        env = self.env(data_dir, port, database_url, redis_url, channel)
        args = [sys.executable, "-m", "app.cli", "run"]
        return Process(name, args, env, port, data_dir / "server.log")

    def floor(self, name: str, module: str = "bench.baseline", *extra: str) -> Process:
        """The floor (bench/baseline.py), or with `module` "bench.stack" the stack's floor."""
        self._made += 1
        data_dir = self.path / f"{name}-{self._made}"
        data_dir.mkdir()
        port = free_port()
        env = dict(os.environ)
        args = [sys.executable, "-m", module, "--port", str(port), "--db", str(data_dir / "floor.db"), *extra]
        return Process(name, args, env, port, data_dir / "server.log")

    def database_of(self, server: Process) -> Path:
        return Path(server.env["TOVHOLDER_DATA_DIR"]) / "tovholder.db"


def new_channel() -> str:
    return f"tovholder-bench-{secrets.token_hex(4)}"


@contextlib.contextmanager
def postgres_database() -> Iterator[str]:
    """A fresh PostgreSQL database for the scale-out run, dropped afterwards."""
    import psycopg

    name = f"tovholder_bench_{secrets.token_hex(4)}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
