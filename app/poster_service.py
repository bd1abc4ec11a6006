"""The posters of a session, for its posters page, its downloads and `tovholder poster`: which
kinds its team has, each kind's draft, one change to a draft, and the printed file. It calls the
poster modules (collect, curate, render) with the storage they read."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy.engine import Engine

from app.errors import NotFound
from app.posters.build import Built, build, render_limited
from app.posters.collect import KINDS, available_kinds
from app.posters.curation import DraftSection, change, draft, version, write
from app.posters.model import PosterKind
from app.posters.render import Format, Orientation, Paper
from exercises import AnyExercise
from exercises.base import N_


@dataclass
class Block:
    """One kind of poster on the page: its preview, its downloads and its draft."""

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


def poster_kind(kind: str) -> PosterKind:
    """A kind of poster from an address; NotFound for any other word."""
    if kind not in KINDS:
        raise NotFound(N_("There is nothing at this address."))
    return kind


class Posters:
    def __init__(self, engine: Engine, registry: Mapping[str, AnyExercise], min_group_size: int) -> None:
        self.engine = engine
        self.registry = registry
        self.min_group_size = min_group_size

    def kinds(self, run_id: int) -> list[PosterKind]:
        """The kinds of poster the session's team has steps for."""
        return available_kinds(self.engine, run_id)

    def check_kind(self, run_id: int, kind: str) -> PosterKind:
        """The kind, if the session's team has it; else NotFound."""
        found = poster_kind(kind)
        if found not in self.kinds(run_id):
            raise NotFound(N_("There is nothing at this address."))
        return found

    def build(self, run_id: int, kind: PosterKind, locale: str | None = None) -> Built:
        return build(
            self.engine,
            run_id,
            kind,
            locale=locale,
            min_group_size=self.min_group_size,
            registry=self.registry,
        )

    def block(self, run_id: int, kind: PosterKind) -> Block:
        built = self.build(run_id, kind)
        data = built.data
        return Block(
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

    def change(
        self, run_id: int, kind: PosterKind, action: str, item: str, text: str, languages: Sequence[str]
    ) -> None:
        """One change to the kind's draft (hide, move, reword, merge, language); InvalidInput when
        it cannot be made."""
        built = self.build(run_id, kind)
        write(
            self.engine,
            built.scope,
            kind,
            lambda current: change(current, built.original, action, item, text, languages),
        )

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
        built = self.build(run_id, kind, locale)
        return render_limited(built.data, paper=paper, orientation=orientation, fmt=fmt, ppi=ppi)
