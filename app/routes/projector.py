"""The big screen: join code and QR in the lobby, then each step and its live results."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.deps import CurrentFacilitator, House
from app.routes import page

router = APIRouter()


@router.get("/runs/{run_id}/projector")
async def projector(request: Request, house: House, me: CurrentFacilitator, run_id: int) -> Response:
    await asyncio.to_thread(house.runner.get_run, run_id, me.id)
    view = await asyncio.to_thread(house.runner.run_view, run_id)
    return page(
        request,
        "projector/projector.html",
        locale=view.run.locale,
        run=view.run,
        view=view,
        join_url=house.join_url(view.run.code),
        qr_svg=house.qr_svg(view.run.code),
        fallback_locale=view.flow.default_locale,
    )
