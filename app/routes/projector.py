"""The big screen: join code and QR in the lobby, then each step and its live results."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.deps import HouseDep, Owned
from app.routes import page

router = APIRouter()


@router.get("/runs/{run_id}/projector", dependencies=[Owned])
def projector(request: Request, house: HouseDep, run_id: int) -> Response:
    view = house.runner.run_view(run_id)
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
