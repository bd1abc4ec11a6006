"""The run's state machine: start, advance, back, reveal, timer, close; answers. Every change is
written in one transaction, and only after the commit does the runner call notify()."""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

from sqlalchemy import func, or_, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app.codes import normalise_code
from app.db import session_scope
from app.flows import Flow
from app.models import Answer, Participant, Run, RunStatus, StepState, Team, utcnow
from app.views import PhoneView, Reader, RunView, StepView
from exercises import AnswerInvalid, AnyExercise
from exercises.base import N_, clean_text

log = logging.getLogger(__name__)

CODE_ALPHABET = "ACDEFHJKMNPRTUWXY3479"  # no look-alikes: no B/8, O/0/Q, I/1/L, S/5, Z/2, G/6, V
CODE_LENGTH = 6
KEY_PATTERN = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
MAX_TIMER_SECONDS = 4 * 3600


class Notifier(Protocol):
    def notify(self, run_id: int, what: str) -> None: ...


class RunnerError(Exception):
    """A refusal a person can act on. `message` is an English msgid marked with N_()."""

    status_code = 400

    def __init__(self, message: str, **params: Any) -> None:
        super().__init__(message % params if params else message)
        self.message = message
        self.params = params


class NotFound(RunnerError):
    status_code = 404


class Conflict(RunnerError):
    status_code = 409


class Invalid(RunnerError):
    status_code = 422


class Forbidden(RunnerError):
    status_code = 403


@dataclass
class SubmitResult:
    created: bool
    view: PhoneView


class Runner:
    def __init__(
        self,
        engine: Engine,
        flows: Mapping[str, Flow],
        registry: Mapping[str, AnyExercise],
        notifier: Notifier,
        min_group_size: int = 5,
    ) -> None:
        self.engine = engine
        self.flows = flows
        self.registry = registry
        self.notifier = notifier
        self.reader = Reader(registry, min_group_size)
        self._flow_cache: dict[tuple[int, int], Flow] = {}

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
        with session_scope(self.engine) as db:
            run = db.get(Run, run_id)
            if run is None:
                raise NotFound(N_("There is no such session."))
            if facilitator_id is not None and run.facilitator_id not in (None, facilitator_id):
                raise NotFound(N_("There is no such session."))
            return run

    def run_by_code(self, code: str) -> Run:
        code = normalise_code(code)
        with session_scope(self.engine) as db:
            run = db.exec(select(Run).where(Run.code == code)).first() if code else None
        if run is None:
            raise NotFound(
                N_("No session has the code %(code)s. Check the code on the big screen."),
                code=code or "?",
            )
        return run

    def runs_of(self, facilitator_id: int, limit: int = 50) -> list[Run]:
        with session_scope(self.engine) as db:
            query = (
                select(Run)
                .where(or_(col(Run.facilitator_id) == facilitator_id, col(Run.facilitator_id).is_(None)))
                .order_by(col(Run.created_at).desc())
                .limit(limit)
            )
            return list(db.exec(query).all())

    def _step_view(self, db: Session, run: Run, flow: Flow, index: int) -> StepView:
        return self.reader.step_view(db, run, flow, index)

    def run_view(self, run_id: int) -> RunView:
        with session_scope(self.engine) as db:
            run = db.get(Run, run_id)
            if run is None:
                raise NotFound(N_("There is no such session."))
            flow = self.flow_of(run)
            names = db.exec(
                select(Participant.display_name)
                .where(Participant.run_id == run_id, col(Participant.display_name).is_not(None))
                .order_by(col(Participant.id))
            ).all()
            count = db.exec(
                select(func.count()).select_from(Participant).where(Participant.run_id == run_id)
            ).one()
            current = self._step_view(db, run, flow, run.step_index) if run.status == RunStatus.live else None
            position = run.step_index if run.status == RunStatus.live else -1
            following = _next_on(flow, position, +1)
            next_step = flow.steps[following] if following is not None else None
            return RunView(
                run=run,
                flow=flow,
                team=self.reader.team(db, run),
                participant_count=int(count),
                participant_names=[n for n in names if n],
                current=current,
                next_step=next_step,
            )

    def step_results(self, run_id: int) -> tuple[Run, Flow, list[StepView]]:
        """Every step's results, for the results page and exports."""
        with session_scope(self.engine) as db:
            run = db.get(Run, run_id)
            if run is None:
                raise NotFound(N_("There is no such session."))
            flow = self.flow_of(run)
            return run, flow, [self._step_view(db, run, flow, i) for i in range(len(flow.steps))]

    def participant(self, token: str | None) -> Participant:
        if not token:
            raise Forbidden(N_("Your phone is not in a session yet. Join with the code."))
        with session_scope(self.engine) as db:
            p = db.exec(select(Participant).where(Participant.token == token)).first()
        if p is None:
            raise Forbidden(N_("Your phone is not in this session. Join again with the code."))
        return p

    def phone_view(self, participant: Participant) -> PhoneView:
        with session_scope(self.engine) as db:
            return self._phone_view(db, participant)

    def _phone_view(self, db: Session, participant: Participant) -> PhoneView:
        run = db.get(Run, participant.run_id)
        assert run is not None
        flow = self.flow_of(run)
        if run.status != RunStatus.live:
            return PhoneView(run=run, flow=flow, participant=participant, current=None)
        current = self.reader.step_view(db, run, flow, run.step_index, unit=participant.unit)
        own = db.exec(
            select(Answer.payload)
            .where(Answer.participant_id == participant.id, Answer.step_id == current.step.id)
            .order_by(col(Answer.seq))
        ).all()
        return PhoneView(
            run=run,
            flow=flow,
            participant=participant,
            current=current,
            own_answers=[current.exercise.load_answer(p) for p in own],
        )

    # --- the tovholder's actions ---------------------------------------------------------------

    def create_run(
        self,
        flow_name: str,
        locale: str,
        facilitator_id: int | None,
        *,
        is_demo: bool = False,
        team_id: int | None = None,
        flow: Flow | None = None,
    ) -> Run:
        """A new session in the lobby with a snapshot of its flow (a shipped one by name, or the
        tovholder's imported `flow`): editing the flow file later never changes this session."""
        flow = flow or self.flows.get(flow_name)
        if flow is None:
            raise NotFound(N_("There is no flow named %(name)s."), name=flow_name)
        if locale not in flow.locales:
            locale = flow.default_locale
        for _ in range(10):
            run = Run(
                code="".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH)),
                flow_name=flow.name,
                flow_snapshot=flow.model_dump(mode="json"),
                locale=locale,
                facilitator_id=facilitator_id,
                is_demo=is_demo,
                team_id=team_id,
            )
            try:
                with session_scope(self.engine) as db:
                    db.add(run)
                    db.commit()
                    db.refresh(run)
                log.info("run created", extra={"run_id": run.id, "flow": flow.name})
                return run
            except IntegrityError:
                continue  # the code was taken; draw another
        raise Conflict(N_("Could not find a free join code; please try again."))

    def _change(self, run_id: int, expected_version: int | None, **values: Any) -> Run:
        """Compare-and-set on the run's version: two tabs cannot both move the same step."""
        with session_scope(self.engine) as db:
            run = db.get(Run, run_id)
            if run is None:
                raise NotFound(N_("There is no such session."))
            _bump(db, run, expected_version, **values)
            db.commit()
            db.refresh(run)
            return run

    def move(self, run_id: int, delta: int, expected_version: int | None = None) -> Run:
        """Next (+1) or back (-1): from the lobby into step 1, and from step 1 back to the lobby."""
        run = self.get_run(run_id)
        flow = self.flow_of(run)
        if run.status == RunStatus.closed:
            raise Conflict(N_("This session has ended."))
        position = -1 if run.status == RunStatus.lobby else run.step_index
        found = _next_on(flow, position, delta)
        if found is None or found == position:  # past the last step that is on, or the lobby: stay
            return run
        target = found
        values: dict[str, Any] = {"timer_ends_at": None}
        if target == -1:
            values.update(status=RunStatus.lobby, step_index=0, revealed=True)
        else:
            values.update(
                status=RunStatus.live,
                step_index=target,
                revealed=not flow.steps[target].hide_results,
            )
            if run.started_at is None:
                values["started_at"] = utcnow()
        run = self._change(run_id, expected_version, **values)
        if target >= 0:
            self._settle_state(run, flow, target)
        log.info("step moved", extra={"run_id": run_id, "step_index": run.step_index})
        self.notifier.notify(run_id, "step")
        return run

    def _settle_state(self, run: Run, flow: Flow, index: int) -> None:
        """A step the tovholder acts on keeps the state it opened with (the groups as split when
        the step came up), so people who join later do not reshuffle everyone."""
        step = flow.steps[index]
        exercise = self.registry[step.exercise]
        if not exercise.has_actions:
            return
        with session_scope(self.engine) as db:
            if self.reader.state(db, run, step.id) is not None:
                return
            ctx = self.reader.context(db, run, flow, step)
            db.add(StepState(run_id=run.id or 0, step_id=step.id, data=dict(ctx.state)))
            try:
                db.commit()
            except IntegrityError:
                db.rollback()  # another tab opened the step at the same moment: its state stands

    def set_revealed(self, run_id: int, revealed: bool, expected_version: int | None = None) -> Run:
        run = self._change(run_id, expected_version, revealed=revealed)
        self.notifier.notify(run_id, "reveal")
        return run

    def set_timer(self, run_id: int, seconds: int | None, expected_version: int | None = None) -> Run:
        if seconds is not None and not 0 < seconds <= MAX_TIMER_SECONDS:
            raise Invalid(N_("A timer runs from 1 second to 4 hours."))
        ends = utcnow() + timedelta(seconds=seconds) if seconds else None
        run = self._change(run_id, expected_version, timer_ends_at=ends)
        self.notifier.notify(run_id, "timer")
        return run

    def close(self, run_id: int, expected_version: int | None = None) -> Run:
        run = self.get_run(run_id)
        if run.status == RunStatus.closed:
            return run
        run = self._change(
            run_id, expected_version, status=RunStatus.closed, closed_at=utcnow(), timer_ends_at=None
        )
        log.info("run closed", extra={"run_id": run_id})
        self.notifier.notify(run_id, "step")
        return run

    # --- the participants' actions -------------------------------------------------------------

    def join(self, code: str, display_name: str | None = None, unit: str | None = None) -> Participant:
        run = self.run_by_code(code)
        if run.status == RunStatus.closed:
            raise Conflict(N_("This session has ended. Thank you for taking part!"))
        name = None
        if display_name and display_name.strip():
            try:
                name = clean_text(display_name, max_length=40, single_line=True)
            except AnswerInvalid as exc:
                if exc.params:  # too long; a name of nothing visible joins without a name
                    raise Invalid(N_("A name is at most 40 characters.")) from None
        assert run.id is not None
        chosen = self._unit_for(run, unit)
        participant = Participant(
            run_id=run.id,
            token=secrets.token_urlsafe(24),
            display_name=name,
            unit=chosen,
            public_id=secrets.token_urlsafe(6),
        )
        with session_scope(self.engine) as db:
            db.add(participant)
            db.commit()
            db.refresh(participant)
        self.notifier.notify(run.id, "people")
        return participant

    def submit_answer(
        self, token: str | None, step_id: str, form: Mapping[str, Any], key: str
    ) -> SubmitResult:
        """Store one answer once. A key already stored is acknowledged again, never stored twice."""
        if not isinstance(key, str) or not KEY_PATTERN.match(key):
            raise RunnerError(N_("The answer came without a valid key; reload the page and send again."))
        participant = self.participant(token)
        with session_scope(self.engine) as db:
            if self._stored(db, participant, key):
                return SubmitResult(created=False, view=self._phone_view(db, participant))
            run = db.get(Run, participant.run_id)
            assert run is not None and run.id is not None
            flow = self.flow_of(run)
            index = flow.step_index(step_id)
            if index is None:
                raise NotFound(N_("This session has no step %(step)s."), step=step_id[:64])
            if run.status != RunStatus.live or index != run.step_index:
                raise Conflict(N_("This question is closed: the session has moved on."))
            step = flow.steps[index]
            exercise = self.registry[step.exercise]
            settings = exercise.settings(step.settings)
            ctx = self.reader.context(db, run, flow, step, unit=participant.unit)
            try:
                answer = exercise.parse_answer(settings, form, ctx)
            except AnswerInvalid as exc:
                raise Invalid(exc.message, **exc.params) from None
            limit = exercise.max_answers(settings, ctx)
            # Each lost race means another answer of this person took a place, so `limit` + 1
            # tries always end in a stored answer, a stored twin, or a full step.
            for _ in range(limit + 1):
                count = db.exec(
                    select(func.count())
                    .select_from(Answer)
                    .where(Answer.participant_id == participant.id, Answer.step_id == step.id)
                ).one()
                if count >= limit:
                    raise Conflict(N_("You have sent all the answers this step takes."))
                db.add(
                    Answer(
                        run_id=run.id,
                        participant_id=participant.id or 0,
                        step_id=step.id,
                        seq=int(count) + 1,
                        idempotency_key=key,
                        payload=answer.model_dump(mode="json"),
                    )
                )
                try:
                    db.commit()
                    break
                except IntegrityError:
                    # A retry of the same key raced its twin, or another key took this place:
                    # then count again and take the next place, if there is one.
                    db.rollback()
                    if self._stored(db, participant, key):
                        return SubmitResult(created=False, view=self._phone_view(db, participant))
            else:
                raise Conflict(N_("You have sent all the answers this step takes."))
            view = self._phone_view(db, participant)
        self.notifier.notify(run.id, "tally")
        return SubmitResult(created=True, view=view)

    @staticmethod
    def _stored(db: Session, participant: Participant, key: str) -> bool:
        return (
            db.exec(
                select(Answer.id).where(
                    Answer.participant_id == participant.id, Answer.idempotency_key == key
                )
            ).first()
            is not None
        )

    def answers_in_run(self, run_id: int) -> Sequence[Answer]:
        with session_scope(self.engine) as db:
            return list(db.exec(select(Answer).where(Answer.run_id == run_id)).all())

    def units_of(self, run: Run) -> list[str]:
        """The units a participant picks from on joining: the team's, when the flow uses units."""
        if run.team_id is None or not self.flow_of(run).uses_units:
            return []
        with session_scope(self.engine) as db:
            team = db.get(Team, run.team_id)
        return list(team.units) if team else []

    def _unit_for(self, run: Run, unit: str | None) -> str | None:
        units = self.units_of(run)
        if not units:
            return None
        if not unit:
            raise Invalid(N_("Please pick your unit."))
        if unit not in units:
            raise Invalid(N_("Please pick one of the units on the list."))
        return unit

    def replace_flow(self, run_id: int, flow: Flow, expected_version: int | None = None) -> Run:
        """Swap in an edited copy of the session's flow (steps switched off, texts changed)."""
        run = self.get_run(run_id)
        if run.status == RunStatus.closed:
            raise Conflict(N_("This session has ended."))
        if run.status == RunStatus.live and flow.steps[run.step_index].off:
            raise Invalid(N_("The step on the screen now cannot be switched off."))
        run = self._change(
            run_id,
            expected_version,
            flow_snapshot=flow.model_dump(mode="json"),
            flow_revision=run.flow_revision + 1,
        )
        log.info("flow copy edited", extra={"run_id": run_id})
        self.notifier.notify(run_id, "step")
        return run

    def delete_run(self, run_id: int) -> None:
        """Delete a session and, through the database's cascades, every answer, person, step state,
        results link and poster curation of it."""
        with session_scope(self.engine) as db:
            run = db.get(Run, run_id)
            if run is None:
                raise NotFound(N_("There is no such session."))
            db.delete(run)
            db.commit()
        self._flow_cache = {k: v for k, v in self._flow_cache.items() if k[0] != run_id}
        log.info("run deleted", extra={"run_id": run_id})

    def delete_expired(self, retention_days: int) -> int:
        """Delete the sessions that ended (or were made) more than `retention_days` ago."""
        cutoff = utcnow() - timedelta(days=retention_days)
        with session_scope(self.engine) as db:
            expired = db.exec(
                select(Run.id).where(
                    or_(
                        col(Run.closed_at) < cutoff,
                        (col(Run.closed_at).is_(None)) & (col(Run.created_at) < cutoff),
                    )
                )
            ).all()
        for run_id in expired:
            if run_id is not None:
                self.delete_run(run_id)
        return len(expired)

    # --- the tovholder's actions on a step ------------------------------------------------------

    def act(
        self,
        run_id: int,
        step_id: str,
        action: str,
        form: Mapping[str, Any],
        expected_version: int | None = None,
    ) -> Run:
        """An action on the current step (group the cards, edit the statement, pause the timer):
        the exercise decides the new state; it is written with the run's version bump."""
        with session_scope(self.engine) as db:
            run = db.get(Run, run_id)
            if run is None:
                raise NotFound(N_("There is no such session."))
            flow = self.flow_of(run)
            index = flow.step_index(step_id)
            if index is None:
                raise NotFound(N_("This session has no step %(step)s."), step=step_id[:64])
            if run.status != RunStatus.live or index != run.step_index:
                raise Conflict(N_("This step is not on the screen now."))
            step = flow.steps[index]
            exercise = self.registry[step.exercise]
            settings = exercise.settings(step.settings)
            ctx = self.reader.context(db, run, flow, step)
            try:
                state = exercise.act(settings, ctx.state, action, form, ctx)
            except AnswerInvalid as exc:
                raise Invalid(exc.message, **exc.params) from None
            _bump(db, run, expected_version)
            row = db.exec(
                select(StepState).where(StepState.run_id == run_id, StepState.step_id == step_id)
            ).first()
            if row is None:
                row = StepState(run_id=run_id, step_id=step_id, data=state)
            else:
                row.data = state
                row.updated_at = utcnow()
            db.add(row)
            db.commit()
            db.refresh(run)
        log.info("step action", extra={"run_id": run_id, "step_id": step_id, "action": action})
        self.notifier.notify(run_id, "action")
        return run


def _bump(db: Session, run: Run, expected_version: int | None, **values: Any) -> None:
    """Compare-and-set on the run's version, inside the caller's transaction: two tabs cannot
    both move the same step, nor act on a step the other has already moved past."""
    version = run.version if expected_version is None else expected_version
    result = db.execute(
        update(Run)
        .where(col(Run.id) == run.id, col(Run.version) == version)
        .values(version=version + 1, **values)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        db.rollback()
        raise Conflict(N_("The session moved on in another window; this page now shows where it is."))


def _next_on(flow: Flow, position: int, delta: int) -> int | None:
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
