"""A labelled 1-5 or 1-7 item: the projector shows the distribution and the median."""

from __future__ import annotations

import random
import statistics
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from pydantic import BaseModel, Field

from exercises.base import N_, AnswerInvalid, Entry, Exercise, LocalText, StepContext, Strict
from exercises.markdown import md, no_answers
from exercises.words import Words


class ScaleSettings(Strict):
    points: Literal[5, 7] = 5
    low: LocalText
    high: LocalText


class ScaleAnswer(Strict):
    value: int = Field(ge=1, le=7)


class ScaleResult(BaseModel):
    count: int
    points: int
    counts: list[int]
    median: float | None
    mean: float | None

    @property
    def peak(self) -> int:
        return max(self.counts) if self.counts else 0


class Scale(Exercise[ScaleSettings, ScaleAnswer, ScaleResult]):
    name = "scale"
    settings_model = ScaleSettings
    answer_model = ScaleAnswer
    result_model = ScaleResult

    def max_answers(self, settings: ScaleSettings, ctx: StepContext) -> int:
        return 1

    def parse_answer(self, settings: ScaleSettings, form: Mapping[str, Any], ctx: StepContext) -> ScaleAnswer:
        raw = form.get("value")
        try:
            value = int(str(raw).strip())
        except (TypeError, ValueError):
            raise AnswerInvalid(N_("Please pick one of the numbers.")) from None
        if not 1 <= value <= settings.points:
            raise AnswerInvalid(N_("Please pick a number from 1 to %(points)d."), points=settings.points)
        return ScaleAnswer(value=value)

    def aggregate(
        self, settings: ScaleSettings, entries: Sequence[Entry[ScaleAnswer]], ctx: StepContext
    ) -> ScaleResult:
        answers = [e.answer for e in entries]
        counts = [0] * settings.points
        values = [a.value for a in answers if 1 <= a.value <= settings.points]
        for v in values:
            counts[v - 1] += 1
        return ScaleResult(
            count=len(values),
            points=settings.points,
            counts=counts,
            median=float(statistics.median(values)) if values else None,
            mean=round(statistics.fmean(values), 2) if values else None,
        )

    def simulate(
        self, settings: ScaleSettings, rng: random.Random, samples: Sequence[str], ctx: StepContext
    ) -> list[ScaleAnswer]:
        # Teams tend to rate a little above the middle, with some spread.
        centre = settings.points * 0.65 + 0.5
        value = round(rng.gauss(centre, settings.points / 5))
        return [ScaleAnswer(value=min(settings.points, max(1, value)))]

    def answer_text(
        self, settings: ScaleSettings, answer: ScaleAnswer, result: ScaleResult, words: Words
    ) -> str:
        return str(answer.value)

    def markdown(self, settings: ScaleSettings, result: ScaleResult, words: Words) -> list[str]:
        if not result.count:
            return no_answers(words)
        median = words.gettext(N_("Median: %(value)s"), value=words.number(result.median))
        mean = words.gettext(N_("Mean: %(value)s"), value=words.number(result.mean))
        lines = [median + " · " + mean, ""]
        for value, count in enumerate(result.counts, 1):
            end = settings.low if value == 1 else settings.high if value == result.points else None
            label = f"{value} ({md(words.text(end))})" if end else str(value)
            lines.append(f"- {label}: {count}")
        return lines
