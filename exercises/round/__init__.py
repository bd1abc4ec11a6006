"""A speaking round: an order of speakers (the groups of an earlier groups step, the team's
units, or "speaker 1..n") and a time per speaker that every screen counts down."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, model_validator

from exercises.base import N_, AnswerInvalid, Entry, NoAnswer, NoAnswers, StepContext, Strict
from exercises.groups import stored_groups
from exercises.timer import iso, parse_iso

MAX_SPEAKERS = 50
StepId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")]
SpeakerCount = Annotated[int, Field(strict=True, ge=1, le=MAX_SPEAKERS)]


class RoundSettings(Strict):
    speakers: Literal["groups", "units"] | SpeakerCount = "groups"
    groups_from: StepId | None = None
    seconds: int = Field(default=120, ge=10, le=1800)

    @model_validator(mode="after")
    def _groups_from_with_groups(self) -> RoundSettings:
        if self.speakers == "groups" and not self.groups_from:
            raise ValueError("speakers: groups needs groups_from, the id of an earlier groups step")
        if self.speakers != "groups" and self.groups_from:
            raise ValueError("groups_from goes with speakers: groups only")
        return self


class RoundResult(BaseModel):
    order: list[str]  # the speakers: fixed when the round starts, until then as they would be
    current: int | None
    ends_at: str | None
    done: bool

    @property
    def started(self) -> bool:
        return self.current is not None or self.done


def speakers(settings: RoundSettings, ctx: StepContext) -> list[str]:
    """The speaking order as it is now. Labels are stored in English ("Group 2", "Speaker 3");
    the templates show them in the session's language by their place in the order."""
    if settings.speakers == "groups":
        source = ctx.sources.get(settings.groups_from or "")
        groups = stored_groups(source.state) if source is not None else []
        return [f"Group {n}" for n in range(1, len(groups) + 1)]
    if settings.speakers == "units":
        return list(ctx.units)
    return [f"Speaker {n}" for n in range(1, settings.speakers + 1)]


def _current(state: Mapping[str, Any], order: Sequence[str]) -> int | None:
    current = state.get("current")
    if isinstance(current, int) and not isinstance(current, bool) and 0 <= current < len(order):
        return current
    return None


def _order(state: Mapping[str, Any]) -> list[str]:
    order = state.get("order")
    return [str(s) for s in order] if isinstance(order, list) else []


class Round(NoAnswers[RoundSettings, RoundResult]):
    name = "round"
    settings_model = RoundSettings
    result_model = RoundResult
    has_actions = True
    keeps_time = True  # its own countdown: the console offers no step timer beside it

    def sources(self, settings: RoundSettings) -> tuple[str, ...]:
        return (settings.groups_from,) if settings.speakers == "groups" and settings.groups_from else ()

    def initial_state(self, settings: RoundSettings, ctx: StepContext) -> dict[str, Any]:
        return {"order": speakers(settings, ctx), "current": None, "ends_at": None, "done": False}

    def aggregate(
        self, settings: RoundSettings, entries: Sequence[Entry[NoAnswer]], ctx: StepContext
    ) -> RoundResult:
        state = ctx.state
        done = state.get("done") is True
        order = _order(state)
        current = _current(state, order)
        if current is None and not done:  # not started: the order as it would be now
            order = speakers(settings, ctx)
        ends = parse_iso(state.get("ends_at")) if current is not None else None
        return RoundResult(order=order, current=current, ends_at=iso(ends) if ends else None, done=done)

    def act(
        self,
        settings: RoundSettings,
        state: Mapping[str, Any],
        action: str,
        form: Mapping[str, Any],
        ctx: StepContext,
    ) -> dict[str, Any]:
        ends_at = iso(ctx.now + timedelta(seconds=settings.seconds))
        if action == "start":  # also again, after the round: the order as it is now
            order = speakers(settings, ctx)
            if not order:
                if settings.speakers == "groups":
                    raise AnswerInvalid(N_("There are no groups yet. Split the room into groups first."))
                raise AnswerInvalid(N_("This team has no units, so the round has nobody to call."))
            return {"order": order, "current": 0, "ends_at": ends_at, "done": False}
        order = _order(state)
        current = _current(state, order)
        if action == "next":
            if current is None:
                raise AnswerInvalid(N_("The round is not running. Start it first."))
            if current + 1 < len(order):
                return {"order": order, "current": current + 1, "ends_at": ends_at, "done": False}
            return {"order": order, "current": None, "ends_at": None, "done": True}
        if action == "stop":
            if current is None:
                raise AnswerInvalid(N_("The round is not running. Start it first."))
            return {"order": order, "current": None, "ends_at": None, "done": True}
        raise AnswerInvalid(N_("This step has no such action."))

    def simulate_state(
        self,
        settings: RoundSettings,
        rng: random.Random,
        samples: Sequence[str],
        entries: Sequence[Entry[NoAnswer]],
        ctx: StepContext,
    ) -> dict[str, Any]:
        # Everyone has spoken.
        return {"order": speakers(settings, ctx), "current": None, "ends_at": None, "done": True}
