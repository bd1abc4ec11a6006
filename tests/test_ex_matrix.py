"""matrix: settings, rating every other unit from one's own (never one's own, never without a
unit), the heatmap with rows only for units at the threshold, simulate(), and the templates."""

from __future__ import annotations

import random
from typing import Any

import pytest
from pydantic import ValidationError

from app.templating import make_env, render
from exercises import build_registry
from exercises.base import AnswerInvalid, Entry, Member, StepContext
from exercises.matrix import MAX_ITEMS, Matrix, MatrixAnswer, MatrixSettings, heat

MATRIX = Matrix()
LOW = {"en": "Poorly", "nb": "Dårlig"}
HIGH = {"en": "Very well", "nb": "Svært godt"}
UNITS = ("Day", "Evening", "Night")


def items(*ids: str) -> list[dict[str, Any]]:
    return [{"id": i, "text": {"en": f"Item {i}", "nb": f"Påstand {i}"}} for i in ids]


def settings(*ids: str) -> MatrixSettings:
    return MATRIX.settings({"items": items(*(ids or ("goals", "talk"))), "low": LOW, "high": HIGH})


def ctx(unit: str | None = None, units: tuple[str, ...] = UNITS, **extra: Any) -> StepContext:
    return StepContext(units=units, unit=unit, **extra)


def full_form(own: str, value: Any = "4", units: tuple[str, ...] = UNITS) -> dict[str, Any]:
    return {f"rate:{i}:{item}": value for i, u in enumerate(units) if u != own for item in ("goals", "talk")}


def accepts(raw: dict[str, Any]) -> bool:
    try:
        MATRIX.settings(raw)
    except ValidationError:
        return False
    return True


# --- settings ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "ok"),
    [
        ({}, True),
        ({"points": 5}, True),
        ({"points": 7}, False),
        ({"items": []}, False),
        ({"items": items(*[f"i{n}" for n in range(MAX_ITEMS)])}, True),
        ({"items": items(*[f"i{n}" for n in range(MAX_ITEMS + 1)])}, False),
        ({"items": items("a", "a")}, False),
        ({"items": items("A b")}, False),
        ({"items": [{"id": "a", "text": {"en": "x" * 201}}]}, False),
        ({"high": {"en": "x" * 61}}, False),
        ({"colour": "red"}, False),
    ],
)
def test_settings_bounds(extra: dict[str, Any], ok: bool) -> None:
    raw: dict[str, Any] = {"items": items("a"), "low": LOW, "high": HIGH}
    raw.update(extra)
    assert accepts(raw) is ok


def test_settings_need_low_and_high() -> None:
    assert not accepts({"items": items("a"), "low": LOW})


def test_one_answer_per_person() -> None:
    assert MATRIX.max_answers(settings(), ctx()) == 1


# --- parse_answer ------------------------------------------------------------------------------


def test_parse_rates_every_other_unit_on_every_item() -> None:
    form = full_form("Evening")
    form["rate:2:talk"] = 2  # a socket sends an int
    answer = MATRIX.parse_answer(settings(), form, ctx("Evening"))
    assert answer.ratings == {"Day": {"goals": 4, "talk": 4}, "Night": {"goals": 4, "talk": 2}}


def test_parse_refuses_a_person_without_a_unit() -> None:
    with pytest.raises(AnswerInvalid) as caught:
        MATRIX.parse_answer(settings(), full_form("Day"), ctx(None))
    assert "your unit" in caught.value.message


def test_parse_refuses_a_unit_the_team_does_not_have() -> None:
    with pytest.raises(AnswerInvalid):
        MATRIX.parse_answer(settings(), full_form("Day"), ctx("Kitchen"))


@pytest.mark.parametrize("units", [(), ("Day",)])
def test_parse_refuses_a_team_without_two_units(units: tuple[str, ...]) -> None:
    with pytest.raises(AnswerInvalid) as caught:
        MATRIX.parse_answer(settings(), {}, ctx("Day", units=units))
    assert "two units" in caught.value.message


def test_parse_leaves_out_a_rating_of_ones_own_unit() -> None:
    form = full_form("Day")
    form["rate:0:goals"] = "5"
    answer = MATRIX.parse_answer(settings(), form, ctx("Day"))
    assert "Day" not in answer.ratings
    assert set(answer.ratings) == {"Evening", "Night"}


def test_parse_takes_an_empty_field_for_ones_own_unit() -> None:
    form = full_form("Day")
    form["rate:0:goals"] = ""
    assert set(MATRIX.parse_answer(settings(), form, ctx("Day")).ratings) == {"Evening", "Night"}


def test_parse_counts_what_is_still_open() -> None:
    form = full_form("Day")
    del form["rate:1:goals"]
    form["rate:2:talk"] = " "
    with pytest.raises(AnswerInvalid) as caught:
        MATRIX.parse_answer(settings(), form, ctx("Day"))
    assert caught.value.params == {"num": 2}


@pytest.mark.parametrize("bad", ["0", "6", "x", "2.5", True, "9" * 5000])
def test_parse_refuses_a_value_off_the_scale(bad: Any) -> None:
    form = full_form("Day")
    form["rate:1:talk"] = bad
    with pytest.raises(AnswerInvalid) as caught:
        MATRIX.parse_answer(settings(), form, ctx("Day"))
    assert caught.value.params == {"points": 5}


def test_answer_model_caps() -> None:
    with pytest.raises(ValidationError):
        MATRIX.load_answer({"ratings": {}})
    with pytest.raises(ValidationError):
        MATRIX.load_answer({"ratings": {"Day": {}}})
    with pytest.raises(ValidationError):
        MATRIX.load_answer({"ratings": {"Day": {"a": 6}}})
    with pytest.raises(ValidationError):
        MATRIX.load_answer({"ratings": {"x" * 81: {"a": 3}}})
    with pytest.raises(ValidationError):
        MATRIX.load_answer({"ratings": {f"U{n}": {"a": 3} for n in range(12)}})
    with pytest.raises(ValidationError):
        MATRIX.load_answer({"ratings": {"Day": {f"i{n}": 3 for n in range(MAX_ITEMS + 1)}}})


# --- aggregate ---------------------------------------------------------------------------------


def people(
    unit: str, n: int, value: int, start: int = 0, rated: tuple[str, ...] = UNITS
) -> list[Entry[MatrixAnswer]]:
    ratings = {u: {"goals": value, "talk": value} for u in rated if u != unit}
    return [
        Entry(id=start + i, answer=MatrixAnswer(ratings=ratings), participant=start + i, unit=unit)
        for i in range(n)
    ]


@pytest.mark.parametrize(
    ("mean", "level"), [(None, 0), (1.0, 1), (1.49, 1), (1.5, 2), (3.0, 3), (4.5, 5), (5.0, 5)]
)
def test_heat_levels(mean: float | None, level: int) -> None:
    assert heat(mean) == level


def test_aggregate_of_no_answers() -> None:
    result = MATRIX.aggregate(settings(), [], ctx())
    assert result.count == 0 and result.rows == [] and result.units == list(UNITS)
    assert (result.hidden_units, result.hidden_people) == (0, 0)


def test_aggregate_of_one_answer_shows_no_row() -> None:
    result = MATRIX.aggregate(settings(), people("Day", 1, 4), ctx())
    assert result.count == 1 and result.rows == []
    assert (result.hidden_units, result.hidden_people) == (1, 1)


def test_a_unit_at_the_threshold_is_a_row_and_one_under_it_is_hidden() -> None:
    answers = people("Day", 5, 4) + people("Night", 4, 2, start=100)
    result = MATRIX.aggregate(settings(), answers, ctx())
    assert [r.unit for r in result.rows] == ["Day"]
    assert (result.hidden_units, result.hidden_people) == (1, 4)
    day = result.rows[0]
    assert day.people == 5
    assert [(c.unit, c.own, c.mean, c.heat) for c in day.cells] == [
        ("Day", True, None, 0),
        ("Evening", False, 4.0, 4),
        ("Night", False, 4.0, 4),
    ]


def test_small_units_together_stay_hidden_in_a_matrix() -> None:
    """split_by_unit would merge two small units of 3; a matrix shows no merged row."""
    answers = people("Day", 3, 4) + people("Night", 3, 2, start=100)
    result = MATRIX.aggregate(settings(), answers, ctx())
    assert result.rows == []
    assert (result.hidden_units, result.hidden_people) == (2, 6)


def test_cell_is_the_mean_over_items_of_the_means_over_people() -> None:
    answers = [
        Entry(
            id=i,
            answer=MatrixAnswer(ratings={"Day": {"goals": g, "talk": t}, "Night": {"goals": 3, "talk": 3}}),
            participant=i,
            unit="Evening",
        )
        for i, (g, t) in enumerate([(1, 2), (2, 2), (5, 2), (4, 2), (3, 1)])
    ]
    result = MATRIX.aggregate(settings(), answers, ctx())
    evening = result.rows[0]
    day = evening.cells[0]
    assert day.items == {"goals": 3.0, "talk": 1.8}
    assert day.mean == 2.4 and day.heat == 2
    assert evening.cells[1].own and evening.cells[2].mean == 3.0


def test_rows_follow_the_teams_order_and_ignore_people_of_no_or_other_units() -> None:
    answers = people("Night", 5, 5) + people("Day", 6, 1, start=100)
    answers += people("Kitchen", 5, 3, start=200)
    answers.append(Entry(id=300, answer=MatrixAnswer(ratings={"Day": {"goals": 1}}), participant=300))
    result = MATRIX.aggregate(settings(), answers, ctx())
    assert [r.unit for r in result.rows] == ["Day", "Night"]
    assert result.count == 11
    assert result.rows[0].cells[2].heat == 1 and result.rows[1].cells[0].heat == 5


def test_a_cell_without_ratings_has_no_mean() -> None:
    """A unit added to the team after people answered: nobody rated it yet."""
    answers = people("Day", 5, 4, rated=UNITS)
    result = MATRIX.aggregate(settings(), answers, ctx(units=(*UNITS, "Office")))
    office = result.rows[0].cells[3]
    assert (office.unit, office.mean, office.heat, office.items) == ("Office", None, 0, {})


def test_the_sessions_threshold_applies() -> None:
    result = MATRIX.aggregate(settings(), people("Day", 3, 4), ctx(min_group_size=3))
    assert [r.unit for r in result.rows] == ["Day"] and result.min_group_size == 3


def test_no_actions() -> None:
    with pytest.raises(AnswerInvalid):
        MATRIX.act(settings(), {}, "x", {}, ctx())


# --- simulate ----------------------------------------------------------------------------------


def test_simulate_gives_answers_the_phone_could_send() -> None:
    s = settings()
    rng = random.Random(11)
    seen: set[int] = set()
    for unit in UNITS:
        for _ in range(100):
            answers = MATRIX.simulate(s, rng, [], ctx(unit))
            assert len(answers) == 1
            form = {
                f"rate:{UNITS.index(u)}:{item}": str(v)
                for u, rated in answers[0].ratings.items()
                for item, v in rated.items()
            }
            assert MATRIX.parse_answer(s, form, ctx(unit)) == answers[0]
            seen.update(v for rated in answers[0].ratings.values() for v in rated.values())
    assert len(seen) >= 3
    assert MATRIX.simulate_state(s, rng, [], [], ctx()) == {}


def test_simulate_without_a_unit_gives_nothing() -> None:
    assert MATRIX.simulate(settings(), random.Random(1), [], ctx(None)) == []
    assert MATRIX.simulate(settings(), random.Random(1), [], ctx("Day", units=("Day",))) == []


# --- templates ---------------------------------------------------------------------------------

ENV = make_env(build_registry())
MEMBERS = (Member("p1", unit="Day"), Member("p2", unit="Night"), Member("p3", unit="Day"), Member("p4"))


def fields(context: StepContext, values: dict[str, str] | None = None) -> str:
    return render(
        ENV,
        "matrix/fields.html",
        "en",
        settings=settings(),
        ctx=context,
        values=values or {},
        step=None,
        state={},
    )


def test_phone_form_leaves_out_ones_own_unit() -> None:
    html = fields(ctx("Evening", members=MEMBERS), {"rate:2:talk": "3"})
    assert "Working with Evening" not in html
    assert "Working with Day" in html and "Working with Night" in html
    assert 'name="rate:0:goals"' in html and 'name="rate:1:goals"' not in html
    assert 'value="3" required checked' in html
    assert "data-members" not in html


def test_phone_form_pushed_to_every_phone_marks_each_units_members() -> None:
    html = fields(ctx(None, members=MEMBERS))
    assert 'data-members="p1 p3"' in html and 'data-members="p2"' in html
    assert "required" not in html  # a phone hides its own unit's block: nothing there may be required
    phone = render(
        ENV, "matrix/phone.html", "en", settings=settings(), ctx=ctx(None, members=MEMBERS), state={}
    )
    assert phone.count("You answer from") == 3
    mine = render(ENV, "matrix/phone.html", "en", settings=settings(), ctx=ctx("Night"), state={})
    assert "You answer from Night." in mine


def test_phone_form_without_units() -> None:
    assert "at least two units" in fields(ctx(None, units=()))


def test_results_render_the_heatmap_and_say_why_rows_are_hidden() -> None:
    units = ("Day", "Evening", "Night <i>")
    answers = people("Day", 5, 5, rated=units) + people("Night <i>", 2, 1, start=100, rated=units)
    result = MATRIX.aggregate(settings(), answers, ctx(units=units))
    html = render(ENV, "matrix/results.html", "en", result=result, settings=settings(), ctx=ctx(), state={})
    assert "heat-5" in html and ">5<" in html
    assert "1 unit is not shown: fewer than 5 answers." in html
    assert "Night &lt;i&gt;" in html and "<i>" not in html
    assert "style=" not in html
    assert "matrix-items" in html  # the per-statement tables for the results page


def test_results_before_any_row_shows() -> None:
    s = settings()
    for answers, text in [([], "No answers yet."), (people("Day", 2, 3), "No unit has 5 answers yet")]:
        result = MATRIX.aggregate(s, answers, ctx())
        assert text in render(
            ENV, "matrix/results.html", "en", result=result, settings=s, ctx=ctx(), state={}
        )
    result = MATRIX.aggregate(s, [], ctx(units=()))
    html = render(ENV, "matrix/results.html", "en", result=result, settings=s, ctx=ctx(units=()), state={})
    assert "at least two units" in html


def test_sent_renders() -> None:
    answer = MatrixAnswer(ratings={"Day": {"goals": 4, "talk": 2}})
    sent = render(ENV, "matrix/sent.html", "en", settings=settings(), answer=answer, ctx=ctx(), state={})
    assert "Day" in sent and "4 · 2" in sent


def test_each_unit_is_an_audience_that_answers_from_its_own_unit() -> None:
    members = (*(Member(public_id=f"p{i}", unit=UNITS[i % 3]) for i in range(6)), Member(public_id="x"))
    c = ctx(members=members)
    result = MATRIX.aggregate(settings(), [], c)
    assert MATRIX.phone_audiences(settings(), result, c) == {
        "Day": ("p0", "p3"),
        "Evening": ("p1", "p4"),
        "Night": ("p2", "p5"),
    }
    assert MATRIX.for_audience(settings(), result, c, "Evening")[1].unit == "Evening"
    assert MATRIX.for_audience(settings(), result, c, None)[1].members == ()
