"""The phone's side: the start page, joining by code, the current step, sending answers."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from app import i18n, screens
from app.codes import look_alikes_in, normalise_code
from app.deps import (
    LANG_COOKIE,
    PARTICIPANT_COOKIE,
    Csrf,
    FormFields,
    HouseDep,
    browser_locale,
    client_address,
    is_htmx,
)
from app.errors import InvalidInput, NotFound, Refusal
from app.routes import fragment, page
from app.routes.errors import error_response
from app.runner import answer_input
from app.security import csrf_token
from app.views import PhoneView
from exercises.base import N_

router = APIRouter()
TOO_MANY = N_("Too many tries. Wait a minute and try again.")


def _code_key(request: Request, code: str) -> tuple[str, str]:
    """Wrong codes count per address and the code's first two characters (app/ratelimits.py)."""
    return client_address(request), normalise_code(code)[:2]


def _unknown_code(request: Request, house: HouseDep, code: str, exc: NotFound) -> Response:
    """The one answer to a code that is no session's, at /j/ and at /p/ alike; counted."""
    house.limits.hit("wrong-code", *_code_key(request, code))
    with i18n.use_locale(browser_locale(request)):
        error = i18n.gettext(exc.message, **exc.params)
    return page(request, "start.html", status_code=404, error=error)


@router.get("/")
def start(request: Request) -> Response:
    return page(request, "start.html")


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/join")
def join_by_typed_code(request: Request, code: str = "") -> Response:
    clean = normalise_code(code)
    if not clean:
        with i18n.use_locale(browser_locale(request)):
            error = i18n.gettext(N_("Type the code you see on the big screen."))
        return page(request, "start.html", status_code=400, error=error)
    if strange := look_alikes_in(clean):
        with i18n.use_locale(browser_locale(request)):
            error = i18n.gettext(
                N_("No code contains %(chars)s. Look at the code again, one letter at a time."),
                chars=", ".join(strange),
            )
        return page(request, "start.html", status_code=400, error=error, code=clean)
    return RedirectResponse(f"/j/{clean}", status_code=303)


@router.get("/lang/{locale}")
async def choose_language(house: HouseDep, locale: str, next: str = "/") -> Response:
    target = next if next.startswith("/") and not next.startswith("//") else "/"
    response = RedirectResponse(target, status_code=303)
    if locale in i18n.available_locales():
        response.set_cookie(
            LANG_COOKIE, locale, max_age=365 * 24 * 3600, samesite="lax", secure=house.settings.cookies_secure
        )
    return response


@router.get("/j/{code}")
def join_page(request: Request, house: HouseDep, code: str) -> Response:
    if house.limits.blocked("wrong-code", *_code_key(request, code)):
        return error_response(request, 429, TOO_MANY)
    try:
        run, units = house.runner.join_form(code)
    except NotFound as exc:
        return _unknown_code(request, house, code, exc)
    token = request.cookies.get(PARTICIPANT_COOKIE)
    if token:
        try:
            if house.runner.participant(token).run_id == run.id:
                return RedirectResponse(f"/p/{run.code}", status_code=303)
        except Refusal:
            pass
    return page(request, "phone/join.html", run=run, code=run.code, units=units)


@router.post("/j/{code}", dependencies=[Csrf])
def join(
    request: Request,
    house: HouseDep,
    code: str,
    name: Annotated[str, Form(max_length=200)] = "",
    unit: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    address, clean = client_address(request), normalise_code(code)
    if (
        house.limits.blocked("wrong-code", *_code_key(request, code))
        or house.limits.blocked("join-address", address)
        or house.limits.blocked("join-session", clean)
    ):
        return error_response(request, 429, TOO_MANY)
    token = request.cookies.get(PARTICIPANT_COOKIE)
    if token:
        # The same form sent again (a reload of the join's reply where no script ran): the phone
        # it made, not a second one.
        try:
            return _phone_page(request, house.runner.phone_view_in(code, token))
        except Refusal:
            pass  # no phone in this session yet: it joins
    try:
        participant, view = house.runner.join_with_view(
            code, name, unit or None, most=house.settings.max_participants
        )
    except NotFound as exc:
        return _unknown_code(request, house, code, exc)
    except InvalidInput as exc:
        run = house.runner.run_by_code(code)
        with i18n.use_locale(browser_locale(request)):
            error = i18n.gettext(exc.message, **exc.params)
        return page(
            request,
            "phone/join.html",
            status_code=exc.status_code,
            run=run,
            code=run.code,
            name=name,
            units=house.runner.units_of(run),
            chosen_unit=unit,
            error=error,
        )
    house.limits.hit("join-address", address)
    house.limits.hit("join-session", clean)
    # The reply is the phone's page itself: one round trip sooner than a redirect to /p/. Its
    # script puts /p/ in the address bar, so a reload asks for that page, not for a second join.
    response = _phone_page(request, view)
    response.set_cookie(
        PARTICIPANT_COOKIE,
        participant.token,
        max_age=24 * 3600,
        httponly=True,
        samesite="lax",
        secure=house.settings.cookies_secure,
    )
    return response


@router.get("/p/{code}")
def phone(request: Request, house: HouseDep, code: str) -> Response:
    """Limited as /j/ is, and an unknown code answers as there: it tells nothing more."""
    if house.limits.blocked("wrong-code", *_code_key(request, code)):
        return error_response(request, 429, TOO_MANY)
    try:
        view = house.runner.phone_view_in(code, request.cookies.get(PARTICIPANT_COOKIE))
    except NotFound as exc:
        return _unknown_code(request, house, code, exc)
    except Refusal:  # no phone, or one of another session: it joins this one first
        return RedirectResponse(f"/j/{normalise_code(code)}", status_code=303)
    return _phone_page(request, view)


def _phone_page(request: Request, view: PhoneView) -> Response:
    return page(
        request,
        "phone/phone.html",
        run=view.run,
        screen=screens.phone_screen_for(view),
        fallback_locale=view.flow.default_locale,
    )


@router.post("/p/{code}/answer", dependencies=[Csrf])
def answer(request: Request, house: HouseDep, code: str, fields: FormFields) -> Response:
    """Store one answer; the reply is the phone's screen showing it as sent."""
    sent = answer_input(fields)
    token = request.cookies.get(PARTICIPANT_COOKIE)
    locale = browser_locale(request)
    try:
        result = house.runner.submit_answer(token, sent.step_id, sent.fields, sent.key)
    except InvalidInput as exc:
        # Show the form again with what was typed, so nothing is lost.
        view = house.runner.phone_view(house.runner.participant(token))
        with i18n.use_locale(locale):
            error = i18n.gettext(exc.message, **exc.params)
        screen = screens.phone_screen_for(view, error=error, values=sent.fields)
        if is_htmx(request):
            return fragment(
                screens.phone_html(house.env, screen, locale, csrf_token(request)), exc.status_code
            )
        return page(
            request,
            "phone/phone.html",
            status_code=exc.status_code,
            run=view.run,
            screen=screen,
            fallback_locale=view.flow.default_locale,
        )
    if not is_htmx(request):
        return RedirectResponse(f"/p/{result.view.run.code}", status_code=303)
    screen = screens.phone_screen_for(result.view, just_sent=True)
    return fragment(
        screens.phone_html(house.env, screen, locale, csrf_token(request)), 201 if result.created else 200
    )
