"""The tovholder's screens: the console, the projector (the big screen: join code and QR in the
lobby, then each step and its live results), and the controls: next, back, reveal, hide, timer
and close, each at its own address, and the actions on the current step's exercise. A control
answers an htmx request with the region it came from (the console, or the projector's stage),
else with a redirect."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, Field

from app.deps import Csrf, FormFields, HouseDep, Owned, check_control, form_model, is_htmx
from app.errors import Conflict, Refusal
from app.house import House
from app.routes import fragment, page
from app.runner import MAX_TIMER_SECONDS
from exercises.base import N_

router = APIRouter()
MAX_ACTION_FIELDS = 40
CONTROL_FIELDS = frozenset({"version", "region", "csrf_token"})


class Control(BaseModel):
    """A control's form: `version` makes it a compare-and-set; `region` is where it was pressed."""

    version: int | None = None
    region: str = Field(default="console", max_length=16)


class TimerControl(Control):
    seconds: int | None = Field(default=None, ge=0, le=MAX_TIMER_SECONDS)


ControlForm = Annotated[Control, form_model(Control)]
TimerForm = Annotated[TimerControl, form_model(TimerControl)]


def _screen(request: Request, house: House, run_id: int, template: str, *, qr: bool = False) -> Response:
    view = house.runner.run_view(run_id)
    extra: dict[str, Any] = {"qr_svg": house.qr_svg(view.run.code)} if qr else {}
    return page(
        request,
        template,
        locale=view.run.locale,
        run=view.run,
        view=view,
        join_url=house.join_url(view.run.code),
        fallback_locale=view.flow.default_locale,
        **extra,
    )


@router.get("/runs/{run_id}/console", dependencies=[Owned])
def console(request: Request, house: HouseDep, run_id: int) -> Response:
    return _screen(request, house, run_id, "console/console.html")


@router.get("/runs/{run_id}/projector", dependencies=[Owned])
def projector(request: Request, house: HouseDep, run_id: int) -> Response:
    return _screen(request, house, run_id, "projector/projector.html", qr=True)


async def _region(
    request: Request, house: House, run_id: int, region: str, change: Callable[[], object]
) -> Response:
    """Check the login and the session's owner, and make the change, in one worker-thread hop;
    then answer with the region it came from. A stale version is not an error for the person:
    the reply (409) shows where the run now is. The reply waits for the change's push, so the
    phones get theirs first and the console drawn for it serves the reply too."""

    def checked_change() -> None:
        check_control(run_id, request)  # LoginRequired or NotFound, before anything changes
        change()

    status = 200
    try:
        await asyncio.to_thread(checked_change)
    except Conflict:
        status = 409
    if not is_htmx(request):
        target = "projector" if region == "stage" else "console"
        return RedirectResponse(f"/runs/{run_id}/{target}", status_code=303)
    await house.realtime.settled(run_id)
    reuse = house.realtime.quiet(run_id)
    return fragment(await asyncio.to_thread(house.region_html, run_id, region, reuse), status)


# The controls, one address each: no address here can take another route's request. Each goes
# through _region, which checks the login and the owner in the change's own hop (check_control):
# hence no `Owned` among their dependencies (tests/test_auth.py tries every one with another
# tovholder's login and with none).


@router.post("/runs/{run_id}/next", dependencies=[Csrf])
async def next_step(request: Request, house: HouseDep, run_id: int, form: ControlForm) -> Response:
    return await _region(
        request, house, run_id, form.region, lambda: house.runner.move(run_id, +1, form.version)
    )


@router.post("/runs/{run_id}/back", dependencies=[Csrf])
async def back(request: Request, house: HouseDep, run_id: int, form: ControlForm) -> Response:
    return await _region(
        request, house, run_id, form.region, lambda: house.runner.move(run_id, -1, form.version)
    )


@router.post("/runs/{run_id}/reveal", dependencies=[Csrf])
async def reveal(request: Request, house: HouseDep, run_id: int, form: ControlForm) -> Response:
    change = partial(house.runner.set_revealed, run_id, True, form.version)
    return await _region(request, house, run_id, form.region, change)


@router.post("/runs/{run_id}/hide", dependencies=[Csrf])
async def hide(request: Request, house: HouseDep, run_id: int, form: ControlForm) -> Response:
    change = partial(house.runner.set_revealed, run_id, False, form.version)
    return await _region(request, house, run_id, form.region, change)


class JoinControl(Control):
    shown: bool = True


@router.post("/runs/{run_id}/join-code", dependencies=[Csrf])
async def join_code(
    request: Request, house: HouseDep, run_id: int, form: Annotated[JoinControl, form_model(JoinControl)]
) -> Response:
    """Shows or hides the QR code and join code in the projector's corner (the console, or J)."""
    change = partial(house.runner.show_join, run_id, form.shown, form.version)
    return await _region(request, house, run_id, form.region, change)


@router.post("/runs/{run_id}/timer", dependencies=[Csrf])
async def timer(request: Request, house: HouseDep, run_id: int, form: TimerForm) -> Response:
    change = partial(house.runner.set_timer, run_id, form.seconds or None, form.version)
    return await _region(request, house, run_id, form.region, change)


@router.post("/runs/{run_id}/close", dependencies=[Csrf])
async def close(request: Request, house: HouseDep, run_id: int, form: ControlForm) -> Response:
    return await _region(
        request, house, run_id, form.region, partial(house.runner.close, run_id, form.version)
    )


@router.post("/runs/{run_id}/steps/{step_id}/{action}", dependencies=[Csrf])
async def step_action(
    request: Request,
    house: HouseDep,
    run_id: int,
    step_id: str,
    action: str,
    form: ControlForm,
    fields: FormFields,
) -> Response:
    """An action on the current step's exercise (group cards, edit the statement, pause a timer).
    Its other fields are the exercise's own: the exercise reads them."""
    if len(fields) > MAX_ACTION_FIELDS:
        raise Refusal(N_("The form had too many fields."))
    own = {k: v for k, v in fields.items() if isinstance(v, str) and k not in CONTROL_FIELDS}
    change = partial(house.runner.act, run_id, step_id[:64], action[:32], own, form.version)
    return await _region(request, house, run_id, form.region, change)


# Moderation: a card off every screen, back again, and the word filter that holds cards.


@router.post("/runs/{run_id}/answers/{answer_id}/hide", dependencies=[Csrf])
async def hide_answer(
    request: Request, house: HouseDep, run_id: int, answer_id: int, form: ControlForm
) -> Response:
    change = partial(house.runner.hide_answer, run_id, answer_id, form.version)
    return await _region(request, house, run_id, form.region, change)


@router.post("/runs/{run_id}/answers/{answer_id}/show", dependencies=[Csrf])
async def show_answer(
    request: Request, house: HouseDep, run_id: int, answer_id: int, form: ControlForm
) -> Response:
    change = partial(house.runner.show_answer, run_id, answer_id, form.version)
    return await _region(request, house, run_id, form.region, change)


class WordFilterForm(Control):
    words: str = Field(default="", max_length=8000)


@router.post("/runs/{run_id}/word-filter", dependencies=[Csrf])
async def word_filter(
    request: Request,
    house: HouseDep,
    run_id: int,
    form: Annotated[WordFilterForm, form_model(WordFilterForm)],
) -> Response:
    change = partial(house.runner.set_word_filter, run_id, form.words, form.version)
    return await _region(request, house, run_id, form.region, change)
