"""A survey: a block of items rated on one scale and sent together, a pulse. Per item the
projector shows the distribution and the median; with `by_unit`, each unit's median where enough
people of it answered; with the step's `earlier:` key, the change since the team's last pulse."""

from __future__ import annotations

import random
import statistics
import zlib
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, model_validator

from exercises.anonymity import split_by_unit
from exercises.base import (
    ITEM_ID,
    N_,
    AnswerInvalid,
    Entry,
    Exercise,
    Option,
    ScaleLabel,
    StepContext,
    Strict,
    in_order_of,
    longest,
    unique_ids,
)
from exercises.follow import Reading
from exercises.markdown import md, md_em, md_table, no_answers
from exercises.poster import PosterItem, PosterPart, PosterSlot
from exercises.words import Words

MAX_ITEMS = 12
MAX_ITEM_TEXT = 200


class SurveySettings(Strict):
    items: list[Option] = Field(min_length=1, max_length=MAX_ITEMS)
    points: Literal[5, 7] = 5
    low: ScaleLabel
    high: ScaleLabel
    by_unit: bool = False

    @model_validator(mode="after")
    def _check_items(self) -> SurveySettings:
        unique_ids(self.items)
        for item in self.items:
            if longest(item.text) > MAX_ITEM_TEXT:
                raise ValueError(f"item {item.id!r}: a text is at most {MAX_ITEM_TEXT} characters")
        return self


ItemId = Annotated[str, Field(pattern=ITEM_ID)]
Value = Annotated[int, Field(ge=1, le=7)]


class SurveyAnswer(Strict):
    values: dict[ItemId, Value] = Field(min_length=1, max_length=MAX_ITEMS)


class ItemResult(BaseModel):
    id: str
    text: dict[str, str]
    count: int
    counts: list[int]
    shares: list[int]  # percent of the item's answers per value, in steps of 5, summing to 100
    median: float | None
    mean: float | None
    unit_medians: dict[str, float] = Field(default_factory=dict)  # units that reached the threshold
    other_median: float | None = None  # the smaller units together, where they reached it
    other_units: int = 0  # how many units went into the merged cell
    hidden: int = 0  # people of small units left out: even together under the threshold
    earlier_median: float | None = None
    change: float | None = None


class SurveyResult(BaseModel):
    count: int  # people who answered
    points: int
    low: dict[str, str]
    high: dict[str, str]
    by_unit: bool
    min_group_size: int
    items: list[ItemResult]
    unit_columns: list[str] = Field(default_factory=list)  # units shown for at least one item
    has_other: bool = False  # at least one item shows a merged "other units" cell
    hidden: int = 0  # the most people of small units left out of any item
    has_earlier: bool = False


def shares_of(counts: Sequence[int]) -> list[int]:
    """Percentages in steps of 5 that sum to exactly 100 (largest remainder), or all 0."""
    total = sum(counts)
    if total == 0:
        return [0] * len(counts)
    raw = [20 * n / total for n in counts]  # in units of 5 percent
    floors = [int(x) for x in raw]
    left = 20 - sum(floors)
    by_remainder = sorted(range(len(raw)), key=lambda i: (-(raw[i] - floors[i]), i))
    for i in by_remainder[:left]:
        floors[i] += 1
    return [5 * f for f in floors]


def _median(values: Sequence[int]) -> float | None:
    return float(statistics.median(values)) if values else None


def earlier_medians(result: BaseModel | None) -> dict[str, float]:
    """Item id -> median of an earlier survey's result; tolerant of results from older versions."""
    if result is None:
        return {}
    items = result.model_dump().get("items")
    out: dict[str, float] = {}
    if isinstance(items, list):
        for item in items:
            if isinstance(item, dict) and isinstance(item.get("id"), str):
                median = item.get("median")
                if isinstance(median, int | float) and not isinstance(median, bool):
                    out[item["id"]] = float(median)
    return out


class Survey(Exercise[SurveySettings, SurveyAnswer, SurveyResult]):
    name = "survey"
    settings_model = SurveySettings
    answer_model = SurveyAnswer
    result_model = SurveyResult
    poster_style = "list"

    def max_answers(self, settings: SurveySettings, ctx: StepContext) -> int:
        return 1

    def parse_answer(
        self, settings: SurveySettings, form: Mapping[str, Any], ctx: StepContext
    ) -> SurveyAnswer:
        values: dict[str, int] = {}
        missing = 0
        for item in settings.items:
            raw = form.get(f"item:{item.id}")
            if raw is None or (isinstance(raw, str) and not raw.strip()):
                missing += 1
                continue
            if isinstance(raw, bool):
                raise AnswerInvalid(N_("Please pick one of the numbers."))
            try:
                value = int(str(raw).strip())
            except (TypeError, ValueError):
                raise AnswerInvalid(N_("Please pick one of the numbers.")) from None
            if not 1 <= value <= settings.points:
                raise AnswerInvalid(N_("Please pick a number from 1 to %(points)d."), points=settings.points)
            values[item.id] = value
        if missing:
            raise AnswerInvalid(
                N_("Please pick a number for every statement: %(num)d still open."), num=missing
            )
        return SurveyAnswer(values=values)

    def aggregate(
        self, settings: SurveySettings, entries: Sequence[Entry[SurveyAnswer]], ctx: StepContext
    ) -> SurveyResult:
        earlier = (
            earlier_medians(ctx.earlier.result)
            if ctx.earlier is not None and ctx.earlier.exercise == self.name
            else {}
        )
        items: list[ItemResult] = []
        for item in settings.items:
            rated = [e for e in entries if 1 <= e.answer.values.get(item.id, 0) <= settings.points]
            values = [e.answer.values[item.id] for e in rated]
            counts = [0] * settings.points
            for v in values:
                counts[v - 1] += 1
            median = _median(values)
            result = ItemResult(
                id=item.id,
                text=dict(item.text),
                count=len(values),
                counts=counts,
                shares=shares_of(counts),
                median=median,
                mean=round(statistics.fmean(values), 2) if values else None,
            )
            if settings.by_unit:
                split = split_by_unit(rated, ctx.min_group_size)
                result.unit_medians = {
                    unit: float(statistics.median(e.answer.values[item.id] for e in cell))
                    for unit, cell in split.shown.items()
                }
                if split.merged:
                    result.other_median = _median([e.answer.values[item.id] for e in split.merged])
                    result.other_units = split.merged_units
                result.hidden = split.hidden
            if item.id in earlier:
                result.earlier_median = earlier[item.id]
                if median is not None:
                    result.change = round(median - earlier[item.id], 2)
            items.append(result)
        columns = sorted({u for r in items for u in r.unit_medians})
        return SurveyResult(
            count=len({e.participant for e in entries}),
            points=settings.points,
            low=dict(settings.low),
            high=dict(settings.high),
            by_unit=settings.by_unit,
            min_group_size=ctx.min_group_size,
            items=items,
            unit_columns=columns,
            has_other=any(r.other_median is not None for r in items),
            hidden=max((r.hidden for r in items), default=0),
            has_earlier=any(r.earlier_median is not None for r in items),
        )

    def simulate(
        self, settings: SurveySettings, rng: random.Random, samples: Sequence[str], ctx: StepContext
    ) -> list[SurveyAnswer]:
        # Each item has a centre of its own (stable per item id, so every simulated person shares
        # it), each person a mood of their own; teams rate a little above the middle.
        mood = rng.gauss(0, settings.points / 10)
        values: dict[str, int] = {}
        for item in settings.items:
            offset = (zlib.crc32(item.id.encode()) % 100) / 100 - 0.5
            centre = settings.points * (0.62 + 0.3 * offset) + 0.3 + mood
            value = round(rng.gauss(centre, settings.points / 6))
            values[item.id] = min(settings.points, max(1, value))
        return [SurveyAnswer(values=values)]

    def answer_text(
        self, settings: SurveySettings, answer: SurveyAnswer, result: SurveyResult, words: Words
    ) -> str:
        labels = words.labels(settings.items, result.items)
        shown = in_order_of(list(answer.values), labels)
        return "; ".join(f"{labels.get(k, k)}: {answer.values[k]}" for k in shown)

    def markdown(self, settings: SurveySettings, result: SurveyResult, words: Words) -> list[str]:
        if not result.count:
            return no_answers(words)
        _, num = words.gettext, words.number
        units = result.unit_columns
        header = [_(N_("Item")), _(N_("Answers")), _(N_("Median")), _(N_("Mean"))]
        header += [md(u) for u in units]
        if result.has_other:
            header.append(_(N_("Other units")))
        if result.has_earlier:
            header.append(_(N_("Change")))
        rows = []
        for item in result.items:
            row = [md(words.text(item.text)), str(item.count), num(item.median), num(item.mean)]
            row += [num(item.unit_medians.get(u)) for u in units]
            if result.has_other:
                row.append(num(item.other_median))
            if result.has_earlier:
                row.append(("+" if item.change and item.change > 0 else "") + num(item.change))
            rows.append(row)
        lines = [_(N_("People who answered: %(num)d"), num=result.count), "", *md_table(header, rows)]
        if result.hidden:
            left_out = _(N_("Left out of the unit columns (small units): %(num)d"), num=result.hidden)
            lines += ["", md_em(left_out)]
        return lines

    def poster(
        self,
        settings: SurveySettings,
        result: SurveyResult,
        entries: Sequence[Entry[SurveyAnswer]],
        slot: PosterSlot,
    ) -> PosterPart:
        """The items by median, the highest first."""
        items: list[PosterItem] = []
        for item in sorted(
            (i for i in result.items if i.median is not None), key=lambda i: -(i.median or 0.0)
        ):
            # TRANSLATORS: under a survey statement on a poster: the middle answer on the scale.
            median = N_("median %(value)s")
            note = slot.words.gettext(median, value=slot.words.number(item.median, 1))
            items.append(
                PosterItem(
                    id=item.id,
                    text=slot.words.text(item.text),
                    note=note,
                    weight=item.median,
                    score=item.median,
                    scale_max=result.points,
                )
            )
        return PosterPart(items=items)

    def readings(self, settings: SurveySettings, result: SurveyResult) -> list[Reading]:
        return [
            Reading(id=i.id, text=i.text, median=i.median, count=i.count, scale_max=result.points)
            for i in result.items
            if i.median is not None
        ]

    def shows_units(self, settings: SurveySettings) -> bool:
        return settings.by_unit
