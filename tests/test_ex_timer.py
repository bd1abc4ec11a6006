"""The timer: an absolute end time in the step's state; start, pause, resume, add, reset."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from pydantic import ValidationError

from app.templating import make_env, render
from exercises import build_registry
from exercises.base import AnswerInvalid, StepContext
from exercises.timer import MAX_LEFT, NoAnswer, Timer, TimerResult, TimerSettings, iso, parse_iso

T0 = datetime(2025, 3, 1, 9, 0, 0, tzinfo=UTC)
TIMER = Timer()
FIVE = TimerSettings(seconds=300)


def ctx(seconds_later: float = 0, state: dict[str, Any] | None = None) -> StepContext:
    return StepContext(now=T0 + timedelta(seconds=seconds_later), state=state or {})


def act(
    state: dict[str, Any], action: str, form: dict[str, Any] | None = None, at: float = 0
) -> dict[str, Any]:
    return TIMER.act(FIVE, state, action, form or {}, ctx(at, state))


def at(seconds: float) -> str:
    return iso(T0 + timedelta(seconds=seconds))


# --- settings -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "ok"),
    [
        ({}, True),
        ({"seconds": 9}, False),
        ({"seconds": 10}, True),
        ({"seconds": 7200}, True),
        ({"seconds": 7201}, False),
        ({"seconds": "soon"}, False),
        ({"minutes": 5}, False),
    ],
)
def test_settings_bounds(raw: dict[str, Any], ok: bool) -> None:
    try:
        TIMER.settings(raw)
    except ValidationError:
        assert not ok
    else:
        assert ok


def test_default_is_five_minutes_and_settings_are_frozen() -> None:
    settings = TIMER.settings({})
    assert settings.seconds == 300
    with pytest.raises(ValidationError):
        settings.seconds = 10  # type: ignore[misc]


# --- no answers -----------------------------------------------------------------------------------


def test_takes_no_answers() -> None:
    assert TIMER.collects_answers is False
    assert TIMER.has_actions is True
    assert TIMER.max_answers(FIVE, ctx()) == 0
    with pytest.raises(AnswerInvalid):
        TIMER.parse_answer(FIVE, {"value": "1"}, ctx())
    assert TIMER.simulate(FIVE, random.Random(1), ["x"], ctx()) == []
    assert TIMER.load_answer({}) == NoAnswer()


# --- actions --------------------------------------------------------------------------------------


def test_initial_state_is_not_started() -> None:
    assert TIMER.initial_state(FIVE, ctx()) == {"ends_at": None, "paused_left": None}


def test_start_ends_the_full_duration_from_now_as_iso_utc() -> None:
    state = act({}, "start", at=0)
    assert state == {"ends_at": "2025-03-01T09:05:00.000Z", "paused_left": None}
    assert parse_iso(state["ends_at"]) == T0 + timedelta(seconds=300)


def test_start_again_starts_over() -> None:
    running = act({}, "start", at=0)
    assert act(running, "start", at=100)["ends_at"] == at(400)


def test_pause_keeps_the_seconds_left_rounded_up() -> None:
    running = act({}, "start", at=0)
    assert act(running, "pause", at=99.2) == {"ends_at": None, "paused_left": 201}


def test_resume_counts_on_from_the_paused_time() -> None:
    paused = {"ends_at": None, "paused_left": 201}
    assert act(paused, "resume", at=1000) == {"ends_at": at(1201), "paused_left": None}


def test_add_to_a_running_timer_moves_the_end() -> None:
    running = act({}, "start", at=0)
    assert act(running, "add", {"seconds": "60"}, at=10)["ends_at"] == at(360)


def test_add_defaults_to_a_minute_and_takes_integers_from_the_socket() -> None:
    running = act({}, "start", at=0)
    assert act(running, "add", {}, at=10)["ends_at"] == at(360)
    assert act(running, "add", {"seconds": ""}, at=10)["ends_at"] == at(360)
    assert act(running, "add", {"seconds": 120}, at=10)["ends_at"] == at(420)


def test_add_after_the_end_counts_from_now() -> None:
    running = act({}, "start", at=0)
    assert act(running, "add", {"seconds": "60"}, at=1000)["ends_at"] == at(1060)


def test_add_to_a_paused_timer_adds_to_what_is_left() -> None:
    assert act({"ends_at": None, "paused_left": 30}, "add", {"seconds": "60"}) == {
        "ends_at": None,
        "paused_left": 90,
    }


@pytest.mark.parametrize("seconds", ["9", "3601", "-60", "1.5", "a minute", True, [60]])
def test_add_refuses_amounts_off_the_range(seconds: Any) -> None:
    running = act({}, "start", at=0)
    with pytest.raises(AnswerInvalid) as err:
        act(running, "add", {"seconds": seconds}, at=10)
    assert err.value.params == {"low": 10, "high": 3600}


@pytest.mark.parametrize("seconds", ["10", "3600"])
def test_add_takes_the_ends_of_the_range(seconds: str) -> None:
    assert act({"ends_at": None, "paused_left": 0}, "add", {"seconds": seconds})["paused_left"] == int(
        seconds
    )


def test_add_to_a_timer_not_started_is_refused() -> None:
    with pytest.raises(AnswerInvalid, match="Start the timer first"):
        act({}, "add", {"seconds": "60"})


def test_add_stops_at_the_longest_timer() -> None:
    near = {"ends_at": None, "paused_left": MAX_LEFT - 60}
    assert act(near, "add", {"seconds": "60"})["paused_left"] == MAX_LEFT
    with pytest.raises(AnswerInvalid) as err:
        act(near, "add", {"seconds": "61"})
    assert err.value.params == {"num": 4}


def test_pause_of_a_timer_that_does_not_run_is_refused() -> None:
    with pytest.raises(AnswerInvalid, match="not running"):
        act({}, "pause")
    with pytest.raises(AnswerInvalid, match="not running"):
        act({"ends_at": None, "paused_left": 20}, "pause")


def test_pause_after_the_end_is_refused() -> None:
    running = act({}, "start", at=0)
    with pytest.raises(AnswerInvalid, match="already up"):
        act(running, "pause", at=300)


def test_resume_of_a_timer_that_is_not_paused_is_refused() -> None:
    with pytest.raises(AnswerInvalid, match="not paused"):
        act({}, "resume")
    with pytest.raises(AnswerInvalid, match="not paused"):
        act(act({}, "start"), "resume")


def test_reset_goes_back_to_not_started() -> None:
    for state in (act({}, "start"), {"ends_at": None, "paused_left": 12}, {}):
        assert act(state, "reset") == {"ends_at": None, "paused_left": None}


@pytest.mark.parametrize("action", ["stop", "", "START", "next"])
def test_unknown_action_is_refused(action: str) -> None:
    with pytest.raises(AnswerInvalid, match="no such action"):
        act({}, action)


def test_a_garbled_state_counts_as_not_started() -> None:
    garbled = {"ends_at": "yesterday", "paused_left": "ten"}
    assert TIMER.aggregate(FIVE, [], ctx(state=garbled)) == TimerResult(
        seconds=300, running=False, paused_left=None, ends_at=None
    )
    with pytest.raises(AnswerInvalid):
        act(garbled, "resume")


def test_a_naive_now_is_taken_as_utc() -> None:
    state = TIMER.act(FIVE, {}, "start", {}, StepContext(now=datetime(2025, 3, 1, 9, 0, 0)))
    assert state["ends_at"] == "2025-03-01T09:05:00.000Z"


# --- aggregate and simulate_state -------------------------------------------------------------------


def test_aggregate_tells_running_paused_and_not_started_apart() -> None:
    assert TIMER.aggregate(FIVE, [], ctx()).model_dump() == {
        "seconds": 300,
        "running": False,
        "paused_left": None,
        "ends_at": None,
    }
    running = act({}, "start")
    assert TIMER.aggregate(FIVE, [], ctx(state=running)).running is True
    assert TIMER.aggregate(FIVE, [], ctx(state={"ends_at": None, "paused_left": 5})).paused_left == 5


def test_simulate_state_is_a_timer_run_to_its_end() -> None:
    state = TIMER.simulate_state(FIVE, random.Random(1), [], [], ctx())
    assert state == {"ends_at": at(0), "paused_left": None}
    assert parse_iso(state["ends_at"]) == T0


# --- templates --------------------------------------------------------------------------------------

ENV = make_env(build_registry())


def page(name: str, state: dict[str, Any]) -> str:
    c = ctx(state=state)
    return render(
        ENV,
        f"timer/{name}",
        "en",
        settings=FIVE,
        state=state,
        ctx=c,
        step=None,
        result=TIMER.aggregate(FIVE, [], c),
        run=SimpleNamespace(version=7),
        action_url="/runs/1/steps/t/",
    )


@pytest.mark.parametrize("name", ["results.html", "phone.html", "console.html"])
def test_every_screen_shows_the_countdown_paused_time_or_full_duration(name: str) -> None:
    running = page(name, act({}, "start"))
    assert 'data-ends-at="2025-03-01T09:05:00.000Z"' in running
    paused = page(name, {"ends_at": None, "paused_left": 75})
    assert "01:15" in paused and "data-ends-at" not in paused and "Paused" in paused
    ready = page(name, {"ends_at": None, "paused_left": None})
    assert "05:00" in ready and "data-ends-at" not in ready


def test_console_offers_the_actions_that_fit() -> None:
    def actions(html: str) -> set[str]:
        return {a for a in ("start", "pause", "resume", "add", "reset") if f'/steps/t/{a}"' in html}

    assert actions(page("console.html", {})) == {"start"}
    assert actions(page("console.html", act({}, "start"))) == {"pause", "add", "start", "reset"}
    assert actions(page("console.html", {"ends_at": None, "paused_left": 3})) == {"resume", "add", "reset"}
    assert 'name="version" value="7"' in page("console.html", {})
    assert 'name="seconds" value="60"' in page("console.html", act({}, "start"))


def test_templates_have_no_inline_style_or_script() -> None:
    for name in ("results.html", "phone.html", "console.html"):
        html = page(name, act({}, "start"))
        assert "style=" not in html and "<script" not in html
