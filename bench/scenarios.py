"""One room size against Tovholder and the floor side by side, on fresh server processes.

`room()` serves W1 (40 phones), W2 (500), W3 with W4 and memory (2,000) and W6 (two Tovholder
processes on PostgreSQL and Redis). Tovholder's phones join (the join storm), then the floor's;
then each step change goes to Tovholder and at once the same change, with a payload of the size
Tovholder sent, to the floor, so that whatever else the machine is doing weighs on both alike;
an answer burst follows where asked, again Tovholder's and then the floor's."""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.config import Settings
from bench.driver import BenchError, Loads
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
    FloorRoom,
    Room,
    Step,
    burst,
    compare_bursts,
    compare_steps,
    walk,
    warm_up,
)


@dataclass
class Plan:
    name: str
    phones: int
    changes: int
    step_timeout: float
    budget: float  # seconds for joins and steps; steps stop there and the run is unfinished
    loads: int
    answer_burst: bool = False
    retry_every: int = 0
    floor: bool = True
    scale_out: bool = False
    keep_seen: bool = False
    stack: bool = False  # the stack's floor too (bench/stack.py): its joins and steps


@dataclass
class Outcome:
    result: dict[str, Any] = field(default_factory=dict)
    steps: list[Step] = field(default_factory=list)
    floor_steps: list[Step] = field(default_factory=list)
    seen: list[list[int]] = field(default_factory=list)
    burst: Burst | None = None
    floor_burst: Burst | None = None
    run_code: str = ""
    database: Path | None = None


def log(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def progress(plan: Plan, step: Step, floor: Step | None) -> None:
    worst = max(step.latencies, default=0.0)
    extra = f", {step.missing} missing" if step.missing else ""
    extra += f", {step.disconnects} sockets dropped so far" if step.disconnects else ""
    extra += f", {step.problem}" if step.problem else ""
    if floor is not None:
        extra += f"; floor {max(floor.latencies, default=0.0) * 1000:.0f} ms"
    log(
        f"{plan.name} {step.action} to {step.step_id} ({step.exercise}): slowest phone "
        f"{worst * 1000:.0f} ms, {step.size:,} chars{extra}"
    )


class Noise:
    """How much CPU other processes on the machine took meanwhile: the machine may be shared,
    and a busy neighbour slows every figure (the floor's too, as they run side by side)."""

    def __init__(self, servers: list[Process], loads: list[Loads]) -> None:
        self.servers = servers
        self.loads = loads

    async def snapshot(self) -> tuple[float, float, float]:
        ours = sum(s.cpu() for s in self.servers) + own_cpu_seconds()
        for group in self.loads:
            ours += await group.cpu()
        return time.monotonic(), machine_busy_seconds(), ours

    @staticmethod
    def cores(before: tuple[float, float, float], after: tuple[float, float, float]) -> float:
        """Cores' worth of CPU the rest of the machine used, on average."""
        wall = max(after[0] - before[0], 1e-9)
        other = (after[1] - before[1]) - (after[2] - before[2])
        return round(max(0.0, other) / wall, 2)


async def _joined(loads: Loads, kind: str, urls: list[str], code: str, phones: int) -> dict[str, Any]:
    joined = await loads.join(kind, urls, code, phones)
    if joined["failed"]:
        raise BenchError(f"{joined['failed']} of {phones} phones could not join: {joined['errors']}")
    return joined


async def measure(
    plan: Plan,
    servers: list[Process],
    floor: Process | None,
    scratch: Scratch,
    prof: Profiler,
    warm: bool = True,
) -> Outcome:
    out = Outcome()
    urls = [s.url for s in servers]
    if warm:
        await warm_up(urls, scratch.path)
    room = await Room.open(servers[0].url)
    out.run_code = room.code
    pids = [s.pid for s in servers]
    floor_room = FloorRoom(floor, f"{plan.name}-room") if floor else None
    async with contextlib.AsyncExitStack() as stack:
        loads = await stack.enter_async_context(Loads(plan.loads, scratch.path))
        floor_loads = await stack.enter_async_context(Loads(plan.loads, scratch.path)) if floor else None
        noise = Noise(servers + ([floor] if floor else []), [loads] + ([floor_loads] if floor_loads else []))
        quiet0 = await noise.snapshot()
        started = time.monotonic()

        # The join storm (W4), then memory per connected phone.
        rss0, cpu0, load_cpu0 = (
            sum(s.rss_kib() for s in servers),
            sum(s.cpu() for s in servers),
            await loads.cpu(),
        )
        with prof.phase(f"{plan.name}-join", *pids):
            joined = await _joined(loads, "tov", urls, room.code, plan.phones)
        cpu_join = sum(s.cpu() for s in servers) - cpu0
        load_cpu_join = await loads.cpu() - load_cpu0
        log(f"{plan.name}: {plan.phones} phones joined in {joined['seconds']:.1f} s")
        await asyncio.sleep(1.0)
        rss1 = sum(s.rss_kib() for s in servers)
        floor_join: dict[str, Any] = {}
        if floor and floor_loads and floor_room:
            floor_rss0 = floor.rss_kib()
            floor_join = await _joined(floor_loads, "floor", [floor.url], floor_room.name, plan.phones)
            await asyncio.sleep(1.0)
            floor_join["memory_kib_per_phone"] = round((floor.rss_kib() - floor_rss0) / plan.phones, 1)
            await floor_room.open(floor.url, floor_loads, plan.step_timeout)

        # The answer burst (W5), Tovholder's and then the floor's, while every phone is there.
        if plan.answer_burst:
            await room.go_to(loads, ANSWER_STEP, plan.step_timeout)
            with prof.phase(f"{plan.name}-burst", *pids):
                out.burst = await burst(loads, room.projector, ANSWER_STEP, plan.phones, plan.retry_every)
            if floor_room and floor_loads:
                out.floor_burst = await burst(floor_loads, floor_room.projector, "floor", plan.phones)
            if plan.changes:
                await room.go_to(loads, "lobby", plan.step_timeout)

        # Step changes from the lobby, each to Tovholder and then the same to the floor.
        cpu1, load_cpu1, t1 = sum(s.cpu() for s in servers), await loads.cpu(), time.monotonic()
        finished = True
        with prof.phase(f"{plan.name}-steps", *pids):
            for action in walk(plan.changes):
                if time.monotonic() - started > plan.budget:
                    finished = False
                    break
                step = await room.move(loads, action, plan.step_timeout)
                out.steps.append(step)
                floor_step = None
                if floor_room and floor_loads and not step.missing:
                    floor_step = await floor_room.step(floor_loads, step, plan.step_timeout)
                    out.floor_steps.append(floor_step)
                progress(plan, step, floor_step)
                if step.missing:
                    # Phones without the step after the timeout: the room is lost, and the
                    # server is still busy with it, so later steps would measure nothing.
                    finished = False
                    break
        steps_wall = time.monotonic() - t1
        server_cpu_steps = sum(s.cpu() for s in servers) - cpu1
        load_cpu_steps = await loads.cpu() - load_cpu1
        finished = finished and len(out.steps) == plan.changes

        if plan.keep_seen:
            out.seen = await loads.seen()
        others = Noise.cores(quiet0, await noise.snapshot())
    await room.close()
    if floor_room:
        await floor_room.close()

    out.result = {
        "phones": plan.phones,
        "step_changes": len(out.steps),
        "planned_step_changes": plan.changes,
        "finished": finished,
        "step_timeout_s": plan.step_timeout,
        "load_processes": plan.loads,
        "servers": len(servers),
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
    out.result.update(compare_steps(out.steps, out.floor_steps))
    if floor_join:
        join = out.result["join"]
        join["floor_connects_per_s"] = round(floor_join["per_second"], 1)
        join["floor_join_ms"] = summary_ms(floor_join["durations"])
        join["ratio"] = ratio(join["joins_per_s"], join["floor_connects_per_s"])
        out.result["floor_memory_kib_per_phone"] = floor_join["memory_kib_per_phone"]
    if out.burst:
        out.result["burst"] = compare_bursts(out.burst, out.floor_burst)
    return out


async def room(plan: Plan, scratch: Scratch, prof: Profiler) -> Outcome:
    if plan.scale_out:
        return await _scale_out(plan, scratch, prof)
    server = scratch.tovholder(plan.name).start()
    floor = scratch.floor(f"{plan.name}-floor").start() if plan.floor else None
    try:
        out = await measure(plan, [server], floor, scratch, prof)
        out.database = scratch.database_of(server)
    finally:
        server.stop()
        if floor:
            floor.stop()
    if plan.stack and out.steps:
        out.result["stack"] = await stack_floor(plan, out.steps, scratch)
    return out


async def stack_floor(plan: Plan, steps: list[Step], scratch: Scratch) -> dict[str, Any]:
    """The stack's floor (bench/stack.py) beside a floor of its own, in a pass of its own after
    Tovholder's, so it changes nothing of Tovholder's figures: the same join as Tovholder's (page,
    form, socket, sync) by as many phones, then the same step changes, each of the size
    Tovholder's phones got."""
    # With Tovholder's own number of threads for FastAPI's pool (TOVHOLDER_THREADS, app/config.py).
    threads = str(Settings.model_fields["threads"].default)
    floor = scratch.floor(f"{plan.name}-floor2").start()
    ours = scratch.floor(f"{plan.name}-stack", "bench.stack", "--threads", threads).start()
    floor_room, stack_room = FloorRoom(floor, f"{plan.name}-room"), FloorRoom(ours, f"{plan.name}-stack")
    floor_steps: list[Step] = []
    stack_steps: list[Step] = []
    try:
        async with Loads(plan.loads, scratch.path) as floor_loads, Loads(plan.loads, scratch.path) as loads:
            await _joined(floor_loads, "floor", [floor.url], floor_room.name, plan.phones)
            await floor_room.open(floor.url, floor_loads, plan.step_timeout)
            await stack_room.http.post("/room", json={"room": stack_room.name})
            cpu0 = ours.cpu()
            joined = await _joined(loads, "tov", [ours.url], stack_room.name, plan.phones)
            cpu_join = ours.cpu() - cpu0
            await stack_room.open(ours.url, loads, plan.step_timeout)
            for like in steps:
                stack_steps.append(await stack_room.step(loads, like, plan.step_timeout))
                floor_steps.append(await floor_room.step(floor_loads, like, plan.step_timeout))
        log(f"{plan.name}: the stack's floor, {plan.phones} phones and {len(steps)} steps")
    finally:
        await floor_room.close()
        await stack_room.close()
        ours.stop()
        floor.stop()
    return {
        "joins_per_s": round(joined["per_second"], 1),
        "server_cpu_ms_per_join": round(cpu_join / plan.phones * 1000, 2),
        **compare_steps(stack_steps, floor_steps),
    }


async def _scale_out(plan: Plan, scratch: Scratch, prof: Profiler) -> Outcome:
    """Two Tovholder processes sharing PostgreSQL and Redis (a channel of the bench's own); the
    console and projector on the first, the phones spread over both."""
    from bench.servers import REDIS_URL

    with postgres_database() as url:
        channel = new_channel()
        servers = [scratch.tovholder(f"{plan.name}-{i}", url, REDIS_URL, channel) for i in range(2)]
        scratch.add_account(servers[0].env)
        floor = scratch.floor(f"{plan.name}-floor") if plan.floor else None
        try:
            for s in servers:
                s.start()
            if floor:
                floor.start()
            out = await measure(plan, servers, floor, scratch, prof)
        finally:
            for s in servers:
                s.stop()
            if floor:
                floor.stop()
    out.result["database"] = "PostgreSQL"
    out.result["socket_manager"] = "Redis"
    return out
