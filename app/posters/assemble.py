"""A poster put together from the pieces its sections got: headings, styles, the statement, the
heatmap and the commitments, the sessions' dates and the footer, all in the poster's language."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime

from babel.lists import format_list

from app.models import Run, Team
from app.posters.model import Commitment, Heatmap, PosterData, PosterKind, PosterSection
from app.posters.pieces import Piece
from app.posters.sections import KindSpec
from exercises.base import N_
from exercises.poster import Style
from exercises.words import Words


def assemble(
    kind: PosterKind,
    spec: KindSpec,
    pieces: Mapping[str, tuple[Run, Piece]],
    titles: Mapping[str, str],
    team: Team | None,
    words: Words,
    today: date,
) -> PosterData:
    _ = words.gettext
    known = [s.id for s in spec.sections]
    order = known + sorted(s for s in pieces if s not in known)
    specs = {s.id: s for s in spec.sections}
    sections: list[PosterSection] = []
    statement: str | None = None
    commitments: list[Commitment] = []
    commitments_heading = ""
    follow_up: str | None = None
    heatmap: Heatmap | None = None
    heatmap_heading = ""
    for section in order:
        if section not in pieces:
            continue
        _run, piece = pieces[section]
        sec = specs.get(section)
        heading = _(sec.heading) if sec else titles.get(section, section)
        if piece.items:
            style: Style = sec.style if sec else (piece.style or "list")
            sections.append(PosterSection(id=section, heading=heading, items=piece.items, style=style))
        statement = statement or piece.statement
        if piece.commitments and not commitments:
            commitments, commitments_heading = piece.commitments, heading
        follow_up = follow_up or piece.follow_up
        if piece.heatmap is not None and heatmap is None:
            heatmap, heatmap_heading = piece.heatmap, piece.heatmap_heading
    days = sorted({_run_day(r) for r, _p in pieces.values()})
    subtitle = ""
    if days:
        listed = str(format_list([words.date(d) for d in days], locale=words.locale))
        many = N_("Sessions of %(dates)s") if len(days) > 1 else N_("Session of %(dates)s")
        subtitle = _(many, dates=listed)
    return PosterData(
        kind=kind,
        language=words.locale,
        title=_(spec.title),
        team=team.name if team else "",
        subtitle=subtitle,
        statement=statement,
        statement_heading=_(spec.statement_heading) if statement else "",
        sections=sections,
        heatmap=heatmap,
        heatmap_heading=heatmap_heading,
        commitments=commitments,
        commitments_labels=(_(N_("What")), _(N_("Who")), _(N_("By when"))),
        commitments_heading=commitments_heading,
        follow_up=follow_up,
        footer=_(N_("Made with Tovholder · %(date)s"), date=words.date(today)),
    )


def _run_day(run: Run) -> date:
    moment: datetime = run.started_at or run.created_at
    return moment.date()
