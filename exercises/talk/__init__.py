"""An info slide: a title, a short text and a few points on the projector; phones look up."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, Field

from exercises.base import (
    Entry,
    LocalText,
    NoAnswer,
    NoAnswers,
    StepContext,
    Strict,
)


class TalkSettings(Strict):
    points: list[LocalText] = Field(default_factory=list, max_length=8)


class TalkResult(BaseModel):
    pass


class Talk(NoAnswers[TalkSettings, TalkResult]):
    name = "talk"
    settings_model = TalkSettings
    result_model = TalkResult

    def aggregate(
        self, settings: TalkSettings, entries: Sequence[Entry[NoAnswer]], ctx: StepContext
    ) -> TalkResult:
        return TalkResult()
