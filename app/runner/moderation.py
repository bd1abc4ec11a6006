"""Moderation: the tovholder takes a card off every screen (and can show it again), and a word
filter per tovholder and language holds a matching card until the tovholder shows it. Nothing is
deleted: the answer stays stored, and its author's phone still shows it as sent."""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Sequence

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from app.errors import InvalidInput, NotFound
from app.models import Answer, Run, WordFilter, utcnow
from app.runner.base import RunnerBase
from exercises.base import N_

log = logging.getLogger(__name__)
MAX_FILTER_WORDS = 100
MAX_FILTER_WORD = 60


def _fold(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def filter_words(raw: str) -> list[str]:
    """The tovholder's list as typed: one word or phrase a line (or separated by commas)."""
    words: list[str] = []
    for part in re.split(r"[\n,;]", raw):
        word = _fold(part)
        if not word or word in words:
            continue
        if len(word) > MAX_FILTER_WORD:
            raise InvalidInput(N_("A word in the filter is at most %(num)d characters."), num=MAX_FILTER_WORD)
        words.append(word)
    if len(words) > MAX_FILTER_WORDS:
        raise InvalidInput(N_("The word filter takes at most %(num)d words."), num=MAX_FILTER_WORDS)
    return words


def matches(text: str, words: Sequence[str]) -> bool:
    """Whether `text` has one of `words` as a whole word or phrase; a word ending in * matches
    every word that starts so."""
    folded = _fold(text)
    for word in words:
        stem = word.rstrip("*")
        if not stem:
            continue
        tail = "" if word.endswith("*") else r"(?!\w)"
        if re.search(r"(?<!\w)" + re.escape(stem) + tail, folded):
            return True
    return False


class Moderation(RunnerBase):
    def hide_answer(self, run_id: int, answer_id: int, expected_version: int | None = None) -> Run:
        """Takes a card off the projector, the phones' shared views, the results, the exports
        and the posters."""
        return self._moderate(run_id, answer_id, hidden=True, expected_version=expected_version)

    def show_answer(self, run_id: int, answer_id: int, expected_version: int | None = None) -> Run:
        """Shows a card again, or approves one the word filter held."""
        return self._moderate(run_id, answer_id, hidden=False, expected_version=expected_version)

    def _moderate(self, run_id: int, answer_id: int, *, hidden: bool, expected_version: int | None) -> Run:
        with self._session() as db:
            run = self._run(db, run_id)
            answer = db.get(Answer, answer_id)
            if answer is None or answer.run_id != run_id:
                raise NotFound(N_("This session has no such answer."))
            answer.hidden_at = utcnow() if hidden else None
            answer.held = False
            db.add(answer)
            run = self._change(db, run, expected_version)
        what = "hidden" if hidden else "shown"
        log.info("answer %s", what, extra={"run_id": run_id, "answer_id": answer_id})
        self.notifier.notify(run_id, "action")
        return run

    def hidden_answers(self, run_id: int) -> int:
        """How many of a session's answers the tovholder hid, or the word filter still holds."""
        with self._session() as db:
            query = select(func.count()).select_from(Answer)
            held = or_(col(Answer.hidden_at).is_not(None), col(Answer.held).is_(True))
            return int(db.exec(query.where(Answer.run_id == run_id, held)).one())

    # --- the word filter ----------------------------------------------------------------------

    def set_word_filter(self, run_id: int, raw: str, expected_version: int | None = None) -> Run:
        """Sets the tovholder's word filter in the run's language; it holds the cards sent from
        now on."""
        words = filter_words(raw)
        with self._session() as db:
            run = self._run(db, run_id)
            row = _filter_row(db, run.facilitator_id, run.locale)
            if row is None:
                row = WordFilter(facilitator_id=run.facilitator_id, locale=run.locale)
            row.words = words
            row.updated_at = utcnow()
            db.add(row)
            run = self._change(db, run, expected_version)
        self.notifier.notify(run_id, "action")
        return run

    def _holds(self, db: Session, run: Run, text: str) -> bool:
        """Whether the word filter holds a card with this text for the tovholder's approval."""
        if not text:
            return False
        return matches(text, self.reader.word_filter(db, run))


def _filter_row(db: Session, facilitator_id: int | None, locale: str) -> WordFilter | None:
    owner = (
        col(WordFilter.facilitator_id).is_(None)
        if facilitator_id is None
        else col(WordFilter.facilitator_id) == facilitator_id
    )
    return db.exec(select(WordFilter).where(owner, WordFilter.locale == locale)).first()
