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
from app.models import Run
from app.posters.collect import Collected, NoSuchSession, available_kinds, collect
from app.posters.curation import Curation, Scope, apply, change, read, write
from app.posters.model import PosterData, PosterKind
from app.posters.render import Format, Orientation, Paper, render
from app.views import Reader

# Typst takes a CPU for a second or so per poster: a few at a time, however many tabs ask.
_RENDERING = threading.BoundedSemaphore(2)


@dataclass
class Built:
    original: PosterData  # as collected
    data: PosterData  # as it prints: curated
    curation: Curation
    scope: Scope
    collected: Collected


class Posters:
    """A session's posters: which kinds it has, each as collected and as curated, and the
    tovholder's changes to them."""

    def __init__(self, engine: Engine, reader: Reader) -> None:
        self.engine = engine
        self.reader = reader

    def kinds(self, run_id: int) -> list[PosterKind]:
        """The kinds of poster the session's team (or the session alone) has tagged steps for."""
        return available_kinds(self.engine, run_id)

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

    def change(
        self, run_id: int, kind: PosterKind, action: str, item: str, text: str, languages: Sequence[str]
    ) -> None:
        """One change of the tovholder's to a poster's curation; AnswerInvalid if it cannot be."""
        built = self.build(run_id, kind)
        write(
            self.engine,
            built.scope,
            kind,
            lambda current: change(current, built.original, action, item, text, languages),
        )


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
