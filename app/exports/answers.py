"""What an exercise writes for the exports, through its hooks: an answer's text for the CSV, a
step's results for the Markdown. Where the stored answer or the result does not fit the
exercise's own model, the export says so in words and the log names the run and the step:
nothing is shown as something else."""

from __future__ import annotations

import logging

from pydantic import BaseModel

from app.exports.session import Row, SessionData
from app.views import StepView
from exercises.base import N_, ResultMismatch
from exercises.words import compact_json

log = logging.getLogger(__name__)


def not_readable(data: SessionData, reason: str) -> str:
    return data.words.gettext(N_("(could not be read: %(reason)s)"), reason=reason)


def own_result(data: SessionData, sv: StepView) -> BaseModel | ResultMismatch:
    """The step's result, checked to be its exercise's own; the mismatch, logged, if it is not."""
    try:
        result: BaseModel = sv.exercise.own_result(sv.result)
    except ResultMismatch as exc:
        log.error("run %s step %s: %s", data.run.id, sv.step.id, exc)
        return exc
    return result


def own_results(data: SessionData) -> dict[str, BaseModel | ResultMismatch]:
    """Every step's checked result, by step id."""
    return {sv.step.id: own_result(data, sv) for sv in data.steps}


def answer_text(data: SessionData, row: Row, result: BaseModel | ResultMismatch | None) -> str:
    """The text of one answer in the session's language: the exercise's own words for it, a
    note where it is withheld or cannot be read, or its JSON for a step the flow lacks.
    `result` is the step's, from own_results."""
    words, sv = data.words, row.view
    if row.withheld:
        return words.gettext(N_("(withheld: it would show a small unit)"))
    if sv is None or result is None:
        return compact_json(row.answer.payload)
    unreadable = data.unreadable.get(row.answer.id or 0)
    if unreadable is not None:
        return not_readable(data, unreadable.reason)
    if isinstance(result, ResultMismatch):
        return not_readable(data, str(result))
    answer = sv.exercise.load_answer(row.answer.payload)  # it fits: the reader read it
    return sv.exercise.answer_text(sv.settings, answer, result, words)
