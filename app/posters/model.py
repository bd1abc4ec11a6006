"""What a poster shows: the contract between whoever collects a team's results and the renderer.

Every string is final, already translated text; the templates add no words of their own. The
items, the heatmap and the commitments are what exercises give a poster (exercises/poster.py).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from exercises.poster import Commitment, Heatmap, PosterItem, Style

__all__ = ["Commitment", "Heatmap", "PosterData", "PosterItem", "PosterKind", "PosterSection"]

PosterKind = Literal["core-task", "coordination", "lessons", "alliance", "safety", "leadership"]


class PosterSection(BaseModel):
    id: str
    heading: str
    items: list[PosterItem]  # the strongest first
    style: Style = "list"
    cap: int = 8  # page 1 shows at most this many (fewer where they do not fit); the rest go to the appendix
    group: str | None = None  # sections of one group print side by side, as labelled columns
    group_heading: str = ""


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
    elsewhere_heading: str = ""  # "Needs a decision in another forum": the commitments with a `where`
    where_label: str = ""  # its third column, "Where it is decided"
    follow_up: str | None = None  # "Follow-up meeting: 2027-05-04" (already a sentence)
    notice: str = ""  # e.g. "Nothing to show yet": printed where there is no content at all
    appendix_heading: str = ""  # "All the cards": the pages after page 1, where page 1 left items out
    footer: str = ""  # e.g. "Made with Tovholder · 2027-04-02"
