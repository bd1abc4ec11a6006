"""The phone's side: the start page, joining by code, the current step, sending answers."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from app import i18n, screens
from app.codes import look_alikes_in, normalise_code
from app.deps import LANG_COOKIE, PARTICIPANT_COOKIE, Csrf, House, browser_locale, is_htmx
from app.routes import fragment, page
from app.routes.errors import error_response
from app.runner import Invalid, NotFound, RunnerError
from app.security import RateLimiter, csrf_token
from exercises.base import N_

router = APIRouter()
# Counts wrong codes only: a room of phones behind one address joins freely.
join_limiter = RateLimiter(limit=20, window_seconds=60)
MAX_FIELDS = 120  # a matrix of 7 items for 11 other units, and the hidden fields


def _client(request: Request) -> str:
    return request.client.host if request.client else "?"


@router.get("/")
async def start(request: Request) -> Response:
    return page(request, "start.html")


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/join")
async def join_by_typed_code(request: Request, house: House, code: str = "") -> Response:
    clean = normalise_code(code)
    if not clean:
        return page(
            request,
            "start.html",
            status_code=400,
            error=i18n_message(request, N_("Type the code you see on the big screen.")),
        )
    if strange := look_alikes_in(clean):
        return page(
            request,
            "start.html",
            status_code=400,
            error=i18n_message(
                request,
                N_("No code contains %(chars)s. Look at the code again, one letter at a time."),
                chars=", ".join(strange),
            ),
            code=clean,
        )
    return RedirectResponse(f"/j/{clean}", status_code=303)


def i18n_message(request: Request, message: str, **params: object) -> str:
    with i18n.use_locale(browser_locale(request)):
        text = i18n.gettext(message)
    return text % params if params else text


@router.get("/lang/{locale}")
async def choose_language(request: Request, locale: str, next: str = "/") -> Response:
    target = next if next.startswith("/") and not next.startswith("//") else "/"
    response = RedirectResponse(target, status_code=303)
    if locale in i18n.available_locales():
        response.set_cookie(LANG_COOKIE, locale, max_age=365 * 24 * 3600, samesite="lax")
    return response


@router.get("/j/{code}")
async def join_page(request: Request, house: House, code: str) -> Response:
    if join_limiter.blocked(f"join:{_client(request)}"):
        return error_response(request, 429, N_("Too many tries. Wait a minute and try again."))
    try:
        run = await asyncio.to_thread(house.runner.run_by_code, code)
    except NotFound as exc:
        join_limiter.record(f"join:{_client(request)}")
        return page(
            request, "start.html", status_code=404, error=i18n_message(request, exc.message, **exc.params)
        )
    token = request.cookies.get(PARTICIPANT_COOKIE)
    if token:
        try:
            participant = await asyncio.to_thread(house.runner.participant, token)
            if participant.run_id == run.id:
                return RedirectResponse(f"/p/{run.code}", status_code=303)
        except RunnerError:
            pass
    units = await asyncio.to_thread(house.runner.units_of, run)
    return page(request, "phone/join.html", run=run, code=run.code, units=units)


@router.post("/j/{code}", dependencies=[Csrf])
async def join(
    request: Request,
    house: House,
    code: str,
    name: Annotated[str, Form(max_length=200)] = "",
    unit: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    if join_limiter.blocked(f"join:{_client(request)}"):
        return error_response(request, 429, N_("Too many tries. Wait a minute and try again."))
    try:
        participant = await asyncio.to_thread(house.runner.join, code, name, unit or None)
    except NotFound:
        join_limiter.record(f"join:{_client(request)}")
        raise
    except Invalid as exc:
        run = await asyncio.to_thread(house.runner.run_by_code, code)
        return page(
            request,
            "phone/join.html",
            status_code=exc.status_code,
            run=run,
            code=run.code,
            name=name,
            units=await asyncio.to_thread(house.runner.units_of, run),
            chosen_unit=unit,
            error=i18n_message(request, exc.message, **exc.params),
        )
    response = RedirectResponse(f"/p/{normalise_code(code)}", status_code=303)
    response.set_cookie(
        PARTICIPANT_COOKIE,
        participant.token,
        max_age=24 * 3600,
        httponly=True,
        samesite="lax",
        secure=house.settings.secure_cookies,
    )
    return response


@router.get("/p/{code}")
async def phone(request: Request, house: House, code: str) -> Response:
    run = await asyncio.to_thread(house.runner.run_by_code, code)
    try:
        participant = await asyncio.to_thread(
            house.runner.participant, request.cookies.get(PARTICIPANT_COOKIE)
        )
    except RunnerError:
        return RedirectResponse(f"/j/{run.code}", status_code=303)
    if participant.run_id != run.id:
        return RedirectResponse(f"/j/{run.code}", status_code=303)
    view = await asyncio.to_thread(house.runner.phone_view, participant)
    return page(
        request,
        "phone/phone.html",
        run=view.run,
        screen=screens.phone_screen_for(view),
        fallback_locale=view.flow.default_locale,
    )


@router.post("/p/{code}/answer", dependencies=[Csrf])
async def answer(request: Request, house: House, code: str) -> Response:
    """Store one answer; the reply is the phone's screen showing it as sent."""
    form = await request.form()
    if len(form) > MAX_FIELDS:
        return error_response(request, 400, N_("The form had too many fields."))
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    step_id = fields.pop("step", "")
    key = fields.pop("key", "")
    fields.pop("csrf_token", None)
    token = request.cookies.get(PARTICIPANT_COOKIE)
    locale = browser_locale(request)
    if not step_id:
        return error_response(
            request, 400, N_("The form did not say which question it answers. Reload the page.")
        )
    try:
        result = await asyncio.to_thread(house.runner.submit_answer, token, step_id, fields, key)
    except Invalid as exc:
        # Show the form again with what was typed, so nothing is lost.
        participant = await asyncio.to_thread(house.runner.participant, token)
        view = await asyncio.to_thread(house.runner.phone_view, participant)
        with i18n.use_locale(locale):
            message = i18n.gettext(exc.message) % exc.params if exc.params else i18n.gettext(exc.message)
        screen = screens.phone_screen_for(view, error=message, values=fields)
        html = screens.phone_html(house.env, screen, locale, csrf_token(request))
        if is_htmx(request):
            return fragment(html, exc.status_code)
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
