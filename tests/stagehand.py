"""Sets a room's scene for screenshots and screen tests: sessions of the shipped flows at a given
step, with a room of simulated participants' answers, written through the runner against a
server's database (as `tovholder demo` does), and one phone of its own that has not answered.
Pages loaded afterwards show the scene; no socket push is needed for a fresh page.

`largest_steps()` picks, for each exercise type, the step of the shipped flows with the most text
in all five languages: the projector's hardest case for that type."""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from app.auth import Accounts
from app.db import make_engine
from app.demo import NAMES, UNIT_NAMES, _simulate_step
from app.flows import Flow, load_flows
from app.models import Participant
from app.runner import Runner, Silent
from app.teams import Teams
from exercises import build_registry
from exercises.base import LOCALES
from tests.harness import ROOT

REGISTRY = build_registry()
FLOWS = load_flows(ROOT / "sessions", REGISTRY)


@dataclass(frozen=True)
class Pick:
    flow: str
    index: int
    exercise: str
    longest_locale: str = "nb"  # the language in which the step's texts are longest

    @property
    def step_id(self) -> str:
        return FLOWS[self.flow].steps[self.index].id


def _texts(value: object, locale: str | None) -> int:
    """The length of the texts in a step's settings: every language's, or one language's."""
    if isinstance(value, dict):
        if value and set(value) <= set(LOCALES) and all(isinstance(v, str) for v in value.values()):
            return sum(len(v) for k, v in value.items() if locale in (None, k))
        return sum(_texts(v, locale) for v in value.values())
    if isinstance(value, list):
        return sum(_texts(v, locale) for v in value)
    return 0


def _size(flow: Flow, index: int, locale: str | None = None) -> int:
    step = flow.steps[index]
    return _texts([step.title, step.prompt or {}, step.settings], locale)


def largest_steps() -> list[Pick]:
    """One step per exercise type: the one with the most text, in the flows as shipped."""
    best: dict[str, tuple[int, Pick]] = {}
    for name in sorted(FLOWS):
        flow = FLOWS[name]
        for i, step in enumerate(flow.steps):
            if step.off or set(LOCALES) - set(flow.locales):
                continue
            size = _size(flow, i)
            if step.exercise not in best or size > best[step.exercise][0]:
                longest = max(LOCALES, key=lambda loc: _size(flow, i, loc))
                best[step.exercise] = (size, Pick(name, i, step.exercise, longest))
    return [pick for _size_, pick in sorted(best.values(), key=lambda v: v[1].exercise)]


def first_steps() -> list[Pick]:
    """One step per exercise type: the first in the flows as shipped (reflection first)."""
    seen: dict[str, Pick] = {}
    for name in ["reflection", *sorted(n for n in FLOWS if n != "reflection")]:
        for i, step in enumerate(FLOWS[name].steps):
            if not step.off and step.exercise not in seen:
                seen[step.exercise] = Pick(name, i, step.exercise)
    return sorted(seen.values(), key=lambda p: p.exercise)


@dataclass
class Scene:
    run_id: int
    code: str
    phone_token: str  # a phone that joined and has answered nothing
    people: list[Participant] = field(default_factory=list)


class Stagehand:
    def __init__(self, database_url: str, email: str = "t@example.org", seed: int = 11) -> None:
        self.engine = make_engine(database_url)
        self.runner = Runner(self.engine, FLOWS, REGISTRY, Silent(), 5)
        self.teams = Teams(self.engine)
        account = Accounts(self.engine).find(email)
        self.owner = account.id if account else None
        self.rng = random.Random(seed)

    def close(self) -> None:
        self.engine.dispose()

    def scene(
        self, flow_name: str, locale: str, index: int | None, *, people: int = 12, revealed: bool = True
    ) -> Scene:
        """A session of `flow_name` in `locale` at step `index` (None: the lobby), `people`
        participants having answered every step up to it and this one."""
        flow = FLOWS[flow_name]
        team_id = None
        units: list[str] = []
        if flow.uses_units:
            units = UNIT_NAMES.get(locale, UNIT_NAMES["en"])[:3]
            team_id = self.teams.create(self.owner, f"Team {flow_name}", units).id
        run = self.runner.create_run(flow_name, locale, self.owner, team_id=team_id)
        assert run.id is not None
        room = []
        for i in range(people):
            name = NAMES[i % len(NAMES)] if i % 3 else None
            room.append(self.runner.add_participant(run, name, units[i % len(units)] if units else None))
        phone = self.runner.add_participant(run, None, units[0] if units else None)
        if index is not None:
            needed = _sources(flow, index)
            for i, step in enumerate(flow.steps):
                if step.off:
                    continue
                self.runner.move(run.id, +1)
                if i in needed:  # the step itself, and the earlier steps whose results it reads
                    _simulate_step(self.runner, run.id, flow, step, room, self.rng, locale)
                if i >= index:
                    break
            self.runner.set_revealed(run.id, revealed)
        return Scene(run_id=run.id, code=run.code, phone_token=phone.token, people=room)

    def scenes_team(self, run_id: int) -> int:
        """The id of the team a scene's session runs under (a flow that uses units has one)."""
        team_id = self.runner.get_run(run_id).team_id
        assert team_id is not None, "this scene's flow has no team"
        return team_id


def _sources(flow: Flow, index: int) -> set[int]:
    """The step at `index` and every earlier step whose results it reads, at any depth."""
    found, todo = set(), [index]
    while todo:
        i = todo.pop()
        if i in found:
            continue
        found.add(i)
        step = flow.steps[i]
        exercise = REGISTRY[step.exercise]
        for source in exercise.sources(exercise.settings(step.settings)):
            j = flow.step_index(source)
            if j is not None:
                todo.append(j)
    return found


@contextmanager
def stagehand(database_url: str) -> Iterator[Stagehand]:
    hand = Stagehand(database_url)
    try:
        yield hand
    finally:
        hand.close()


# What the screen tests measure on the projector, in the page (tests/fit.js).
FIT_JS = (Path(__file__).parent / "fit.js").read_text(encoding="utf-8")
