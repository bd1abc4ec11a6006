"""A countdown every screen shares. The end is an absolute time in the step's state, so a reloaded
page, a phone that slept and a restarted server all show the same time."""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel, Field

from exercises.base import N_, AnswerInvalid, Entry, NoAnswer, NoAnswers, StepContext, Strict

ADD_MIN, ADD_MAX, ADD_DEFAULT = 10, 3600, 60
MAX_LEFT = 4 * 3600  # what a timer may show at most, after any number of `add`


def iso(moment: datetime) -> str:
    """An absolute time as the page's JavaScript reads it: ISO 8601 in UTC with a Z."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_iso(value: object) -> datetime | None:
    """The stored end time, or None for anything that is not one (a state from an older build)."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def seconds_left(ends_at: datetime, now: datetime) -> int:
    """Whole seconds to go, rounded up as the countdown shows them; never below 0."""
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    return max(0, math.ceil((ends_at - now).total_seconds()))


class TimerSettings(Strict):
    seconds: int = Field(default=300, ge=10, le=7200)


class TimerResult(BaseModel):
    seconds: int  # the full duration
    running: bool
    paused_left: int | None
    ends_at: str | None


def _paused(state: Mapping[str, Any]) -> int | None:
    left = state.get("paused_left")
    return left if isinstance(left, int) and not isinstance(left, bool) and left >= 0 else None


def _add_seconds(form: Mapping[str, Any]) -> int:
    raw = form.get("seconds")
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return ADD_DEFAULT
    try:
        value = int(str(raw).strip()) if not isinstance(raw, bool) else -1
    except ValueError:
        value = -1
    if not ADD_MIN <= value <= ADD_MAX:
        raise AnswerInvalid(N_("Add from %(low)d to %(high)d seconds at a time."), low=ADD_MIN, high=ADD_MAX)
    return value


class Timer(NoAnswers[TimerSettings, TimerResult]):
    name = "timer"
    settings_model = TimerSettings
    result_model = TimerResult
    has_actions = True
    settles_state_on_open = False  # it opens stopped, whoever is there
    keeps_time = True  # its own countdown: the console offers no step timer beside it

    def initial_state(self, settings: TimerSettings, ctx: StepContext) -> dict[str, Any]:
        return {"ends_at": None, "paused_left": None}

    def aggregate(
        self, settings: TimerSettings, entries: Sequence[Entry[NoAnswer]], ctx: StepContext
    ) -> TimerResult:
        ends = parse_iso(ctx.state.get("ends_at"))
        return TimerResult(
            seconds=settings.seconds,
            running=ends is not None,
            paused_left=_paused(ctx.state) if ends is None else None,
            ends_at=iso(ends) if ends else None,
        )

    def act(
        self,
        settings: TimerSettings,
        state: Mapping[str, Any],
        action: str,
        form: Mapping[str, Any],
        ctx: StepContext,
    ) -> dict[str, Any]:
        now = ctx.now
        ends = parse_iso(state.get("ends_at"))
        paused = _paused(state) if ends is None else None
        if action == "start":  # also from a running or ended timer: start over at the full time
            return {"ends_at": iso(now + timedelta(seconds=settings.seconds)), "paused_left": None}
        if action == "pause":
            if ends is None:
                raise AnswerInvalid(N_("The timer is not running."))
            left = seconds_left(ends, now)
            if left == 0:
                raise AnswerInvalid(N_("The time is already up. Add time or start again."))
            return {"ends_at": None, "paused_left": left}
        if action == "resume":
            if paused is None:
                raise AnswerInvalid(N_("The timer is not paused."))
            return {"ends_at": iso(now + timedelta(seconds=paused)), "paused_left": None}
        if action == "add":
            extra = _add_seconds(form)
            if ends is not None:
                # Time that has run out does not count: +1 min after the end means 1 min from now.
                left = seconds_left(ends, now) + extra
            elif paused is not None:
                left = paused + extra
            else:
                raise AnswerInvalid(N_("Start the timer first; then you can add time."))
            if left > MAX_LEFT:
                raise AnswerInvalid(N_("A timer runs for at most %(num)d hours."), num=MAX_LEFT // 3600)
            if ends is not None:
                return {"ends_at": iso(max(ends, now) + timedelta(seconds=extra)), "paused_left": None}
            return {"ends_at": None, "paused_left": left}
        if action == "reset":
            return self.initial_state(settings, ctx)
        raise AnswerInvalid(N_("This step has no such action."))

    def simulate_state(
        self,
        settings: TimerSettings,
        rng: random.Random,
        samples: Sequence[str],
        entries: Sequence[Entry[NoAnswer]],
        ctx: StepContext,
    ) -> dict[str, Any]:
        # A timer the tovholder ran to its end.
        return {"ends_at": iso(ctx.now), "paused_left": None}
