"""`tovholder demo`: a finished session with simulated answers, for posters, screenshots and
benchmarks. The answers come from each step's `demo` samples in the flow file."""

from __future__ import annotations

import random
import re
from collections.abc import Sequence

from pydantic import BaseModel

from app.auth import Accounts
from app.config import Settings
from app.db import make_engine
from app.errors import InvalidInput
from app.flows import Flow, Step, load_flows
from app.models import Participant, Team
from app.runner import Runner, Silent
from app.teams import Teams
from exercises import build_registry
from exercises.base import StepContext

NAMES = [
    "Aino",
    "Bjørn",
    "Camilla",
    "Dag",
    "Elin",
    "Frida",
    "Geir",
    "Hanne",
    "Ida",
    "Jonas",
    "Kari",
    "Lars",
    "Maja",
    "Nils",
    "Oda",
    "Per",
    "Rune",
    "Siri",
    "Tone",
    "Ulf",
    "Vilde",
    "Åse",
    "Øystein",
    "Astrid",
    "Henrik",
    "Sofie",
    "Mats",
    "Linnea",
    "Emil",
    "Karin",
]


UNIT_NAMES = {
    "en": ["Day team", "Evening team", "Therapists", "Night team", "Office", "Kitchen"],
    "nb": ["Dagteamet", "Kveldsteamet", "Terapeutene", "Nattevakt", "Kontoret", "Kjøkkenet"],
    "nn": ["Dagteamet", "Kveldsteamet", "Terapeutane", "Nattevakta", "Kontoret", "Kjøkenet"],
    "da": ["Dagholdet", "Aftenholdet", "Terapeuterne", "Nattevagten", "Kontoret", "Køkkenet"],
    "sv": ["Dagteamet", "Kvällsteamet", "Terapeuterna", "Nattpersonalen", "Kontoret", "Köket"],
}


def make_demo_run(
    settings: Settings,
    flow_name: str,
    participants: int,
    rng: random.Random,
    locale: str | None = None,
    owner_email: str | None = None,
    units: int = 0,
    team_id: int | None = None,
    team_name: str | None = None,
) -> int:
    """A finished session with simulated answers; its id. `team_id`, or `team_name` (the owner's
    team of that name, made when there is none), runs it under an existing team, so a later demo
    session sees the earlier ones' results (and their posters draw on them all). Everything is
    written through the runner and the teams service, as a real session would be."""
    if not 1 <= participants <= 200:
        raise ValueError("--participants is from 1 to 200")
    if units == 1 or not 0 <= units <= len(UNIT_NAMES["en"]):
        raise ValueError(f"--units is 0, or from 2 to {len(UNIT_NAMES['en'])}")
    registry = build_registry()
    flows = load_flows(settings.sessions_dir, registry)
    flow = flows.get(flow_name)
    if flow is None:
        raise ValueError(f"no flow named {flow_name!r} (there are: {', '.join(sorted(flows))})")
    locale = locale or flow.default_locale
    if locale not in flow.locales:
        raise ValueError(f"the flow {flow_name!r} has no {locale!r} texts ({', '.join(flow.locales)})")
    if (flow.uses_units or team_name) and not units:
        units = 3
    engine = make_engine(settings.resolved_database_url)
    try:
        owner = Accounts(engine).find(owner_email)
        if owner_email and owner is None:
            raise ValueError(f"no account with the email {owner_email}")
        owner_id = owner.id if owner else None
        teams = Teams(engine)
        default_units = UNIT_NAMES.get(locale, UNIT_NAMES["en"])[:units]
        team = _demo_team(teams, owner_id, team_id, team_name, default_units)
        if team is not None:
            unit_names = list(team.units) if flow.uses_units else []
        else:
            unit_names = default_units
            team = teams.create(owner_id, "Demo", unit_names) if unit_names else None
        runner = Runner(engine, flows, registry, Silent(), settings.min_group_size)
        run = runner.create_run(flow_name, locale, owner_id, is_demo=True, team_id=team.id if team else None)
        assert run.id is not None
        people = []
        for i in range(participants):
            name = NAMES[i % len(NAMES)] if rng.random() < 0.7 else None
            unit = unit_names[_weighted_unit(i, len(unit_names))] if unit_names else None
            people.append(runner.add_participant(run, name, unit))
        for step in flow.steps:
            if not step.off:
                runner.move(run.id, +1)
                _simulate_step(runner, run.id, flow, step, people, rng, locale, unit_names)
        runner.close(run.id)
    except InvalidInput as exc:
        raise ValueError(str(exc)) from None
    finally:
        engine.dispose()
    return run.id


def _demo_team(
    teams: Teams, owner_id: int | None, team_id: int | None, name: str | None, units: list[str]
) -> Team | None:
    """The team a demo session runs under: by id, or the owner's team by name (made if new)."""
    if team_id is not None:
        team = teams.get(team_id)
        if team is None:
            raise ValueError(f"there is no team {team_id}")
        return team
    if not name:
        return None
    if not name.strip():
        raise ValueError("--team needs a name")
    return teams.named(owner_id, name) or teams.create(owner_id, name, units)


UNIT_TAG = re.compile(r"^\[(\d{1,2})\] ")


def unit_samples(samples: Sequence[str], unit: int) -> list[str]:
    """The samples a person of the team's `unit`-th unit (0: none) may write: the untagged ones,
    and those tagged "[unit] ", without the tag."""
    out: list[str] = []
    for sample in samples:
        tag = UNIT_TAG.match(sample)
        if tag is None:
            out.append(sample)
        elif int(tag.group(1)) == unit:
            out.append(sample[tag.end() :])
    return out


def _weighted_unit(i: int, n: int) -> int:
    """Units of different sizes, as in a real team: the first unit is twice as large as the others."""
    return (i % (n + 1)) % n if n > 1 else 0


def _simulate_step(
    runner: Runner,
    run_id: int,
    flow: Flow,
    step: Step,
    people: list[Participant],
    rng: random.Random,
    locale: str,
    units: list[str] | None = None,
) -> None:
    """The room's answers to the step on the screen, then what the tovholder did on it. A sample
    that starts with "[N] " is written only by people of the team's N-th unit, so a card fits
    the unit it comes from."""
    exercise = runner.registry[step.exercise]
    settings_model = exercise.settings(step.settings)
    samples = step.demo.get(locale) or step.demo.get(flow.default_locale) or []
    if exercise.collects_answers:
        first = runner.step_context(run_id, step.id)
        if exercise.has_actions and exercise.max_answers(settings_model, first) == 0:
            # Nothing to answer until the tovholder acts (shows the statement): that comes first.
            early = exercise.simulate_state(settings_model, rng, samples, [], first)
            if early:
                runner.put_state(run_id, step.id, early)
        contexts: dict[str | None, StepContext] = {}
        answers: list[tuple[Participant, BaseModel]] = []
        for p in people:
            if rng.random() < 0.08:  # a few people skip a step, as in a real room
                continue
            if p.unit not in contexts:
                contexts[p.unit] = runner.step_context(run_id, step.id, p.unit)
            own = unit_samples(samples, (units or []).index(p.unit) + 1 if p.unit in (units or []) else 0)
            answers += [(p, a) for a in exercise.simulate(settings_model, rng, own, contexts[p.unit])]
        runner.store_answers(run_id, step.id, answers)
    current = runner.run_view(run_id).current
    assert current is not None and current.step.id == step.id
    state = exercise.simulate_state(settings_model, rng, samples, current.entries, current.ctx)
    if state:
        runner.put_state(run_id, step.id, state)
