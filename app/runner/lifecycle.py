"""A run's life, driven by the tovholder: create it, move through its steps, reveal, time, edit
its copy of the flow, close and delete it. Each change is one compare-and-set on the run's
version; notify() comes after the commit."""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta
from typing import Any

from sqlalchemy import or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app.errors import Conflict, InvalidInput, NotFound
from app.flows import Flow
from app.models import Run, RunStatus, StepState, utcnow
from app.runner.base import CONFLICT, RunnerBase, next_on
from exercises.base import N_

log = logging.getLogger(__name__)

CODE_ALPHABET = "ACDEFHJKMNPRTUWXY3479"  # no look-alikes: no B/8, O/0/Q, I/1/L, S/5, Z/2, G/6, V
CODE_LENGTH = 6
MAX_TIMER_SECONDS = 4 * 3600


class Lifecycle(RunnerBase):
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
                with self._session() as db:
                    db.add(run)
                    db.commit()
                    db.refresh(run)
                log.info("run created", extra={"run_id": run.id, "flow": flow.name})
                return run
            except IntegrityError:
                continue  # the code was taken; draw another
        raise Conflict(N_("Could not find a free join code; please try again."))

    def move(self, run_id: int, delta: int, expected_version: int | None = None) -> Run:
        """Next (+1) or back (-1): from the lobby into step 1, and from step 1 back to the lobby."""
        with self._session() as db:
            run = self._run(db, run_id)
            flow = self.flow_of(run)
            if run.status == RunStatus.closed:
                raise Conflict(N_("This session has ended."))
            position = -1 if run.status == RunStatus.lobby else run.step_index
            target = next_on(flow, position, delta)
            if target is None or target == position:  # past the last step that is on, or the lobby
                return run
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
                self._settle_state(db, run, flow, target)  # stored with the move, or not at all
            run = self._change(db, run, expected_version, **values)
        log.info("step moved", extra={"run_id": run_id, "step_index": run.step_index})
        self.notifier.notify(run_id, "step", run)
        return run

    def _settle_state(self, db: Session, run: Run, flow: Flow, index: int) -> None:
        """A step the tovholder acts on keeps the state it opened with (the groups as split when
        the step came up), so people who join later do not reshuffle everyone. Added to the
        move's own transaction: the phones' push, after its commit, finds it."""
        step = flow.steps[index]
        exercise = self.registry[step.exercise]
        if not exercise.has_actions or not exercise.settles_state_on_open:
            return
        if self.reader.state(db, run, step.id) is not None:
            return
        ctx = self.reader.context(db, run, flow, step)
        db.add(StepState(run_id=run.id or 0, step_id=step.id, data=dict(ctx.state)))
        try:
            db.flush()
        except IntegrityError:
            # Another tab opened the step at the same moment (PostgreSQL): it moved the run too,
            # so this move is stale, as the compare-and-set would find.
            db.rollback()
            raise Conflict(CONFLICT) from None

    def set_revealed(self, run_id: int, revealed: bool, expected_version: int | None = None) -> Run:
        with self._session() as db:
            run = self._change(db, self._run(db, run_id), expected_version, revealed=revealed)
        self.notifier.notify(run_id, "reveal")
        return run

    def show_join(self, run_id: int, shown: bool, expected_version: int | None = None) -> Run:
        """Shows or hides the QR code and join code in the projector's corner."""
        with self._session() as db:
            run = self._change(db, self._run(db, run_id), expected_version, join_shown=shown)
        self.notifier.notify(run_id, "reveal")
        return run

    def set_timer(self, run_id: int, seconds: int | None, expected_version: int | None = None) -> Run:
        if seconds is not None and not 0 < seconds <= MAX_TIMER_SECONDS:
            raise InvalidInput(N_("A timer runs from 1 second to 4 hours."))
        ends = utcnow() + timedelta(seconds=seconds) if seconds else None
        with self._session() as db:
            run = self._change(db, self._run(db, run_id), expected_version, timer_ends_at=ends)
        self.notifier.notify(run_id, "timer")
        return run

    def close(self, run_id: int, expected_version: int | None = None) -> Run:
        with self._session() as db:
            run = self._run(db, run_id)
            if run.status == RunStatus.closed:
                return run
            run = self._change(
                db, run, expected_version, status=RunStatus.closed, closed_at=utcnow(), timer_ends_at=None
            )
        log.info("run closed", extra={"run_id": run_id})
        self.notifier.notify(run_id, "step")
        return run

    def replace_flow(self, run_id: int, flow: Flow, expected_version: int | None = None) -> Run:
        """Swap in an edited copy of the session's flow (steps switched off, texts changed)."""
        with self._session() as db:
            run = self._run(db, run_id)
            if run.status == RunStatus.closed:
                raise Conflict(N_("This session has ended."))
            if run.status == RunStatus.live and flow.steps[run.step_index].off:
                raise InvalidInput(N_("The step on the screen now cannot be switched off."))
            run = self._change(
                db,
                run,
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
        with self._session() as db:
            db.delete(self._run(db, run_id))
            db.commit()
        self._flow_cache = {k: v for k, v in self._flow_cache.items() if k[0] != run_id}
        log.info("run deleted", extra={"run_id": run_id})

    def delete_expired(self, retention_days: int) -> int:
        """Delete the sessions that ended (or were made) more than `retention_days` ago."""
        cutoff = utcnow() - timedelta(days=retention_days)
        with self._session() as db:
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
