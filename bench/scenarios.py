"""One room size against Tovholder and then the floor, with fresh server processes each time.

`room()` serves W1 (40 phones), W2 (500), W3 with W4 and memory (2,000) and W6 (two Tovholder
processes on PostgreSQL and Redis): phones join (the join storm), step changes are measured, an
answer burst follows where asked; then the same phone count, steps and payload sizes against
the floor."""

from __future__ import annotations

import asyncio
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.driver import BenchError, Loads, Screen
from bench.flow import ANSWER_STEP
from bench.profile import Profiler
from bench.servers import (
    Process,
    Scratch,
    machine_busy_seconds,
    new_channel,
    own_cpu_seconds,
    postgres_database,
)
from bench.stats import ratio, summary_ms
from bench.workloads import (
    Burst,
    Room,
    Step,
    burst,
    compare_bursts,
    compare_steps,
    floor_steps,
    walk,
    warm_up,
)


@dataclass
class Plan:
    name: str
    phones: int
    changes: int
    step_timeout: float
    budget: float  # seconds for the Tovholder half; steps stop there and the run is unfinished
    loads: int
    answer_burst: bool = False
    retry_every: int = 0
    floor: bool = True
    scale_out: bool = False
    keep_seen: bool = False


@dataclass
class Outcome:
    result: dict[str, Any] = field(default_factory=dict)
    steps: list[Step] = field(default_factory=list)
    seen: list[list[int]] = field(default_factory=list)
    burst: Burst | None = None
    run_code: str = ""
    database: Path | None = None


def progress(plan: Plan, step: Step) -> None:
    worst = max(step.latencies, default=0.0)
    missing = f", {step.missing} missing" if step.missing else ""
    missing += f", {step.disconnects} sockets dropped so far" if step.disconnects else ""
    problem = f", {step.problem}" if step.problem else ""
    print(
        f"bench: {plan.name} {step.action} to {step.step_id} ({step.exercise}): slowest phone "
        f"{worst * 1000:.0f} ms, {step.size:,} chars{missing}{problem}",
        file=sys.stderr,
        flush=True,
    )


class Noise:
    """How much CPU other processes on the machine took while a half ran: the machine is shared,
    and a busy neighbour makes every figure slower (the floor's too, when it is as busy then)."""

    def __init__(self, servers: list[Process], loads: Loads) -> None:
        self.servers = servers
        self.loads = loads

    async def snapshot(self) -> tuple[float, float, float]:
        ours = sum(s.cpu() for s in self.servers) + await self.loads.cpu() + own_cpu_seconds()
        return time.monotonic(), machine_busy_seconds(), ours

    @staticmethod
    def share(before: tuple[float, float, float], after: tuple[float, float, float]) -> float:
        """Cores' worth of CPU the rest of the machine used, on average."""
        wall = max(after[0] - before[0], 1e-9)
        other = (after[1] - before[1]) - (after[2] - before[2])
        return round(max(0.0, other) / wall, 2)


async def _joined(loads: Loads, kind: str, urls: list[str], code: str, phones: int) -> dict[str, Any]:
    joined = await loads.join(kind, urls, code, phones)
    if joined["failed"]:
        raise BenchError(f"{joined['failed']} of {phones} phones could not join: {joined['errors']}")
    return joined


async def tovholder_half(plan: Plan, servers: list[Process], scratch: Scratch, prof: Profiler) -> Outcome:
    out = Outcome()
    urls = [s.url for s in servers]
    main = servers[0]
    await warm_up(urls, scratch.path)
    room = await Room.open(main.url)
    out.run_code = room.code
    pids = [s.pid for s in servers]
    rss0 = sum(s.rss_kib() for s in servers)
    cpu0 = sum(s.cpu() for s in servers)
    started = time.monotonic()
    async with Loads(plan.loads, scratch.path) as loads:
        noise = Noise(servers, loads)
        quiet0 = await noise.snapshot()
        load_cpu0 = await loads.cpu()
        with prof.phase(f"{plan.name}-join", *pids):
            joined = await _joined(loads, "tov", urls, room.code, plan.phones)
        print(f"bench: {plan.name} {plan.phones} phones joined in {joined['seconds']:.1f} s", file=sys.stderr)
        load_cpu_join = await loads.cpu() - load_cpu0
        cpu_join = sum(s.cpu() for s in servers) - cpu0
        await asyncio.sleep(1.0)
        rss1 = sum(s.rss_kib() for s in servers)
        cpu1, load_cpu1, t1 = sum(s.cpu() for s in servers), await loads.cpu(), time.monotonic()
        finished = True
        with prof.phase(f"{plan.name}-steps", *pids):
            for action in walk(plan.changes):
                if time.monotonic() - started > plan.budget:
                    finished = False
                    break
                step = await room.move(loads, action, plan.step_timeout)
                out.steps.append(step)
                progress(plan, step)
                if step.missing:
                    # Phones without the step after the timeout: the room is lost, and the
                    # server is still busy with it, so later steps would measure nothing.
                    finished = False
                    break
        steps_wall = time.monotonic() - t1
        server_cpu_steps = sum(s.cpu() for s in servers) - cpu1
        load_cpu_steps = await loads.cpu() - load_cpu1
        finished = finished and len(out.steps) == plan.changes and not any(s.missing for s in out.steps)
        if plan.answer_burst:
            await room.go_to(loads, ANSWER_STEP, plan.step_timeout)
            with prof.phase(f"{plan.name}-burst", *pids):
                out.burst = await burst(loads, room.projector, ANSWER_STEP, plan.phones, plan.retry_every)
        if plan.keep_seen:
            out.seen = await loads.seen()
        others = Noise.share(quiet0, await noise.snapshot())
    await room.close()
    out.result = {
        "phones": plan.phones,
        "step_changes": len(out.steps),
        "planned_step_changes": plan.changes,
        "finished": finished,
        "step_timeout_s": plan.step_timeout,
        "load_processes": plan.loads,
        "join": {
            "seconds": round(joined["seconds"], 2),
            "joins_per_s": round(joined["per_second"], 1),
            "join_ms": summary_ms(joined["durations"]),
            "server_cpu_ms_per_join": round(cpu_join / plan.phones * 1000, 2),
            "load_cpu_share": round(load_cpu_join / joined["seconds"] / plan.loads, 2),
        },
        "memory_kib_per_phone": round((rss1 - rss0) / plan.phones, 1),
        "server_rss_mib": round(rss1 / 1024, 1),
        "server_cpu_ms_per_step": round(server_cpu_steps / max(1, len(out.steps)) * 1000, 1),
        "server_cpu_share_during_steps": round(server_cpu_steps / max(steps_wall, 1e-9) / len(servers), 2),
        "load_cpu_share_during_steps": round(load_cpu_steps / max(steps_wall, 1e-9) / plan.loads, 2),
        "other_processes_cores": others,
    }
    return out


async def floor_half(plan: Plan, scratch: Scratch, steps: list[Step]) -> dict[str, Any]:
    floor = scratch.floor(f"{plan.name}-floor").start()
    try:
        room = f"{plan.name}-room"
        rss0 = floor.rss_kib()
        async with Loads(plan.loads, scratch.path) as loads:
            noise = Noise([floor], loads)
            quiet0 = await noise.snapshot()
            joined = await _joined(loads, "floor", [floor.url], room, plan.phones)
            await asyncio.sleep(1.0)
            rss1 = floor.rss_kib()
            floor_steps_ = await floor_steps(floor, loads, room, steps, plan.step_timeout)
            floor_burst = None
            if plan.answer_burst:
                projector = Screen()
                await projector.connect(floor.url, {"room": room, "role": "projector"})
                floor_burst = await burst(loads, projector, "floor", plan.phones)
                await projector.close()
            others = Noise.share(quiet0, await noise.snapshot())
        return {
            "other_processes_cores": others,
            "steps": floor_steps_,
            "burst": floor_burst,
            "connects_per_s": round(joined["per_second"], 1),
            "join_ms": summary_ms(joined["durations"]),
            "memory_kib_per_phone": round((rss1 - rss0) / plan.phones, 1),
        }
    finally:
        floor.stop()


async def room(plan: Plan, scratch: Scratch, prof: Profiler) -> Outcome:
    if plan.scale_out:
        return await _scale_out(plan, scratch, prof)
    server = scratch.tovholder(plan.name).start()
    try:
        out = await tovholder_half(plan, [server], scratch, prof)
        out.database = scratch.database_of(server)
    finally:
        server.stop()
    if plan.floor:
        _with_floor(out, await floor_half(plan, scratch, out.steps))
    else:
        out.result.update(compare_steps(out.steps, []))
        if out.burst:
            out.result["burst"] = compare_bursts(out.burst, None)
    return out


def _with_floor(out: Outcome, floor: dict[str, Any]) -> None:
    out.result.update(compare_steps(out.steps, floor["steps"]))
    join = out.result["join"]
    join["floor_connects_per_s"] = floor["connects_per_s"]
    join["floor_join_ms"] = floor["join_ms"]
    join["ratio"] = ratio(join["joins_per_s"], floor["connects_per_s"])
    out.result["floor_memory_kib_per_phone"] = floor["memory_kib_per_phone"]
    out.result["floor_other_processes_cores"] = floor["other_processes_cores"]
    if out.burst:
        out.result["burst"] = compare_bursts(out.burst, floor["burst"])


async def _scale_out(plan: Plan, scratch: Scratch, prof: Profiler) -> Outcome:
    """Two Tovholder processes sharing PostgreSQL and Redis (a channel of the bench's own); the
    console and projector on the first, the phones spread over both."""
    from bench.servers import REDIS_URL

    with postgres_database() as url:
        channel = new_channel()
        servers = [scratch.tovholder(f"{plan.name}-{i}", url, REDIS_URL, channel) for i in range(2)]
        scratch.add_account(servers[0].env)
        try:
            for s in servers:
                s.start()
            out = await tovholder_half(plan, servers, scratch, prof)
        finally:
            for s in servers:
                s.stop()
    out.result["database"] = "PostgreSQL"
    out.result["socket_manager"] = "Redis"
    out.result.update(compare_steps(out.steps, []))
    return out
