"""The table `make bench` prints and the README shows: each Tovholder figure beside the floor's,
their ratio, and the issue's target."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any


def machine() -> dict[str, Any]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    if not model:
        try:
            out = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10).stdout
            model = next((ln.split(":", 1)[1].strip() for ln in out.splitlines() if "Model name" in ln), "")
        except (OSError, subprocess.SubprocessError):
            pass
    mem_kib = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kib = int(line.split()[1])
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "cpu": model or platform.processor() or "unknown",
        "memory_gib": round(mem_kib / 1024 / 1024, 1),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
    }


def _ms(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,.0f} ms" if value >= 100 else f"{value:.1f} ms"


def _x(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


def _pair(d: dict[str, Any] | None, a: str = "p50", b: str = "p95") -> str:
    if not d:
        return "-"
    return f"{_ms(d.get(a))} / {_ms(d.get(b))}"


def _ratio_pair(d: dict[str, Any] | None, a: str = "p50", b: str = "p95") -> str:
    if not d:
        return "-"
    return f"{_x(d.get(a))} / {_x(d.get(b))}"


def _verdict(ok: bool | None) -> str:
    return "-" if ok is None else ("met" if ok else "**not met**")


def rows(results: dict[str, Any]) -> list[tuple[str, str, str, str, str, str]]:
    """(measure, floor, Tovholder, ratio, target, met) rows."""
    w = results["workloads"]
    out: list[tuple[str, str, str, str, str, str]] = []

    def steps(key: str, label: str, limit: float) -> None:
        r = w.get(key)
        if not r:
            return
        unfinished = ""
        if not r.get("finished"):
            where = r.get("stopped_at") or "the time budget"
            unfinished = (
                f" (did not finish: stopped at {where}, change {r['step_changes']} of "
                f"{r['planned_step_changes']}; {r['missing']:,} phones without it after "
                f"{r.get('step_timeout_s', '?')} s; {r.get('disconnects', 0):,} sockets dropped)"
            )
        p95 = (r.get("ratio") or {}).get("p95")
        out.append(
            (
                f"{label}: step to phone p50 / p95",
                _pair(r.get("floor_ms")),
                _pair(r.get("step_ms")) + unfinished,
                _ratio_pair(r.get("ratio")),
                f"p95 <= {limit}x floor",
                _verdict(None if p95 is None else p95 <= limit and bool(r.get("finished"))),
            )
        )
        out.append(
            (
                f"{label}: step to phone p99 / max",
                _pair(r.get("floor_ms"), "p99", "max"),
                _pair(r.get("step_ms"), "p99", "max"),
                _ratio_pair(r.get("ratio"), "p99", "max"),
                "",
                "",
            )
        )
        by_type = r.get("by_exercise", {})
        groups = by_type.get("groups")
        if groups:
            ok = (groups.get("ratio") or {}).get("p95")
            lost = f", {groups['missing']:,} phones never got it" if groups.get("missing") else ""
            out.append(
                (
                    f"{label}: the `groups` step p95 "
                    + (
                        f"({groups['chars_to_each_phone']:,} chars to each phone)"
                        if groups["chars_to_each_phone"]
                        else "(it never arrived)"
                    ),
                    _ms((groups.get("floor_ms") or {}).get("p95")),
                    _ms(groups["step_ms"].get("p95")) + lost,
                    _x(ok),
                    f"<= {limit}x",
                    _verdict(False if groups.get("missing") else (None if ok is None else ok <= limit)),
                )
            )
        others = [(n, e) for n, e in by_type.items() if n != "groups" and (e.get("ratio") or {}).get("p95")]
        worst = max(others, key=lambda item: item[1]["ratio"]["p95"], default=None)
        if worst:
            name, e = worst
            out.append(
                (
                    f"{label}: worst other step type, `{name}` p95 "
                    f"({e['chars_to_each_phone']:,} chars to each phone)",
                    _ms(e["floor_ms"]["p95"]),
                    _ms(e["step_ms"]["p95"]),
                    _x(e["ratio"]["p95"]),
                    f"every type <= {limit}x",
                    _verdict(e["ratio"]["p95"] <= limit),
                )
            )

    def bursts(key: str, label: str, ack_limit: float | None) -> None:
        r = (w.get(key) or {}).get("burst")
        if not r:
            return
        p95 = r["ack_ms"].get("p95")
        out.append(
            (
                f"{label}: answer ack p50 / p95 / max",
                _pair(r.get("floor_ack_ms")) + f" / {_ms((r.get('floor_ack_ms') or {}).get('max'))}",
                _pair(r["ack_ms"])
                + f" / {_ms(r['ack_ms'].get('max'))}"
                + (f" ({r['failed']} failed)" if r.get("failed") else ""),
                _ratio_pair(r.get("ratio")),
                "-" if ack_limit is None else f"p95 <= {ack_limit:.0f} ms",
                _verdict(
                    None if p95 is None or ack_limit is None else p95 <= ack_limit and not r.get("failed")
                ),
            )
        )
        coalesce = results.get("coalesce_ms", 250)
        after = r.get("projector_after_last_ack_ms")
        out.append(
            (
                f"{label}: projector shows all, after the last ack (after the first send)",
                f"{_ms(r.get('floor_projector_after_last_ack_ms'))} "
                f"({_ms(r.get('floor_projector_after_start_ms'))})",
                f"{_ms(after)} ({_ms(r.get('projector_after_start_ms'))})" if after is not None else "never",
                _x(
                    None
                    if after is None or not r.get("floor_projector_after_last_ack_ms")
                    else after / r["floor_projector_after_last_ack_ms"]
                ),
                f"<= {coalesce + 100:.0f} ms",
                _verdict(after is not None and after <= coalesce + 100),
            )
        )

    def stack(key: str, label: str) -> None:
        """The stack's floor (bench/stack.py): the same steps, plainly on FastAPI, SQLModel, Jinja."""
        r = (w.get(key) or {}).get("stack")
        if not r:
            return
        out.append(
            (
                f"{label}: the stack's floor (FastAPI, SQLModel, Jinja), step p50 / p95",
                _pair(r.get("floor_ms")),
                _pair(r.get("step_ms")) + " on the stack's floor",
                _ratio_pair(r.get("ratio")),
                "",
                "",
            )
        )
        by_type = [(n, e) for n, e in r.get("by_exercise", {}).items() if (e.get("ratio") or {}).get("p95")]
        worst = max(by_type, key=lambda item: item[1]["ratio"]["p95"], default=None)
        if worst:
            name, e = worst
            out.append(
                (
                    f"{label}: the stack's floor, its worst step type, `{name}` p95",
                    _ms(e["floor_ms"]["p95"]),
                    _ms(e["step_ms"]["p95"]) + " on the stack's floor",
                    _x(e["ratio"]["p95"]),
                    "",
                    "",
                )
            )

    steps("W1", "W1 40 phones x 50 steps", 1.3)
    stack("W1", "W1")
    bursts("W1", "W5 40 phones", 50)
    steps("W2", "W2 500 phones x 20 steps", 1.5)
    stack("W2", "W2")
    bursts("W2", "W5 500 phones", 500)
    bursts("W5-200", "W5 200 phones", None)
    steps("W3", "W3 2,000 phones x 10 steps", 1.5)
    stack("W3", "W3")
    w3 = w.get("W3")
    if w3:
        j = w3["join"]
        out.append(
            (
                f"W4 join storm, {w3['phones']:,} phones: joins/s",
                f"{j.get('floor_connects_per_s', '-')} connects/s",
                f"{j['joins_per_s']} joins/s ({j['server_cpu_ms_per_join']} ms server CPU a join)",
                _x(j.get("ratio")),
                ">= 300 joins/s",
                _verdict(j["joins_per_s"] >= 300),
            )
        )
        sj = w3.get("stack")
        if sj:
            out.append(
                (
                    "W4 on the stack's floor (FastAPI, SQLModel, Jinja): the same join",
                    f"{j.get('floor_connects_per_s', '-')} connects/s",
                    f"{sj['joins_per_s']} joins/s ({sj['server_cpu_ms_per_join']} ms server CPU a join) "
                    "on the stack's floor",
                    _x(
                        sj["joins_per_s"] / j["floor_connects_per_s"]
                        if j.get("floor_connects_per_s")
                        else None
                    ),
                    "",
                    "",
                )
            )
        out.append(
            (
                f"server memory per connected phone ({w3['phones']:,})",
                f"{w3.get('floor_memory_kib_per_phone', '-')} KiB",
                f"{w3['memory_kib_per_phone']} KiB",
                _x(
                    None
                    if not w3.get("floor_memory_kib_per_phone")
                    else w3["memory_kib_per_phone"] / w3["floor_memory_kib_per_phone"]
                ),
                "<= 60 KB",
                _verdict(w3["memory_kib_per_phone"] * 1.024 <= 60),
            )
        )
    w6 = w.get("W6")
    if w6:
        p95 = (w6.get("ratio_to_w2") or {}).get("p95")
        both = bool(w6.get("finished")) and bool((w.get("W2") or {}).get("finished"))
        out.append(
            (
                "W6 500 phones x 20 steps, 2 processes, PostgreSQL + Redis: p50 / p95",
                _pair(w6.get("floor_ms")),
                _pair(w6.get("step_ms")) + ("" if w6.get("finished") else " (did not finish)"),
                f"{_ratio_pair(w6.get('ratio'))} (to W2: {_ratio_pair(w6.get('ratio_to_w2'))})",
                "p95 <= 1.5x W2",
                _verdict(None if p95 is None or not both else p95 <= 1.5),
            )
        )
        bursts("W6", "W5 500 phones on the W6 set-up", 500)
        groups = (w6.get("by_exercise") or {}).get("groups")
        if groups:
            out.append(
                (
                    "W6: the `groups` step p95",
                    _ms((groups.get("floor_ms") or {}).get("p95")),
                    _ms(groups["step_ms"].get("p95")),
                    _x((groups.get("ratio") or {}).get("p95")),
                    "",
                    "",
                )
            )
    jb = w.get("join_bytes")
    if jb:
        out.append(
            (
                "bytes a phone downloads to join (gzipped; as served)",
                "-",
                f"{jb['gzipped'] / 1024:.1f} KiB ({jb['served'] / 1024:.1f} KiB served"
                + (", the server gzips" if jb["server_gzips"] else ", not compressed")
                + ")",
                "-",
                "<= 40 KB",
                _verdict(jb["gzipped"] <= 40_000),
            )
        )
    return out


def table(results: dict[str, Any]) -> str:
    header = ("measure", "floor", "Tovholder", "ratio", "target", "")
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    for row in rows(results):
        lines.append("| " + " | ".join(row) + " |")
    m = results["machine"]
    lines.append("")
    busy = ", ".join(
        f"{k} {v['other_processes_cores']}"
        for k, v in results["workloads"].items()
        if isinstance(v, dict) and "other_processes_cores" in v
    )
    lines.append(
        f"{m['nproc']} cores ({m['cpu']}), {m['memory_gib']} GiB, Python {m['python']}; "
        f"{results['seconds']:.0f} s in all; load processes: "
        + ", ".join(
            f"{k} {v['load_processes']}" for k, v in results["workloads"].items() if "load_processes" in v
        )
        + f". Other processes on the machine meanwhile, in cores: {busy or '-'}."
    )
    return "\n".join(lines)
