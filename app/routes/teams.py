"""A team's program page: the sessions it held, its statement, every commitment with its status
history, its pulse over time and what is next. Only for the tovholder who owns the team."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.deps import CurrentFacilitator, HouseDep, browser_locale
from app.routes import page

router = APIRouter()


@router.get("/teams/{team_id}")
def team_page(request: Request, house: HouseDep, me: CurrentFacilitator, team_id: int) -> Response:
    program = house.program.page(team_id, me.id, browser_locale(request))
    return page(request, "team.html", p=program, min_group_size=house.settings.min_group_size)
