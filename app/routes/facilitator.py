"""The tovholder's side before a session: first-start setup, login, the dashboard, teams, and
starting a session."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from app import auth, i18n
from app.deps import Csrf, CurrentFacilitator, HouseDep, browser_locale, client_address, login_token
from app.errors import NotFound
from app.routes import page
from app.routes.errors import error_response
from app.security import new_csrf_cookie
from exercises.base import N_

router = APIRouter()


def _safe_next(target: str) -> str:
    return target if target.startswith("/") and not target.startswith("//") else "/dashboard"


def _logged_in(house: HouseDep, account_id: int, target: str) -> Response:
    """A new login on the server, its cookie, and a new CSRF cookie."""
    response = RedirectResponse(_safe_next(target), status_code=303)
    response.set_cookie(
        auth.LOGIN_COOKIE,
        house.signer.dumps(house.accounts.start_login(account_id)),
        max_age=auth.LOGIN_MAX_AGE,
        httponly=True,
        samesite="lax",
        secure=house.settings.cookies_secure,
    )
    new_csrf_cookie(response, house.settings.cookies_secure)
    return response


@router.get("/setup/{token}")
def setup_page(request: Request, house: HouseDep, token: str) -> Response:
    if not house.accounts.setup_token_valid(token):
        return error_response(request, 404, N_("This setup link is no longer valid."))
    return page(request, "auth/setup.html", token=token)


@router.post("/setup/{token}", dependencies=[Csrf])
def setup(
    request: Request,
    house: HouseDep,
    token: str,
    email: Annotated[str, Form(max_length=254)],
    password: Annotated[str, Form(max_length=1024)],
    name: Annotated[str, Form(max_length=120)] = "",
) -> Response:
    try:
        account = house.accounts.use_setup_token(token, email, name, password)
    except auth.AccountError as exc:
        with i18n.use_locale(browser_locale(request)):
            error = i18n.gettext(str(exc))
        return page(
            request, "auth/setup.html", status_code=422, token=token, email=email, name=name, error=error
        )
    assert account.id is not None
    return _logged_in(house, account.id, "/dashboard")


@router.get("/login")
def login_page(request: Request, next: str = "/dashboard") -> Response:
    return page(request, "auth/login.html", next=_safe_next(next))


@router.post("/login", dependencies=[Csrf])
def login(
    request: Request,
    house: HouseDep,
    email: Annotated[str, Form(max_length=254)],
    password: Annotated[str, Form(max_length=1024)],
    next: Annotated[str, Form(max_length=200)] = "/dashboard",
) -> Response:
    # Counted per address and account: someone else's wrong tries never lock a tovholder out.
    key = (client_address(request), email.strip().lower())
    if house.limits.blocked("login", *key):
        return error_response(request, 429, N_("Too many tries. Wait a minute and try again."))
    account = house.accounts.authenticate(email, password)
    if account is None or account.id is None:
        house.limits.hit("login", *key)
        with i18n.use_locale(browser_locale(request)):
            error = i18n.gettext(N_("That email and password do not match an account."))
        return page(request, "auth/login.html", status_code=401, email=email, next=next, error=error)
    return _logged_in(house, account.id, next)


@router.post("/logout", dependencies=[Csrf])
def logout(request: Request, house: HouseDep) -> Response:
    """Ends the login on the server too: a saved copy of the cookie opens nothing."""
    house.accounts.end_login(login_token(request))
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(auth.LOGIN_COOKIE)
    new_csrf_cookie(response, house.settings.cookies_secure)
    return response


@router.get("/dashboard")
def dashboard(request: Request, house: HouseDep, me: CurrentFacilitator) -> Response:
    assert me.id is not None
    return page(
        request,
        "dashboard.html",
        flows=house.flow_copies.available(me.id),
        runs=house.runner.runs_of(me.id),
        teams=house.teams.of(me.id),
        default_locale=browser_locale(request),
    )


@router.post("/teams", dependencies=[Csrf])
def add_team(
    house: HouseDep,
    me: CurrentFacilitator,
    name: Annotated[str, Form(max_length=200)],
    units: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    house.teams.create(me.id, name, units)
    return RedirectResponse("/dashboard#teams", status_code=303)


@router.post("/runs", dependencies=[Csrf])
def start_run(
    house: HouseDep,
    me: CurrentFacilitator,
    flow: Annotated[str, Form(max_length=80)],
    locale: Annotated[str, Form(max_length=8)] = "en",
    team: Annotated[int | None, Form()] = None,
) -> Response:
    assert me.id is not None
    if team is not None and house.teams.owned(me.id, team) is None:
        raise NotFound(N_("There is no such team."))
    chosen = house.flow_copies.available(me.id).get(flow)
    run = house.runner.create_run(flow, locale, me.id, team_id=team, flow=chosen)
    return RedirectResponse(f"/runs/{run.id}/console", status_code=303)
