"""What every part of the runner shares: its flows and exercises, reading a run (the views each
screen shows), and the one compare-and-set on a run's version."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import cache
from typing import Any, Protocol

from sqlalchemy import bindparam, func, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, select

from app.codes import normalise_code
from app.db import read, reading, session_scope
from app.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.flows import Flow, Step
from app.models import Answer, Participant, Run, RunStatus, Team
from app.views import PhoneView, Reader, RunView, StepView
from exercises import AnswerInvalid, AnyExercise
from exercises.base import N_, StepContext


@contextmanager
def refused_as_input() -> Iterator[None]:
    """An exercise's refusal (AnswerInvalid, from parsing an answer or an action) as the runner's
    InvalidInput, with the message the person reads."""
    try:
        yield
    except AnswerInvalid as exc:
        raise InvalidInput(exc.message, **exc.params) from None


# The reads on the paths of a join, a phone's page and socket, and every tovholder screen, built
# once (see app/views.py): building a statement cost about as much CPU as running it.
_BY_ID = select(Run).where(Run.id == bindparam("run_id"))
_BY_CODE = select(Run).where(Run.code == bindparam("code"))
_BY_TOKEN = select(Participant).where(Participant.token == bindparam("token"))
_VERSION = select(Run.version).where(Run.id == bindparam("run_id"))
_OWNER = select(Run.id, Run.facilitator_id).where(Run.id == bindparam("run_id"))
_UNITS = select(Team.units).where(Team.id == bindparam("team_id"))
_SEAT = (
    select(Participant.run_id, Participant.public_id)
    .join(Run, col(Run.id) == col(Participant.run_id))
    .where(Run.code == bindparam("code"), Participant.token == bindparam("token"))
)
_NAMES = (
    select(Participant.display_name)
    .where(Participant.run_id == bindparam("run_id"), col(Participant.display_name).is_not(None))
    .order_by(col(Participant.id))
)
COUNT_PHONES = select(func.count()).select_from(Participant).where(Participant.run_id == bindparam("run_id"))
_OWN = (
    select(Answer.payload)
    .where(Answer.participant_id == bindparam("participant_id"), Answer.step_id == bindparam("step_id"))
    .order_by(col(Answer.seq))
)


@cache
def _compare_and_set(names: tuple[str, ...]) -> Any:
    """The run's compare-and-set for one set of columns (names[0] is "version"), built once: it
    reads back what it stored (RETURNING)."""
    return (
        update(Run)
        .where(col(Run.id) == bindparam("run_id"), col(Run.version) == bindparam("expected"))
        .values({name: bindparam(f"new_{name}") for name in names})
        .returning(*(getattr(Run, name) for name in names))
    )


CONFLICT = N_("The session moved on in another window; this page now shows where it is.")


class Notifier(Protocol):
    def notify(self, run_id: int, what: str, run: Run | None = None) -> None:
        """After a commit, from the committing thread. `run`: the run's row as just committed
        (a step change), so the phones' screens need not read it again."""


class Silent:
    """The notifier of a runner without screens (the command line, the demo)."""

    def notify(self, run_id: int, what: str, run: Run | None = None) -> None:
        pass


class RunnerBase:
    def __init__(
        self,
        engine: Engine,
        flows: Mapping[str, Flow],
        registry: Mapping[str, AnyExercise],
        notifier: Notifier,
        min_group_size: int = 5,
    ) -> None:
        self.engine = engine
        self.read_engine = reading(engine)
        self.flows = flows
        self.registry = registry
        self.notifier = notifier
        self.reader = Reader(registry, min_group_size)
        self._flow_cache: dict[tuple[int, int], Flow] = {}

    @contextmanager
    def _session(self) -> Iterator[Session]:
        with session_scope(self.engine) as db:
            yield db

    @contextmanager
    def _reading(self) -> Iterator[Session]:
        """A session that only reads: on SQLite it waits for no writer."""
        with session_scope(self.read_engine) as db:
            yield db

    @staticmethod
    def _run(db: Session, run_id: int) -> Run:
        run = db.exec(_BY_ID, params={"run_id": run_id}).first()  # built once: cheaper than get()
        if run is None:
            raise NotFound(N_("There is no such session."))
        return run

    def _change(self, db: Session, run: Run, expected_version: int | None, **values: Any) -> Run:
        """The one compare-and-set on the run's version: sets `values`, and commits it with
        whatever the caller added to this transaction. Two tabs cannot both move the same step,
        nor act on a step the other has already moved past."""
        version = run.version if expected_version is None else expected_version
        names = ("version", *values)
        params = {f"new_{name}": value for name, value in values.items()}
        db.flush()  # what the caller added goes first, as the ORM's own execution would have
        # On the session's connection, not through the ORM's bulk update (about a third of a
        # move's CPU, measured): the run's row here gets what was stored just below.
        written = read(
            db, _compare_and_set(names), run_id=run.id, expected=version, new_version=version + 1, **params
        ).first()
        if written is None:
            db.rollback()
            raise Conflict(CONFLICT)
        db.commit()
        for name, value in zip(names, written, strict=True):
            set_committed_value(run, name, value)
        return run

    # --- reading -------------------------------------------------------------------------------

    def flow_of(self, run: Run) -> Flow:
        assert run.id is not None
        key = (run.id, run.flow_revision)  # an edit of the session's copy is a new revision
        flow = self._flow_cache.get(key)
        if flow is None:
            flow = Flow.model_validate(run.flow_snapshot)
            self._flow_cache[key] = flow
        return flow

    def get_run(self, run_id: int, facilitator_id: int | None = None) -> Run:
        """The run; with `facilitator_id`, only if that tovholder owns it. A run without an owner
        (a demo made before the first account, which takes it) is the command line's alone."""
        with self._reading() as db:
            run = self._run(db, run_id)
        if facilitator_id is not None and run.facilitator_id != facilitator_id:
            raise NotFound(N_("There is no such session."))
        return run

    def check_owner(self, run_id: int, facilitator_id: int | None) -> None:
        """NotFound unless the run is that tovholder's (as get_run with `facilitator_id`), read
        without the run's row."""
        with self._reading() as db:
            owner = read(db, _OWNER, run_id=run_id).first()
        if owner is None or (facilitator_id is not None and owner[1] != facilitator_id):
            raise NotFound(N_("There is no such session."))

    def run_by_code(self, code: str) -> Run:
        with self._reading() as db:
            return self._by_code(db, code)

    @staticmethod
    def _by_code(db: Session, code: str) -> Run:
        code = normalise_code(code)
        run = db.exec(_BY_CODE, params={"code": code}).first() if code else None
        if run is None:
            raise NotFound(
                N_("No session has the code %(code)s. Check the code on the big screen."),
                code=code or "?",
            )
        return run

    def runs_of(self, facilitator_id: int, limit: int = 50) -> list[Run]:
        with self._reading() as db:
            query = (
                select(Run)
                .where(col(Run.facilitator_id) == facilitator_id)
                .order_by(col(Run.created_at).desc())
                .limit(limit)
            )
            return list(db.exec(query).all())

    def run_view(self, run_id: int) -> RunView:
        with self._reading() as db:
            run = self._run(db, run_id)
            flow = self.flow_of(run)
            names = read(db, _NAMES, run_id=run_id).scalars().all()
            count = read(db, COUNT_PHONES, run_id=run_id).scalar_one()
            live = run.status == RunStatus.live
            current = self.reader.step_view(db, run, flow, run.step_index) if live else None
            following = next_on(flow, run.step_index if live else -1, +1)
            return RunView(
                run=run,
                flow=flow,
                team=self.reader.team(db, run),
                participant_count=int(count),
                participant_names=[n for n in names if n],
                current=current,
                next_step=flow.steps[following] if following is not None else None,
                word_filter=self.reader.word_filter(db, run),
            )

    def open_step(self, run_id: int, run: Run | None = None) -> tuple[Run, Flow, StepView | None]:
        """The run and the step on its screen (None outside a live run): what a phone push reads.
        `run`: the run's row as a change just committed it, in this thread (not read again)."""
        with self._reading() as db:
            run = self._run(db, run_id) if run is None or run.id != run_id else run
            flow = self.flow_of(run)
            live = run.status == RunStatus.live
            return (
                run,
                flow,
                self.reader.step_view(db, run, flow, run.step_index, phone=True) if live else None,
            )

    def step_results(self, run_id: int) -> tuple[Run, Flow, list[StepView]]:
        """Every step's results, for the results page and exports."""
        with self._reading() as db:
            run = self._run(db, run_id)
            flow = self.flow_of(run)
            return run, flow, [self.reader.step_view(db, run, flow, i) for i in range(len(flow.steps))]

    def step_context(self, run_id: int, step_id: str, unit: str | None = None) -> StepContext:
        """What an exercise is given for one step of a run, as a participant of `unit` sees it."""
        with self._reading() as db:
            run = self._run(db, run_id)
            flow = self.flow_of(run)
            index = self._index(flow, step_id)
            return self.reader.context(db, run, flow, flow.steps[index], unit=unit)

    def participant(self, token: str | None) -> Participant:
        if not token:
            raise Forbidden(N_("Your phone is not in a session yet. Join with the code."))
        with self._reading() as db:
            p = db.exec(_BY_TOKEN, params={"token": token}).first()
        if p is None:
            raise Forbidden(N_("Your phone is not in this session. Join again with the code."))
        return p

    def seat(self, code: str, token: str | None) -> tuple[int, str] | None:
        """The run id and public id of the phone of `token` in the session of `code` (a phone's
        socket, as it connects): one read of two columns. None: no such session, or the phone
        is not in it (the socket is refused either way)."""
        code = normalise_code(code)
        if not code or not token:
            return None
        with self._reading() as db:
            row = read(db, _SEAT, code=code, token=token).first()
        return (int(row[0]), str(row[1] or "")) if row is not None else None

    def phone_view_in(self, code: str, token: str | None) -> PhoneView:
        """The phone of `token` in the session of `code` and its view, in one read (the phone's
        page). NotFound: no session has the code; Forbidden: the phone is not in that session."""
        with self._reading() as db:
            run, participant = self._phone_of(db, code, token)
            return self._phone_view(db, participant, run)

    def _phone_of(self, db: Session, code: str, token: str | None) -> tuple[Run, Participant]:
        run = self._by_code(db, code)
        p = db.exec(_BY_TOKEN, params={"token": token}).first() if token else None
        if p is None or p.run_id != run.id:
            raise Forbidden(N_("Your phone is not in this session. Join again with the code."))
        return run, p

    def version_of(self, run_id: int) -> int:
        """The run's version alone: whether a screen is still current, without reading it."""
        with self._reading() as db:
            version: int | None = read(db, _VERSION, run_id=run_id).scalar()
        if version is None:
            raise NotFound(N_("There is no such session."))
        return version

    def phone_view(self, participant: Participant) -> PhoneView:
        with self._reading() as db:
            return self._phone_view(db, participant)

    def _phone_view(self, db: Session, participant: Participant, run: Run | None = None) -> PhoneView:
        """`run`: the participant's run, when the caller has just read it (the session's identity
        map holds its rows weakly, so it would read the run again)."""
        run = run if run is not None else self._run(db, participant.run_id)
        flow = self.flow_of(run)
        if run.status != RunStatus.live:
            return PhoneView(run=run, flow=flow, participant=participant, current=None)
        current = self.reader.step_view(db, run, flow, run.step_index, unit=participant.unit, phone=True)
        own = read(db, _OWN, participant_id=participant.id, step_id=current.step.id).scalars().all()
        return PhoneView(
            run=run,
            flow=flow,
            participant=participant,
            current=current,
            own_answers=[current.exercise.load_answer(p) for p in own],
        )

    def units_of(self, run: Run) -> list[str]:
        """The units a participant picks from on joining: the team's, when the flow uses units."""
        with self._reading() as db:  # reads nothing when the flow uses no units
            return self._units(db, run)

    def _units(self, db: Session, run: Run) -> list[str]:
        if run.team_id is None or not self.flow_of(run).uses_units:
            return []
        units = read(db, _UNITS, team_id=run.team_id).scalar()
        return list(units) if units else []

    def join_form(self, code: str) -> tuple[Run, list[str]]:
        """The run of `code` and the units its join form offers, in one read."""
        with self._reading() as db:
            run = self._by_code(db, code)
            return run, self._units(db, run)

    def _on_screen(self, run: Run, step_id: str, refusal: str) -> Step:
        """The run's step `step_id`, if it is the one on the screen; else Conflict(refusal)."""
        flow = self.flow_of(run)
        index = self._index(flow, step_id)
        if run.status != RunStatus.live or index != run.step_index:
            raise Conflict(refusal)
        return flow.steps[index]

    @staticmethod
    def _index(flow: Flow, step_id: str) -> int:
        index = flow.step_index(step_id)
        if index is None:
            raise NotFound(N_("This session has no step %(step)s."), step=step_id[:64])
        return index


def next_on(flow: Flow, position: int, delta: int) -> int | None:
    """Where `delta` steps that are switched on lead from `position` (-1 is the lobby): forward it
    stops at the last step that is on (None when there is none after), back at the lobby."""
    direction = 1 if delta > 0 else -1
    found: int | None = None
    i = position
    for _ in range(abs(delta)):
        i += direction
        while 0 <= i < len(flow.steps) and flow.steps[i].off:
            i += direction
        if i < 0:
            return -1
        if i >= len(flow.steps):
            break
        found = i
    return found
