"""A warm start for real test servers. A new Python process spends seconds before it serves: it
imports the app and its libraries and parses the shipped flow files. This process does that once
(per test worker) and then forks: each test server is a child of it that runs `tovholder run` (or
any `tovholder` command) through `app.cli.main`, as the entry point would, with the environment,
the log file and the process group a `subprocess.Popen` would have given it.

Requests and answers are JSON lines on standard input and output:
  {"op": "start", "args": [...], "env": {...}, "log": "path"}  ->  {"pid": N}
  {"op": "poll", "pid": N}  ->  {"code": None | exit code (negative: the signal, as Popen gives)}
It ends when its standard input closes. Started by harness.ForkServer."""

from __future__ import annotations

import json
import os
import signal
import sys
import traceback
from types import FrameType
from typing import Any

exited: dict[int, int] = {}


def _reap(_signum: int, _frame: FrameType | None) -> None:
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        exited[pid] = os.waitstatus_to_exitcode(status)


def _preload() -> None:
    """Everything a server start imports; the shipped flows parsed once (remember_shipped_flows)."""
    import uvicorn  # noqa: F401

    import app.cli
    import app.main  # noqa: F401
    from app.config import ROOT
    from app.flows import load_flows
    from exercises import build_registry
    from tests.harness import remember_shipped_flows

    remember_shipped_flows()
    load_flows(ROOT / "sessions", build_registry())


def _child(request: dict[str, Any]) -> None:
    """In the fork: become the server process, run the command, never return."""
    code = 1
    try:
        os.setsid()
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        log = os.open(request["log"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.close(log)
        os.close(null)
        os.environ.clear()
        os.environ.update(request["env"])
        os.chdir(request["cwd"])
        from app.cli import main

        code = main(request["args"])
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def serve() -> None:
    _preload()
    signal.signal(signal.SIGCHLD, _reap)
    out = sys.stdout
    for line in sys.stdin:
        request = json.loads(line)
        if request["op"] == "start":
            out.flush()
            sys.stderr.flush()
            pid = os.fork()
            if pid == 0:
                _child(request)
            answer: dict[str, Any] = {"pid": pid}
        else:
            _reap(signal.SIGCHLD, None)
            answer = {"code": exited.get(int(request["pid"]))}
        out.write(json.dumps(answer) + "\n")
        out.flush()


if __name__ == "__main__":
    serve()
