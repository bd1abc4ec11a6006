"""Background pages: one per theme a flow draws on, at /guide/<theme>, in the reader's language;
and the accessibility statement, at /accessibility."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.config import ROOT
from app.deps import HouseDep, browser_locale
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


STATEMENTS = ROOT / "templates" / "accessibility"


@router.get("/accessibility")
async def accessibility(request: Request, house: HouseDep) -> Response:
    """The accessibility statement, in the form the Nordic supervisory bodies ask for."""
    locale = browser_locale(request)
    lang = locale if (STATEMENTS / f"statement_{locale}.html").is_file() else "en"
    contact = house.settings.accessibility_contact.strip()
    return page(
        request,
        "accessibility.html",
        locale=locale,
        statement=f"accessibility/statement_{lang}.html",
        contact=contact,
        contact_is_email="@" in contact and "/" not in contact,
    )
