"""Reading a session for its exports, in one database session through the Reader: the run, its
flow and team, every step's view, and the people as anonymous ids.

Participants are anonymous ids numbered by join order ("P1", "P2", ...): no token and no name
leaves the database. A unit is named only where at least `min_group_size` people of the run
share it; smaller units are pooled as "other", and where that pool would still be under the
threshold, the smallest named units join it until it is not. An answer that names the units a
person rates (an exercise that `reveals_units`) would give a pooled person's unit away, so its
content is withheld for them."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import col, select

from app import i18n
from app.db import session_scope
from app.flows import Flow
from app.models import Answer, Participant, Run, StepState, Team
from app.runner import NotFound
from app.views import Reader, StepView, Unreadable
from exercises.base import N_
from exercises.words import Words

OTHER_UNIT = "other"


@dataclass(frozen=True)
class Person:
    """A participant as the exports show them."""

    id: str  # "P1", "P2", ... by join order within the run
    unit: str | None  # the unit, OTHER_UNIT, or None (no units, or no unit given)
    masked: bool  # the person has a unit and it is not the one shown


@dataclass
class SessionData:
    """Everything an export reads, read in one database session."""

    run: Run
    flow: Flow
    team: Team | None
    steps: list[StepView]
    people: dict[int, Person]  # participant row id -> person, in join order
    answers: list[Answer]  # in the order they were stored
    states: dict[str, StepState]
    public_ids: dict[str, str]  # a participant's public id -> their anonymous id
    min_group_size: int
    unreadable: dict[int, Unreadable]  # answer id -> why it does not fit its exercise

    @property
    def has_units(self) -> bool:
        return bool(self.team and self.team.units)

    def text(self, value: Mapping[str, str] | None) -> str:
        return self.words.text(value)

    @cached_property
    def words(self) -> Words:
        return i18n.words(self.run.locale, self.flow.default_locale)


def unit_labels(
    units: Mapping[int, str | None], has_units: bool, min_group_size: int
) -> dict[int, str | None]:
    """Each participant's unit as exported. A unit with fewer than `min_group_size` people is
    "other"; when the people in "other" are fewer than that, the smallest named unit joins them,
    until "other" is empty or big enough. Without team units, nobody has one."""
    if not has_units:
        return dict.fromkeys(units)
    sizes = Counter(u for u in units.values() if u)
    shown = {u for u, n in sizes.items() if n >= min_group_size}

    def pooled() -> int:
        return sum(n for u, n in sizes.items() if u not in shown)

    while shown and 0 < pooled() < min_group_size:
        shown.remove(min(shown, key=lambda u: (sizes[u], u)))
    return {pid: (u if u in shown else OTHER_UNIT) if u else None for pid, u in units.items()}


def load_session(engine: Engine, reader: Reader, run_id: int) -> SessionData:
    """The session as the exports read it. Answers that do not fit their exercise any more are
    set aside in `unreadable` (the exports say so), never silently shown as something else."""
    lenient = reader.lenient()
    with session_scope(engine) as db:
        run = db.get(Run, run_id)
        if run is None:
            raise NotFound(N_("There is no such session."))
        flow = Flow.model_validate(run.flow_snapshot)
        steps = [lenient.step_view(db, run, flow, i) for i in range(len(flow.steps))]
        team = lenient.team(db, run)
        participants = db.exec(
            select(Participant).where(Participant.run_id == run_id).order_by(col(Participant.id))
        ).all()
        # What the tovholder hid, and what the word filter still holds, stays out of the exports.
        shown = select(Answer).where(
            Answer.run_id == run_id, col(Answer.hidden_at).is_(None), col(Answer.held).is_(False)
        )
        answers = list(db.exec(shown.order_by(col(Answer.id))).all())
        states = {s.step_id: s for s in db.exec(select(StepState).where(StepState.run_id == run_id)).all()}
    has_units = bool(team and team.units)
    labels = unit_labels({p.id or 0: p.unit for p in participants}, has_units, reader.min_group_size)
    people: dict[int, Person] = {}
    public_ids: dict[str, str] = {}
    for number, p in enumerate(participants, 1):
        label = labels[p.id or 0]
        person = Person(id=f"P{number}", unit=label, masked=bool(p.unit) and label != p.unit)
        people[p.id or 0] = person
        if p.public_id:
            public_ids[p.public_id] = person.id
    return SessionData(
        run=run,
        flow=flow,
        team=team,
        steps=steps,
        people=people,
        answers=answers,
        states=states,
        public_ids=public_ids,
        min_group_size=reader.min_group_size,
        unreadable={u.answer_id: u for u in lenient.unreadable or []},
    )


def aware(value: datetime) -> datetime:
    """SQLite gives back naive datetimes; every stored time is UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def minute(value: datetime) -> datetime:
    return aware(value).replace(second=0, microsecond=0)


def scrub(value: Any, public_ids: Mapping[str, str]) -> Any:
    """A result or a step state made anonymous: public ids become the anonymous ids, and a
    person's name next to a public id (a groups list) is dropped."""
    if isinstance(value, Mapping):
        person = "public_id" in value
        return {
            public_ids.get(k, k): None if person and k == "name" else scrub(v, public_ids)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [scrub(v, public_ids) for v in value]
    if isinstance(value, str):
        return public_ids.get(value, value)
    return value


@dataclass(frozen=True)
class Row:
    """One answer with where it belongs."""

    answer: Answer
    person: Person
    view: StepView | None  # None: a step the session's flow no longer has
    withheld: bool


def rows(data: SessionData) -> list[Row]:
    """The answers step by step in the flow's order, then any to steps the flow lacks."""
    order = {sv.step.id: i for i, sv in enumerate(data.steps)}
    found = []
    for answer in data.answers:
        person = data.people.get(answer.participant_id, Person(id="P?", unit=None, masked=False))
        index = order.get(answer.step_id)
        view = data.steps[index] if index is not None else None
        withheld = view is not None and view.exercise.reveals_units and person.masked
        found.append(Row(answer=answer, person=person, view=view, withheld=withheld))
    found.sort(key=lambda r: (order.get(r.answer.step_id, len(order)), r.answer.id or 0))
    return found
