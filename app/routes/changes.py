"""A phone changes or takes back a text answer it sent (the runner decides whether it still may):
the form to change it, the change, and taking it back. Each answers with the phone's screen."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from app import i18n, screens
from app.deps import PARTICIPANT_COOKIE, Csrf, FormFields, HouseDep, browser_locale, is_htmx
from app.errors import InvalidInput, NotFound
from app.house import House
from app.routes import fragment, page
from app.security import csrf_token
from app.views import PhoneView
from exercises.base import N_

router = APIRouter()
MAX_EDIT_FIELDS = 20


def _screen(request: Request, house: House, view: PhoneView, status: int = 200, **extra: Any) -> Response:
    screen = screens.phone_screen_for(view, **extra)
    if is_htmx(request):
        html = screens.phone_html(house.env, screen, browser_locale(request), csrf_token(request))
        return fragment(html, status)
    return page(
        request,
        "phone/phone.html",
        status_code=status,
        run=view.run,
        screen=screen,
        fallback_locale=view.flow.default_locale,
    )


def _own_view(house: House, request: Request, code: str) -> PhoneView:
    participant = house.runner.participant(request.cookies.get(PARTICIPANT_COOKIE))
    view = house.runner.phone_view(participant)
    if view.run.code != code.upper():
        raise NotFound(N_("Your phone is not in this session. Join again with the code."))
    return view


@router.get("/p/{code}/answers/{step_id}/{seq}/edit")
def edit_form(request: Request, house: HouseDep, code: str, step_id: str, seq: int) -> Response:
    """The phone's screen with the sent answer at place `seq` open in its form."""
    view = _own_view(house, request, code)
    return _screen(request, house, view, editing=seq)


@router.post("/p/{code}/answers/{step_id}/{seq}/edit", dependencies=[Csrf])
def edit(
    request: Request, house: HouseDep, code: str, step_id: str, seq: int, fields: FormFields
) -> Response:
    if len(fields) > MAX_EDIT_FIELDS:
        raise InvalidInput(N_("The form had too many fields."))
    form = {k: v for k, v in fields.items() if isinstance(v, str) and k != "csrf_token"}
    token = request.cookies.get(PARTICIPANT_COOKIE)

    def change() -> PhoneView:
        return house.runner.edit_answer(token, step_id[:64], seq, form)

    return _apply(request, house, code, change, editing=seq, values=form)


@router.post("/p/{code}/answers/{step_id}/{seq}/withdraw", dependencies=[Csrf])
def withdraw(request: Request, house: HouseDep, code: str, step_id: str, seq: int) -> Response:
    token = request.cookies.get(PARTICIPANT_COOKIE)
    return _apply(request, house, code, lambda: house.runner.withdraw_answer(token, step_id[:64], seq))


def _apply(
    request: Request, house: House, code: str, change: Callable[[], PhoneView], **on_error: Any
) -> Response:
    """Make the change and show the phone's screen; a change refused shows the form again, with
    what was typed and why."""
    try:
        view = change()
    except InvalidInput as exc:
        with i18n.use_locale(browser_locale(request)):
            error = i18n.gettext(exc.message, **exc.params)
        view = _own_view(house, request, code)
        return _screen(request, house, view, exc.status_code, error=error, **on_error)
    if not is_htmx(request):
        return RedirectResponse(f"/p/{view.run.code}", status_code=303)
    return _screen(request, house, view)
