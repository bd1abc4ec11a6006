"""The run's state machine, the only writer of a run: its life (lifecycle), its participants and
answers (answers) and a person's changes to them (edits), the actions on its steps (actions) and
moderation (moderation), over what they share (base). Every change is written in one
transaction, and only after the commit does the runner call notify()."""

from __future__ import annotations

from app.codes import normalise_code
from app.errors import Conflict, Forbidden, InvalidInput, NotFound, Refusal
from app.runner.actions import StepActions
from app.runner.answers import MAX_FIELDS, AnswerInput, SubmitResult, answer_input
from app.runner.base import Notifier, Silent
from app.runner.bursts import MAX_BURST, Bursts, Sent, Stored
from app.runner.edits import Edits
from app.runner.lifecycle import CODE_ALPHABET, CODE_LENGTH, MAX_TIMER_SECONDS, Lifecycle


class Runner(Lifecycle, Bursts, StepActions, Edits):
    """One per process. It holds no state of a run: that lives in the database."""


# The refusals the runner raises live in app.errors, for the services too; named here as well.
__all__ = [
    "CODE_ALPHABET",
    "CODE_LENGTH",
    "MAX_BURST",
    "MAX_FIELDS",
    "MAX_TIMER_SECONDS",
    "AnswerInput",
    "Conflict",
    "Forbidden",
    "InvalidInput",
    "NotFound",
    "Notifier",
    "Refusal",
    "Runner",
    "Sent",
    "Silent",
    "Stored",
    "SubmitResult",
    "answer_input",
    "normalise_code",
]
