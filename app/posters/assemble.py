"""A poster put together from the pieces its sections got: headings, styles, the statement, the
heatmap and the commitments, the sessions' dates and the footer, all in the poster's language."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime

from babel.lists import format_list

from app.models import Run, Team
from app.posters.model import Commitment, Heatmap, PosterData, PosterKind, PosterSection
from app.posters.pieces import Piece
from app.posters.sections import DEFAULT_CAP, KindSpec, SectionSpec, ordered, select
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
    borrowed_statement: str | None = None,
) -> PosterData:
    _ = words.gettext
    sections: list[PosterSection] = []
    statement: str | None = None
    commitments: list[Commitment] = []
    commitments_heading = ""
    follow_up: str | None = None
    heatmap: Heatmap | None = None
    heatmap_heading = ""
    sources = {s.source for s in spec.sections}
    # The known sections in their order, then the sources no rule names, under their step's title.
    plan: list[tuple[SectionSpec | None, str]] = [(s, s.source) for s in spec.sections]
    plan += [(None, source) for source in sorted(pieces) if source not in sources | {spec.subject_source}]
    for sec, source in plan:
        if source not in pieces:
            continue
        _run, piece = pieces[source]
        heading = _(sec.heading) if sec else titles.get(source, source)
        items = select(piece.items, sec) if sec else piece.items
        if items:  # a section with nothing to show prints no heading
            style: Style = sec.style if sec else (piece.style or "list")
            sections.append(
                PosterSection(
                    id=sec.id if sec else source,
                    heading=heading,
                    items=items,
                    style=style,
                    cap=sec.cap if sec else DEFAULT_CAP,
                    group=sec.group if sec else None,
                    group_heading=_(sec.group_heading) if sec and sec.group_heading else "",
                )
            )
        statement = statement or piece.statement
        if piece.commitments and not commitments:
            commitments, commitments_heading = piece.commitments, heading
        follow_up = follow_up or piece.follow_up
        if piece.heatmap is not None and heatmap is None:
            heatmap, heatmap_heading = piece.heatmap, piece.heatmap_heading
    if spec.statement_from:
        statement = borrowed_statement
    days = sorted({_run_day(r) for r, _p in pieces.values()})
    subtitle = ""
    subject = pieces.get(spec.subject_source or "")
    if subject is not None and subject[1].items:
        subtitle = ordered(subject[1].items, "weight")[0].text
    elif days:
        listed = str(format_list([words.date(d) for d in days], locale=words.locale))
        many = N_("Sessions of %(dates)s") if len(days) > 1 else N_("Session of %(dates)s")
        subtitle = _(many, dates=listed)
    footer = _(N_("Made with Tovholder · %(date)s"), date=words.date(today))
    hidden = sum(p.hidden for _r, p in pieces.values())
    if hidden:
        # TRANSLATORS: in a poster's footer: answers the tovholder hid are not on the poster.
        left = words.ngettext(
            "%(num)d answer hidden by the tovholder is not shown",
            "%(num)d answers hidden by the tovholder are not shown",
            hidden,
        )
        footer = f"{footer} · {left}"
    notice = ""
    if not (sections or statement or commitments or heatmap):
        notice = _(N_("Nothing to show yet: the sessions have no answers for this poster."))
    return PosterData(
        kind=kind,
        notice=notice,
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
        elsewhere_heading=_(N_("Needs a decision in another forum")),
        where_label=_(N_("Where it is decided")),
        follow_up=follow_up,
        appendix_heading=_(N_("All the cards")),
        footer=footer,
    )


def _run_day(run: Run) -> date:
    moment: datetime = run.started_at or run.created_at
    return moment.date()
