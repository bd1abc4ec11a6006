"""Request dependencies: the house, the logged-in tovholder, the phone's participant, CSRF."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Request

from app import auth, i18n
from app.models import Facilitator
from app.security import check_csrf

if TYPE_CHECKING:
    from app.main import Tovholder

PARTICIPANT_COOKIE = "tov_p"
LANG_COOKIE = "tov_lang"


class LoginRequired(Exception):
    pass


def get_house(request: Request) -> Tovholder:
    house: Tovholder = request.app.state.house
    return house


House = Annotated["Tovholder", Depends(get_house)]


def optional_facilitator(request: Request) -> Facilitator | None:
    house = get_house(request)
    account_id = house.signer.loads(request.cookies.get(auth.LOGIN_COOKIE))
    return auth.get_account(house.engine, account_id) if account_id is not None else None


def current_facilitator(request: Request) -> Facilitator:
    account = optional_facilitator(request)
    if account is None:
        raise LoginRequired
    return account


CurrentFacilitator = Annotated[Facilitator, Depends(current_facilitator)]
Csrf = Depends(check_csrf)


def browser_locale(request: Request) -> str:
    chosen = request.cookies.get(LANG_COOKIE)
    if chosen in i18n.available_locales():
        return str(chosen)
    return i18n.pick_locale(request.headers.get("accept-language"))


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request", "").lower() == "true"
