"""What a poster shows: the contract between whoever collects a team's results and the renderer.

Every string is final, already translated text; the templates add no words of their own.
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, model_validator

PosterKind = Literal["core-task", "coordination", "lessons"]


class PosterItem(BaseModel):
    id: str
    text: str
    note: str | None = None  # e.g. "12 dots", "Day team"


class PosterSection(BaseModel):
    id: str
    heading: str
    items: list[PosterItem]
    style: Literal["list", "cards", "quotes"] = "list"


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


class PosterData(BaseModel):
    kind: PosterKind
    language: str  # en, nb, nn, da, sv
    title: str  # already translated, e.g. "Our core task"
    team: str
    subtitle: str = ""  # e.g. "Sessions of 12 March and 2 April 2027"
    statement: str | None = None  # the shared statement (core task), big
    statement_heading: str = ""
    sections: list[PosterSection] = []
    heatmap: Heatmap | None = None
    heatmap_heading: str = ""
    commitments: list[Commitment] = []
    commitments_heading: str = ""
    commitments_labels: tuple[str, str, str] = ("What", "Who", "By when")
    follow_up: str | None = None  # "Follow-up meeting: 2027-05-04" (already a sentence)
    footer: str = ""  # e.g. "Made with Tovholder · 2027-04-02"
