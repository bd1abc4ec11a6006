"""A person changes or takes back a text answer they sent: while its step is on the screen, and,
where the step hides its results, until the tovholder shows them. An edit goes through the same
parse (and word filter) as a new answer; taking one back deletes it, so the person may send
another in its place. A card the tovholder hid stays hidden when its author edits it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlmodel import Session, col, select

from app.errors import Conflict, NotFound
from app.models import Answer, Participant, Run
from app.runner.base import refused_as_input
from app.runner.moderation import Moderation
from app.views import PhoneView, answers_editable
from exercises.base import N_


class Edits(Moderation):
    def edit_answer(self, token: str | None, step_id: str, seq: int, form: Mapping[str, Any]) -> PhoneView:
        participant = self.participant(token)
        with self._session() as db:
            run, answer = self._own_answer(db, participant, step_id, seq)
            step = self.flow_of(run).steps[run.step_index]
            exercise = self.registry[step.exercise]
            settings = exercise.settings(step.settings)
            ctx = self.reader.context(db, run, self.flow_of(run), step, unit=participant.unit)
            with refused_as_input():
                parsed = exercise.parse_answer(settings, form, ctx)
            answer.payload = parsed.model_dump(mode="json")
            if answer.hidden_at is None:
                answer.held = self._holds(db, run, exercise.card_text(settings, parsed))
            db.add(answer)
            db.commit()
        self.notifier.notify(participant.run_id, "tally")
        return self.phone_view(participant)

    def withdraw_answer(self, token: str | None, step_id: str, seq: int) -> PhoneView:
        participant = self.participant(token)
        with self._session() as db:
            _run, answer = self._own_answer(db, participant, step_id, seq)
            db.delete(answer)
            db.flush()
            # The person's later answers move up one place, one at a time, so the database's
            # rule of one answer per place holds at every statement.
            later = db.exec(
                select(Answer)
                .where(
                    Answer.participant_id == participant.id,
                    Answer.step_id == step_id,
                    col(Answer.seq) > seq,
                )
                .order_by(col(Answer.seq))
            ).all()
            for row in later:
                row.seq -= 1
                db.add(row)
                db.flush()
            db.commit()
        self.notifier.notify(participant.run_id, "tally")
        return self.phone_view(participant)

    def _own_answer(
        self, db: Session, participant: Participant, step_id: str, seq: int
    ) -> tuple[Run, Answer]:
        run = self._run(db, participant.run_id)
        step = self._on_screen(run, step_id, N_("This question is closed: the session has moved on."))
        if not answers_editable(run, step, self.registry[step.exercise]):
            raise Conflict(N_("The results are on the big screen now: your answer can no longer change."))
        answer = db.exec(
            select(Answer).where(
                Answer.participant_id == participant.id, Answer.step_id == step_id, Answer.seq == seq
            )
        ).first()
        if answer is None:
            raise NotFound(N_("You have no such answer here."))
        return run, answer
