"""Thin handlers: parse, authorise, call the runner or a service, render. No engine and no
database session here. A handler that reads or writes is a plain `def`, which FastAPI runs in its
thread pool, so the event loop never waits on the database or a template."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from app import i18n
from app.deps import browser_locale, get_house, optional_facilitator
from app.models import utcnow
from app.security import csrf_token
from app.templating import render


def page(
    request: Request,
    template: str,
    *,
    locale: str | None = None,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    """A whole page (reads the logged-in tovholder: call it from a handler in the thread pool)."""
    house = get_house(request)
    locale = locale or browser_locale(request)
    context.setdefault("facilitator", optional_facilitator(request))
    context.setdefault("fallback_locale", "en")
    html = render(
        house.env,
        template,
        locale,
        request=request,
        csrf_token=csrf_token(request),
        now=utcnow(),
        available_locales=i18n.available_locales(),
        **context,
    )
    return HTMLResponse(html, status_code=status_code, headers={"cache-control": "no-store"})


def fragment(html: str, status_code: int = 200) -> HTMLResponse:
    return HTMLResponse(html, status_code=status_code, headers={"cache-control": "no-store"})
