"""A run's results after the fact: every step with its answers; deleting a session."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from app.deps import Csrf, HouseDep, Owned
from app.house import House
from app.routes import page
from app.routes.errors import error_response
from exercises.base import N_

router = APIRouter()


def results_page(
    request: Request,
    house: House,
    run_id: int,
    *,
    readonly: bool = False,
    new_link_url: str | None = None,
) -> Response:
    """The results page. `readonly` is the page a results link opens: no tovholder controls, no
    links to the console, no exports, whoever looks at it."""
    run, flow, steps = house.runner.step_results(run_id)
    extra: dict[str, Any] = {"facilitator": None} if readonly else {}
    response = page(
        request,
        "results.html",
        locale=run.locale,
        run=run,
        flow=flow,
        steps=steps,
        participant_count=house.runner.run_view(run_id).participant_count,
        fallback_locale=flow.default_locale,
        readonly=readonly,
        links=[] if readonly else house.results_links.active(run_id),
        new_link_url=new_link_url,
        retention_days=house.settings.retention_days,
        **extra,
    )
    if readonly:
        response.headers["x-robots-tag"] = "noindex, nofollow"
    return response


@router.get("/runs/{run_id}/results", dependencies=[Owned])
def results(request: Request, house: HouseDep, run_id: int) -> Response:
    return results_page(request, house, run_id)


@router.post("/runs/{run_id}/results/delete", dependencies=[Csrf, Owned])
def delete(
    request: Request,
    house: HouseDep,
    run_id: int,
    confirm: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """Delete a session and every answer in it, for good."""
    if confirm != "yes":
        return error_response(
            request, 400, N_("Tick the box to confirm that the session and its answers go.")
        )
    house.runner.delete_run(run_id)
    return RedirectResponse("/dashboard", status_code=303)
