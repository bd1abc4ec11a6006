"""The tovholder's side: first-start setup, login, the dashboard, the console and its controls."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from app import auth, i18n, screens
from app.deps import Csrf, CurrentFacilitator, House, browser_locale, is_htmx
from app.flow_copies import custom_flows
from app.routes import fragment, page
from app.routes.errors import error_response
from app.runner import Conflict
from app.security import RateLimiter
from app.teams import create_team, team_of, teams_of
from exercises.base import N_, AnswerInvalid

router = APIRouter()
login_limiter = RateLimiter(limit=10, window_seconds=60)


def _safe_next(target: str) -> str:
    return target if target.startswith("/") and not target.startswith("//") else "/dashboard"


def _logged_in(house: House, account_id: int, target: str) -> Response:
    response = RedirectResponse(_safe_next(target), status_code=303)
    response.set_cookie(
        auth.LOGIN_COOKIE,
        house.signer.dumps(account_id),
        max_age=auth.LOGIN_MAX_AGE,
        httponly=True,
        samesite="lax",
        secure=house.settings.secure_cookies,
    )
    return response


def _message(request: Request, message: str) -> str:
    with i18n.use_locale(browser_locale(request)):
        return i18n.gettext(message)


@router.get("/setup/{token}")
async def setup_page(request: Request, house: House, token: str) -> Response:
    if not await asyncio.to_thread(auth.setup_token_valid, house.engine, token):
        return error_response(request, 404, N_("This setup link is no longer valid."))
    return page(request, "auth/setup.html", token=token)


@router.post("/setup/{token}", dependencies=[Csrf])
async def setup(
    request: Request,
    house: House,
    token: str,
    email: Annotated[str, Form(max_length=254)],
    password: Annotated[str, Form(max_length=1024)],
    name: Annotated[str, Form(max_length=120)] = "",
) -> Response:
    try:
        account = await asyncio.to_thread(auth.use_setup_token, house.engine, token, email, name, password)
    except auth.AccountError as exc:
        return page(
            request,
            "auth/setup.html",
            status_code=422,
            token=token,
            email=email,
            name=name,
            error=_message(request, str(exc)),
        )
    assert account.id is not None
    return _logged_in(house, account.id, "/dashboard")


@router.get("/login")
async def login_page(request: Request, next: str = "/dashboard") -> Response:
    return page(request, "auth/login.html", next=_safe_next(next))


@router.post("/login", dependencies=[Csrf])
async def login(
    request: Request,
    house: House,
    email: Annotated[str, Form(max_length=254)],
    password: Annotated[str, Form(max_length=1024)],
    next: Annotated[str, Form(max_length=200)] = "/dashboard",
) -> Response:
    client = request.client.host if request.client else "?"
    if login_limiter.blocked(f"login:{client}"):
        return error_response(request, 429, N_("Too many tries. Wait a minute and try again."))
    account = await asyncio.to_thread(auth.authenticate, house.engine, email, password)
    if account is None or account.id is None:
        login_limiter.record(f"login:{client}")
        return page(
            request,
            "auth/login.html",
            status_code=401,
            email=email,
            next=next,
            error=_message(request, N_("That email and password do not match an account.")),
        )
    return _logged_in(house, account.id, next)


@router.post("/logout", dependencies=[Csrf])
async def logout() -> Response:
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(auth.LOGIN_COOKIE)
    return response


@router.get("/dashboard")
async def dashboard(request: Request, house: House, me: CurrentFacilitator) -> Response:
    assert me.id is not None
    runs = await asyncio.to_thread(house.runner.runs_of, me.id)
    teams = await asyncio.to_thread(teams_of, house.engine, me.id)
    mine = await asyncio.to_thread(custom_flows, house.engine, me.id)
    return page(
        request,
        "dashboard.html",
        flows={**house.flows, **mine},
        runs=runs,
        teams=teams,
        default_locale=browser_locale(request),
    )


@router.post("/teams", dependencies=[Csrf])
async def add_team(
    request: Request,
    house: House,
    me: CurrentFacilitator,
    name: Annotated[str, Form(max_length=200)],
    units: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    assert me.id is not None
    try:
        await asyncio.to_thread(create_team, house.engine, me.id, name, units)
    except AnswerInvalid as exc:
        return error_response(request, 422, exc.message, **exc.params)
    return RedirectResponse("/dashboard#teams", status_code=303)


@router.post("/runs", dependencies=[Csrf])
async def start_run(
    request: Request,
    house: House,
    me: CurrentFacilitator,
    flow: Annotated[str, Form(max_length=80)],
    locale: Annotated[str, Form(max_length=8)] = "en",
    team: Annotated[int | None, Form()] = None,
) -> Response:
    assert me.id is not None
    if team is not None and await asyncio.to_thread(team_of, house.engine, me.id, team) is None:
        return error_response(request, 404, N_("There is no such team."))
    imported = (await asyncio.to_thread(custom_flows, house.engine, me.id)).get(flow)
    run = await asyncio.to_thread(
        house.runner.create_run,
        flow,
        locale,
        me.id,
        team_id=team,
        flow=None if flow in house.flows else imported,
    )
    return RedirectResponse(f"/runs/{run.id}/console", status_code=303)


@router.get("/runs/{run_id}/console")
async def console(request: Request, house: House, me: CurrentFacilitator, run_id: int) -> Response:
    await asyncio.to_thread(house.runner.get_run, run_id, me.id)
    view = await asyncio.to_thread(house.runner.run_view, run_id)
    return page(
        request,
        "console/console.html",
        locale=view.run.locale,
        run=view.run,
        view=view,
        join_url=house.join_url(view.run.code),
        fallback_locale=view.flow.default_locale,
    )


ACTIONS = {"next", "back", "reveal", "hide", "timer", "close"}


@router.post("/runs/{run_id}/{action}", dependencies=[Csrf])
async def control(
    request: Request,
    house: House,
    me: CurrentFacilitator,
    run_id: int,
    action: str,
    version: Annotated[int | None, Form()] = None,
    seconds: Annotated[int | None, Form(ge=0, le=4 * 3600)] = None,
    region: Annotated[str, Form(max_length=16)] = "console",
) -> Response:
    """Next, back, reveal, hide, timer, close. `version` makes it a compare-and-set."""
    if action not in ACTIONS:
        return error_response(request, 404, N_("There is nothing at this address."))
    await asyncio.to_thread(house.runner.get_run, run_id, me.id)
    runner = house.runner
    conflict = None
    try:
        if action in ("next", "back"):
            await asyncio.to_thread(runner.move, run_id, 1 if action == "next" else -1, version)
        elif action in ("reveal", "hide"):
            await asyncio.to_thread(runner.set_revealed, run_id, action == "reveal", version)
        elif action == "timer":
            await asyncio.to_thread(runner.set_timer, run_id, seconds or None, version)
        else:
            await asyncio.to_thread(runner.close, run_id, version)
    except Conflict as exc:
        conflict = exc
    if not is_htmx(request):
        target = "projector" if region == "stage" else "console"
        return RedirectResponse(f"/runs/{run_id}/{target}", status_code=303)
    # A stale version is not an error for the person: the reply shows where the run now is.
    return await _region(house, run_id, region, 409 if conflict else 200)


@router.post("/runs/{run_id}/steps/{step_id}/{action}", dependencies=[Csrf])
async def step_action(
    request: Request, house: House, me: CurrentFacilitator, run_id: int, step_id: str, action: str
) -> Response:
    """An action on the current step's exercise (group cards, edit the statement, pause a timer)."""
    await asyncio.to_thread(house.runner.get_run, run_id, me.id)
    form = await request.form()
    if len(form) > 40:
        return error_response(request, 400, N_("The form had too many fields."))
    fields = {k: v for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}
    raw_version = fields.pop("version", "")
    region = fields.pop("region", "console")
    try:
        version = int(raw_version) if raw_version else None
    except ValueError:
        return error_response(
            request,
            400,
            N_("The form was incomplete or malformed (%(fields)s). Reload the page and try again."),
            fields="version",
        )
    conflict = False
    try:
        await asyncio.to_thread(house.runner.act, run_id, step_id[:64], action[:32], fields, version)
    except Conflict:
        conflict = True
    if not is_htmx(request):
        return RedirectResponse(f"/runs/{run_id}/console", status_code=303)
    return await _region(house, run_id, region, 409 if conflict else 200)


async def _region(house: House, run_id: int, region: str, status: int) -> Response:
    view = await asyncio.to_thread(house.runner.run_view, run_id)
    if region == "stage":
        html = screens.stage_html(
            house.env, view, join_url=house.join_url(view.run.code), qr_svg=house.qr_svg(view.run.code)
        )
    else:
        html = screens.console_html(house.env, view, join_url=house.join_url(view.run.code))
    return fragment(html, status)
