"""A speaking round: speakers from a groups step, the team's units or a number; start, next, stop."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from pydantic import ValidationError

from app.templating import make_env, render
from exercises import build_registry
from exercises.base import AnswerInvalid, Member, Source, StepContext
from exercises.groups import Groups
from exercises.round import NoAnswer, Round, RoundResult, RoundSettings, speakers
from exercises.timer import iso

T0 = datetime(2025, 3, 1, 9, 0, 0, tzinfo=UTC)
ROUND = Round()
UNITS = ("Day shift", "Night shift", "Office")


def settings(**raw: Any) -> RoundSettings:
    return ROUND.settings(raw)


BY_GROUPS = settings(speakers="groups", groups_from="split", seconds=60)
BY_UNITS = settings(speakers="units", seconds=60)
BY_NUMBER = settings(speakers=3, seconds=60)


def members(n: int) -> tuple[Member, ...]:
    return tuple(Member(public_id=f"id{i:03d}", name=f"Person{i}") for i in range(n))


def groups_source(n_people: int) -> Source:
    g = Groups()
    s = g.settings({"size": 4})
    c = StepContext(members=members(n_people))
    state = g.initial_state(s, c)
    return Source(
        exercise="groups", result=g.aggregate(s, [], StepContext(members=c.members, state=state)), state=state
    )


def ctx(
    state: dict[str, Any] | None = None, at: float = 0, people: int = 12, units: tuple[str, ...] = UNITS
) -> StepContext:
    return StepContext(
        now=T0 + timedelta(seconds=at),
        state=state or {},
        units=units,
        members=members(people),
        sources={"split": groups_source(people)},
    )


def act(s: RoundSettings, state: dict[str, Any], action: str, at: float = 0, **kw: Any) -> dict[str, Any]:
    return ROUND.act(s, state, action, {}, ctx(state, at, **kw))


def at(seconds: float) -> str:
    return iso(T0 + timedelta(seconds=seconds))


# --- settings -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "ok"),
    [
        ({"groups_from": "split"}, True),
        ({"speakers": "groups", "groups_from": "split"}, True),
        ({}, False),  # groups by default: needs groups_from
        ({"speakers": "groups"}, False),
        ({"speakers": "units"}, True),
        ({"speakers": "units", "groups_from": "split"}, False),
        ({"speakers": 5}, True),
        ({"speakers": 5, "groups_from": "split"}, False),
        ({"speakers": 1}, True),
        ({"speakers": 50}, True),
        ({"speakers": 0}, False),
        ({"speakers": 51}, False),
        ({"speakers": "5"}, False),
        ({"speakers": True}, False),
        ({"speakers": "teams"}, False),
        ({"speakers": "groups", "groups_from": "Not An Id"}, False),
        ({"speakers": "units", "seconds": 9}, False),
        ({"speakers": "units", "seconds": 10}, True),
        ({"speakers": "units", "seconds": 1800}, True),
        ({"speakers": "units", "seconds": 1801}, False),
        ({"speakers": "units", "colour": "red"}, False),
    ],
)
def test_settings_bounds(raw: dict[str, Any], ok: bool) -> None:
    try:
        ROUND.settings(raw)
    except ValidationError:
        assert not ok
    else:
        assert ok


def test_sources_are_the_groups_step_only_with_groups() -> None:
    assert ROUND.sources(BY_GROUPS) == ("split",)
    assert ROUND.sources(BY_UNITS) == ()
    assert ROUND.sources(BY_NUMBER) == ()


def test_takes_no_answers() -> None:
    assert ROUND.collects_answers is False
    assert ROUND.has_actions is True
    assert ROUND.max_answers(BY_UNITS, ctx()) == 0
    with pytest.raises(AnswerInvalid):
        ROUND.parse_answer(BY_UNITS, {"text": "x"}, ctx())
    assert ROUND.simulate(BY_UNITS, random.Random(1), [], ctx()) == []
    assert ROUND.load_answer({}) == NoAnswer()


# --- speakers ---------------------------------------------------------------------------------------


def test_speakers_from_each_source() -> None:
    assert speakers(BY_GROUPS, ctx(people=12)) == ["Group 1", "Group 2", "Group 3"]
    assert speakers(BY_UNITS, ctx()) == list(UNITS)
    assert speakers(BY_NUMBER, ctx()) == ["Speaker 1", "Speaker 2", "Speaker 3"]


def test_speakers_when_there_is_nothing_to_read() -> None:
    assert speakers(BY_GROUPS, ctx(people=0)) == []
    assert speakers(BY_GROUPS, StepContext()) == []  # the groups step is not in the sources
    assert speakers(BY_UNITS, ctx(units=())) == []


def test_initial_state_is_not_started() -> None:
    assert ROUND.initial_state(BY_NUMBER, ctx()) == {
        "order": ["Speaker 1", "Speaker 2", "Speaker 3"],
        "current": None,
        "ends_at": None,
        "done": False,
    }


# --- actions --------------------------------------------------------------------------------------


def test_start_gives_the_first_speaker_their_time() -> None:
    assert act(BY_UNITS, {}, "start", at=5) == {
        "order": list(UNITS),
        "current": 0,
        "ends_at": at(65),
        "done": False,
    }


def test_next_moves_on_with_a_fresh_time_and_ends_after_the_last() -> None:
    state = act(BY_NUMBER, {}, "start", at=0)
    state = act(BY_NUMBER, state, "next", at=100)
    assert (state["current"], state["ends_at"], state["done"]) == (1, at(160), False)
    state = act(BY_NUMBER, state, "next", at=200)
    assert (state["current"], state["ends_at"]) == (2, at(260))
    state = act(BY_NUMBER, state, "next", at=300)
    assert state == {
        "order": ["Speaker 1", "Speaker 2", "Speaker 3"],
        "current": None,
        "ends_at": None,
        "done": True,
    }


def test_the_order_is_fixed_at_the_start() -> None:
    state = act(BY_GROUPS, {}, "start", people=8)
    assert state["order"] == ["Group 1", "Group 2"]
    state = act(BY_GROUPS, state, "next", people=20)  # the room was split again meanwhile
    assert state["order"] == ["Group 1", "Group 2"] and state["current"] == 1


def test_stop_ends_the_round() -> None:
    state = act(BY_UNITS, {}, "start")
    assert act(BY_UNITS, state, "stop") == {
        "order": list(UNITS),
        "current": None,
        "ends_at": None,
        "done": True,
    }


def test_start_again_after_the_round_begins_anew() -> None:
    done = act(BY_UNITS, act(BY_UNITS, {}, "start"), "stop")
    again = act(BY_UNITS, done, "start", at=30)
    assert (again["current"], again["ends_at"], again["done"]) == (0, at(90), False)


def test_one_speaker_round() -> None:
    one = settings(speakers=1)
    state = act(one, {}, "start")
    assert state["order"] == ["Speaker 1"]
    assert act(one, state, "next")["done"] is True


@pytest.mark.parametrize("action", ["next", "stop"])
def test_next_and_stop_need_a_running_round(action: str) -> None:
    with pytest.raises(AnswerInvalid, match="not running"):
        act(BY_UNITS, {}, action)
    done = act(BY_UNITS, act(BY_UNITS, {}, "start"), "stop")
    with pytest.raises(AnswerInvalid, match="not running"):
        act(BY_UNITS, done, action)


def test_start_without_groups_or_units_is_refused_with_what_to_do() -> None:
    with pytest.raises(AnswerInvalid, match="Split the room into groups first"):
        act(BY_GROUPS, {}, "start", people=0)
    with pytest.raises(AnswerInvalid, match="no units"):
        act(BY_UNITS, {}, "start", units=())


@pytest.mark.parametrize("action", ["pause", "", "START", "skip"])
def test_unknown_action_is_refused(action: str) -> None:
    with pytest.raises(AnswerInvalid, match="no such action"):
        act(BY_UNITS, {}, action)


def test_a_garbled_state_counts_as_not_started() -> None:
    garbled = {"order": "x", "current": "1", "ends_at": 5, "done": "yes"}
    with pytest.raises(AnswerInvalid):
        act(BY_UNITS, garbled, "next")
    result = ROUND.aggregate(BY_UNITS, [], ctx(garbled))
    assert result == RoundResult(order=list(UNITS), current=None, ends_at=None, done=False)
    out_of_range = {"order": ["A"], "current": 3, "ends_at": at(0), "done": False}
    assert ROUND.aggregate(BY_UNITS, [], ctx(out_of_range)).current is None


# --- aggregate and simulate_state -------------------------------------------------------------------


def test_aggregate_before_the_start_shows_the_order_as_it_would_be() -> None:
    # The runner builds the initial state without the sources; the result reads them itself.
    result = ROUND.aggregate(
        BY_GROUPS, [], ctx({"order": [], "current": None, "ends_at": None, "done": False})
    )
    assert result.order == ["Group 1", "Group 2", "Group 3"] and not result.started


def test_aggregate_while_running_and_done() -> None:
    state = act(BY_UNITS, {}, "start")
    result = ROUND.aggregate(BY_UNITS, [], ctx(state))
    assert (result.current, result.ends_at, result.started) == (0, at(60), True)
    done = act(BY_UNITS, state, "stop")
    result = ROUND.aggregate(BY_UNITS, [], ctx(done, units=("Other",)))
    assert result.order == list(UNITS) and result.done and result.started


def test_simulate_state_is_a_finished_round() -> None:
    state = ROUND.simulate_state(BY_GROUPS, random.Random(1), [], [], ctx(people=12))
    assert state == {
        "order": ["Group 1", "Group 2", "Group 3"],
        "current": None,
        "ends_at": None,
        "done": True,
    }


# --- templates --------------------------------------------------------------------------------------

ENV = make_env(build_registry())


def page(name: str, s: RoundSettings, state: dict[str, Any], locale: str = "en", **kw: Any) -> str:
    c = ctx(state, **kw)
    return render(
        ENV,
        f"round/{name}",
        locale,
        settings=s,
        state=state,
        ctx=c,
        step=None,
        result=ROUND.aggregate(s, [], c),
        run=SimpleNamespace(version=4),
        action_url="/runs/1/steps/r/",
    )


@pytest.mark.parametrize("name", ["results.html", "phone.html", "console.html"])
def test_running_round_shows_the_speaker_and_the_countdown(name: str) -> None:
    state = act(BY_UNITS, act(BY_UNITS, {}, "start"), "next", at=10)
    html = page(name, BY_UNITS, state)
    assert "Night shift" in html
    assert f'data-ends-at="{at(70)}"' in html


@pytest.mark.parametrize("name", ["results.html", "phone.html", "console.html"])
def test_round_not_started_and_done(name: str) -> None:
    assert "data-ends-at" not in page(name, BY_NUMBER, {})
    done = act(BY_NUMBER, act(BY_NUMBER, {}, "start"), "stop")
    html = page(name, BY_NUMBER, done)
    assert "The round is done" in html and "data-ends-at" not in html


def test_projector_highlights_the_current_speaker() -> None:
    state = act(BY_NUMBER, act(BY_NUMBER, {}, "start"), "next")
    html = page("results.html", BY_NUMBER, state)
    assert html.count("is-current") == 1 and html.count("is-done") == 1
    assert "Next: Speaker 3" in html


def test_phone_marks_the_lines_for_the_speaking_and_the_next_group() -> None:
    state = act(BY_GROUPS, {}, "start")
    html = page("phone.html", BY_GROUPS, state)
    groups = groups_source(12).state["groups"]
    assert f'data-members="{" ".join(groups[0]["members"])}"' in html
    assert f'data-members="{" ".join(groups[1]["members"])}"' in html
    assert "your group&#39;s turn" in html or "your group's turn" in html


def test_console_offers_the_actions_that_fit() -> None:
    def actions(html: str) -> set[str]:
        return {a for a in ("start", "next", "stop") if f'/steps/r/{a}"' in html}

    assert actions(page("console.html", BY_UNITS, {})) == {"start"}
    running = act(BY_UNITS, {}, "start")
    assert actions(page("console.html", BY_UNITS, running)) == {"next", "stop"}
    last = act(BY_UNITS, act(BY_UNITS, running, "next"), "next")
    assert "Finish the round" in page("console.html", BY_UNITS, last)
    assert actions(page("console.html", BY_GROUPS, {}, people=0)) == set()


def test_unit_names_are_escaped() -> None:
    s = BY_UNITS
    state = act(s, {}, "start", units=("<i>Ward</i>",))
    for name in ("results.html", "phone.html", "console.html"):
        html = page(name, s, state, units=("<i>Ward</i>",))
        assert "&lt;i&gt;Ward&lt;/i&gt;" in html and "<i>Ward" not in html
        assert "style=" not in html and "<script" not in html
