"""What the team takes home: a run's exports (CSV, JSON, Markdown) for the tovholder who owns it,
and read-only results links that anyone with the address can open."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from app import exports
from app.deps import Csrf, CurrentFacilitator, House
from app.results_links import create_link, revoke_link, run_for_token
from app.routes.errors import error_response
from app.routes.results import results_page
from app.runner import NotFound
from exercises.base import N_

router = APIRouter()


@router.get("/runs/{run_id}/export.{fmt}")
async def export(house: House, me: CurrentFacilitator, run_id: int, fmt: str) -> Response:
    if fmt not in exports.FORMATS:
        raise NotFound(N_("There is nothing at this address."))
    run = await asyncio.to_thread(house.runner.get_run, run_id, me.id)
    body = await asyncio.to_thread(house.exports.export, run_id, fmt)
    return Response(
        body.encode("utf-8"),
        media_type=exports.MEDIA_TYPES[fmt],
        headers={
            "content-disposition": f'attachment; filename="{exports.filename(run, fmt)}"',
            "cache-control": "no-store",
        },
    )


@router.post("/runs/{run_id}/results/links", dependencies=[Csrf])
async def make_link(request: Request, house: House, me: CurrentFacilitator, run_id: int) -> Response:
    """A new read-only link. Only its hash is kept, so this answer is the one place its address
    is shown: the results page with the address to copy."""
    await asyncio.to_thread(house.runner.get_run, run_id, me.id)
    _, token = await asyncio.to_thread(create_link, house.engine, run_id)
    url = f"{house.settings.resolved_public_url}/r/{token}"
    return await results_page(request, house, run_id, new_link_url=url)


@router.post("/runs/{run_id}/results/links/{link_id}/revoke", dependencies=[Csrf])
async def revoke(house: House, me: CurrentFacilitator, run_id: int, link_id: int) -> Response:
    await asyncio.to_thread(house.runner.get_run, run_id, me.id)
    if not await asyncio.to_thread(revoke_link, house.engine, run_id, link_id):
        raise NotFound(N_("There is nothing at this address."))
    return RedirectResponse(f"/runs/{run_id}/results#share", status_code=303)


@router.get("/r/{token}")
async def shared_results(request: Request, house: House, token: str) -> Response:
    run_id = await asyncio.to_thread(run_for_token, house.engine, token[:100])
    if run_id is None:
        return error_response(request, 404, N_("There is nothing at this address."))
    return await results_page(request, house, run_id, readonly=True)
