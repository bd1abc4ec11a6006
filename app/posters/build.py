"""A session's poster as it prints: collected from the team's sessions, then curated. Used by the
posters page, its downloads and `tovholder poster`."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy.engine import Engine

from app.db import session_scope
from app.models import Run
from app.posters.collect import Collected, NoSuchSession, collect_full
from app.posters.curation import Curation, Scope, apply, read
from app.posters.model import PosterData, PosterKind
from app.posters.render import Format, Orientation, Paper, render
from exercises import AnyExercise

# Typst takes a CPU for a second or so per poster: a few at a time, however many tabs ask.
_RENDERING = threading.BoundedSemaphore(2)


@dataclass
class Built:
    original: PosterData  # as collected
    data: PosterData  # as it prints: curated
    curation: Curation
    scope: Scope
    collected: Collected


def build(
    engine: Engine,
    run_id: int,
    kind: PosterKind,
    *,
    locale: str | None = None,
    min_group_size: int = 5,
    registry: Mapping[str, AnyExercise] | None = None,
) -> Built:
    """`locale` overrides the language the tovholder chose for this poster (else the session's)."""
    with session_scope(engine) as db:
        run = db.get(Run, run_id)
        if run is None:
            raise NoSuchSession(f"no session {run_id}")
    scope = Scope.of(run)
    curation = read(engine, scope, kind)
    collected = collect_full(
        engine,
        kind,
        run_id=run_id,
        locale=locale or curation.language,
        min_group_size=min_group_size,
        registry=registry,
    )
    return Built(
        original=collected.data,
        data=apply(collected.data, curation),
        curation=curation,
        scope=scope,
        collected=collected,
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
