"""Collect a poster from a team's sessions: the `PosterData` that `render` prints.

A poster belongs to the team. For each section of the wanted kind (sections.py), the newest of
the team's sessions that has something in its tagged steps fills that section, whichever meeting
it was. A session without a team makes its posters from itself alone. What a step gives comes
from its exercise (pieces.py); headings, dates and the footer are put together in the poster's
language (assemble.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from app import i18n
from app.db import session_scope
from app.flows import Flow, Step
from app.models import Run, Team, utcnow
from app.posters.assemble import assemble
from app.posters.model import PosterData, PosterKind
from app.posters.pieces import Piece, join, step_piece
from app.posters.sections import KINDS, SPECS, SectionSpec, tagged
from app.views import Reader
from exercises.base import LOCALES

MAX_RUNS = 100  # the newest sessions of a team that are searched for a section


class NoSuchSession(LookupError):
    """The run or team asked for is not there."""


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
    reader: Reader,
    kind: PosterKind,
    *,
    run_id: int | None = None,
    team_id: int | None = None,
    locale: str | None = None,
    today: date | None = None,
) -> Collected:
    """The poster of this kind for a session's team (or the session alone, without a team), or
    for a team. `locale` defaults to the language of the newest session."""
    if kind not in SPECS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    spec = SPECS[kind]
    with session_scope(engine) as db:
        team, asked, runs = _runs(db, run_id, team_id)
        newest = asked if asked is not None else (runs[0] if runs else None)
        if newest is None:
            raise NoSuchSession("the team has no sessions yet")
        lang = poster_locale(locale, newest.locale)
        pieces, titles = _pieces(db, reader, runs, kind, spec.sections, lang)
        borrowed: str | None = None
        if spec.statement_from:
            own, _titles = _pieces(
                db, reader, runs, spec.statement_from, SPECS[spec.statement_from].sections, lang
            )
            borrowed = next((p.statement for _r, p in own.values() if p.statement), None)
        data = assemble(
            kind,
            spec,
            pieces,
            titles,
            team,
            i18n.words(lang),
            today or utcnow().date(),
            borrowed_statement=borrowed,
        )
    used = sorted({r.id: r for r, _p in pieces.values()}.values(), key=lambda r: (r.created_at, r.id or 0))
    return Collected(data=data, team=team, scope_run=newest, used=used)


def _pieces(
    db: Session, reader: Reader, runs: list[Run], kind: str, specs: tuple[SectionSpec, ...], lang: str
) -> tuple[dict[str, tuple[Run, Piece]], dict[str, str]]:
    """What the tagged steps give, by source tag: for each, the newest session (runs come newest
    first) whose steps have something."""
    by_unit = {s.source for s in specs if s.by_unit}
    pieces: dict[str, tuple[Run, Piece]] = {}
    titles: dict[str, str] = {}
    for run in runs:
        flow = Flow.model_validate(run.flow_snapshot)
        words = i18n.words(lang, flow.default_locale)
        by_source: dict[str, list[tuple[int, Step]]] = {}
        for index, step, source in tagged(flow, kind):
            by_source.setdefault(source, []).append((index, step))
        for source, steps in by_source.items():
            if source in pieces:
                continue
            merged = Piece()
            for index, _step in steps:
                sv = reader.step_view(db, run, flow, index)
                join(merged, step_piece(sv, run, words, source in by_unit, reader.min_group_size))
            titles.setdefault(source, merged.title)
            if not merged.empty:
                pieces[source] = (run, merged)
    return pieces, titles
