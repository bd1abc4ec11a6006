"""Background pages: one per theme a flow draws on, at /guide/<theme>, in the reader's language."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.config import ROOT
from app.deps import browser_locale
from app.flows import BACKGROUNDS
from app.i18n import available_locales
from app.routes import page
from app.runner import NotFound
from exercises.base import N_

router = APIRouter()
PAGES = ROOT / "templates" / "guide" / "background"


@router.get("/guide/{theme}")
async def background(request: Request, theme: str) -> Response:
    if theme not in BACKGROUNDS:
        raise NotFound(N_("There is no background page named %(name)s."), name=theme[:40])
    locale = browser_locale(request)
    lang = locale if (PAGES / f"{theme}_{locale}.html").is_file() and locale in available_locales() else "en"
    return page(
        request, "guide_background.html", locale=locale, theme=theme, lang=lang, themes_list=BACKGROUNDS
    )
