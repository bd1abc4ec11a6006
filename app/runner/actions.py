"""The tovholder's actions on the step on the screen (group the cards, edit the statement, pause
the timer): the exercise decides the step's new state, and the runner writes it in the same
transaction as the run's version bump."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from sqlmodel import Session, select

from app.models import Run, StepState, utcnow
from app.runner.base import RunnerBase, refused_as_input
from exercises.base import N_

log = logging.getLogger(__name__)


class StepActions(RunnerBase):
    def act(
        self,
        run_id: int,
        step_id: str,
        action: str,
        form: Mapping[str, Any],
        expected_version: int | None = None,
    ) -> Run:
        """An action on the current step; refused when that step is not on the screen."""
        with self._session() as db:
            run = self._run(db, run_id)
            step = self._on_screen(run, step_id, N_("This step is not on the screen now."))
            exercise = self.registry[step.exercise]
            ctx = self.reader.context(db, run, self.flow_of(run), step)
            with refused_as_input():
                state = exercise.act(exercise.settings(step.settings), ctx.state, action, form, ctx)
            run = self._write_state(db, run, step_id, state, expected_version)
        log.info("step action", extra={"run_id": run_id, "step_id": step_id, "action": action})
        self.notifier.notify(run_id, "action")
        return run

    def put_state(self, run_id: int, step_id: str, state: dict[str, Any]) -> Run:
        """Set a step's state as it is (the demo's simulated groups and statements)."""
        with self._session() as db:
            run = self._run(db, run_id)
            self._index(self.flow_of(run), step_id)
            run = self._write_state(db, run, step_id, state, None)
        self.notifier.notify(run_id, "action")
        return run

    def _write_state(
        self, db: Session, run: Run, step_id: str, state: dict[str, Any], expected_version: int | None
    ) -> Run:
        row = db.exec(
            select(StepState).where(StepState.run_id == run.id, StepState.step_id == step_id)
        ).first()
        if row is None:
            row = StepState(run_id=run.id or 0, step_id=step_id, data=state)
        else:
            row.data = state
            row.updated_at = utcnow()
        db.add(row)
        return self._change(db, run, expected_version)
