"""Relational coordination between units: each person rates, from their own unit, how the work
goes with each other unit. The projector shows a heatmap: rows the raters' unit, columns the
rated unit, each cell the mean over the items. A row shows only where enough people of the unit
answered."""

from __future__ import annotations

import random
import statistics
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import replace
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
    whole_number,
)
from exercises.markdown import md, md_em, md_table
from exercises.poster import Heatmap, PosterPart, PosterSlot
from exercises.words import Words

MAX_ITEMS = 7
MAX_UNITS = 12
MAX_UNIT_NAME = 80
MAX_ITEM_TEXT = 200


class MatrixSettings(Strict):
    items: list[Option] = Field(min_length=1, max_length=MAX_ITEMS)
    points: Literal[5] = 5
    low: ScaleLabel
    high: ScaleLabel

    @model_validator(mode="after")
    def _check_items(self) -> MatrixSettings:
        unique_ids(self.items)
        for item in self.items:
            if longest(item.text) > MAX_ITEM_TEXT:
                raise ValueError(f"item {item.id!r}: a text is at most {MAX_ITEM_TEXT} characters")
        return self


UnitName = Annotated[str, Field(min_length=1, max_length=MAX_UNIT_NAME)]
ItemId = Annotated[str, Field(pattern=ITEM_ID)]
Value = Annotated[int, Field(ge=1, le=5)]


class MatrixAnswer(Strict):
    ratings: dict[UnitName, Annotated[dict[ItemId, Value], Field(min_length=1, max_length=MAX_ITEMS)]] = (
        Field(min_length=1, max_length=MAX_UNITS - 1)
    )


class Cell(BaseModel):
    unit: str  # the rated unit
    own: bool = False  # the raters' own unit: not rated
    mean: float | None = None  # the mean over the items
    heat: int = 0  # 1 (low) to 5 (high); 0 where there is no mean
    items: dict[str, float] = Field(default_factory=dict)  # item id -> mean


class Row(BaseModel):
    unit: str  # the raters' unit
    people: int
    cells: list[Cell]


class ItemInfo(BaseModel):
    id: str
    text: dict[str, str]


class MatrixResult(BaseModel):
    count: int  # people whose answer counts (they have one of the team's units)
    points: int
    low: dict[str, str]
    high: dict[str, str]
    min_group_size: int
    units: list[str]  # the columns: every unit of the team
    items: list[ItemInfo]
    rows: list[Row]  # units where at least min_group_size people answered
    hidden_units: int = 0  # units that answered but stay hidden: too few people
    hidden_people: int = 0


def heat(mean: float | None) -> int:
    """1..5 by the mean rounded half up; 0 for no mean."""
    if mean is None:
        return 0
    return min(5, max(1, int(mean + 0.5)))


def _blank(raw: Any) -> bool:
    return raw is None or (isinstance(raw, str) and not raw.strip())


class Matrix(Exercise[MatrixSettings, MatrixAnswer, MatrixResult]):
    name = "matrix"
    settings_model = MatrixSettings
    answer_model = MatrixAnswer
    result_model = MatrixResult
    reveals_units = True  # an answer rates every unit but the rater's own
    reads_members = True  # each unit's people: its phones' screens go to them

    def max_answers(self, settings: MatrixSettings, ctx: StepContext) -> int:
        return 1

    def phone_audiences(
        self, settings: MatrixSettings, result: MatrixResult, ctx: StepContext
    ) -> dict[str, tuple[str, ...]]:
        """Each unit's phones: they rate every unit but their own."""
        return {
            unit: tuple(m.public_id for m in ctx.members if m.unit == unit and m.public_id)
            for unit in ctx.units
        }

    def for_audience(
        self, settings: MatrixSettings, result: MatrixResult, ctx: StepContext, audience: str | None
    ) -> tuple[MatrixResult, StepContext]:
        if audience in ctx.units:
            return result, replace(ctx, unit=audience)
        return result, replace(ctx, members=())  # without a unit: nothing to hide, nobody listed

    def parse_answer(
        self, settings: MatrixSettings, form: Mapping[str, Any], ctx: StepContext
    ) -> MatrixAnswer:
        units = list(ctx.units)
        if len(units) < 2:
            raise AnswerInvalid(N_("This step needs a team with at least two units. Ask the tovholder."))
        if not ctx.unit or ctx.unit not in units:
            raise AnswerInvalid(
                N_("This step needs to know your unit. Join again with the code and pick your unit.")
            )
        ratings: dict[str, dict[str, int]] = {}
        missing = 0
        for index, unit in enumerate(units):
            for item in settings.items:
                raw = form.get(f"rate:{index}:{item.id}")
                if unit == ctx.unit:
                    # Left out, not refused: a phone without scripts shows its own unit's block too.
                    continue
                if _blank(raw):
                    missing += 1
                    continue
                value = whole_number(raw)
                if value is None or not 1 <= value <= settings.points:
                    raise AnswerInvalid(
                        N_("Please pick a number from 1 to %(points)d."), points=settings.points
                    )
                ratings.setdefault(unit, {})[item.id] = value
        if missing:
            raise AnswerInvalid(
                N_("Please rate every other unit on every statement: %(num)d still open."), num=missing
            )
        return MatrixAnswer(ratings=ratings)

    def aggregate(
        self, settings: MatrixSettings, entries: Sequence[Entry[MatrixAnswer]], ctx: StepContext
    ) -> MatrixResult:
        units = list(ctx.units)
        counted = [e for e in entries if e.unit in units]
        split = split_by_unit(counted, ctx.min_group_size)
        rows: list[Row] = []
        for rater in units:
            cell_entries = split.shown.get(rater)
            if not cell_entries:
                continue
            cells: list[Cell] = []
            for rated in units:
                if rated == rater:
                    cells.append(Cell(unit=rated, own=True))
                    continue
                item_means: dict[str, float] = {}
                for item in settings.items:
                    values = [
                        v
                        for e in cell_entries
                        if 1 <= (v := e.answer.ratings.get(rated, {}).get(item.id, 0)) <= settings.points
                    ]
                    if values:
                        item_means[item.id] = round(statistics.fmean(values), 2)
                mean = round(statistics.fmean(item_means.values()), 2) if item_means else None
                cells.append(Cell(unit=rated, mean=mean, heat=heat(mean), items=item_means))
            rows.append(Row(unit=rater, people=len({e.participant for e in cell_entries}), cells=cells))
        small = [e for u, group in _by_unit(counted).items() if u not in split.shown for e in group]
        return MatrixResult(
            count=len({e.participant for e in counted}),
            points=settings.points,
            low=dict(settings.low),
            high=dict(settings.high),
            min_group_size=ctx.min_group_size,
            units=units,
            items=[ItemInfo(id=i.id, text=dict(i.text)) for i in settings.items],
            rows=rows,
            hidden_units=split.merged_units,
            hidden_people=len({e.participant for e in small}),
        )

    def simulate(
        self, settings: MatrixSettings, rng: random.Random, samples: Sequence[str], ctx: StepContext
    ) -> list[MatrixAnswer]:
        """Each pair of units has a working climate of its own (stable per pair, so every
        simulated person of a unit shares it); people vary around it."""
        units = list(ctx.units)
        if len(units) < 2 or ctx.unit not in units:
            return []
        mood = rng.gauss(0, 0.4)
        ratings: dict[str, dict[str, int]] = {}
        for rated in units:
            if rated == ctx.unit:
                continue
            pair = (zlib.crc32(f"{ctx.unit}>{rated}".encode()) % 100) / 100
            centre = 2.4 + 2.0 * pair + mood
            ratings[rated] = {
                item.id: min(5, max(1, round(rng.gauss(centre, 0.8)))) for item in settings.items
            }
        return [MatrixAnswer(ratings=ratings)]

    def answer_text(
        self, settings: MatrixSettings, answer: MatrixAnswer, result: MatrixResult, words: Words
    ) -> str:
        labels = words.labels(settings.items, result.items)
        parts = []
        for unit, items in answer.ratings.items():
            rated = ", ".join(f"{labels.get(k, k)} {items[k]}" for k in in_order_of(list(items), labels))
            parts.append(f"{unit}: {rated}")
        return "; ".join(parts)

    def markdown(self, settings: MatrixSettings, result: MatrixResult, words: Words) -> list[str]:
        _ = words.gettext
        lines: list[str] = []
        if result.rows:
            how = _(N_("Rows: the unit that rates. Columns: the unit it rates. Mean from 1 to 5."))
            lines += [md_em(how), ""]
            header = [" ", *(md(u) for u in result.units)]
            rows = []
            for row in result.rows:
                cells = [f"{md(row.unit)} ({row.people})"]
                cells += ["—" if c.own else words.number(c.mean) for c in row.cells]
                rows.append(cells)
            lines += md_table(header, rows)
        else:
            lines.append(md_em(_(N_("No unit had enough people answering to show."))))
        if result.hidden_units:
            hidden = _(N_("Units hidden: too few people answered: %(num)d"), num=result.hidden_units)
            lines += ["", md_em(hidden)]
        return lines

    def shows_units(self, settings: MatrixSettings) -> bool:
        return True

    def poster(
        self,
        settings: MatrixSettings,
        result: MatrixResult,
        entries: Sequence[Entry[MatrixAnswer]],
        slot: PosterSlot,
    ) -> PosterPart:
        """The heatmap, where at least two units are there to rate each other."""
        heatmap = _heatmap(result, slot.words)
        if heatmap is None:
            return PosterPart()
        _ = slot.words.gettext
        heading = _(
            N_("%(heading)s (1 = %(low)s, %(max)d = %(high)s)"),
            heading=_(N_("How it works between our units")),
            low=slot.words.text(result.low),
            max=result.points,
            high=slot.words.text(result.high),
        )
        return PosterPart(heatmap=heatmap, heatmap_heading=heading)


def _by_unit(entries: Sequence[Entry[MatrixAnswer]]) -> dict[str, list[Entry[MatrixAnswer]]]:
    out: dict[str, list[Entry[MatrixAnswer]]] = {}
    for entry in entries:
        if entry.unit:
            out.setdefault(entry.unit, []).append(entry)
    return out


def _heatmap(result: MatrixResult, words: Words) -> Heatmap | None:
    units = list(result.units)
    if len(units) < 2 or not result.rows:
        return None
    rows = {row.unit: row for row in result.rows}
    cells: list[list[float | None]] = []
    for rater in units:
        row = rows.get(rater)
        if row is None:
            cells.append([None] * len(units))
            continue
        by_unit = {cell.unit: cell for cell in row.cells}
        cells.append(
            [None if rated == rater or rated not in by_unit else by_unit[rated].mean for rated in units]
        )
    note = None
    if len(rows) < len(units):
        # TRANSLATORS: the legend of the grey rows of a poster's heatmap.
        grey = N_("Grey: fewer than %(num)d people of the unit answered, so its row is hidden")
        note = words.gettext(grey, num=result.min_group_size)
    return Heatmap(units=units, cells=cells, scale_max=result.points, note=note)
