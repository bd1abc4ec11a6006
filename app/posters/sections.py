"""The kinds of poster and their sections, in the order they print, and which steps of a flow
feed them: a step's `poster:` tag ("core-task:statement", "coordination:relations",
"lessons:learn") names a kind and a section. A tag that is not listed here still prints, after
these, under its step's title."""

from __future__ import annotations

from dataclasses import dataclass
from typing import get_args

from app.flows import Flow, Step
from app.posters.model import PosterKind
from exercises.base import N_
from exercises.poster import Style

KINDS: tuple[PosterKind, ...] = get_args(PosterKind)


@dataclass(frozen=True)
class SectionSpec:
    id: str
    heading: str  # msgid
    style: Style = "list"
    by_unit: bool = False  # cards carry their unit where the unit is big enough to show


@dataclass(frozen=True)
class KindSpec:
    title: str  # msgid
    statement_heading: str  # msgid
    sections: tuple[SectionSpec, ...]


SPECS: dict[str, KindSpec] = {
    "core-task": KindSpec(
        title=N_("Our core task"),
        statement_heading=N_("Our core task"),
        sections=(
            SectionSpec("statement", N_("What matters most to us"), "cards"),
            SectionSpec("angles", N_("Who we are here for"), "list"),
            SectionSpec("contributions", N_("What each unit brings"), "quotes", by_unit=True),
            SectionSpec("best", N_("What we do best"), "list"),
            SectionSpec("first-steps", N_("Our first steps")),
        ),
    ),
    "coordination": KindSpec(
        title=N_("How we work together"),
        statement_heading=N_("Our core task"),
        sections=(
            SectionSpec("relations", N_("How it works between our units")),
            SectionSpec("hand-offs", N_("The hand-offs we work on first"), "cards"),
            SectionSpec("communication", N_("Our communication agreements"), "cards"),
            SectionSpec("relationships", N_("Our relationship agreements"), "cards"),
            SectionSpec("stop-keep-develop", N_("Stop, keep, develop"), "list"),
            SectionSpec("commitments", N_("Who does what, by when")),
        ),
    ),
    "lessons": KindSpec(
        title=N_("What we learned"),
        statement_heading=N_("The main lesson"),
        sections=(
            SectionSpec("do-best", N_("What we do best"), "quotes"),
            SectionSpec("learn", N_("What we can learn"), "quotes"),
            SectionSpec("keep-develop", N_("What we keep and develop"), "cards"),
        ),
    ),
}


def tagged(flow: Flow, kind: str) -> list[tuple[int, Step, str]]:
    """The steps of a flow that feed a poster of this kind: (index, step, section id)."""
    found: list[tuple[int, Step, str]] = []
    for index, step in enumerate(flow.steps):
        if step.off or not step.poster:
            continue
        prefix, _sep, section = step.poster.partition(":")
        if prefix == kind and section:
            found.append((index, step, section))
    return found
