"""The kinds of poster and their sections, as data: for each section, the step tag it reads
(`poster: "KIND:SOURCE"` on a flow's step), which items qualify, their order and how many page 1
shows (the rest go to the "all the cards" page). docs/posters/README.md prints this table
(`rules_table()`); a test keeps the two the same. A tag that is not listed here still prints, after
these, under its step's title."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, get_args

from app.flows import Flow, Step
from app.posters.model import PosterItem, PosterKind
from exercises.base import N_
from exercises.poster import Style

KINDS: tuple[PosterKind, ...] = get_args(PosterKind)

# "all": every item but an option with no dots or votes; "strong": rated items whose median is at
# least STRONG of the scale's top and above its midpoint; "weak": rated items that are not strong.
Qualifier = Literal["all", "strong", "weak"]
# "weight": the most dots, votes or mentions first; "score": the highest median first;
# "lowest": the lowest median first; "given": as the step gives them.
Order = Literal["weight", "score", "lowest", "given"]

STRONG = 0.8  # 4 of 5, 5.6 of 7
DEFAULT_CAP = 8


@dataclass(frozen=True)
class SectionSpec:
    id: str
    heading: str  # msgid
    source: str  # the tag's part after "KIND:"
    style: Style = "list"
    qualifier: Qualifier = "all"
    order: Order = "weight"
    cap: int = DEFAULT_CAP  # items on page 1 at most; the rest go to the appendix
    by_unit: bool = False  # a card names its unit, if its step shows units and the unit is big enough
    group: str | None = None  # sections of one group print side by side as labelled columns
    group_heading: str = ""  # msgid


@dataclass(frozen=True)
class KindSpec:
    title: str  # msgid
    statement_heading: str  # msgid
    sections: tuple[SectionSpec, ...]
    # The statement comes from another kind's statement step, the team's newest (coordination
    # opens with the core task); None: from this kind's own steps.
    statement_from: str | None = None
    # The source whose first item names what the poster is about (the lessons card's activity);
    # it prints under the title instead of the sessions' dates.
    subject_source: str | None = None


def _column(id: str, heading: str) -> SectionSpec:
    """One of the three columns of "stop, keep, develop"."""
    return SectionSpec(id, heading, id, "list", cap=4, group="stop-keep-develop", group_heading=SKD)


SKD = N_("Stop, keep, develop")


def _who_what_when(source: str = "who-what-when") -> SectionSpec:
    """The commitments (what, who, by when), in the order they were given, from the step tagged
    `source`."""
    return SectionSpec(source, N_("Who does what, by when"), source, order="given", cap=8)


SPECS: dict[str, KindSpec] = {
    "core-task": KindSpec(
        title=N_("Our core task"),
        statement_heading=N_("Our core task"),
        sections=(
            SectionSpec("what-matters", N_("What matters most to us"), "what-matters", "cards", cap=6),
            SectionSpec("angles", N_("Who we are here for"), "angles", "list", cap=8),
            SectionSpec(
                "contributions", N_("What each unit brings"), "contributions", "quotes", cap=6, by_unit=True
            ),
            SectionSpec("best", N_("What we do best"), "best", "list", "strong", "score", cap=6),
            SectionSpec(
                "better", N_("What we want to get better at"), "best", "list", "weak", "lowest", cap=4
            ),
            SectionSpec("first-steps", N_("Our first steps"), "first-steps", order="given", cap=8),
        ),
    ),
    "coordination": KindSpec(
        title=N_("How we work together"),
        statement_heading=N_("Our core task"),
        statement_from="core-task",
        sections=(
            SectionSpec("relations", N_("How it works between our units"), "relations"),
            SectionSpec("hand-offs", N_("The hand-offs we work on first"), "hand-offs", "cards", cap=5),
            SectionSpec("communication", N_("Our communication agreements"), "communication", "cards", cap=5),
            SectionSpec("relationships", N_("Our relationship agreements"), "relationships", "cards", cap=5),
            SectionSpec(
                "stop", N_("Stop"), "stop", "list", cap=4, group="stop-keep-develop", group_heading=SKD
            ),
            SectionSpec(
                "keep", N_("Keep"), "keep", "list", cap=4, group="stop-keep-develop", group_heading=SKD
            ),
            SectionSpec(
                "develop",
                N_("Develop"),
                "develop",
                "list",
                cap=4,
                group="stop-keep-develop",
                group_heading=SKD,
            ),
            _who_what_when(),
        ),
    ),
    "lessons": KindSpec(
        title=N_("What we learned"),
        statement_heading=N_("The main lesson"),
        subject_source="activity",
        sections=(
            SectionSpec("do-best", N_("What we do best"), "do-best", "quotes", cap=4),
            SectionSpec("learn", N_("What we can learn"), "learn", "quotes", cap=4),
            SectionSpec("keep-develop", N_("What we keep and develop"), "keep-develop", "cards", cap=4),
            _who_what_when(),
        ),
    ),
    "alliance": KindSpec(
        title=N_("Our alliance"),
        statement_heading=N_("Our core task"),
        statement_from="core-task",
        sections=(
            SectionSpec("agreements", N_("What we agreed"), "agreements", "cards", cap=6),
            SectionSpec("context", N_("What we agreed about our context"), "context", "cards", cap=6),
            _who_what_when(),
        ),
    ),
    "safety": KindSpec(
        title=N_("Safe to ask, ready to help"),
        statement_heading=N_("Our core task"),
        statement_from="core-task",
        sections=(
            SectionSpec("between-units", N_("How safe it is between our units"), "between-units"),
            SectionSpec("agreements", N_("What we keep doing"), "agreements", "cards", cap=6),
            _who_what_when(),
        ),
    ),
    "leadership": KindSpec(
        title=N_("Leading into the gaps"),
        statement_heading=N_("Our core task"),
        statement_from="core-task",
        sections=(
            SectionSpec("relations", N_("How it works between our units"), "relations"),
            SectionSpec("gaps", N_("The gaps we lead into first"), "gaps", "list", cap=6),
            _who_what_when("agreements"),
        ),
    ),
}


def tags(step: Step) -> list[tuple[str, str]]:
    """A step's poster tags as (kind, source): `poster: "a:x"` or several, `"a:x, b:y"`."""
    found: list[tuple[str, str]] = []
    for tag in (step.poster or "").split(","):
        kind, _sep, source = tag.strip().partition(":")
        if kind and source:
            found.append((kind, source))
    return found


def tagged(flow: Flow, kind: str) -> list[tuple[int, Step, str]]:
    """The steps of a flow that feed a poster of this kind: (index, step, source)."""
    found: list[tuple[int, Step, str]] = []
    for index, step in enumerate(flow.steps):
        if step.off:
            continue
        found += [(index, step, source) for k, source in tags(step) if k == kind]
    return found


def is_strong(item: PosterItem) -> bool:
    if item.score is None or not item.scale_max:
        return False
    midpoint = (1 + item.scale_max) / 2
    return item.score >= STRONG * item.scale_max and item.score > midpoint


def qualifies(item: PosterItem, qualifier: Qualifier) -> bool:
    if qualifier == "strong":
        return is_strong(item)
    if qualifier == "weak":
        return item.score is not None and not is_strong(item)
    return item.weight != 0  # an option nobody gave a dot or a vote was not chosen


def ordered(items: Sequence[PosterItem], order: Order) -> list[PosterItem]:
    """Items in the section's order; ties keep the order the step gave them."""
    if order == "weight":
        return sorted(items, key=lambda i: -(i.weight if i.weight is not None else float("-inf")))
    if order == "score":
        return sorted(items, key=lambda i: -(i.score if i.score is not None else float("-inf")))
    if order == "lowest":
        return sorted(items, key=lambda i: i.score if i.score is not None else float("inf"))
    return list(items)


def select(items: Sequence[PosterItem], spec: SectionSpec) -> list[PosterItem]:
    """The items a section prints, in its order: those that qualify."""
    return ordered([i for i in items if qualifies(i, spec.qualifier)], spec.order)


_QUALIFIER_TEXT = {
    "all": "every item but an option nobody voted for",
    "strong": f"rated items with a median of at least {STRONG:.0%} of the scale's top and above its midpoint",
    "weak": "rated items that are not strong",
}
_ORDER_TEXT = {
    "weight": "most dots, votes or mentions first",
    "score": "highest median first",
    "lowest": "lowest median first",
    "given": "as the step gives them",
}


def rules_table() -> str:
    """The section rules as the Markdown table in docs/posters/README.md."""
    lines = [
        "| kind | section | heading (en) | source tag | qualifies | order | page 1 cap | unit shown |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for kind, spec in SPECS.items():
        if spec.subject_source:
            lines.append(
                f"| `{kind}` | (subtitle) | the activity | `{kind}:{spec.subject_source}` | the title the "
                "tovholder typed, else the most named item | most mentions first | 1 | no |"
            )
        if spec.statement_from:
            lines.append(
                f"| `{kind}` | (big text) | {spec.statement_heading} | the `{spec.statement_from}` poster's "
                "big text (the team's newest) | the text | - | 1 | no |"
            )
        for s in spec.sections:
            heading = f"{s.group_heading}: {s.heading}" if s.group else s.heading
            unit = "if the step shows units and >= min_group_size answered" if s.by_unit else "no"
            lines.append(
                f"| `{kind}` | `{s.id}` | {heading} | `{kind}:{s.source}` | {_QUALIFIER_TEXT[s.qualifier]} "
                f"| {_ORDER_TEXT[s.order]} | {s.cap} | {unit} |"
            )
    return "\n".join(lines) + "\n"
