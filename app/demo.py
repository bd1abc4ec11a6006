"""`tovholder demo`: a finished session with simulated answers, for posters, screenshots and
benchmarks. The answers come from each step's `demo` samples in the flow file."""

from __future__ import annotations

import random
import secrets

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from app.config import Settings
from app.db import make_engine, session_scope
from app.flows import Flow, Step, load_flows
from app.models import Answer, Facilitator, Participant, Run, RunStatus, StepState, Team, utcnow
from app.runner import Runner
from exercises import build_registry

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


class _Silent:
    def notify(self, run_id: int, what: str) -> None:
        pass


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
    session sees the earlier ones' results (and their posters draw on them all)."""
    if not 1 <= participants <= 200:
        raise ValueError("--participants is from 1 to 200")
    if not 0 <= units <= len(UNIT_NAMES["en"]):
        raise ValueError(f"--units is from 0 to {len(UNIT_NAMES['en'])}")
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
    with session_scope(engine) as db:
        query = select(Facilitator).order_by(col(Facilitator.id))
        if owner_email:
            query = query.where(Facilitator.email == owner_email.strip().lower())
        owner = db.exec(query).first()
    if owner_email and owner is None:
        raise ValueError(f"no account with the email {owner_email}")
    owner_id = owner.id if owner else None
    team = _demo_team(engine, owner_id, team_id, team_name, UNIT_NAMES.get(locale, UNIT_NAMES["en"])[:units])
    runner = Runner(engine, flows, registry, _Silent(), settings.min_group_size)
    run = runner.create_run(flow_name, locale, owner_id, is_demo=True)
    assert run.id is not None
    if team is not None:
        unit_names = list(team.units) if flow.uses_units else []
    else:
        unit_names = UNIT_NAMES.get(locale, UNIT_NAMES["en"])[:units]
    with session_scope(engine) as db:
        stored = db.get(Run, run.id)
        assert stored is not None
        if team is not None:
            stored.team_id = team.id
        elif unit_names:
            made = Team(facilitator_id=owner_id, name="Demo", units=unit_names)
            db.add(made)
            db.flush()
            stored.team_id = made.id
        people = []
        for i in range(participants):
            name = NAMES[i % len(NAMES)] if rng.random() < 0.7 else None
            unit = unit_names[_weighted_unit(i, len(unit_names))] if unit_names else None
            p = Participant(
                run_id=run.id,
                token=secrets.token_urlsafe(24),
                display_name=name,
                unit=unit,
                public_id=secrets.token_urlsafe(6),
            )
            db.add(p)
            people.append(p)
        stored.status = RunStatus.live
        db.add(stored)
        db.flush()
        for index, step in enumerate(flow.steps):
            stored.step_index = index
            _simulate_step(db, runner, stored, flow, step, people, rng, locale)
        now = utcnow()
        stored.status = RunStatus.closed
        stored.step_index = len(flow.steps) - 1
        stored.started_at = now
        stored.closed_at = now
        stored.version += 1
        db.add(stored)
        db.commit()
    engine.dispose()
    return run.id


def _demo_team(
    engine: Engine, owner_id: int | None, team_id: int | None, name: str | None, units: list[str]
) -> Team | None:
    """The team a demo session runs under: by id, or the owner's team by name (made if new)."""
    if team_id is None and not name:
        return None
    with session_scope(engine) as db:
        if team_id is not None:
            team = db.get(Team, team_id)
            if team is None:
                raise ValueError(f"there is no team {team_id}")
            return team
        assert name is not None
        clean = " ".join(name.split())[:120]
        if not clean:
            raise ValueError("--team needs a name")
        who = col(Team.facilitator_id)
        owner = who.is_(None) if owner_id is None else who == owner_id
        team = db.exec(select(Team).where(Team.name == clean, owner).order_by(col(Team.id))).first()
        if team is None:
            team = Team(facilitator_id=owner_id, name=clean, units=units)
            db.add(team)
            db.commit()
            db.refresh(team)
        return team


def _weighted_unit(i: int, n: int) -> int:
    """Units of different sizes, as in a real team: the first unit is twice as large as the others."""
    return (i % (n + 1)) % n if n > 1 else 0


def _simulate_step(
    db: Session,
    runner: Runner,
    run: Run,
    flow: Flow,
    step: Step,
    people: list[Participant],
    rng: random.Random,
    locale: str,
) -> None:
    exercise = runner.registry[step.exercise]
    settings_model = exercise.settings(step.settings)
    samples = step.demo.get(locale) or step.demo.get(flow.default_locale) or []
    if exercise.collects_answers:
        for p in people:
            if rng.random() < 0.08:  # a few people skip a step, as in a real room
                continue
            ctx = runner.reader.context(db, run, flow, step, unit=p.unit)
            for seq, answer in enumerate(exercise.simulate(settings_model, rng, samples, ctx), 1):
                db.add(
                    Answer(
                        run_id=run.id or 0,
                        participant_id=p.id or 0,
                        step_id=step.id,
                        seq=seq,
                        idempotency_key=secrets.token_urlsafe(16),
                        payload=answer.model_dump(mode="json"),
                    )
                )
        db.flush()
    ctx = runner.reader.context(db, run, flow, step)
    entries = runner.reader.entries(db, run, step, exercise)
    state = exercise.simulate_state(settings_model, rng, samples, entries, ctx)
    if state:
        db.add(StepState(run_id=run.id or 0, step_id=step.id, data=state))
        db.flush()
