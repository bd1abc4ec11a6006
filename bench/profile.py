"""`--profile DIR`: py-spy samples a server process during each measured phase (joins, step
changes, the answer burst) and writes collapsed stacks (`<workload>-<phase>-<pid>.txt`, one
`stack;frames count` a line) and a summary of where the time went. py-spy must be on PATH
(`uv tool install py-spy`); without --profile the bench never runs it."""

from __future__ import annotations

import collections
import contextlib
import shutil
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path


class Profiler:
    def __init__(self, out_dir: Path | None) -> None:
        self.out_dir = out_dir
        self.binary = shutil.which("py-spy") if out_dir else None
        if out_dir and not self.binary:
            raise SystemExit("--profile needs py-spy on PATH: uv tool install py-spy")
        if out_dir:
            out_dir.mkdir(parents=True, exist_ok=True)

    @contextlib.contextmanager
    def phase(self, name: str, *pids: int) -> Iterator[None]:
        if not self.binary or not self.out_dir:
            yield
            return
        procs = []
        for pid in pids:
            out = self.out_dir / f"{name}-{pid}.txt"
            procs.append(
                subprocess.Popen(
                    [
                        self.binary,
                        "record",
                        "--pid",
                        str(pid),
                        "--rate",
                        "200",
                        "--format",
                        "raw",
                        "--nonblocking",
                        "--gil",  # only the thread holding the GIL: where the CPU goes
                        "--threads",
                        "--output",
                        str(out),
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        try:
            yield
        finally:
            for proc in procs:
                proc.send_signal(signal.SIGINT)
            for proc in procs:
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()


def top_frames(path: Path, n: int = 25, own: bool = False) -> list[tuple[str, int, float]]:
    """The frames that appear in the most samples (inclusive), or at the top of them (own)."""
    counts: collections.Counter[str] = collections.Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, number = line.rpartition(" ")
        if not stack:
            continue
        samples = int(number)
        total += samples
        frames = stack.split(";")
        if own:
            counts[frames[-1]] += samples
        else:
            for frame in set(frames):
                counts[frame] += samples
    return [(frame, c, c / total if total else 0.0) for frame, c in counts.most_common(n)]


# Where a sample's time goes: the first category all of whose frame names occur in its stack.
# Phone screens are told apart by who asked: a push renders once per locale for everyone, a sync
# renders for one phone.
CATEGORIES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("QR code drawn for a projector push", ("qr_svg",)),
    ("phone screen rendered for a push (once per locale)", ("phone_pushes", "phone_html")),
    ("projector screen rendered", ("stage_html",)),
    ("console screen rendered", ("console_html",)),
    ("phone screen rendered for one phone's sync", ("install.<locals>.sync", "phone_html")),
    ("reads for a push or console reply (run_view)", ("Runner.run_view",)),
    ("storing an answer, and its phone view", ("Runner.submit_answer",)),
    ("storing a join", ("Runner.join (",)),
    ("reads of a run, participant, phone view", ("Runner.phone_view",)),
    ("reads of a run, participant, phone view", ("Runner.participant",)),
    ("reads of a run, participant, phone view", ("Runner.run_by_code",)),
    ("reads of a run, participant, phone view", ("Runner.get_run",)),
    ("reads of a run, participant, phone view", ("Runner.units_of",)),
    ("step change stored (move, compare-and-set, state)", ("Runner.move",)),
    ("pages and routes (FastAPI, templates, middleware)", ("starlette/",)),
    ("socket.io, engine.io and websocket frames", ("socketio/",)),
    ("socket.io, engine.io and websocket frames", ("engineio/",)),
    ("socket.io, engine.io and websocket frames", ("websockets/",)),
    ("logging", ("logging/",)),
)
# Cross-cutting: counted wherever they occur.
ACROSS: tuple[tuple[str, str], ...] = (
    ("JSON decoding of stored rows (the run's flow snapshot above all)", "JSONDecoder.raw_decode"),
    ("SQLAlchemy and SQLite", "sqlalchemy/"),
    ("Jinja templates", "jinja2/"),
    ("available_locales() globbing the catalogues", "available_locales"),
)


def categorise(path: Path, rate: int = 200) -> dict[str, object]:
    per: collections.Counter[str] = collections.Counter()
    across: collections.Counter[str] = collections.Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, number = line.rpartition(" ")
        if not stack:
            continue
        samples = int(number)
        total += samples
        for name, needle in ACROSS:
            if needle in stack:
                across[name] += samples
        for name, needles in CATEGORIES:
            if all(n in stack for n in needles):
                per[name] += samples
                break
        else:
            loop_only = stack.rsplit(";", 1)[-1].startswith("Runner.run (asyncio/runners.py")
            per["the event loop's own work (uvloop)" if loop_only else "other"] += samples
    ms = 1000 / rate
    return {
        "samples": total,
        "cpu_ms_holding_gil": round(total * ms),
        "where": {k: round(v * ms) for k, v in per.most_common()},
        "across": {k: round(v * ms) for k, v in across.most_common()},
    }


def main() -> None:
    import sys

    folder = Path(sys.argv[1] if len(sys.argv) > 1 else ".")
    for path in sorted(folder.glob("*.txt")):
        result = categorise(path)
        total = max(1, int(str(result["cpu_ms_holding_gil"])))
        print(f"\n{path.name}: {total:,} ms of CPU holding the GIL")
        for title in ("where", "across"):
            entries = result[title]
            assert isinstance(entries, dict)
            for name, value in entries.items():
                print(f"  {value:8,} ms {100 * value / total:5.1f}%  {name}")
            print("  --")


if __name__ == "__main__":
    main()
