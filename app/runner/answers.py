"""The participants' side of a run: joining, and answers. A raw answer, from a form or a socket
event, goes through one parse (`answer_input`) into what the runner takes; an answer is stored
once per idempotency key, and never past what its step allows."""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from sqlalchemy import bindparam, func, insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app.db import read
from app.errors import Conflict, InvalidInput, Refusal
from app.models import Answer, Participant, Run, RunStatus, utcnow
from app.runner.base import COUNT_PHONES, refused_as_input
from app.runner.moderation import Moderation
from app.views import PhoneView
from exercises import AnswerInvalid
from exercises.base import N_, clean_text

KEY_PATTERN = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
MAX_FIELDS = 120  # a matrix of 7 items for 11 other units, and the hidden fields
_PHONE_COLUMNS = ("run_id", "token", "display_name", "unit", "public_id", "joined_at")
_INSERT_PHONE = (
    insert(Participant)
    .values({name: bindparam(name) for name in _PHONE_COLUMNS})
    .returning(col(Participant.id))
)


@dataclass(frozen=True)
class AnswerInput:
    """An answer as the runner takes it: the step, the idempotency key, the exercise's fields."""

    step_id: str
    key: str
    fields: dict[str, str]


def _malformed(field: str) -> Refusal:
    return Refusal(
        N_("The form was incomplete or malformed (%(fields)s). Reload the page and try again."),
        fields=field,
    )


def _field(name: object, value: object) -> tuple[str, str]:
    """One field as text, as a form sends it; a whole number (a socket may send one) is written
    out, so the exercise reads it as it reads a form."""
    if not isinstance(name, str):
        raise _malformed("?")
    if isinstance(value, int) and not isinstance(value, bool):
        try:
            value = str(value)
        except ValueError:  # over Python's limit of digits for a conversion
            raise _malformed(name[:64]) from None
    if not isinstance(value, str):
        raise _malformed(name[:64])
    try:
        name.encode("utf-8")
        value.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: JSON can carry one, no text can
        raise _malformed("?") from None
    return name, value


def answer_input(raw: Mapping[Any, Any]) -> AnswerInput:
    """Raw fields (a form, or a socket event's `{step, key, fields}` flattened) into the runner's
    input. Refuses what no form of ours sends: too many fields, a value that is not text or a
    whole number, text that is not Unicode, no step."""
    if len(raw) > MAX_FIELDS:
        raise Refusal(N_("The form had too many fields."))
    fields = dict(_field(name, value) for name, value in raw.items())
    step_id = fields.pop("step", "")
    key = fields.pop("key", "")
    fields.pop("csrf_token", None)
    if not step_id:
        raise Refusal(N_("The form did not say which question it answers. Reload the page."))
    return AnswerInput(step_id=step_id, key=key, fields=fields)


@dataclass
class SubmitResult:
    created: bool
    view: PhoneView


class Answers(Moderation):
    def join(
        self, code: str, display_name: str | None = None, unit: str | None = None, most: int | None = None
    ) -> Participant:
        """A new phone in the session of `code`; `most`: refused when it has that many already.
        Found, checked, counted and stored in one transaction."""
        return self._join(code, display_name, unit, most)[1]

    def join_with_view(
        self, code: str, display_name: str | None = None, unit: str | None = None, most: int | None = None
    ) -> tuple[Participant, PhoneView]:
        """join(), and the new phone's view, read without reading its run again (the join's
        reply is the phone's page)."""
        run, participant = self._join(code, display_name, unit, most)
        with self._reading() as db:
            return participant, self._phone_view(db, participant, run)

    def _join(
        self, code: str, display_name: str | None, unit: str | None, most: int | None
    ) -> tuple[Run, Participant]:
        with self._session() as db:
            run = self._by_code(db, code)
            if run.status == RunStatus.closed:
                raise Conflict(N_("This session has ended. Thank you for taking part!"))
            name = None
            if display_name and display_name.strip():
                try:
                    name = clean_text(display_name, max_length=40, single_line=True)
                except AnswerInvalid as exc:
                    if exc.params:  # too long; a name of nothing visible joins without a name
                        raise InvalidInput(N_("A name is at most 40 characters.")) from None
            unit = self._unit_for(unit, self._units(db, run))
            participant = self._insert_participant(db, run, name, unit, most)
        self.notifier.notify(participant.run_id, "people")
        return run, participant

    def add_participant(
        self, run: Run, display_name: str | None, unit: str | None, most: int | None = None
    ) -> Participant:
        """A new phone in the run, with a name and unit already checked (by `join`, or the demo);
        `most`: refused when the run has that many already, counted in the same transaction."""
        assert run.id is not None
        with self._session() as db:
            participant = self._insert_participant(db, run, display_name, unit, most)
        self.notifier.notify(run.id, "people")
        return participant

    @staticmethod
    def _insert_participant(
        db: Session, run: Run, display_name: str | None, unit: str | None, most: int | None
    ) -> Participant:
        assert run.id is not None
        if most is not None:
            count = read(db, COUNT_PHONES, run_id=run.id).scalar_one()
            if count >= most:
                raise Conflict(N_("This session is full: it takes at most %(most)s phones."), most=most)
        values: dict[str, Any] = {
            "run_id": run.id,
            "token": secrets.token_urlsafe(24),
            "display_name": display_name,
            "unit": unit,
            "public_id": secrets.token_urlsafe(6),
            "joined_at": utcnow(),
        }
        # One insert on the session's connection, not the ORM's flush: it is on every join.
        participant_id = read(db, _INSERT_PHONE, **values).scalar_one()
        db.commit()
        return Participant(id=participant_id, **values)

    @staticmethod
    def _unit_for(unit: str | None, units: list[str]) -> str | None:
        if not units:
            return None
        if not unit:
            raise InvalidInput(N_("Please pick your unit."))
        if unit not in units:
            raise InvalidInput(N_("Please pick one of the units on the list."))
        return unit

    def submit_answer(
        self, token: str | None, step_id: str, form: Mapping[str, Any], key: str
    ) -> SubmitResult:
        """Parse and store one answer once. A key already stored is acknowledged again, never
        stored twice."""
        if not isinstance(key, str) or not KEY_PATTERN.match(key):
            raise Refusal(N_("The answer came without a valid key; reload the page and send again."))
        participant = self.participant(token)
        created = self._store(participant, step_id, form, key)
        return SubmitResult(created=created, view=self.phone_view(participant))

    def _store(self, participant: Participant, step_id: str, form: Mapping[str, Any], key: str) -> bool:
        """Whether the answer was stored now (False: its key was stored before)."""
        with self._session() as db:
            if _stored(db, participant, key):
                return False
            run = self._run(db, participant.run_id)
            step = self._on_screen(run, step_id, N_("This question is closed: the session has moved on."))
            exercise = self.registry[step.exercise]
            settings = exercise.settings(step.settings)
            ctx = self.reader.context(db, run, self.flow_of(run), step, unit=participant.unit)
            with refused_as_input():
                answer = exercise.parse_answer(settings, form, ctx)
            limit = exercise.max_answers(settings, ctx)
            held = exercise.takes_text and self._holds(db, run, exercise.card_text(settings, answer))
            # Each lost race means another answer of this person took a place, so `limit` + 1
            # tries always end in a stored answer, a stored twin, or a full step.
            for _ in range(limit + 1):
                count = _count(db, participant, step_id)
                if count >= limit:
                    raise Conflict(N_("You have sent all the answers this step takes."))
                db.add(_row(participant, step_id, count + 1, key, answer, held=held))
                try:
                    db.commit()
                    break
                except IntegrityError:
                    # A retry of the same key raced its twin, or another key took this place:
                    # then count again and take the next place, if there is one.
                    db.rollback()
                    if _stored(db, participant, key):
                        return False
            else:
                raise Conflict(N_("You have sent all the answers this step takes."))
        self.notifier.notify(participant.run_id, "tally")
        return True

    def store_answers(
        self, run_id: int, step_id: str, answers: Sequence[tuple[Participant, BaseModel]]
    ) -> None:
        """A room's answers to the step on the screen, already made by its exercise (the demo's
        simulated ones), in one transaction, each within what the step allows its person."""
        with self._session() as db:
            run = self._run(db, run_id)
            step = self._on_screen(run, step_id, N_("This question is closed: the session has moved on."))
            exercise = self.registry[step.exercise]
            settings = exercise.settings(step.settings)
            limits: dict[str | None, int] = {}
            counts: dict[int, int] = {}
            for participant, answer in answers:
                if participant.unit not in limits:
                    ctx = self.reader.context(db, run, self.flow_of(run), step, unit=participant.unit)
                    limits[participant.unit] = exercise.max_answers(settings, ctx)
                pid = participant.id or 0
                counts[pid] = counts[pid] + 1 if pid in counts else _count(db, participant, step_id) + 1
                if counts[pid] > limits[participant.unit]:
                    raise Conflict(N_("You have sent all the answers this step takes."))
                db.add(_row(participant, step_id, counts[pid], secrets.token_urlsafe(16), answer))
            db.commit()
        self.notifier.notify(run_id, "tally")


def _row(
    participant: Participant, step_id: str, seq: int, key: str, answer: BaseModel, *, held: bool = False
) -> Answer:
    return Answer(
        held=held,
        run_id=participant.run_id,
        participant_id=participant.id or 0,
        step_id=step_id,
        seq=seq,
        idempotency_key=key,
        payload=answer.model_dump(mode="json"),
    )


def _count(db: Session, participant: Participant, step_id: str) -> int:
    """How many answers the person has given to the step."""
    query = select(func.count()).select_from(Answer)
    return int(db.exec(query.where(Answer.participant_id == participant.id, Answer.step_id == step_id)).one())


def _stored(db: Session, participant: Participant, key: str) -> bool:
    found = db.exec(
        select(Answer.id).where(Answer.participant_id == participant.id, Answer.idempotency_key == key)
    ).first()
    return found is not None
