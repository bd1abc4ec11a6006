"""What one step gives a poster: its exercise's `poster` hook, with item ids made unique on the
poster (the run and the step before the exercise's own id)."""

from __future__ import annotations

from dataclasses import dataclass

from app.models import Run
from app.views import StepView
from exercises.poster import PosterPart, PosterSlot, Style
from exercises.words import Words


@dataclass
class Piece(PosterPart):
    """What the tagged steps of one section of one session give the poster."""

    style: Style | None = None  # the first exercise's style, for sections not in SPECS
    title: str = ""  # the first step's title, for sections not in SPECS
    hidden: int = 0  # answers the tovholder took off the screens (or the word filter held): not printed


def step_piece(sv: StepView, run: Run, words: Words, by_unit: bool, min_group_size: int) -> Piece:
    """One step's results as poster content, in its exercise's own terms. Only counts, medians
    and units big enough to show reach it: never a participant's name. A card names its unit only
    where the section asks for it and the step itself shows the room its units."""
    shows = by_unit and sv.exercise.shows_units(sv.settings)
    slot = PosterSlot(words=words, by_unit=shows, min_group_size=min_group_size)
    result = sv.exercise.own_result(sv.result)
    part = sv.exercise.poster(sv.settings, result, sv.entries, slot)
    prefix = f"r{run.id}.{sv.step.id}."
    return Piece(
        items=[item.model_copy(update={"id": prefix + item.id}) for item in part.items],
        statement=part.statement,
        commitments=part.commitments,
        follow_up=part.follow_up,
        heatmap=part.heatmap,
        heatmap_heading=part.heatmap_heading,
        style=sv.exercise.poster_style,
        title=words.text(sv.step.title),
        hidden=sv.hidden_count + sv.held_count,
    )


def join(into: Piece, piece: Piece) -> None:
    """Add a step's piece to its section's (the first statement, heatmap and follow-up win)."""
    into.items.extend(piece.items)
    into.statement = into.statement or piece.statement
    into.commitments.extend(piece.commitments)
    into.follow_up = into.follow_up or piece.follow_up
    if into.heatmap is None and piece.heatmap is not None:
        into.heatmap, into.heatmap_heading = piece.heatmap, piece.heatmap_heading
    into.style = into.style or piece.style
    into.title = into.title or piece.title
    into.hidden += piece.hidden
