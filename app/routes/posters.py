"""The posters a team takes home: a page per session to curate them (hide, move, reword, merge,
language) with a live preview, and the PDF and PNG downloads. Only for the tovholder who owns
the session."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from app import i18n
from app.deps import Csrf, CurrentFacilitator, House, browser_locale, is_htmx
from app.models import Run
from app.posters.build import Built, render_limited
from app.posters.curation import DraftSection, draft, version
from app.posters.model import PosterKind
from app.posters.render import Format
from app.posters.sections import KINDS
from app.routes import fragment, page
from app.routes.errors import error_response
from app.runner import NotFound
from app.security import csrf_token
from app.templating import render
from exercises.base import LOCALES, N_, AnswerInvalid

router = APIRouter()

PREVIEW_PPI = 40
DOWNLOAD_PPI = 150


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


def languages() -> list[str]:
    """The languages a poster prints in: the app's catalogues that are flow languages too."""
    return [lang for lang in i18n.available_locales() if lang in LOCALES]


def _kind(kind: str) -> PosterKind:
    if kind not in KINDS:
        raise NotFound(N_("There is nothing at this address."))
    return kind


def _build(house: Any, run_id: int, kind: PosterKind) -> Built:
    built: Built = house.posters.build(run_id, kind)
    return built


def _block(house: Any, run_id: int, kind: PosterKind) -> Block:
    built = _build(house, run_id, kind)
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


async def _owned(house: Any, run_id: int, me_id: int | None, kind: str | None = None) -> Run:
    """The session, if this tovholder owns it (else 404), and the kind, if its team has it."""
    run: Run = await asyncio.to_thread(house.runner.get_run, run_id, me_id)
    if kind is not None and kind not in await asyncio.to_thread(house.posters.kinds, run_id):
        raise NotFound(N_("There is nothing at this address."))
    return run


@router.get("/runs/{run_id}/posters")
async def posters(request: Request, house: House, me: CurrentFacilitator, run_id: int) -> Response:
    run = await _owned(house, run_id, me.id)
    kinds = await asyncio.to_thread(house.posters.kinds, run_id)
    blocks = [await asyncio.to_thread(_block, house, run_id, kind) for kind in kinds]
    view = await asyncio.to_thread(house.runner.run_view, run_id)
    return page(
        request,
        "posters.html",
        run=run,
        flow=view.flow,
        team=view.team,
        blocks=blocks,
        languages=languages(),
        fallback_locale=view.flow.default_locale,
    )


@router.post("/runs/{run_id}/posters/{kind}", dependencies=[Csrf])
async def curate(
    request: Request,
    house: House,
    me: CurrentFacilitator,
    run_id: int,
    kind: str,
    action: Annotated[str, Form(max_length=20)],
    item: Annotated[str, Form(max_length=200)] = "",
    text: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    """One change to a poster's draft: the kind's block again (htmx), or back to the page."""
    poster_kind = _kind(kind)
    await _owned(house, run_id, me.id, poster_kind)

    try:
        await asyncio.to_thread(house.posters.change, run_id, poster_kind, action, item, text, languages())
    except AnswerInvalid as exc:
        return error_response(request, 422, exc.message, **exc.params)
    if not is_htmx(request):
        return RedirectResponse(f"/runs/{run_id}/posters#poster-{poster_kind}", status_code=303)
    run = await asyncio.to_thread(house.runner.get_run, run_id)
    block = await asyncio.to_thread(_block, house, run_id, poster_kind)
    html = render(
        house.env,
        "_poster.html",
        browser_locale(request),
        run=run,
        block=block,
        languages=languages(),
        csrf_token=csrf_token(request),
    )
    return fragment(html)


@router.get("/runs/{run_id}/posters/{kind}.{fmt}")
async def poster_file(
    house: House,
    me: CurrentFacilitator,
    run_id: int,
    kind: str,
    fmt: str,
    paper: Literal["a3", "a4"] = "a3",
    orientation: Literal["portrait", "landscape"] = "portrait",
    ppi: int = DOWNLOAD_PPI,
    download: bool = False,
) -> Response:
    """The poster as PDF (every page) or PNG (page 1: the preview, or a download)."""
    if fmt not in ("pdf", "png"):
        raise NotFound(N_("There is nothing at this address."))
    poster_kind = _kind(kind)
    run = await _owned(house, run_id, me.id, poster_kind)
    ppi = min(max(ppi, 18), 300)
    built = await asyncio.to_thread(_build, house, run_id, poster_kind)
    out: Format = "pdf" if fmt == "pdf" else "png"
    body = await asyncio.to_thread(
        render_limited, built.data, paper=paper, orientation=orientation, fmt=out, ppi=ppi
    )
    headers = {"cache-control": "no-store"}
    if fmt == "pdf" or download:
        name = f"{poster_kind}-{run.code}-{paper}-{orientation}.{fmt}"
        headers["content-disposition"] = f'attachment; filename="{name}"'
    return Response(body, media_type="application/pdf" if fmt == "pdf" else "image/png", headers=headers)
