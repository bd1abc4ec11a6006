"""Ranking: each person puts the options in order; the room's order is a Borda count (with n
options a first place gives n-1 points, a last place 0)."""

from __future__ import annotations

import random
import statistics
from collections.abc import Mapping, Sequence
from typing import Annotated, Any

from pydantic import BaseModel, Field, model_validator

from exercises.base import (
    N_,
    AnswerInvalid,
    Entry,
    Exercise,
    Option,
    StepContext,
    Strict,
    places,
    unique_ids,
    whole_number,
)
from exercises.markdown import md, md_table, no_answers
from exercises.poster import PosterItem, PosterPart, PosterSlot
from exercises.words import Words

MIN_OPTIONS = 2
MAX_OPTIONS = 10
MAX_OPTION_TEXT = 200
OPTION_ID = r"^[a-z0-9][a-z0-9-]{0,47}$"


class RankingSettings(Strict):
    options: list[Option] = Field(min_length=MIN_OPTIONS, max_length=MAX_OPTIONS)

    @model_validator(mode="after")
    def _check(self) -> RankingSettings:
        unique_ids(self.options)
        for option in self.options:
            if max(len(v) for v in option.text.values()) > MAX_OPTION_TEXT:
                raise ValueError(f"option {option.id!r}: a text is at most {MAX_OPTION_TEXT} characters")
        return self


OptionId = Annotated[str, Field(pattern=OPTION_ID)]


class RankingAnswer(Strict):
    order: list[OptionId] = Field(min_length=MIN_OPTIONS, max_length=MAX_OPTIONS)

    @model_validator(mode="after")
    def _once_each(self) -> RankingAnswer:
        if len(set(self.order)) != len(self.order):
            raise ValueError("an option is in the order twice")
        return self


class RankRow(BaseModel):
    id: str
    text: dict[str, str]
    points: int
    mean_place: float | None
    place: int  # 1 for the most points; ties share a place
    share: int  # points relative to the most possible (everyone put it first), 0-100 in steps of 5


class RankingResult(BaseModel):
    count: int  # people whose order counts
    max_points: int  # n-1: what one first place gives
    options: list[RankRow]


class Ranking(Exercise[RankingSettings, RankingAnswer, RankingResult]):
    name = "ranking"
    settings_model = RankingSettings
    answer_model = RankingAnswer
    result_model = RankingResult
    poster_style = "list"

    def max_answers(self, settings: RankingSettings, ctx: StepContext) -> int:
        return 1

    def parse_answer(
        self, settings: RankingSettings, form: Mapping[str, Any], ctx: StepContext
    ) -> RankingAnswer:
        n = len(settings.options)
        place_of: dict[str, int] = {}
        missing = 0
        for option in settings.options:
            raw = form.get(f"place:{option.id}")
            if raw is None or (isinstance(raw, str) and not raw.strip()):
                missing += 1
                continue
            place = whole_number(raw)
            if place is None or not 1 <= place <= n:
                raise AnswerInvalid(N_("Please pick a place from 1 to %(num)d."), num=n)
            place_of[option.id] = place
        if missing:
            raise AnswerInvalid(N_("Please give every option a place: %(num)d still open."), num=missing)
        taken: dict[int, int] = {}
        for place in place_of.values():
            taken[place] = taken.get(place, 0) + 1
        shared = sorted(p for p, k in taken.items() if k > 1)
        if shared:
            raise AnswerInvalid(
                N_("Two options cannot share place %(place)d. Please give each option a place of its own."),
                place=shared[0],
            )
        order = sorted(place_of, key=lambda oid: place_of[oid])
        return RankingAnswer(order=order)

    def aggregate(
        self, settings: RankingSettings, entries: Sequence[Entry[RankingAnswer]], ctx: StepContext
    ) -> RankingResult:
        ids = [o.id for o in settings.options]
        n = len(ids)
        points = dict.fromkeys(ids, 0)
        positions: dict[str, list[int]] = {oid: [] for oid in ids}
        people: set[int] = set()
        for entry in entries:
            order = entry.answer.order
            if sorted(order) != sorted(ids):  # an order of other options (the flow changed): left out
                continue
            people.add(entry.participant)
            for index, oid in enumerate(order):
                points[oid] += n - 1 - index
                positions[oid].append(index + 1)
        ordered = sorted(settings.options, key=lambda o: -points[o.id])  # stable: ties keep the flow's order
        best = (n - 1) * len(people)
        ranks = places([points[o.id] for o in ordered])
        rows = [
            RankRow(
                id=o.id,
                text=dict(o.text),
                points=points[o.id],
                mean_place=round(statistics.fmean(positions[o.id]), 1) if positions[o.id] else None,
                place=rank if people else 1,
                share=5 * round(20 * points[o.id] / best) if best else 0,
            )
            for o, rank in zip(ordered, ranks, strict=True)
        ]
        return RankingResult(count=len(people), max_points=n - 1, options=rows)

    def simulate(
        self, settings: RankingSettings, rng: random.Random, samples: Sequence[str], ctx: StepContext
    ) -> list[RankingAnswer]:
        """Samples name the options the room tends to put first (by id or by text), in order."""
        wanted = [s.strip().casefold() for s in samples if s.strip()]
        score: dict[str, float] = {}
        for i, option in enumerate(settings.options):
            names = {option.id, *(t.casefold() for t in option.text.values())}
            base = next((len(wanted) - r for r, s in enumerate(wanted) if s in names), 0)
            score[option.id] = base * 1.5 - i * 0.3 + rng.gauss(0, 1.6)
        order = sorted(score, key=lambda oid: -score[oid])
        return [RankingAnswer(order=order)]

    def answer_text(
        self, settings: RankingSettings, answer: RankingAnswer, result: RankingResult, words: Words
    ) -> str:
        labels = words.labels(settings.options, result.options)
        return "; ".join(f"{i}. {labels.get(k, k)}" for i, k in enumerate(answer.order, 1))

    def markdown(self, settings: RankingSettings, result: RankingResult, words: Words) -> list[str]:
        if not result.count:
            return no_answers(words)
        _ = words.gettext
        options = sorted(result.options, key=lambda o: (o.place, -o.points))
        header = [_(N_("Place")), _(N_("Option")), _(N_("Points")), _(N_("Mean place"))]
        rows = [
            [str(o.place), md(words.text(o.text)), str(o.points), words.number(o.mean_place)] for o in options
        ]
        return [_(N_("People who ranked: %(num)d"), num=result.count), "", *md_table(header, rows)]

    def poster(
        self,
        settings: RankingSettings,
        result: RankingResult,
        entries: Sequence[Entry[RankingAnswer]],
        slot: PosterSlot,
    ) -> PosterPart:
        """The options in the room's order."""
        items: list[PosterItem] = []
        last = max((o.place for o in result.options), default=0)
        for option in result.options:
            # TRANSLATORS: under a ranked option on a poster: the place the room gave it.
            place = N_("place %(num)d")
            note = slot.words.gettext(place, num=option.place)
            items.append(
                PosterItem(
                    id=option.id, text=slot.words.text(option.text), note=note, weight=last + 1 - option.place
                )
            )
        return PosterPart(items=items)
