"""`make bench` and `make bench-quick`.

    uv run python -m bench [--only W1,W2,W3,W6] [--loads N] [--out FILE] [--profile DIR]
    uv run python -m bench --quick

The full bench runs W1-W6 (see the README's "Benchmark") against real server processes and the floor
(bench/baseline.py) in the same run, writes bench/results.json and prints the table. --quick
runs W1 and a 200-phone answer burst without the floor, and fails when a phone missed a step or
an answer was not stored exactly once; it never judges a timing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.driver import BenchError
from bench.flow import ANSWER_STEP
from bench.limits import raise_open_files
from bench.profile import Profiler
from bench.report import machine, table
from bench.scenarios import Outcome, Plan, measure, room
from bench.servers import PG_ADMIN_URL, REDIS_URL, Scratch
from bench.stats import ratios
from tests.harness import reachable

HERE = Path(__file__).resolve().parent
BUDGET = 570.0  # seconds for the whole full run; later workloads are skipped past it


def plans(loads: int | None, stack: bool = True) -> list[Plan]:
    return [
        Plan("W1", 40, 50, step_timeout=20, budget=90, loads=loads or 1, answer_burst=True, stack=stack),
        Plan("W2", 500, 20, step_timeout=45, budget=150, loads=loads or 1, answer_burst=True, stack=stack),
        Plan("W3", 2000, 10, step_timeout=60, budget=200, loads=loads or 2, stack=stack),
        Plan("W6", 500, 20, step_timeout=45, budget=150, loads=loads or 1, answer_burst=True, scale_out=True),
    ]


async def full(args: argparse.Namespace) -> dict[str, Any]:
    from bench.download import join_download
    from bench.workloads import Room

    started = time.monotonic()
    only = set(args.only.split(",")) if args.only else None
    prof = Profiler(Path(args.profile) if args.profile else None)
    results: dict[str, Any] = {
        "machine": machine(),
        "open_files": raise_open_files(),
        "coalesce_ms": 250,
        "workloads": {},
        "skipped": {},
    }
    with tempfile.TemporaryDirectory(prefix="tovholder-bench-") as tmp:
        scratch = Scratch(Path(tmp))
        for plan in plans(args.loads, not args.no_stack):
            if only and plan.name not in only:
                continue
            if time.monotonic() - started > BUDGET - plan.budget:
                results["skipped"][plan.name] = "the bench's time budget ran out"
                continue
            if plan.scale_out and not (reachable("127.0.0.1", 5432) and reachable("127.0.0.1", 6379)):
                results["skipped"][plan.name] = (
                    f"PostgreSQL ({PG_ADMIN_URL}) or Redis ({REDIS_URL}) unreachable"
                )
                continue
            log(f"{plan.name}: {plan.phones} phones, {plan.changes} step changes")
            try:
                outcome = await room(plan, scratch, prof)
            except BenchError as exc:  # said in the results; the other workloads still run
                results["skipped"][plan.name] = f"failed: {exc}"
                log(f"{plan.name}: failed: {exc}")
                continue
            results["workloads"][plan.name] = outcome.result
            log(f"{plan.name}: done at {time.monotonic() - started:.0f} s")
        w2, w6 = results["workloads"].get("W2"), results["workloads"].get("W6")
        if w2 and w6:
            w6["ratio_to_w2"] = ratios(w6["step_ms"], w2["step_ms"])
        if not only or "bytes" in only or "W1" in only:
            server = scratch.tovholder("download").start()
            try:
                r = await Room.open(server.url)
                results["workloads"]["join_bytes"] = await join_download(server.url, r.code)
                await r.close()
            finally:
                server.stop()
    results["seconds"] = round(time.monotonic() - started, 1)
    return results


async def quick(args: argparse.Namespace) -> dict[str, Any]:
    """W1 (40 phones x 50 steps) and a 200-phone answer burst in which every 10th phone sends its
    answer twice with one key. Asserts delivery and storage, never a timing."""
    started = time.monotonic()
    raise_open_files()
    results: dict[str, Any] = {"machine": machine(), "coalesce_ms": 250, "workloads": {}}
    failures: list[str] = []
    with tempfile.TemporaryDirectory(prefix="tovholder-bench-quick-") as tmp:
        scratch = Scratch(Path(tmp))
        prof = Profiler(None)
        server = scratch.tovholder("quick").start()
        try:
            # No warm-up: no timing is judged here.
            w1_plan = Plan("W1", 40, 50, 20, 60, 1, floor=False, keep_seen=True)
            w1 = await measure(w1_plan, [server], None, scratch, prof, warm=False)
            w5_plan = Plan(
                "W5", 200, 0, 30, 60, 1, answer_burst=True, retry_every=10, floor=False, keep_seen=True
            )
            w5 = await measure(w5_plan, [server], None, scratch, prof, warm=False)
        finally:
            server.stop()
        w5.database = scratch.database_of(server)
        failures += delivery_failures("W1", w1)
        failures += delivery_failures("W5", w5)
        failures += storage_failures(w5, phones=200, retried=20)
        results["workloads"]["W1"] = w1.result
        results["workloads"]["W5-200"] = w5.result
    results["seconds"] = round(time.monotonic() - started, 1)
    results["failures"] = failures
    return results


def delivery_failures(name: str, outcome: Outcome) -> list[str]:
    failures = []
    phones = outcome.result["phones"]
    if not outcome.result["finished"]:
        failures.append(f"{name}: did not finish ({outcome.result['step_changes']} step changes)")
    if len(outcome.seen) != phones:
        failures.append(f"{name}: {len(outcome.seen)} of {phones} phones were connected at the end")
    for step in outcome.steps:
        lacking = sum(1 for versions in outcome.seen if step.version not in versions)
        if lacking:
            failures.append(
                f"{name}: {lacking} phones never got step {step.step_id} (version {step.version})"
            )
    return failures


def storage_failures(outcome: Outcome, phones: int, retried: int) -> list[str]:
    failures = []
    b = outcome.burst
    if b is None:
        return ["W5: no answer burst happened"]
    if b.failed:
        failures.append(f"W5: {b.failed} answers were refused: {b.errors}")
    if b.created != phones:
        failures.append(f"W5: {b.created} answers acknowledged as stored, {phones} sent")
    if b.repeated != retried:
        failures.append(f"W5: {b.repeated} repeats acknowledged as already stored, {retried} sent")
    if b.last_ack_to_projector_s is None:
        failures.append(f"W5: the projector never showed {phones} answers")
    assert outcome.database is not None
    with sqlite3.connect(f"file:{outcome.database}?mode=ro", uri=True) as db:
        run_id = db.execute("SELECT id FROM run WHERE code = ?", (outcome.run_code,)).fetchone()[0]
        rows, people, keys = db.execute(
            "SELECT count(*), count(DISTINCT participant_id), count(DISTINCT idempotency_key) "
            "FROM answer WHERE run_id = ? AND step_id = ?",
            (run_id, ANSWER_STEP),
        ).fetchone()
        joined = db.execute("SELECT count(*) FROM participant WHERE run_id = ?", (run_id,)).fetchone()[0]
    if joined != phones:
        failures.append(f"W5: {joined} participants stored, {phones} phones joined")
    if (rows, people, keys) != (phones, phones, phones):
        failures.append(
            f"W5: stored {rows} answers from {people} people with {keys} keys; {phones} of each were due"
        )
    return failures


def log(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="W1 and a 200-phone W5, asserting delivery")
    parser.add_argument("--only", default="", help="comma-separated workloads (W1,W2,W3,W6,bytes)")
    parser.add_argument("--loads", type=int, default=None, help="load processes (default 1; 2 for W3)")
    parser.add_argument("--out", default=None, help="results file (default bench/results.json; quick: none)")
    parser.add_argument("--profile", default=None, metavar="DIR", help="py-spy the servers into DIR")
    parser.add_argument("--no-stack", action="store_true", help="without the stack's floor (bench/stack.py)")
    args = parser.parse_args()
    if args.quick:
        results = asyncio.run(quick(args))
        print(table(results))
        if args.out:
            Path(args.out).write_text(json.dumps(results, indent=2) + "\n")
        if results["failures"]:
            print("\nbench-quick FAILED:\n- " + "\n- ".join(results["failures"]), file=sys.stderr)
            sys.exit(1)
        print(
            f"\nbench-quick: every phone got every step, every answer was stored once "
            f"({results['seconds']:.0f} s)"
        )
        return
    results = asyncio.run(full(args))
    out = Path(args.out) if args.out else HERE / "results.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(table(results))
    if results["skipped"]:
        print("\nskipped: " + "; ".join(f"{k}: {v}" for k, v in results["skipped"].items()))
    print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
