"""Every refusal is a clear message a person can act on, as a page or an htmx fragment."""

from __future__ import annotations

import logging
from urllib.parse import quote, urlsplit

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from app import i18n
from app.deps import LoginRequired, browser_locale, get_house, is_htmx
from app.errors import Refusal
from app.routes import fragment, page
from app.security import CsrfError
from app.templating import render
from exercises.base import N_

log = logging.getLogger(__name__)


def error_response(request: Request, status: int, message: str, **params: object) -> Response:
    """The message (an N_() msgid) in the browser's language: in the page's #flash region for
    htmx, else as a page. Reads the logged-in tovholder: call it from the thread pool."""
    locale = browser_locale(request)
    with i18n.use_locale(locale):
        text = i18n.gettext(message, **params)
    if is_htmx(request):
        # The message goes to the page's #flash region: a screen is never replaced by an error.
        house = get_house(request)
        response = fragment(render(house.env, "_error.html", locale, message=text), status)
        response.headers["HX-Retarget"] = "#flash"
        response.headers["HX-Reswap"] = "innerHTML"
        return response
    return page(request, "error.html", locale=locale, status_code=status, message=text, status=status)


def install(app: FastAPI) -> None:
    # Plain functions: Starlette runs them in the thread pool, as error_response needs.
    @app.exception_handler(Refusal)
    def _refusal(request: Request, exc: Refusal) -> Response:
        return error_response(request, exc.status_code, exc.message, **exc.params)

    @app.exception_handler(CsrfError)
    def _csrf(request: Request, exc: CsrfError) -> Response:
        return error_response(
            request,
            403,
            N_("This form has expired or came from another site. Reload the page and try again."),
        )

    @app.exception_handler(RequestValidationError)
    def _malformed(request: Request, exc: RequestValidationError) -> Response:
        fields = sorted({str(e["loc"][-1]) for e in exc.errors() if e.get("loc")})
        return error_response(
            request,
            400,
            N_("The form was incomplete or malformed (%(fields)s). Reload the page and try again."),
            fields=", ".join(fields) or "?",
        )

    @app.exception_handler(LoginRequired)
    def _login(request: Request, exc: LoginRequired) -> Response:
        if request.method == "GET" and not is_htmx(request):
            return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
        response = error_response(request, 401, N_("Please log in again."))
        if is_htmx(request):
            # Back to the page the request came from, not to the address it posted to.
            current = urlsplit(request.headers.get("hx-current-url", "")).path or "/dashboard"
            response.headers["HX-Redirect"] = f"/login?next={quote(current)}"
        return response

    @app.exception_handler(Exception)
    def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return error_response(
            request, 500, N_("Something went wrong on our side. Please try again in a moment.")
        )

    @app.exception_handler(StarletteHTTPException)
    def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 404:
            return error_response(request, 404, N_("There is nothing at this address."))
        if exc.status_code == 405:
            return error_response(request, 405, N_("This address does not take that kind of request."))
        return HTMLResponse(str(exc.detail), status_code=exc.status_code)
