"""A team's record across its sessions, read from the database through the Reader: the
commitments its steps gave (`takeaways`), the status marks its check-ins stored (`marks`), and
its rated items' medians (`readings`). The Reader hands a check-in step the open commitments;
the Program service (app/program.py) builds the team page and `tovholder team report` from it.
Only what exercises give through their hooks: counts and medians, never who answered."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import date
from typing import TYPE_CHECKING

from sqlmodel import Session, col, select

from app import i18n
from app.flows import Flow
from app.models import Run
from exercises.base import Exercise
from exercises.follow import Mark, Reading, Takeaway, TeamCommitment

if TYPE_CHECKING:
    from app.views import Reader

MAX_RUNS = 200


@dataclass(frozen=True)
class Made:
    """A commitment where it was made."""

    key: str
    takeaway: Takeaway
    run: Run
    step_title: str


def run_day(run: Run) -> date:
    return (run.started_at or run.created_at).date()


def team_runs(db: Session, team_id: int, before: Run | None = None) -> list[Run]:
    """The team's started sessions, oldest first; with `before`, only those made before it."""
    query = select(Run).where(Run.team_id == team_id, col(Run.started_at).is_not(None))
    runs = list(db.exec(query.order_by(col(Run.created_at), col(Run.id)).limit(MAX_RUNS)).all())
    if before is not None:
        runs = [r for r in runs if (r.created_at, r.id or 0) < (before.created_at, before.id or 0)]
    return runs


def commitment_key(run: Run, step_id: str, t: Takeaway) -> str:
    digest = hashlib.sha1(f"{t.what}\x00{t.who}\x00{t.when}".encode()).hexdigest()[:10]
    return f"{run.id}.{step_id}.{digest}"


def made(reader: Reader, db: Session, runs: list[Run], locale: str) -> list[Made]:
    """Every commitment the team's sessions gave, oldest session first."""
    out: list[Made] = []
    for run in runs:
        flow = Flow.model_validate(run.flow_snapshot)
        words = i18n.words(locale, flow.default_locale)
        for index, step in enumerate(flow.steps):
            exercise = reader.registry[step.exercise]
            if step.off or type(exercise).takeaways is Exercise.takeaways:
                continue
            sv = reader.step_view(db, run, flow, index)
            for t in exercise.takeaways(sv.settings, sv.result):
                out.append(Made(commitment_key(run, step.id, t), t, run, words.text(step.title)))
    return out


def marks(reader: Reader, db: Session, runs: list[Run]) -> list[Mark]:
    """Every status mark the team's check-ins stored, in time order."""
    out: list[Mark] = []
    for run in runs:
        flow = Flow.model_validate(run.flow_snapshot)
        for step in flow.steps:
            exercise = reader.registry[step.exercise]
            if step.off or not exercise.reads_team_commitments:
                continue
            state = reader.state(db, run, step.id) or {}
            out += exercise.marks(exercise.settings(step.settings), state)
    return sorted(out, key=lambda m: m.at)


def commitments(
    reader: Reader, db: Session, team_id: int, locale: str, before: Run | None = None
) -> list[TeamCommitment]:
    """The team's commitments as they stand: each with its status, newest owner and date, and
    the dated history of its marks. With `before`, as they stood when that session began."""
    runs = team_runs(db, team_id, before)
    words = i18n.words(locale)
    history: dict[str, list[Mark]] = {}
    for m in marks(reader, db, runs):
        history.setdefault(m.key, []).append(m)
    out: list[TeamCommitment] = []
    for c in made(reader, db, runs, locale):
        t = c.takeaway
        tc = TeamCommitment(
            key=c.key,
            what=t.what,
            who=t.who,
            when=words.date(date.fromisoformat(t.date), "medium") if t.date else t.when,
            session=f"{words.date(run_day(c.run), 'medium')} · {c.step_title}",
            where=t.where,
            history=tuple(history.get(c.key, ())),
        )
        for m in tc.history:
            tc = replace(
                tc,
                status=m.status,
                owner=m.owner or tc.owner,
                due=words.date(date.fromisoformat(m.due), "medium") if m.due else tc.due,
            )
        out.append(tc)
    return out


def readings(reader: Reader, db: Session, runs: list[Run]) -> list[tuple[Run, Reading]]:
    """Every rated item's median in every session, oldest session first."""
    out: list[tuple[Run, Reading]] = []
    for run in runs:
        flow = Flow.model_validate(run.flow_snapshot)
        for index, step in enumerate(flow.steps):
            exercise = reader.registry[step.exercise]
            if step.off or type(exercise).readings is Exercise.readings:
                continue
            sv = reader.step_view(db, run, flow, index)
            out += [(run, r) for r in exercise.readings(sv.settings, sv.result)]
    return out
