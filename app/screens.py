"""What each audience sees, rendered from a view the runner built. Used by the page routes for
the first paint and by the realtime layer for every push, so both always agree."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import jinja2
from markupsafe import Markup
from pydantic import BaseModel

from app.flows import Flow
from app.models import Run, RunStatus, utcnow
from app.templating import render
from app.views import PhoneView, RunView, StepView, answers_editable


@dataclass
class PhoneScreen:
    run: Run
    fallback_locale: str
    current: StepView | None
    own_answers: list[BaseModel] = field(default_factory=list)
    error: str | None = None
    values: dict[str, Any] = field(default_factory=dict)
    just_sent: bool = False
    me: str = ""  # the participant's public id: finds its own group in a list pushed to every phone
    editing: int | None = None  # the place (seq) of the sent answer the person is changing

    @property
    def editable(self) -> bool:
        """Whether the person may still change or take back their sent text answers."""
        sv = self.current
        return sv is not None and answers_editable(self.run, sv.step, sv.exercise)

    def edit_values(self, answer: BaseModel) -> dict[str, str]:
        """A sent answer as its form's fields, to change it; {} where it cannot be changed."""
        sv = self.current
        return sv.exercise.form_values(sv.settings, answer) if sv is not None else {}

    @property
    def limit(self) -> int:
        if self.current is None:
            return 0
        return self.current.exercise.max_answers(self.current.settings, self.current.ctx)

    @property
    def can_answer(self) -> bool:
        return (
            self.run.status == RunStatus.live
            and self.current is not None
            and len(self.own_answers) < self.limit
        )


def for_audience(sv: StepView, audience: str | None) -> StepView:
    """The step as the phones of an audience (a group, a unit) see it."""
    result, ctx = sv.exercise.for_audience(sv.settings, sv.result, sv.ctx, audience)
    return replace(sv, result=result, ctx=ctx)


def _own(sv: StepView | None, public_id: str) -> StepView | None:
    """The step as this phone sees it: its own audience's screen, where the step has audiences."""
    if sv is None:
        return None
    audiences = sv.exercise.phone_audiences(sv.settings, sv.result, sv.ctx)
    if not audiences:
        return sv
    return for_audience(sv, next((key for key, ids in audiences.items() if public_id in ids), None))


def phone_screen_for(view: PhoneView, **extra: Any) -> PhoneScreen:
    return PhoneScreen(
        run=view.run,
        fallback_locale=view.flow.default_locale,
        current=_own(view.current, view.participant.public_id or ""),
        own_answers=view.own_answers,
        me=view.participant.public_id or "",
        **extra,
    )


def phone_screens_broadcast(
    run: Run, flow: Flow, sv: StepView | None
) -> list[tuple[tuple[str, ...] | None, PhoneScreen]]:
    """The fresh screens of a step that just opened (nobody has answered it yet): one for every
    phone (None), or, where the step has audiences (groups, units), one per audience with its
    people's public ids, and one for the people in none."""
    screen = PhoneScreen(run=run, fallback_locale=flow.default_locale, current=sv)
    audiences = sv.exercise.phone_audiences(sv.settings, sv.result, sv.ctx) if sv else {}
    if sv is None or not audiences:
        return [(None, screen)]
    placed = {pid for ids in audiences.values() for pid in ids}
    rest = tuple(m.public_id for m in sv.ctx.members if m.public_id and m.public_id not in placed)
    groups: list[tuple[str | None, tuple[str, ...]]] = [(key, ids) for key, ids in audiences.items() if ids]
    if rest:
        groups.append((None, rest))
    seen = sv.exercise.for_audiences(sv.settings, sv.result, sv.ctx, [key for key, _ids in groups])
    return [
        (ids, replace(screen, current=replace(sv, result=seen[key][0], ctx=seen[key][1])))
        for key, ids in groups
    ]


def stage_html(env: jinja2.Environment, view: RunView, *, join_url: str, qr_svg: str) -> str:
    return render(
        env,
        "projector/_stage.html",
        view.run.locale,
        view=view,
        run=view.run,
        fallback_locale=view.flow.default_locale,
        join_url=join_url,
        qr_svg=qr_svg,
        now=utcnow(),
    )


def console_html(env: jinja2.Environment, view: RunView, *, join_url: str) -> str:
    return render(
        env,
        "console/_console.html",
        view.run.locale,
        view=view,
        run=view.run,
        fallback_locale=view.flow.default_locale,
        join_url=join_url,
        now=utcnow(),
    )


def phone_html(
    env: jinja2.Environment,
    screen: PhoneScreen,
    locale: str,
    csrf_token: str = "",
    template: str = "phone/_phone.html",
    **extra: Any,
) -> str:
    return render(
        env,
        template,
        locale,
        screen=screen,
        run=screen.run,
        fallback_locale=screen.fallback_locale,
        csrf_token=csrf_token,
        now=utcnow(),
        **extra,
    )


# Where each audience's part goes in a screen drawn once for all; our own text, in no template.
_SLOT = "\x00tovholder:audience\x00"


def broadcast_html(
    env: jinja2.Environment, screens: list[tuple[tuple[str, ...] | None, PhoneScreen]], locale: str
) -> list[tuple[tuple[str, ...] | None, str]]:
    """phone_screens_broadcast()'s screens as HTML in `locale`. Where the exercise's audiences
    share the screen around its part (`audiences_share_frame`), that is drawn once and each
    audience's part put into it; the result is the same as drawing each screen whole."""
    sv = screens[0][1].current
    if len(screens) > 1 and sv is not None and sv.exercise.audiences_share_frame:
        frame = phone_html(env, screens[0][1], locale, audience_part=Markup(_SLOT))
        before, slot, after = frame.partition(_SLOT)
        if slot and _SLOT not in after:
            return [
                (ids, before + phone_html(env, screen, locale, template="phone/_part.html") + after)
                for ids, screen in screens
            ]
    return [(ids, phone_html(env, screen, locale)) for ids, screen in screens]
