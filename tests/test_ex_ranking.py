"""ranking: settings, places on the phone (every option once, no shared place), the Borda count
with mean places and shared places on ties, simulate(), and the templates."""

from __future__ import annotations

import random
from types import SimpleNamespace
from typing import Any

import pytest
from pydantic import ValidationError

from app.templating import make_env, render
from exercises import build_registry
from exercises.base import AnswerInvalid, Entry, StepContext
from exercises.ranking import MAX_OPTIONS, Ranking, RankingAnswer, RankingSettings

RANK = Ranking()
CTX = StepContext()


def options(*ids: str) -> list[dict[str, Any]]:
    return [{"id": i, "text": {"en": f"Option {i}", "nb": f"Valg {i}"}} for i in ids]


def settings(*ids: str) -> RankingSettings:
    return RANK.settings({"options": options(*(ids or ("a", "b", "c")))})


def entry(n: int, order: list[str]) -> Entry[RankingAnswer]:
    return Entry(id=n, answer=RankingAnswer(order=order), participant=n)


def accepts(raw: dict[str, Any]) -> bool:
    try:
        RANK.settings(raw)
    except ValidationError:
        return False
    return True


# --- settings ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "ok"),
    [
        ({"options": options("a", "b")}, True),
        ({"options": options("a")}, False),
        ({"options": options(*[f"o{i}" for i in range(MAX_OPTIONS)])}, True),
        ({"options": options(*[f"o{i}" for i in range(MAX_OPTIONS + 1)])}, False),
        ({"options": options("a", "a")}, False),
        ({"options": options("a", "B")}, False),
        ({"options": [{"id": "a", "text": {"en": "x" * 201}}, {"id": "b", "text": {"en": "y"}}]}, False),
        ({"options": [{"id": "a", "text": {}}, {"id": "b", "text": {"en": "y"}}]}, False),
        ({}, False),
        ({"options": options("a", "b"), "colour": "red"}, False),
    ],
)
def test_settings_bounds(raw: dict[str, Any], ok: bool) -> None:
    assert accepts(raw) is ok


def test_one_answer_per_person() -> None:
    assert RANK.max_answers(settings(), CTX) == 1


# --- parse_answer ------------------------------------------------------------------------------


def test_parse_orders_by_place_from_strings_or_ints() -> None:
    form = {"place:a": "3", "place:b": 1, "place:c": " 2 "}
    assert RANK.parse_answer(settings(), form, CTX).order == ["b", "c", "a"]


@pytest.mark.parametrize("bad", ["0", "4", "-1", "x", "1.0", True, "9" * 5000])
def test_parse_refuses_a_place_off_the_list(bad: Any) -> None:
    with pytest.raises(AnswerInvalid) as caught:
        RANK.parse_answer(settings(), {"place:a": bad, "place:b": "1", "place:c": "2"}, CTX)
    assert caught.value.params == {"num": 3}


def test_parse_refuses_a_shared_place_and_names_it() -> None:
    with pytest.raises(AnswerInvalid) as caught:
        RANK.parse_answer(settings(), {"place:a": "2", "place:b": "2", "place:c": "1"}, CTX)
    assert caught.value.params == {"place": 2}


@pytest.mark.parametrize("blank", [None, "", "  "])
def test_parse_refuses_an_option_without_a_place(blank: Any) -> None:
    form: dict[str, Any] = {"place:a": "1", "place:b": "2"}
    if blank is not None:
        form["place:c"] = blank
    with pytest.raises(AnswerInvalid) as caught:
        RANK.parse_answer(settings(), form, CTX)
    assert caught.value.params == {"num": 1}


def test_parse_ignores_other_fields() -> None:
    form = {"place:a": "1", "place:b": "2", "place:c": "3", "place:zzz": "9", "x": "y"}
    assert RANK.parse_answer(settings(), form, CTX).order == ["a", "b", "c"]


def test_answer_model_takes_each_option_once() -> None:
    with pytest.raises(ValidationError):
        RANK.load_answer({"order": ["a", "a"]})
    with pytest.raises(ValidationError):
        RANK.load_answer({"order": ["a"]})
    with pytest.raises(ValidationError):
        RANK.load_answer({"order": [f"o{i}" for i in range(MAX_OPTIONS + 1)]})
    with pytest.raises(ValidationError):
        RANK.load_answer({"order": ["Bad Id", "b"]})


# --- aggregate ---------------------------------------------------------------------------------


def rows(result: Any) -> list[tuple[str, int, float | None, int]]:
    return [(r.id, r.points, r.mean_place, r.place) for r in result.options]


def test_aggregate_of_no_answers() -> None:
    result = RANK.aggregate(settings(), [], CTX)
    assert result.count == 0 and result.max_points == 2
    assert rows(result) == [("a", 0, None, 1), ("b", 0, None, 1), ("c", 0, None, 1)]


def test_aggregate_of_one_answer_is_its_order() -> None:
    result = RANK.aggregate(settings(), [entry(1, ["c", "a", "b"])], CTX)
    assert rows(result) == [("c", 2, 1.0, 1), ("a", 1, 2.0, 2), ("b", 0, 3.0, 3)]
    assert [r.share for r in result.options] == [100, 50, 0]


def test_aggregate_borda_with_mean_places() -> None:
    answers = [entry(1, ["a", "b", "c"]), entry(2, ["a", "c", "b"]), entry(3, ["b", "a", "c"])]
    result = RANK.aggregate(settings(), answers, CTX)
    assert rows(result) == [("a", 5, 1.3, 1), ("b", 3, 2.0, 2), ("c", 1, 2.7, 3)]


def test_aggregate_ties_share_a_place_in_the_flows_order() -> None:
    answers = [entry(1, ["c", "b", "a"]), entry(2, ["b", "c", "a"])]
    result = RANK.aggregate(settings(), answers, CTX)
    assert rows(result) == [("b", 3, 1.5, 1), ("c", 3, 1.5, 1), ("a", 0, 3.0, 3)]


def test_aggregate_leaves_out_orders_of_other_options() -> None:
    """An order stored before the flow's options changed is left out, not miscounted."""
    answers = [entry(1, ["a", "b"]), entry(2, ["a", "b", "c", "d"]), entry(3, ["c", "b", "a"])]
    result = RANK.aggregate(settings(), answers, CTX)
    assert result.count == 1
    assert rows(result)[0] == ("c", 2, 1.0, 1)


def test_no_actions() -> None:
    with pytest.raises(AnswerInvalid):
        RANK.act(settings(), {}, "shuffle", {}, CTX)


# --- simulate ----------------------------------------------------------------------------------


def test_simulate_gives_orders_the_phone_could_send() -> None:
    s = settings("a", "b", "c", "d", "e")
    rng = random.Random(3)
    firsts: set[str] = set()
    for _ in range(300):
        answers = RANK.simulate(s, rng, ["Option d", "b"], CTX)
        assert len(answers) == 1
        form = {f"place:{oid}": str(i + 1) for i, oid in enumerate(answers[0].order)}
        assert RANK.parse_answer(s, form, CTX) == answers[0]
        firsts.add(answers[0].order[0])
    assert len(firsts) >= 3, "a simulated room does not agree completely"
    assert RANK.simulate_state(s, rng, [], [], CTX) == {}


def test_simulate_favours_the_samples() -> None:
    s = settings("a", "b", "c", "d")
    rng = random.Random(9)
    answers = [entry(i, RANK.simulate(s, rng, ["Option c"], CTX)[0].order) for i in range(200)]
    assert RANK.aggregate(s, answers, CTX).options[0].id == "c"


# --- templates ---------------------------------------------------------------------------------

ENV = make_env(build_registry())


def test_templates_render() -> None:
    s = settings()
    fields = render(
        ENV,
        "ranking/fields.html",
        "nb",
        settings=s,
        values={"place:b": "2"},
        step=SimpleNamespace(id="order"),
        ctx=CTX,
        state={},
    )
    assert fields.count("<select") == 3
    assert 'name="place:a"' in fields and "Valg a" in fields
    assert '<option value="2" selected>' in fields
    result = RANK.aggregate(s, [entry(1, ["c", "a", "b"])], CTX)
    html = render(ENV, "ranking/results.html", "en", settings=s, result=result, ctx=CTX, state={})
    assert "2 points" in html and "mean place 1" in html and "1 person ranked" in html
    assert "style=" not in html
    empty = render(ENV, "ranking/results.html", "en", settings=s, result=RANK.aggregate(s, [], CTX), ctx=CTX)
    assert "No answers yet." in empty
    sent = render(
        ENV, "ranking/sent.html", "en", settings=s, answer=RankingAnswer(order=["c", "a", "b"]), ctx=CTX
    )
    assert sent.index("Option c") < sent.index("Option a") < sent.index("Option b")
