"""The workloads: step changes to a room of phones (W1-W3, W6), the join storm (W4), the answer
burst (W5), each against Tovholder and then, with the same payload sizes, against the floor."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from bench.driver import BenchError, Loads, Screen, Tovholder
from bench.flow import ANSWER_STEP, NAME, UNITS, exercise_of
from bench.servers import Process
from bench.stats import ratios, summary_ms

EXERCISES = exercise_of()
STEP_IDS = list(EXERCISES)
LAST = len(STEP_IDS) - 1


def walk(changes: int) -> list[str]:
    """`changes` step changes from the lobby: forward to the last step, back to the first, and so on."""
    actions, position, direction = [], -1, 1
    for _ in range(changes):
        if position + direction > LAST or (position + direction < 0 and position != -1):
            direction = -direction
        actions.append("next" if direction > 0 else "back")
        position += direction
    return actions


@dataclass
class Step:
    action: str
    step_id: str
    exercise: str
    version: int
    console_s: float
    latencies: list[float]
    missing: int
    size: int
    problem: str = ""
    disconnects: int = 0  # phones' sockets dropped so far in this workload (they reconnect)


@dataclass
class Room:
    """A Tovholder session on the bench flow with its projector and console connected."""

    tov: Tovholder
    run_id: int
    code: str
    projector: Screen
    console: Screen
    position: int = -1
    steps: list[Step] = field(default_factory=list)

    @classmethod
    async def open(cls, url: str, team: str = "Bench team") -> Room:
        tov = Tovholder(url)
        await tov.login()
        team_id = await tov.team(team, UNITS)
        run_id, code = await tov.start(NAME, "en", team_id)
        projector, console = Screen(), Screen()
        await projector.connect(url, {"role": "projector", "run": code}, tov.cookie)
        await console.connect(url, {"role": "console", "run": code}, tov.cookie)
        return cls(tov, run_id, code, projector, console)

    async def move(self, loads: Loads, action: str, timeout: float) -> Step:
        t0 = time.monotonic()
        version, console_s, problem = await self.tov.move(self.run_id, action)
        self.position += 1 if action == "next" else -1
        got = await loads.wait(version, t0, max(0.0, timeout - (time.monotonic() - t0)))
        step_id = STEP_IDS[self.position] if self.position >= 0 else "lobby"
        return Step(
            action,
            step_id,
            EXERCISES.get(step_id, "lobby"),
            version,
            console_s,
            got["latencies"],
            got["missing"],
            got["size"],
            problem,
            got["disconnects"],
        )

    async def go_to(self, loads: Loads, step_id: str, timeout: float) -> None:
        """Unmeasured moves to a step, or to the lobby (the phones are still waited for)."""
        target = STEP_IDS.index(step_id) if step_id != "lobby" else -1
        while self.position != target:
            step = await self.move(loads, "next" if self.position < target else "back", timeout)
            if step.missing:
                raise BenchError(f"{step.missing} phones never got step {step.step_id}")

    async def close(self) -> None:
        await self.projector.close()
        await self.console.close()
        await self.tov.close()


async def warm_up(urls: list[str], log_dir: Any) -> None:
    """One phone through every step once, so templates are compiled and caches warm as on a
    server that has run a session before; nothing of it is measured."""
    room = await Room.open(urls[0], team="Warm-up team")
    async with Loads(1, log_dir) as loads:
        joined = await loads.join("tov", urls, room.code, len(urls))
        if joined["failed"]:
            raise BenchError(f"warm-up phones could not join: {joined['errors']}")
        for _ in STEP_IDS:
            await room.move(loads, "next", 30)
        await room.go_to(loads, ANSWER_STEP, 30)
        await loads.answer(ANSWER_STEP, "warm-up")
    await room.close()


def step_summary(steps: list[Step]) -> dict[str, Any]:
    latencies = [x for s in steps for x in s.latencies]
    by_type: dict[str, list[Step]] = {}
    for s in steps:
        by_type.setdefault(s.exercise, []).append(s)
    return {
        "step_ms": summary_ms(latencies),
        "missing": sum(s.missing for s in steps),
        "disconnects": max((s.disconnects for s in steps), default=0),
        "stopped_at": next((s.step_id for s in steps if s.missing), None),
        "console_reply_ms": summary_ms([s.console_s for s in steps]),
        "problems": [f"{s.step_id}: {s.problem}" for s in steps if s.problem][:5],
        "by_exercise": {
            name: {
                "step_ms": summary_ms([x for s in group for x in s.latencies]),
                "chars_to_each_phone": max(s.size for s in group),
                "missing": sum(s.missing for s in group),
            }
            for name, group in sorted(by_type.items())
        },
    }


class FloorRoom:
    """The floor's room: each step emits a payload of the size Tovholder's phones just got."""

    def __init__(self, floor: Process, name: str) -> None:
        self.server = floor
        self.http = httpx.AsyncClient(base_url=floor.url, timeout=120)
        self.name = name
        self.version = 0
        self.projector = Screen()

    async def open(self, url: str, loads: Loads, timeout: float) -> None:
        await self.projector.connect(url, {"room": self.name, "role": "projector"})
        for _ in range(3):  # warm-up, unmeasured
            self.version += 1
            await self.http.post("/emit", json={"room": self.name, "size": 1000, "version": self.version})
        await loads.wait(self.version, time.monotonic(), timeout)

    async def step(self, loads: Loads, like: Step, timeout: float) -> Step:
        self.version += 1
        t0 = time.monotonic()
        body = {"room": self.name, "size": max(like.size, 1), "version": self.version}
        await self.http.post("/emit", json=body)
        got = await loads.wait(self.version, t0, timeout)
        return Step(
            like.action,
            like.step_id,
            like.exercise,
            self.version,
            0.0,
            got["latencies"],
            got["missing"],
            got["size"],
            "",
            got["disconnects"],
        )

    async def close(self) -> None:
        await self.projector.close()
        await self.http.aclose()


def compare_steps(ours: list[Step], floor: list[Step]) -> dict[str, Any]:
    result = step_summary(ours)
    floor_summary = step_summary(floor)
    result["floor_ms"] = floor_summary["step_ms"]
    result["ratio"] = ratios(result["step_ms"], floor_summary["step_ms"])
    for name, entry in result["by_exercise"].items():
        theirs = floor_summary["by_exercise"].get(name)
        if theirs:
            entry["floor_ms"] = theirs["step_ms"]
            entry["ratio"] = ratios(entry["step_ms"], theirs["step_ms"])
    return result


@dataclass
class Burst:
    acks: list[float]
    created: int
    repeated: int
    failed: int
    errors: list[str]
    last_ack_to_projector_s: float | None
    start_to_projector_s: float | None
    projector: list[tuple[float, int]]  # (seconds after the first send, answers shown) per push


async def burst(loads: Loads, projector: Screen, step: str, phones: int, retry_every: int = 0) -> Burst:
    """Every phone answers at once; then wait for the projector to count them all."""
    t0 = time.monotonic()
    sent = await loads.answer(step, "What our unit adds", retry_every)
    shown = await projector.until_count(phones, t0, timeout=60)
    pushes = [(round(at - t0, 3), count) for at, count in projector.shown if at >= t0]
    return Burst(
        sent["acks"],
        sent["created"],
        sent["repeated"],
        sent["failed"],
        sent["errors"],
        None if shown is None else max(0.0, shown - sent["last_ack"]),
        None if shown is None else shown - t0,
        pushes,
    )


def compare_bursts(ours: Burst, floor: Burst | None) -> dict[str, Any]:
    def ms(x: float | None) -> float | None:
        return None if x is None else round(x * 1000, 1)

    out: dict[str, Any] = {
        "ack_ms": summary_ms(ours.acks),
        "failed": ours.failed,
        "errors": ours.errors,
        "projector_after_last_ack_ms": ms(ours.last_ack_to_projector_s),
        "projector_after_start_ms": ms(ours.start_to_projector_s),
        "last_ack_ms_after_start": round(max(ours.acks, default=0) * 1000, 1),
        "projector_pushes": [[round(at * 1000), count] for at, count in ours.projector[:40]],
    }
    if floor is not None:
        out["floor_ack_ms"] = summary_ms(floor.acks)
        out["ratio"] = ratios(out["ack_ms"], out["floor_ack_ms"])
        out["floor_projector_after_last_ack_ms"] = ms(floor.last_ack_to_projector_s)
        out["floor_projector_after_start_ms"] = ms(floor.start_to_projector_s)
    return out
