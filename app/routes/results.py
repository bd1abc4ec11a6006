"""A run's results after the fact: every step with its answers."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.deps import CurrentFacilitator, House
from app.routes import page

router = APIRouter()


@router.get("/runs/{run_id}/results")
async def results(request: Request, house: House, me: CurrentFacilitator, run_id: int) -> Response:
    await asyncio.to_thread(house.runner.get_run, run_id, me.id)
    run, flow, steps = await asyncio.to_thread(house.runner.step_results, run_id)
    count = (await asyncio.to_thread(house.runner.run_view, run_id)).participant_count
    return page(
        request,
        "results.html",
        locale=run.locale,
        run=run,
        flow=flow,
        steps=steps,
        participant_count=count,
        fallback_locale=flow.default_locale,
    )
