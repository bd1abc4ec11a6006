"""The posters of a session as they print, a service beside the runner: collected from the
team's sessions through the Reader, then curated by the tovholder. Used by the posters page, its
downloads and `tovholder poster`."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy.engine import Engine

from app.db import session_scope
from app.errors import NotFound
from app.models import Run
from app.posters.collect import Collected, NoSuchSession, available_kinds, collect
from app.posters.curation import (
    Curation,
    DraftSection,
    Scope,
    apply,
    change,
    commitment_ids,
    draft,
    ordered_ids,
    read,
    version,
    write,
)
from app.posters.glyphs import missing_in
from app.posters.model import PosterData, PosterKind
from app.posters.render import Format, Orientation, Paper, fit, render
from app.posters.sections import KINDS, SPECS
from app.views import Reader
from exercises.base import N_

# Typst takes a CPU for a second or so per poster: a few at a time, however many tabs ask.
_RENDERING = threading.BoundedSemaphore(2)


@dataclass
class Built:
    original: PosterData  # as collected
    data: PosterData  # as it prints: curated
    curation: Curation
    scope: Scope
    collected: Collected


@dataclass
class Block:
    """One kind of poster on the posters page: its preview, its downloads and its draft."""

    kind: str
    title: str
    language: str
    version: str
    sessions: list[str]  # codes of the sessions it draws on
    statement_heading: str
    statement: str | None
    heatmap: bool
    follow_up: str | None
    sections: list[DraftSection]
    appendix: set[str]  # items left to the "All the cards" page on A3 portrait
    missing: list[str]  # letters the poster font lacks: they print as empty boxes
    subject: str | None = None  # the subtitle, where the kind names its subject (the lessons card)
    typed_subject: bool = False  # the tovholder typed it


def poster_kind(kind: str) -> PosterKind:
    """A kind of poster from an address; NotFound for any other word."""
    if kind not in KINDS:
        raise NotFound(N_("There is nothing at this address."))
    return kind


class Posters:
    """A session's posters: which kinds it has, each as collected and as curated, the
    tovholder's changes to them, and the printed file."""

    def __init__(self, engine: Engine, reader: Reader) -> None:
        self.engine = engine
        self.reader = reader

    def kinds(self, run_id: int) -> list[PosterKind]:
        """The kinds of poster the session's team (or the session alone) has tagged steps for."""
        return available_kinds(self.engine, run_id)

    def check_kind(self, run_id: int, kind: str) -> PosterKind:
        """The kind, if the session's team has it; else NotFound."""
        found = poster_kind(kind)
        if found not in self.kinds(run_id):
            raise NotFound(N_("There is nothing at this address."))
        return found

    def collect(
        self,
        kind: PosterKind,
        *,
        run_id: int | None = None,
        team_id: int | None = None,
        locale: str | None = None,
        today: date | None = None,
    ) -> Collected:
        """The poster as its sessions give it, before the tovholder's curation."""
        return collect(
            self.engine, self.reader, kind, run_id=run_id, team_id=team_id, locale=locale, today=today
        )

    def build(self, run_id: int, kind: PosterKind, *, locale: str | None = None) -> Built:
        """`locale` overrides the language the tovholder chose for this poster (else the session's)."""
        with session_scope(self.engine) as db:
            run = db.get(Run, run_id)
            if run is None:
                raise NoSuchSession(f"no session {run_id}")
        scope = Scope.of(run)
        curation = read(self.engine, scope, kind)
        collected = self.collect(kind, run_id=run_id, locale=locale or curation.language)
        return Built(
            original=collected.data,
            data=apply(collected.data, curation),
            curation=curation,
            scope=scope,
            collected=collected,
        )

    def block(self, run_id: int, kind: PosterKind) -> Block:
        built = self.build(run_id, kind)
        data = built.data
        return Block(
            appendix=left_to_appendix(built),
            missing=missing_in(_strings(data)),
            subject=data.subtitle if SPECS[kind].subject_source else None,
            typed_subject=bool(built.curation.subject),
            kind=kind,
            title=data.title,
            language=data.language,
            version=f"{version(built.curation)}-{data.language}",
            sessions=[r.code for r in built.collected.used],
            statement_heading=data.statement_heading,
            statement=data.statement,
            heatmap=data.heatmap is not None,
            follow_up=data.follow_up,
            sections=draft(built.original, built.curation),
        )

    def blocks(self, run_id: int) -> list[Block]:
        return [self.block(run_id, kind) for kind in self.kinds(run_id)]

    def file(
        self,
        run_id: int,
        kind: PosterKind,
        *,
        paper: Paper,
        orientation: Orientation,
        fmt: Format,
        ppi: int,
        locale: str | None = None,
    ) -> bytes:
        """The poster as it prints: PDF (every page) or PNG (page 1)."""
        built = self.build(run_id, kind, locale=locale)
        return render_limited(built.data, paper=paper, orientation=orientation, fmt=fmt, ppi=ppi)

    def change(
        self, run_id: int, kind: PosterKind, action: str, item: str, text: str, languages: Sequence[str]
    ) -> None:
        """One change of the tovholder's to a poster's curation; InvalidInput if it cannot be."""
        built = self.build(run_id, kind)
        write(
            self.engine,
            built.scope,
            kind,
            lambda current: change(current, built.original, action, item, text, languages),
        )


def left_to_appendix(built: Built) -> set[str]:
    """The ids of the items and commitments that only the appendix prints (A3 portrait)."""
    fitted = fit(built.data)
    left: set[str] = set()
    for section, shown in zip(built.data.sections, fitted.get("shown", []), strict=False):
        left |= {item.id for item in section.items[int(shown) :]}
    visible = [
        cid
        for cid in ordered_ids(commitment_ids(built.original.commitments), built.curation)
        if not built.curation.choice(cid).hidden
    ]
    left |= set(visible[int(fitted.get("rows", len(visible))) :])
    return left


def _strings(data: PosterData) -> list[str | None]:
    texts: list[str | None] = [data.title, data.team, data.subtitle, data.statement, data.follow_up]
    texts += [i.text for s in data.sections for i in s.items] + [s.heading for s in data.sections]
    texts += [t for c in data.commitments for t in (c.what, c.who, c.when, c.where)]
    return texts


def render_limited(
    data: PosterData,
    *,
    paper: Paper = "a3",
    orientation: Orientation = "portrait",
    fmt: Format = "pdf",
    ppi: int = 144,
) -> bytes:
    """`render`, at most two at a time in this process. Call it from a worker thread."""
    with _RENDERING:
        return render(data, paper=paper, orientation=orientation, fmt=fmt, ppi=ppi)
