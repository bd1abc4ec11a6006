"""`tovholder demo`: a finished session with simulated answers, for posters, screenshots and
benchmarks. The answers come from each step's `demo` samples in the flow file."""

from __future__ import annotations

import random
import secrets

from sqlmodel import col, select

from app.config import Settings
from app.db import make_engine, session_scope
from app.flows import load_flows
from app.models import Answer, Facilitator, Participant, Run, RunStatus, utcnow
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


def make_demo_run(
    settings: Settings,
    flow_name: str,
    participants: int,
    rng: random.Random,
    locale: str | None = None,
    owner_email: str | None = None,
) -> int:
    if not 1 <= participants <= 200:
        raise ValueError("--participants is from 1 to 200")
    registry = build_registry()
    flows = load_flows(settings.sessions_dir, registry)
    flow = flows.get(flow_name)
    if flow is None:
        raise ValueError(f"no flow named {flow_name!r} (there are: {', '.join(sorted(flows))})")
    locale = locale or flow.default_locale
    if locale not in flow.locales:
        raise ValueError(f"the flow {flow_name!r} has no {locale!r} texts ({', '.join(flow.locales)})")
    engine = make_engine(settings.resolved_database_url)
    with session_scope(engine) as db:
        query = select(Facilitator).order_by(col(Facilitator.id))
        if owner_email:
            query = query.where(Facilitator.email == owner_email.strip().lower())
        owner = db.exec(query).first()
    if owner_email and owner is None:
        raise ValueError(f"no account with the email {owner_email}")
    runner = Runner(engine, flows, registry, _Silent())
    run = runner.create_run(flow_name, locale, owner.id if owner else None, is_demo=True)
    assert run.id is not None
    with session_scope(engine) as db:
        people = []
        for i in range(participants):
            name = NAMES[i % len(NAMES)] if rng.random() < 0.7 else None
            p = Participant(run_id=run.id, token=secrets.token_urlsafe(24), display_name=name)
            db.add(p)
            people.append(p)
        db.flush()
        for step in flow.steps:
            exercise = registry[step.exercise]
            if not exercise.collects_answers:
                continue
            settings_model = exercise.settings(step.settings)
            samples = step.demo.get(locale) or step.demo.get(flow.default_locale) or []
            for p in people:
                if rng.random() < 0.08:  # a few people skip a step, as in a real room
                    continue
                for seq, answer in enumerate(exercise.simulate(settings_model, rng, samples), 1):
                    db.add(
                        Answer(
                            run_id=run.id,
                            participant_id=p.id or 0,
                            step_id=step.id,
                            seq=seq,
                            idempotency_key=secrets.token_urlsafe(16),
                            payload=answer.model_dump(mode="json"),
                        )
                    )
        stored = db.get(Run, run.id)
        assert stored is not None
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
