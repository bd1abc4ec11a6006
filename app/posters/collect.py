"""Collect a poster from a team's sessions: the `PosterData` that `render` prints.

A poster belongs to the team. Steps of its flows carry a `poster:` tag ("core-task:statement",
"coordination:relations", "lessons:learn"): for each section of the wanted kind, the newest of the
team's sessions that has something in its tagged steps fills that section, whichever meeting it
was. A session without a team makes its posters from itself alone.

Results become poster items by exercise, generically: open_text cards, grouping groups (their
cards as the note), dot_vote options by dots, ranking options by place, survey items by median,
word_cloud words; a statement becomes the poster's statement, commitments its table and
follow-up date, a matrix its heatmap. Only counts, medians and units big enough to show are
printed: never a participant's name.

Every heading is translated here with the app's catalogues (`i18n.use_locale`); flow texts are
picked in the same language.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal, get_args

from babel.dates import format_date
from babel.lists import format_list
from babel.numbers import format_decimal
from pydantic import BaseModel
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from app import i18n
from app.db import session_scope
from app.flows import Flow, Step, text
from app.models import Run, Team, utcnow
from app.posters.model import Commitment, Heatmap, PosterData, PosterItem, PosterKind, PosterSection
from app.views import Reader, StepView
from exercises import AnyExercise, build_registry
from exercises.base import LOCALES, N_, split_by_unit

KINDS: tuple[PosterKind, ...] = get_args(PosterKind)
MAX_RUNS = 100  # the newest sessions of a team that are searched for a section
Style = Literal["list", "cards", "quotes"]


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


# The poster's sections in the order they print. A tag a flow uses that is not listed here still
# prints, after these, under its step's title.
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

DEFAULT_STYLE: dict[str, Style] = {
    "open_text": "cards",
    "grouping": "cards",
    "dot_vote": "cards",
    "ranking": "list",
    "survey": "list",
    "word_cloud": "list",
}


class NoSuchSession(LookupError):
    """The run or team asked for is not there."""


def tr(message: str) -> str:
    """A message marked with N_(), in the current language."""
    return i18n.gettext(message)


def _number(value: float, locale: str) -> str:
    return str(format_decimal(value, format="#,##0.#", locale=locale))


def _day(day: date, locale: str, fmt: str = "long") -> str:
    try:
        return str(format_date(day, format=fmt, locale=locale))
    except (ValueError, LookupError):
        return day.isoformat()


@functools.cache
def _registry() -> dict[str, AnyExercise]:
    return build_registry()


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


# --- what one step gives --------------------------------------------------------------------


@dataclass
class Piece:
    """What the tagged steps of one section of one session give the poster."""

    items: list[PosterItem] = field(default_factory=list)
    statement: str | None = None
    commitments: list[Commitment] = field(default_factory=list)
    follow_up: str | None = None
    heatmap: Heatmap | None = None
    heatmap_heading: str = ""
    style: Style | None = None  # the first exercise's default style, for sections not in SPECS
    title: str = ""  # the first step's title, for sections not in SPECS

    @property
    def empty(self) -> bool:
        return not (self.items or self.statement or self.commitments or self.heatmap)


def _rid(run: Run, step: Step, local: str) -> str:
    return f"r{run.id}.{step.id}.{local}"


def _attr(result: BaseModel, name: str) -> Any:
    return getattr(result, name, None)


def _convert(
    sv: StepView, run: Run, flow: Flow, locale: str, spec: SectionSpec | None, min_group_size: int
) -> Piece:
    """One step's results as poster content, by its exercise."""
    name = sv.exercise.name
    result = sv.result
    piece = Piece(style=DEFAULT_STYLE.get(name), title=text(sv.step.title, locale, flow.default_locale))

    def pick(value: Mapping[str, str] | None) -> str:
        return text(value, locale, flow.default_locale)

    if name == "open_text":
        piece.items.extend(_cards(sv, run, spec, min_group_size))
    elif name == "grouping":
        for group in _attr(result, "groups") or []:
            cards = " · ".join(card.text for card in group.cards)
            piece.items.append(
                PosterItem(id=_rid(run, sv.step, group.id), text=group.name, note=cards or None)
            )
        for card in _attr(result, "ungrouped") or []:
            piece.items.append(PosterItem(id=_rid(run, sv.step, card.id), text=card.text))
    elif name == "dot_vote":
        for option in _attr(result, "options") or []:
            # TRANSLATORS: under a voted option on a poster: how many dots it got.
            note = i18n.ngettext("%(num)d dot", "%(num)d dots", option.dots) % {"num": option.dots}
            oid = _rid(run, sv.step, option.id)
            piece.items.append(PosterItem(id=oid, text=pick(option.text), note=note))
    elif name == "ranking":
        for option in _attr(result, "options") or []:
            # TRANSLATORS: under a ranked option on a poster: the place the room gave it.
            note = tr(N_("place %(num)d")) % {"num": option.place}
            piece.items.append(
                PosterItem(id=_rid(run, sv.step, option.id), text=pick(option.text), note=note)
            )
    elif name == "survey":
        items = [i for i in _attr(result, "items") or [] if i.median is not None]
        items.sort(key=lambda i: -float(i.median))
        for item in items:
            # TRANSLATORS: under a survey statement on a poster: the middle answer on the scale.
            note = tr(N_("median %(value)s")) % {"value": _number(item.median, locale)}
            piece.items.append(PosterItem(id=_rid(run, sv.step, item.id), text=pick(item.text), note=note))
    elif name == "word_cloud":
        words = sorted(_attr(result, "words") or [], key=lambda w: (-w.count, w.text.casefold()))
        for word in words:
            note = None
            if word.count > 1:
                # TRANSLATORS: under a word of a word cloud on a poster: how many people wrote it.
                note = i18n.ngettext("named %(num)d time", "named %(num)d times", word.count) % {
                    "num": word.count
                }
            local = "w" + hashlib.sha1(word.text.casefold().encode()).hexdigest()[:12]
            piece.items.append(PosterItem(id=_rid(run, sv.step, local), text=word.text, note=note))
    elif name == "statement":
        final = _attr(result, "text")
        if isinstance(final, str) and final.strip():
            piece.statement = final
    elif name == "commitments":
        for item in _attr(result, "items") or []:
            when = _day(date.fromisoformat(item.date), locale, "medium") if item.date else item.when
            piece.commitments.append(Commitment(what=item.what, who=item.who, when=when))
        follow_up = _attr(result, "follow_up")
        if isinstance(follow_up, str) and follow_up:
            day = _day(date.fromisoformat(follow_up), locale, "full")
            piece.follow_up = tr(N_("Follow-up meeting: %(date)s")) % {"date": day}
    elif name == "matrix":
        piece.heatmap, piece.heatmap_heading = _heatmap(result, pick)
    return piece


def _cards(sv: StepView, run: Run, spec: SectionSpec | None, min_group_size: int) -> list[PosterItem]:
    """An open_text step's cards. The same text written by several people prints once, with how
    many wrote it; in a section by unit, a card names its unit where the unit is big enough."""
    shown: set[str] = set()
    if spec is not None and spec.by_unit:
        shown = set(split_by_unit(sv.entries, min_group_size).shown)
    same: dict[tuple[str, str | None], list[Any]] = {}
    for entry in sorted(sv.entries, key=lambda e: e.id):
        body = getattr(entry.answer, "text", "")
        if isinstance(body, str) and body.strip():
            unit = entry.unit if entry.unit in shown else None
            same.setdefault((" ".join(body.casefold().split()), unit), []).append(entry)
    groups = sorted(
        same.items(),
        key=lambda kv: (kv[0][1] is None, kv[0][1] or "", -len(kv[1]), kv[1][0].id),
    )
    items: list[PosterItem] = []
    for (_key, unit), entries in groups:
        first = entries[0]
        notes = [unit] if unit else []
        people = len({e.participant for e in entries})
        if people > 1:
            # TRANSLATORS: under a card on a poster that several people wrote word for word.
            notes.append(tr(N_("%(num)d people wrote this")) % {"num": people})
        item_id = _rid(run, sv.step, f"a{first.id}")
        items.append(PosterItem(id=item_id, text=first.answer.text, note=" · ".join(notes) or None))
    return items


def _heatmap(result: Any, pick: Any) -> tuple[Heatmap | None, str]:
    units: list[str] = list(result.units)
    if len(units) < 2 or not result.rows:
        return None, ""
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
        note = tr(N_("Grey: fewer than %(num)d people of the unit answered, so its row is hidden")) % {
            "num": result.min_group_size
        }
    heading = tr(N_("%(heading)s (1 = %(low)s, %(max)d = %(high)s)")) % {
        "heading": tr(N_("How it works between our units")),
        "low": pick(result.low),
        "max": result.points,
        "high": pick(result.high),
    }
    return Heatmap(units=units, cells=cells, scale_max=result.points, note=note), heading


# --- the team's sessions ---------------------------------------------------------------------


@dataclass
class Collected:
    """A collected poster and where its sections came from."""

    data: PosterData
    team: Team | None
    scope_run: Run  # the session asked about (for a team: the newest of its sessions, if asked by team)
    used: list[Run]  # the sessions the poster drew on, oldest first


def _runs(db: Session, run_id: int | None, team_id: int | None) -> tuple[Team | None, Run | None, list[Run]]:
    team: Team | None = None
    asked: Run | None = None
    if run_id is not None:
        asked = db.get(Run, run_id)
        if asked is None:
            raise NoSuchSession(f"no session {run_id}")
        if asked.team_id is None:
            return None, asked, [asked]
        team_id = asked.team_id
    if team_id is None:
        raise NoSuchSession("give a session or a team")
    team = db.get(Team, team_id)
    if team is None:
        raise NoSuchSession(f"no team {team_id}")
    query = select(Run).where(Run.team_id == team_id, col(Run.started_at).is_not(None))
    if asked is not None:  # only the sessions of the same tovholder
        owner = asked.facilitator_id
        query = query.where(
            col(Run.facilitator_id).is_(None) if owner is None else col(Run.facilitator_id) == owner
        )
    runs = list(db.exec(query.order_by(col(Run.created_at).desc(), col(Run.id).desc()).limit(MAX_RUNS)).all())
    if asked is not None and all(r.id != asked.id for r in runs):
        runs.insert(0, asked)
    return team, asked, runs


def available_kinds(engine: Engine, run_id: int) -> list[PosterKind]:
    """The kinds of poster a session's team (or the session alone) has tagged steps for."""
    with session_scope(engine) as db:
        _team, _asked, runs = _runs(db, run_id, None)
        flows = [Flow.model_validate(r.flow_snapshot) for r in runs]
    return [k for k in KINDS if any(tagged(f, k) for f in flows)]


def poster_locale(locale: str | None, fallback: str) -> str:
    """A language the poster can be printed in: one of the flow languages Tovholder knows."""
    for candidate in (locale, fallback):
        if candidate in LOCALES:
            return str(candidate)
    return "en"


def collect(
    engine: Engine,
    kind: PosterKind,
    *,
    run_id: int | None = None,
    team_id: int | None = None,
    locale: str | None = None,
    min_group_size: int = 5,
    registry: Mapping[str, AnyExercise] | None = None,
    today: date | None = None,
) -> PosterData:
    """The poster of this kind for a session's team (or the session alone, without a team), or
    for a team. `locale` defaults to the language of the newest session."""
    return collect_full(
        engine,
        kind,
        run_id=run_id,
        team_id=team_id,
        locale=locale,
        min_group_size=min_group_size,
        registry=registry,
        today=today,
    ).data


def collect_full(
    engine: Engine,
    kind: PosterKind,
    *,
    run_id: int | None = None,
    team_id: int | None = None,
    locale: str | None = None,
    min_group_size: int = 5,
    registry: Mapping[str, AnyExercise] | None = None,
    today: date | None = None,
) -> Collected:
    if kind not in SPECS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    spec = SPECS[kind]
    specs = {s.id: s for s in spec.sections}
    reader = Reader(registry or _registry(), min_group_size)
    with session_scope(engine) as db:
        team, asked, runs = _runs(db, run_id, team_id)
        newest = asked if asked is not None else (runs[0] if runs else None)
        if newest is None:
            raise NoSuchSession("the team has no sessions yet")
        flows = {r.id: Flow.model_validate(r.flow_snapshot) for r in runs}
        lang = poster_locale(locale, newest.locale)
        pieces: dict[str, tuple[Run, Piece]] = {}
        titles: dict[str, str] = {}
        with i18n.use_locale(lang):
            for run in runs:
                flow = flows[run.id]
                by_section: dict[str, list[tuple[int, Step]]] = {}
                for index, step, section in tagged(flow, kind):
                    by_section.setdefault(section, []).append((index, step))
                for section, steps in by_section.items():
                    if section in pieces:
                        continue
                    merged = Piece()
                    for index, _step in steps:
                        sv = reader.step_view(db, run, flow, index)
                        _join(merged, _convert(sv, run, flow, lang, specs.get(section), min_group_size))
                    titles.setdefault(section, merged.title)
                    if not merged.empty:
                        pieces[section] = (run, merged)
            data = _assemble(kind, spec, pieces, titles, team, lang, today or utcnow().date())
    used = sorted({r.id: r for r, _p in pieces.values()}.values(), key=lambda r: (r.created_at, r.id or 0))
    return Collected(data=data, team=team, scope_run=newest, used=used)


def _join(into: Piece, piece: Piece) -> None:
    into.items.extend(piece.items)
    into.statement = into.statement or piece.statement
    into.commitments.extend(piece.commitments)
    into.follow_up = into.follow_up or piece.follow_up
    if into.heatmap is None and piece.heatmap is not None:
        into.heatmap, into.heatmap_heading = piece.heatmap, piece.heatmap_heading
    into.style = into.style or piece.style
    into.title = into.title or piece.title


def _assemble(
    kind: PosterKind,
    spec: KindSpec,
    pieces: Mapping[str, tuple[Run, Piece]],
    titles: Mapping[str, str],
    team: Team | None,
    locale: str,
    today: date,
) -> PosterData:
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
        heading = tr(sec.heading) if sec else titles.get(section, section)
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
        listed = str(format_list([_day(d, locale) for d in days], locale=locale))
        many = N_("Sessions of %(dates)s") if len(days) > 1 else N_("Session of %(dates)s")
        subtitle = tr(many) % {"dates": listed}
    return PosterData(
        kind=kind,
        language=locale,
        title=tr(spec.title),
        team=team.name if team else "",
        subtitle=subtitle,
        statement=statement,
        statement_heading=tr(spec.statement_heading) if statement else "",
        sections=sections,
        heatmap=heatmap,
        heatmap_heading=heatmap_heading,
        commitments=commitments,
        commitments_heading=commitments_heading,
        commitments_labels=(tr(N_("What")), tr(N_("Who")), tr(N_("By when"))),
        follow_up=follow_up,
        footer=tr(N_("Made with Tovholder · %(date)s")) % {"date": _day(today, locale)},
    )


def _run_day(run: Run) -> date:
    moment: datetime = run.started_at or run.created_at
    return moment.date()
