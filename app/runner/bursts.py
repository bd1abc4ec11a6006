"""A burst of answers stored together: the phones' answers that arrived within a few
milliseconds, in one transaction. Each answer keeps its own outcome (stored, stored before, or
its refusal), exactly as `submit_answer` would have given it; a resend is stored once."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from sqlalchemy import func, insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app.errors import Conflict, Forbidden, Refusal
from app.flows import Step
from app.models import Answer, Participant, Run, utcnow
from app.runner.answers import KEY_PATTERN, Answers
from app.runner.base import refused_as_input
from app.runner.moderation import matches
from exercises import AnyExercise
from exercises.base import N_, StepContext

MAX_BURST = 256  # answers in one transaction


@dataclass(frozen=True)
class Sent:
    """One answer of a burst, as a phone sent it."""

    token: str
    step_id: str
    fields: Mapping[str, str]
    key: str


@dataclass(frozen=True)
class Stored:
    created: bool  # False: its key was stored before
    version: int  # the run's version when it was stored


@dataclass
class _Step:
    step: Step
    exercise: AnyExercise
    settings: BaseModel
    ctx: StepContext
    limit: int
    words: list[str]  # the word filter that holds a card for the tovholder (moderation)


class Bursts(Answers):
    def store_burst(self, burst: Sequence[Sent]) -> list[Stored | Refusal]:
        """Store a burst of answers in one transaction; one outcome per answer, in order. Should
        the commit meet an answer stored meanwhile elsewhere, each is stored on its own instead."""
        out: list[Stored | Refusal | None] = [None] * len(burst)
        for i, sent in enumerate(burst):
            if not isinstance(sent.key, str) or not KEY_PATTERN.match(sent.key):
                out[i] = Refusal(N_("The answer came without a valid key; reload the page and send again."))
        touched: set[int] = set()
        with self._session() as db:
            rows = self._burst(db, burst, out, touched)
            try:
                if rows:  # one statement for the lot, not an object each
                    db.execute(insert(Answer), rows)
                db.commit()
            except IntegrityError:
                db.rollback()
                touched.clear()
                for i, result in enumerate(out):
                    if isinstance(result, Stored) and result.created:
                        out[i] = self._one(burst[i])
        for run_id in touched:
            self.notifier.notify(run_id, "tally")
        return [
            r
            if r is not None
            else Refusal(N_("Something went wrong on our side. Please try again in a moment."))
            for r in out
        ]

    def _one(self, sent: Sent) -> Stored | Refusal:
        try:
            participant = self.participant(sent.token)
            created = self._store(participant, sent.step_id, sent.fields, sent.key)
            return Stored(created=created, version=self.get_run(participant.run_id).version)
        except Refusal as exc:
            return exc

    def _burst(
        self, db: Session, burst: Sequence[Sent], out: list[Stored | Refusal | None], touched: set[int]
    ) -> list[dict[str, Any]]:
        """The rows to store, each answer's outcome in `out` and the runs it touched."""
        rows: list[dict[str, Any]] = []
        tokens = {s.token for i, s in enumerate(burst) if out[i] is None and s.token}
        people = {
            p.token: p for p in db.exec(select(Participant).where(col(Participant.token).in_(tokens))).all()
        }
        ids = [p.id for p in people.values()]
        keys = {s.key for s in burst}
        stored = set(
            db.exec(
                select(Answer.participant_id, Answer.idempotency_key).where(
                    col(Answer.participant_id).in_(ids), col(Answer.idempotency_key).in_(keys)
                )
            ).all()
        )
        runs: dict[int, Run] = {}
        steps: dict[tuple[int, str, str | None], _Step] = {}
        counts: dict[tuple[int, str], int] = {}
        counted: set[str] = set()  # the steps whose counts are read
        for i, sent in enumerate(burst):
            if out[i] is not None:
                continue
            participant = people.get(sent.token)
            if participant is None or participant.id is None:
                out[i] = Forbidden(N_("Your phone is not in this session. Join again with the code."))
                continue
            run = runs.get(participant.run_id)
            if run is None:
                run = runs[participant.run_id] = self._run(db, participant.run_id)
            if (participant.id, sent.key) in stored:
                out[i] = Stored(created=False, version=run.version)
                continue
            try:
                at = self._step_of(db, run, sent.step_id, participant.unit, steps)
                with refused_as_input():
                    answer = at.exercise.parse_answer(at.settings, sent.fields, at.ctx)
                where = (participant.id, sent.step_id)
                if sent.step_id not in counted:
                    counts.update(_counts(db, sent.step_id, ids))
                    counted.add(sent.step_id)
                if counts.setdefault(where, 0) >= at.limit:
                    raise Conflict(N_("You have sent all the answers this step takes."))
            except Refusal as exc:
                out[i] = exc
                continue
            counts[where] += 1
            text = at.exercise.card_text(at.settings, answer) if at.exercise.takes_text else ""
            held = bool(text) and matches(text, at.words)
            rows.append(
                {
                    "run_id": participant.run_id,
                    "participant_id": participant.id,
                    "step_id": sent.step_id,
                    "seq": counts[where],
                    "idempotency_key": sent.key,
                    "payload": answer.model_dump(mode="json"),
                    "created_at": utcnow(),
                    "hidden_at": None,
                    "held": held,
                }
            )
            stored.add((participant.id, sent.key))
            touched.add(participant.run_id)
            out[i] = Stored(created=True, version=run.version)
        return rows

    def _step_of(
        self,
        db: Session,
        run: Run,
        step_id: str,
        unit: str | None,
        steps: dict[tuple[int, str, str | None], _Step],
    ) -> _Step:
        assert run.id is not None
        found = steps.get((run.id, step_id, unit))
        if found is None:
            step = self._on_screen(run, step_id, N_("This question is closed: the session has moved on."))
            exercise = self.registry[step.exercise]
            settings = exercise.settings(step.settings)
            ctx = self.reader.context(db, run, self.flow_of(run), step, unit=unit)
            limit = exercise.max_answers(settings, ctx)
            words = self.reader.word_filter(db, run) if exercise.takes_text else []
            found = _Step(step, exercise, settings, ctx, limit, words)
            steps[(run.id, step_id, unit)] = found
        return found


def _counts(db: Session, step_id: str, ids: Sequence[Any]) -> dict[tuple[int, str], int]:
    """How many answers each of these people has given to the step."""
    rows = db.exec(
        select(Answer.participant_id, func.count())
        .where(Answer.step_id == step_id, col(Answer.participant_id).in_(ids))
        .group_by(col(Answer.participant_id))
    ).all()
    return {(pid, step_id): int(n) for pid, n in rows}
