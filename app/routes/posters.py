"""The posters a team takes home: a page per session to curate them (hide, move, reword, merge,
language) with a live preview, and the PDF and PNG downloads. Only for the tovholder who owns
the session."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from app import i18n
from app.deps import Csrf, HouseDep, OwnedRun, browser_locale, is_htmx
from app.errors import NotFound
from app.routes import fragment, page
from app.security import csrf_token
from app.templating import render
from exercises.base import LOCALES, N_

router = APIRouter()

DOWNLOAD_PPI = 150


def languages() -> list[str]:
    """The languages a poster prints in: the app's catalogues that are flow languages too."""
    return [lang for lang in i18n.available_locales() if lang in LOCALES]


@router.get("/runs/{run_id}/posters")
def posters(request: Request, house: HouseDep, run: OwnedRun, run_id: int) -> Response:
    view = house.runner.run_view(run_id)
    return page(
        request,
        "posters.html",
        run=run,
        flow=view.flow,
        team=view.team,
        blocks=house.posters.blocks(run_id),
        hidden=house.runner.hidden_answers(run_id),
        languages=languages(),
        fallback_locale=view.flow.default_locale,
    )


@router.post("/runs/{run_id}/posters/{kind}", dependencies=[Csrf])
def curate(
    request: Request,
    house: HouseDep,
    run: OwnedRun,
    run_id: int,
    kind: str,
    action: Annotated[str, Form(max_length=20)],
    item: Annotated[str, Form(max_length=200)] = "",
    text: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    """One change to a poster's draft: the kind's block again (htmx), or back to the page."""
    poster_kind = house.posters.check_kind(run_id, kind)
    house.posters.change(run_id, poster_kind, action, item, text, languages())
    if not is_htmx(request):
        return RedirectResponse(f"/runs/{run_id}/posters#poster-{poster_kind}", status_code=303)
    html = render(
        house.env,
        "_poster.html",
        browser_locale(request),
        run=run,
        block=house.posters.block(run_id, poster_kind),
        languages=languages(),
        csrf_token=csrf_token(request),
    )
    return fragment(html)


@router.get("/runs/{run_id}/posters/{kind}.{fmt}")
def poster_file(
    house: HouseDep,
    run: OwnedRun,
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
    poster_kind = house.posters.check_kind(run_id, kind)
    out: Literal["pdf", "png"] = "pdf" if fmt == "pdf" else "png"
    ppi = min(max(ppi, 18), 300)
    body = house.posters.file(run_id, poster_kind, paper=paper, orientation=orientation, fmt=out, ppi=ppi)
    headers = {"cache-control": "no-store"}
    if fmt == "pdf" or download:
        name = f"{poster_kind}-{run.code}-{paper}-{orientation}.{fmt}"
        headers["content-disposition"] = f'attachment; filename="{name}"'
    return Response(body, media_type="application/pdf" if fmt == "pdf" else "image/png", headers=headers)
