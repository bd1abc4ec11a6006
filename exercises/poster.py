"""What a step gives a poster: an exercise's `poster` hook returns a `PosterPart`, and the app's
poster collector puts the parts of a team's tagged steps together (app/posters/). The item,
heatmap and commitment models are the poster's own: the renderer prints them as they are."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, model_validator

from exercises.words import Words

Style = Literal["list", "cards", "quotes"]


class PosterItem(BaseModel):
    id: str
    text: str
    note: str | None = None  # e.g. "12 dots", "Day team"
    # How strongly the room backed it (dots, votes, people who wrote or named it): the strongest
    # items of a section are the ones page 1 of a poster shows.
    weight: float | None = None
    # A rated item's median, and the top of its scale (from 1): what a section's rule reads to
    # tell a strength from something to get better at.
    score: float | None = None
    scale_max: int | None = None


class Heatmap(BaseModel):
    """Rows: the raters' unit; columns: the rated unit; None: hidden (fewer than 5 answered)."""

    units: list[str]
    cells: list[list[float | None]]
    scale_max: int = 5
    note: str | None = None  # explains the grey cells, e.g. "Grey: fewer than 5 answered"

    @model_validator(mode="after")
    def _square(self) -> Heatmap:
        n = len(self.units)
        if len(self.cells) != n or any(len(row) != n for row in self.cells):
            raise ValueError(f"cells must be {n} rows of {n} values, one per unit")
        if any(v is not None and not math.isfinite(v) for row in self.cells for v in row):
            raise ValueError("cells must be finite numbers or None")
        if self.scale_max < 2:
            raise ValueError("scale_max must be at least 2")
        return self


class Commitment(BaseModel):
    what: str
    who: str
    when: str
    where: str = ""  # where it is decided: "" for "we start now", else the forum


@dataclass
class PosterPart:
    """What one step's results give a poster. An item's id needs to be unique within the step
    only: the collector makes it unique on the poster."""

    items: list[PosterItem] = field(default_factory=list)
    statement: str | None = None  # the poster's big statement
    commitments: list[Commitment] = field(default_factory=list)
    follow_up: str | None = None  # a sentence, e.g. "Follow-up meeting: Tuesday 4 May 2027"
    heatmap: Heatmap | None = None
    heatmap_heading: str = ""

    @property
    def empty(self) -> bool:
        return not (self.items or self.statement or self.commitments or self.heatmap)


@dataclass(frozen=True)
class PosterSlot:
    """Where on a poster a step's results go: the language, and how its section shows them."""

    words: Words
    by_unit: bool = False  # the section names each card's unit, where the unit is big enough to show
    min_group_size: int = 5
