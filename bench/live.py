"""`make bench`: a room of phones against a real server, reported as ratios to a baseline
measured in the same run (a bare HTTP round trip), so the figures hold on a noisy machine.

    uv run python -m bench.live [--phones 40] [--rounds 3] [--database URL]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from tests.harness import PASSWORD, Server, free_port, server_env
from tests.live import Phone, Screen, Tovholder, version_of, wait_for


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


async def round_trips(url: str, n: int) -> list[float]:
    async with httpx.AsyncClient(base_url=url) as client:

        async def one() -> float:
            t = time.perf_counter()
            r = await client.get("/healthz")
            r.raise_for_status()
            return time.perf_counter() - t

        return list(await asyncio.gather(*(one() for _ in range(n))))


async def bench(server: Server, phones_n: int, rounds: int) -> None:
    assert server.proc is not None
    rss_start = rss_kib(server.proc.pid)
    tov = Tovholder(server.url)
    await tov.login()
    run_id, code = await tov.start()
    projector = Screen(server.url, "projector", code, tov.cookies)
    await projector.connect()
    phones = [Phone(server.url, code) for _ in range(phones_n)]
    t = time.perf_counter()
    await asyncio.gather(*(p.join() for p in phones))
    join_all = time.perf_counter() - t
    r = await tov.control(run_id, "next")
    r = await tov.control(run_id, "next", version=version_of(r.text))  # the word cloud step
    version = version_of(r.text)
    await wait_for(lambda: all(p.screen and p.screen.version >= version for p in phones), "step")

    baseline, acks, bursts, pushes = [], [], [], []
    for i in range(rounds):
        baseline.extend(await round_trips(server.url, phones_n))
        before = len(projector.received)
        t = time.perf_counter()

        async def send(p: Phone, word: str) -> float:
            s = time.perf_counter()
            ack = await p.answer_by_socket("name-activity", {"word": word})
            assert ack["ok"], ack
            return time.perf_counter() - s

        acks.extend(await asyncio.gather(*(send(p, f"w{i}") for p in phones)))
        want = f"{phones_n * (i + 1)} answers"
        await wait_for(lambda want=want: want in projector.html, "tally", timeout=60)
        bursts.append(time.perf_counter() - t)
        pushes.append(len(projector.received) - before)
    rss_end = rss_kib(server.proc.pid)
    base = statistics.median(baseline)

    def row(name: str, values: list[float]) -> str:
        med = statistics.median(values)
        return f"| {name} | {med * 1000:.1f} ms | {med / base:.1f}x |"

    database = server.env.get("TOVHOLDER_DATABASE_URL") or "SQLite"
    print(f"\n{phones_n} phones, {rounds} bursts of one answer each, server on {database}\n")
    print("| measure | median | ratio to baseline |")
    print("| --- | --- | --- |")
    print(f"| baseline: GET /healthz, {phones_n} at once | {base * 1000:.1f} ms | 1.0x |")
    print(row("answer acknowledged (stored)", acks))
    print(row(f"burst of {phones_n} answers until the projector shows all", bursts))
    print(row(f"{phones_n} phones join (HTTP + socket)", [join_all]))
    print(f"| projector pushes per burst of {phones_n} answers | {statistics.median(pushes):.0f} | - |")
    memory = f"{rss_end // 1024} / {rss_start // 1024} MiB"
    print(f"| server memory after / before the session | {memory} | {rss_end / max(rss_start, 1):.2f}x |")
    for p in phones:
        await p.close()
    await projector.close()
    await tov.http.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--phones", type=int, default=40)
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        choices=[1, 2, 3],
        help="bursts; the word cloud step takes 3 words a phone",
    )
    parser.add_argument("--database", default="", help="a database URL (default: a fresh SQLite file)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        server = Server(env=server_env(Path(tmp), port, args.database), port=port, data_dir=Path(tmp))
        server.env["TOVHOLDER_COALESCE_SECONDS"] = "0.25"
        made = server.cli("user", "add", "t@example.org", "--password-stdin", stdin=PASSWORD + "\n")
        assert made.returncode == 0, made.stderr
        server.start()
        try:
            asyncio.run(bench(server, args.phones, args.rounds))
        finally:
            server.stop()


if __name__ == "__main__":
    main()
