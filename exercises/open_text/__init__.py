"""Open text: each answer is a card on the projector; a step may allow several per participant."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, Field

from exercises.base import Entry, Exercise, LocalText, StepContext, Strict, clean_text

HARD_CAP = 1000


class OpenTextSettings(Strict):
    max_cards: int = Field(default=1, ge=1, le=10)
    max_length: int = Field(default=280, ge=10, le=HARD_CAP)
    placeholder: LocalText | None = None


class OpenTextAnswer(Strict):
    text: str = Field(min_length=1, max_length=HARD_CAP)


class OpenTextResult(BaseModel):
    count: int
    cards: list[str]


class OpenText(Exercise[OpenTextSettings, OpenTextAnswer]):
    name = "open_text"
    settings_model = OpenTextSettings
    answer_model = OpenTextAnswer
    doc = "Free text answers shown as cards; max_cards per participant, max_length characters."

    def max_answers(self, settings: OpenTextSettings, ctx: StepContext) -> int:
        return settings.max_cards

    def parse_answer(
        self, settings: OpenTextSettings, form: Mapping[str, Any], ctx: StepContext
    ) -> OpenTextAnswer:
        return OpenTextAnswer(text=clean_text(form.get("text"), max_length=settings.max_length))

    def aggregate(
        self, settings: OpenTextSettings, entries: Sequence[Entry[OpenTextAnswer]], ctx: StepContext
    ) -> OpenTextResult:
        answers = [e.answer for e in entries]
        return OpenTextResult(count=len(answers), cards=[a.text for a in answers])

    def simulate(
        self, settings: OpenTextSettings, rng: random.Random, samples: Sequence[str], ctx: StepContext
    ) -> list[OpenTextAnswer]:
        if not samples:
            return []
        k = rng.randint(1, min(settings.max_cards, 2, len(samples)))
        return [OpenTextAnswer(text=t[: settings.max_length]) for t in rng.sample(list(samples), k)]
