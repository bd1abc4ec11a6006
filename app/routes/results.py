"""A run's results after the fact: every step with its answers."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.deps import CurrentFacilitator, House
from app.results_links import active_links
from app.routes import page

router = APIRouter()


async def results_page(
    request: Request,
    house: House,
    run_id: int,
    *,
    readonly: bool = False,
    new_link_url: str | None = None,
) -> Response:
    """The results page. `readonly` is the page a results link opens: no tovholder controls, no
    links to the console, no exports, whoever looks at it."""
    run, flow, steps = await asyncio.to_thread(house.runner.step_results, run_id)
    count = (await asyncio.to_thread(house.runner.run_view, run_id)).participant_count
    extra: dict[str, Any] = {"facilitator": None} if readonly else {}
    links = [] if readonly else await asyncio.to_thread(active_links, house.engine, run_id)
    response = page(
        request,
        "results.html",
        locale=run.locale,
        run=run,
        flow=flow,
        steps=steps,
        participant_count=count,
        fallback_locale=flow.default_locale,
        readonly=readonly,
        links=links,
        new_link_url=new_link_url,
        **extra,
    )
    if readonly:
        response.headers["x-robots-tag"] = "noindex, nofollow"
    return response


@router.get("/runs/{run_id}/results")
async def results(request: Request, house: House, me: CurrentFacilitator, run_id: int) -> Response:
    await asyncio.to_thread(house.runner.get_run, run_id, me.id)
    return await results_page(request, house, run_id)
