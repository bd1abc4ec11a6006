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
