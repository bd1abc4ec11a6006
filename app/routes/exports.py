"""What the team takes home: a run's exports (CSV, JSON, Markdown) for the tovholder who owns it,
and read-only results links that anyone with the address can open."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from app import exports
from app.deps import Csrf, HouseDep, Owned, OwnedRun
from app.errors import NotFound
from app.routes.errors import error_response
from app.routes.results import results_page
from exercises.base import N_

router = APIRouter()


@router.get("/runs/{run_id}/export.{fmt}")
def export(house: HouseDep, run: OwnedRun, run_id: int, fmt: str) -> Response:
    if fmt not in exports.FORMATS:
        raise NotFound(N_("There is nothing at this address."))
    body = house.exports.export(run_id, fmt)
    return Response(
        body.encode("utf-8"),
        media_type=exports.MEDIA_TYPES[fmt],
        headers={
            "content-disposition": f'attachment; filename="{exports.filename(run, fmt)}"',
            "cache-control": "no-store",
        },
    )


@router.post("/runs/{run_id}/results/links", dependencies=[Csrf, Owned])
def make_link(request: Request, house: HouseDep, run_id: int) -> Response:
    """A new read-only link. Only its hash is kept, so this answer is the one place its address
    is shown: the results page with the address to copy."""
    _, token = house.results_links.create(run_id)
    url = f"{house.settings.resolved_public_url}/r/{token}"
    return results_page(request, house, run_id, new_link_url=url)


@router.post("/runs/{run_id}/results/links/{link_id}/revoke", dependencies=[Csrf, Owned])
def revoke(house: HouseDep, run_id: int, link_id: int) -> Response:
    if not house.results_links.revoke(run_id, link_id):
        raise NotFound(N_("There is nothing at this address."))
    return RedirectResponse(f"/runs/{run_id}/results#share", status_code=303)


@router.get("/r/{token}")
def shared_results(request: Request, house: HouseDep, token: str) -> Response:
    run_id = house.results_links.run_for(token[:100])
    if run_id is None:
        return error_response(request, 404, N_("There is nothing at this address."))
    return results_page(request, house, run_id, readonly=True)
