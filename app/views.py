"""The reading side of a run: what each screen shows, built in one database session. The runner
writes; this module reads, and hands exercises their context (units, people, state, sources)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy import bindparam
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from app import team_record
from app.db import read
from app.flows import Flow, Step
from app.models import Answer, Participant, Run, RunStatus, StepState, Team, WordFilter
from exercises import AnyExercise
from exercises.base import Entry, Member, Source, StepContext

MAX_SOURCE_DEPTH = 3
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Unreadable:
    """A stored answer that does not fit its exercise's answer model (the model changed since)."""

    answer_id: int
    step_id: str
    reason: str  # where and why it does not fit, without the answer's content


def answers_editable(run: Run, step: Step, exercise: AnyExercise) -> bool:
    """Whether a person may still change or take back a text answer to the step on the screen:
    while it is on the screen and, where it hides its results, until the tovholder shows them."""
    if run.status != RunStatus.live or not exercise.takes_text or not exercise.collects_answers:
        return False
    return not (step.hide_results and run.revealed)


@dataclass(frozen=True)
class Card:
    """One answer's text as the tovholder's moderation list shows it: never who wrote it."""

    answer_id: int
    text: str
    state: str  # "shown", "hidden" (by the tovholder) or "held" (by the word filter)


@dataclass
class StepView:
    index: int
    step: Step
    exercise: AnyExercise
    settings: BaseModel
    result: BaseModel
    ctx: StepContext
    answer_count: int
    answered_count: int
    entries: list[Entry[Any]] = field(default_factory=list)
    hidden_count: int = 0  # answers the tovholder took off the screens
    held_count: int = 0  # answers the word filter holds for the tovholder's approval
    cards: list[Card] = field(default_factory=list)  # a text step's answers, newest first

    @property
    def takes_answers(self) -> bool:
        """Whether people answer this step here (a grouping of another step's cards does not)."""
        return self.exercise.collects_answers and self.exercise.max_answers(self.settings, self.ctx) > 0


@dataclass
class RunView:
    """Everything the screens of one run show, read in one go after a change."""

    run: Run
    flow: Flow
    team: Team | None
    participant_count: int
    participant_names: list[str]
    current: StepView | None
    next_step: Step | None
    word_filter: list[str] = field(default_factory=list)  # the tovholder's, in the run's language

    @property
    def version(self) -> int:
        return self.run.version


@dataclass
class PhoneView:
    run: Run
    flow: Flow
    participant: Participant
    current: StepView | None
    own_answers: list[BaseModel] = field(default_factory=list)

    @property
    def can_answer(self) -> bool:
        if self.current is None or self.run.status != RunStatus.live:
            return False
        limit = self.current.exercise.max_answers(self.current.settings, self.current.ctx)
        return len(self.own_answers) < limit


# The reads of every screen and push, built once: a statement built per read cost about as much
# CPU as running it (SQLAlchemy's expression building), on the path of every step change.
_MEMBERS = (
    select(Participant.public_id, Participant.display_name, Participant.unit)
    .where(Participant.run_id == bindparam("run_id"))
    .order_by(col(Participant.id))
)
_STATE = select(StepState.data).where(
    StepState.run_id == bindparam("run_id"), StepState.step_id == bindparam("step_id")
)
_ANSWERS = (
    sa_select(
        col(Answer.id),
        col(Answer.participant_id),
        col(Answer.payload),
        col(Answer.hidden_at),
        col(Answer.held),
        col(Participant.unit),
    )
    .join(Participant, col(Participant.id) == col(Answer.participant_id))
    .where(col(Answer.run_id) == bindparam("run_id"), col(Answer.step_id) == bindparam("step_id"))
    .order_by(col(Answer.id))
)


class Reader:
    def __init__(
        self,
        registry: Mapping[str, AnyExercise],
        min_group_size: int,
        unreadable: list[Unreadable] | None = None,
    ) -> None:
        self.registry = registry
        self.min_group_size = min_group_size
        self.unreadable = unreadable

    def lenient(self) -> Reader:
        """A reader that sets aside the answers that do not fit their exercise, in `unreadable`,
        and reads on without them (for the exports, which say so); this one refuses to."""
        return Reader(self.registry, self.min_group_size, unreadable=[])

    def team(self, db: Session, run: Run) -> Team | None:
        return db.get(Team, run.team_id) if run.team_id is not None else None

    def members(self, db: Session, run: Run) -> tuple[Member, ...]:
        rows = read(db, _MEMBERS, run_id=run.id).all()
        return tuple(Member(public_id=pid or "", name=name, unit=unit) for pid, name, unit in rows)

    def word_filter(self, db: Session, run: Run) -> list[str]:
        """The word filter of the run's tovholder in the run's language (moderation)."""
        owner = (
            col(WordFilter.facilitator_id).is_(None)
            if run.facilitator_id is None
            else col(WordFilter.facilitator_id) == run.facilitator_id
        )
        words = db.exec(select(WordFilter.words).where(owner, WordFilter.locale == run.locale)).first()
        return list(words) if words else []

    def state(self, db: Session, run: Run, step_id: str) -> dict[str, Any] | None:
        data = read(db, _STATE, run_id=run.id, step_id=step_id).scalar()
        return dict(data) if data is not None else None

    def entries(self, db: Session, run: Run, step: Step, exercise: AnyExercise) -> list[Entry[Any]]:
        """The answers every screen, result, export and poster reads: not those the tovholder
        hid, nor those the word filter holds."""
        return self._read(db, run, step, exercise)[0]

    def _read(
        self, db: Session, run: Run, step: Step, exercise: AnyExercise
    ) -> tuple[list[Entry[Any]], list[Card], int, int]:
        rows = read(db, _ANSWERS, run_id=run.id, step_id=step.id).all()
        entries: list[Entry[Any]] = []
        cards: list[Card] = []
        hidden = held = 0
        settings = exercise.settings(step.settings) if exercise.takes_text else None
        for aid, pid, payload, hidden_at, is_held, unit in rows:
            try:
                answer = exercise.load_answer(payload)
            except ValidationError as exc:
                if self.unreadable is None:
                    raise
                self._set_aside(run, step, aid or 0, exc)
                continue
            state = "hidden" if hidden_at is not None else "held" if is_held else "shown"
            if settings is not None:
                cards.append(Card(answer_id=aid or 0, text=exercise.card_text(settings, answer), state=state))
            if state == "hidden":
                hidden += 1
            elif state == "held":
                held += 1
            else:
                entries.append(Entry(id=aid or 0, answer=answer, participant=pid, unit=unit))
        cards.reverse()
        return entries, cards, hidden, held

    def _set_aside(self, run: Run, step: Step, answer_id: int, exc: ValidationError) -> None:
        assert self.unreadable is not None
        if any(u.answer_id == answer_id for u in self.unreadable):
            return  # read before, as another step's source
        where = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'answer'}: {e['msg']}" for e in exc.errors())
        log.error(
            "run %s step %s: answer %d does not fit %s (%s)",
            run.id,
            step.id,
            answer_id,
            step.exercise,
            where,
        )
        self.unreadable.append(Unreadable(answer_id=answer_id, step_id=step.id, reason=where))

    def context(
        self,
        db: Session,
        run: Run,
        flow: Flow,
        step: Step,
        *,
        unit: str | None = None,
        members: tuple[Member, ...] | None = None,
        depth: int = 0,
        sources: bool = True,
    ) -> StepContext:
        exercise = self.registry[step.exercise]
        settings = exercise.settings(step.settings)
        team = self.team(db, run)
        if members is None and exercise.reads_members:
            members = self.members(db, run)  # else left unread, and a source that needs them reads them
        base = StepContext(
            locale=run.locale,
            units=tuple(team.units) if team else (),
            min_group_size=self.min_group_size,
            members=members or (),
            unit=unit,
        )
        state = self.state(db, run, step.id)
        read: dict[str, Source] = {}
        if sources and depth < MAX_SOURCE_DEPTH:
            for source_id in exercise.sources(settings):
                index = flow.step_index(source_id)
                if index is not None:
                    read[source_id] = self.source(db, run, flow, flow.steps[index], members, depth + 1)
        earlier = self.earlier(db, run, step.earlier) if step.earlier and depth == 0 else None
        full = replace(base, sources=read, earlier=earlier)
        if exercise.reads_team_commitments and run.team_id is not None and depth == 0:
            # The team's commitments from earlier sessions that were not done when this one began.
            made = team_record.commitments(self, db, run.team_id, run.locale, before=run)
            full = replace(full, commitments=tuple(c for c in made if c.status != "done"))
        return replace(full, state=state if state is not None else exercise.initial_state(settings, full))

    def source(
        self, db: Session, run: Run, flow: Flow, step: Step, members: tuple[Member, ...] | None, depth: int
    ) -> Source:
        exercise = self.registry[step.exercise]
        settings = exercise.settings(step.settings)
        ctx = self.context(db, run, flow, step, members=members, depth=depth)
        entries = self.entries(db, run, step, exercise)
        return Source(
            exercise=exercise.name,
            result=exercise.aggregate(settings, entries, ctx),
            entries=tuple(entries),
            state=ctx.state,
        )

    def earlier(self, db: Session, run: Run, key: str) -> Source | None:
        """The team's latest other session whose flow published `key`: that step's result."""
        if run.team_id is None:
            return None
        others = db.exec(
            select(Run)
            .where(Run.team_id == run.team_id, col(Run.id) != run.id, col(Run.started_at).is_not(None))
            .order_by(col(Run.created_at).desc())
            .limit(50)
        ).all()
        for other in others:
            flow = Flow.model_validate(other.flow_snapshot)
            for step in flow.steps:
                if step.publish == key:
                    return self.source(db, other, flow, step, None, MAX_SOURCE_DEPTH)
        return None

    def step_view(
        self, db: Session, run: Run, flow: Flow, index: int, *, unit: str | None = None, phone: bool = False
    ) -> StepView:
        """The step with its answers, result and context; `phone`: as a phone's screen needs it,
        without the sources an exercise's phone never shows (`phone_shows_sources`)."""
        step = flow.steps[index]
        exercise = self.registry[step.exercise]
        settings = exercise.settings(step.settings)
        ctx = self.context(db, run, flow, step, unit=unit, sources=not phone or exercise.phone_shows_sources)
        entries, cards, hidden, held = self._read(db, run, step, exercise)
        return StepView(
            index=index,
            step=step,
            exercise=exercise,
            settings=settings,
            result=exercise.aggregate(settings, entries, ctx),
            ctx=ctx,
            answer_count=len(entries),
            answered_count=len({e.participant for e in entries}),
            entries=entries,
            hidden_count=hidden,
            held_count=held,
            cards=cards,
        )
