"""Request dependencies: the house, the logged-in tovholder, the session they own, the phone's
participant cookie, the language, CSRF, and a form's text fields."""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

from app import auth, i18n
from app.errors import NotFound
from app.house import House
from app.models import Facilitator, Run
from app.security import check_csrf
from exercises.base import N_

PARTICIPANT_COOKIE = "tov_p"
LANG_COOKIE = "tov_lang"


class LoginRequired(Exception):
    pass


def get_house(request: Request) -> House:
    house: House = request.app.state.house
    return house


async def _house(request: Request) -> House:
    """get_house as a dependency: FastAPI runs a plain (def) dependency in a worker-thread hop of
    its own, before the route's; this one, on the event loop, takes none."""
    return get_house(request)


HouseDep = Annotated[House, Depends(_house)]


def login_token(request: Request) -> str | None:
    """The token of the login the request's cookie carries (signed; it may have ended)."""
    return get_house(request).signer.loads(request.cookies.get(auth.LOGIN_COOKIE))


def optional_facilitator(request: Request) -> Facilitator | None:
    """The tovholder of a login that has not ended; read once per request."""
    if "tovholder.facilitator" not in request.scope:
        account = get_house(request).accounts.logged_in(login_token(request))
        request.scope["tovholder.facilitator"] = account
    found: Facilitator | None = request.scope["tovholder.facilitator"]
    return found


def current_facilitator(request: Request) -> Facilitator:
    account = optional_facilitator(request)
    if account is None:
        raise LoginRequired
    return account


CurrentFacilitator = Annotated[Facilitator, Depends(current_facilitator)]


def owned_run(run_id: int, request: Request, house: HouseDep) -> Run:
    """The session in the address, if this tovholder owns it; else 404. The login is checked in
    the same worker-thread hop (not as a dependency of its own), as every control asks both."""
    return house.runner.get_run(run_id, current_facilitator(request).id)


def owns_run(run_id: int, request: Request, house: HouseDep) -> None:
    """owned_run's check alone, for a route that reads the session its own way (a screen): it
    reads the session's owner, not the whole row with its flow. A control checks in its own hop
    instead (check_control)."""
    house.runner.check_owner(run_id, current_facilitator(request).id)


def check_control(run_id: int, request: Request) -> None:
    """owns_run for a control, in one read. The control's route calls it in the worker-thread
    hop of the change itself (app/routes/console.py), not as a dependency: one hop before the
    change is stored and the phones' push, not two."""
    allowed = get_house(request).accounts.controls(login_token(request), run_id)
    if allowed is None:
        raise LoginRequired
    if not allowed:
        raise NotFound(N_("There is no such session."))


OwnedRun = Annotated[Run, Depends(owned_run)]
Owned = Depends(owns_run)  # for a route that needs only the check, with `run_id` of its own
Csrf = Depends(check_csrf)


async def form_fields(request: Request) -> dict[str, object]:
    """The request's form as it came, for the forms whose fields the exercise or flow decides.
    Read here, so the handler itself can run in the thread pool."""
    return dict((await request.form()).items())


FormFields = Annotated[dict[str, object], Depends(form_fields)]

M = TypeVar("M", bound=BaseModel)


def form_model(model: type[M]) -> Any:
    """As `Annotated[model, Form()]`, read as `form_fields` reads a form: FastAPI's form models
    inspect the model's annotations on every request (0.3 ms of the event loop's CPU a control,
    measured in process). As there, a field sent empty takes its default and a wrong one is a
    RequestValidationError (400, naming the field); fields the model lacks are not read."""

    async def read(request: Request) -> M:
        fields = await form_fields(request)
        sent = {name: fields[name] for name in model.model_fields if fields.get(name) not in (None, "")}
        try:
            return model.model_validate(sent)
        except ValidationError as exc:
            raise RequestValidationError(exc.errors(include_url=False)) from None

    return Depends(read)


def browser_locale(request: Request) -> str:
    chosen = request.cookies.get(LANG_COOKIE)
    if chosen in i18n.available_locales():
        return str(chosen)
    return i18n.pick_locale(request.headers.get("accept-language"))


def client_address(request: Request) -> str:
    """The client's address (a proxy's X-Forwarded-For counts only from TOVHOLDER_TRUSTED_PROXIES)."""
    return request.client.host if request.client else "?"


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request", "").lower() == "true"
