"""The benchmark's flow, `bench-room`: steps of the `core-task-1` and `core-task-2` flows with the
three exercise types they lack (scale from `check-in`, matrix and ranking from `coordination-1` and
`coordination-2`), taken from the shipped flow files so it follows their edits.
Ordered so that W3's 10 step changes meet ten types with the
groups step last (it is the one that grows with the square of the room), and W2's 20 meet all.
The answer burst's step comes early: the burst runs before the step changes, while every phone is
surely still there.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
NAME = "bench-room"

# (flow file, step id), in the order the bench walks them.
STEPS: tuple[tuple[str, str], ...] = (
    ("core-task-1", "welcome"),  # talk
    ("core-task-1", "who-for"),  # word_cloud
    ("core-task-2", "unit-contribution"),  # open_text, results shown: the answer burst's step
    ("check-in", "progress"),  # scale
    ("core-task-2", "pulse"),  # survey, by unit
    ("coordination-1", "relation-map"),  # matrix
    ("coordination-2", "agreement-types"),  # ranking
    ("core-task-1", "group-themes"),  # grouping, here of the answer burst's cards
    ("core-task-1", "vote-themes"),  # dot_vote on group-themes
    ("core-task-2", "angles-groups"),  # groups: every phone gets every group (last of W3's 10)
    ("core-task-1", "pair-talk"),  # timer
    ("core-task-1", "write-core-task"),  # open_text, results hidden
    ("core-task-1", "core-task-statement"),  # statement
    ("core-task-2", "angles-round"),  # round over angles-groups
    ("core-task-2", "first-steps"),  # commitments
    ("core-task-2", "closing"),  # talk
)
ANSWER_STEP = "unit-contribution"
UNITS = ("Day team", "Evening team", "Therapists", "Night team")


def _flow(name: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "sessions" / f"{name}.yaml").read_text())
    return data


def build() -> dict[str, Any]:
    sources = {name: _flow(name) for name in {f for f, _ in STEPS}}
    base = sources["core-task-1"]
    steps = []
    for flow_name, step_id in STEPS:
        found = [s for s in sources[flow_name]["steps"] if s["id"] == step_id]
        if not found:
            raise SystemExit(f"bench flow: sessions/{flow_name}.yaml has no step {step_id!r} any more")
        step = dict(found[0])
        step.pop("earlier", None)  # earlier results of the team's other sessions: there are none
        if step_id == "group-themes":  # it groups the cards of a step before it: the burst's
            step["settings"] = {**step["settings"], "cards_from": ANSWER_STEP}
        steps.append(step)
    flow = {k: v for k, v in base.items() if k != "steps"}
    flow.update(
        name=NAME,
        source="The benchmark's room: steps of the shipped core-task, check-in and coordination flows.",
        steps=steps,
        duration_minutes=sum(int(s.get("minutes", 0)) for s in steps),
    )
    return flow


def write_sessions_dir(target: Path) -> Path:
    """A sessions folder with the shipped flows and the bench flow, for TOVHOLDER_SESSIONS_DIR."""
    target.mkdir(parents=True, exist_ok=True)
    for path in (ROOT / "sessions").glob("*.yaml"):
        shutil.copy(path, target / path.name)
    (target / f"{NAME}.yaml").write_text(yaml.safe_dump(build(), allow_unicode=True, sort_keys=False))
    return target


def exercise_of() -> dict[str, str]:
    """Step id -> exercise type, in walking order."""
    out = {}
    for flow_name, step_id in STEPS:
        step = next(s for s in _flow(flow_name)["steps"] if s["id"] == step_id)
        out[step_id] = str(step["exercise"])
    return out
