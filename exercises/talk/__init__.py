"""An info slide: a title, a short text and a few points on the projector; phones look up."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, Field

from exercises.base import N_, AnswerInvalid, Entry, Exercise, LocalText, StepContext, Strict


class TalkSettings(Strict):
    points: list[LocalText] = Field(default_factory=list, max_length=8)


class NoAnswer(Strict):
    pass


class TalkResult(BaseModel):
    pass


class Talk(Exercise[TalkSettings, NoAnswer]):
    name = "talk"
    settings_model = TalkSettings
    answer_model = NoAnswer
    collects_answers = False
    doc = "An info slide with presenter notes; phones show 'look at the screen'."

    def max_answers(self, settings: TalkSettings, ctx: StepContext) -> int:
        return 0

    def parse_answer(self, settings: TalkSettings, form: Mapping[str, Any], ctx: StepContext) -> NoAnswer:
        raise AnswerInvalid(N_("This step takes no answers: look at the big screen."))

    def aggregate(
        self, settings: TalkSettings, entries: Sequence[Entry[NoAnswer]], ctx: StepContext
    ) -> TalkResult:
        return TalkResult()
